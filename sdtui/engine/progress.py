"""Progress of our own job, and only ours, while the server works on it.

A server runs one job at a time and may be shared: `/sdapi/v1/progress` describes whatever job runs
now. So each generation carries a `force_task_id`, and the watcher asks about that task
(`POST /internal/progress`): `queued` means another job holds the server (we say so instead of
showing its steps), `active` means ours runs. Servers without that endpoint (SD.Next, Forge
variants, `--nowebui`) fall back to `/sdapi/v1/progress`, whose job is ours only if it is not the
job that was running when we sent ours (its `job_timestamp`, noted just before sending: no clock
or time zone of the server's is compared with ours). Servers with neither (KoboldCpp, sd.cpp) get
one "progress unknown" update and no more polls; each answer of "no such endpoint" is remembered
by the client, so later jobs do not ask again.

Polls stay cheap: one request per interval, a live preview fetched only when a new one can exist
(`id_live_preview`, or a step advance for the fallback) and never passed on twice. The ETA comes
from our own clock and the progress made since we first saw our job run, and only once a step has
been made: the server's own estimate is wild at the start of a job.
"""

from __future__ import annotations

import asyncio
import enum
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sdtui.api import ApiError, ErrorKind, GenerationRequest, ProgressUpdate, is_unsupported
from sdtui.api.types import TaskProgress
from sdtui.api.urls import PROGRESS, TASK_PROGRESS  # not .client: httpx loads on first use

if TYPE_CHECKING:
    from sdtui.api.client import SDClient

ProgressCallback = Callable[[ProgressUpdate], None]
Clock = Callable[[], float]

#: The one update a server without any progress endpoint gets: progress unknown.
UNKNOWN_PROGRESS = ProgressUpdate(0.0, 0.0, "", 0, -1, 0, 0, "", False, False, None, None)

#: No ETA before this many seconds of watching our job run, whatever the progress.
ETA_MIN_SECONDS = 1.0
#: Polls of /internal/progress that know nothing of our task before we decide the server does
#: not honour `force_task_id` (and fall back to /sdapi/v1/progress) ...
UNKNOWN_TASK_POLLS = 6
#: ... and the seconds they must span (the server registers the task as soon as it reads the
#: request; a slow start must not count as "ignored").
UNKNOWN_TASK_SECONDS = 3.0

# Answers from /internal/progress that mean "not usable here" rather than "try again".
_TASK_REFUSALS = (
    ErrorKind.AUTH_MISSING,
    ErrorKind.AUTH_WRONG,
    ErrorKind.NOT_API,
    ErrorKind.VALIDATION,
)


@dataclass
class HeldInterrupt:
    """The server's interrupt stops whatever job runs now. Asked for while our job still waits
    behind another client's, it is held, and due as soon as ours runs. The caller sends it; this
    only says when."""

    requested: bool = False
    sent: bool = False
    waiting: bool = False  # the last progress update: ours waits behind another job

    def request(self) -> bool:
        """Ask to interrupt: True when it is to be sent now, False when it is held."""
        self.requested = True
        if self.waiting:
            return False
        self.sent = True
        return True

    def progressed(self, update: ProgressUpdate) -> bool:
        """Note a progress update: True when a held interrupt is due now (ours has started)."""
        self.waiting = update.waiting
        if self.requested and not self.sent and update.active:
            self.sent = True
            return True
        return False


def new_task_id() -> str:
    """A unique task name in the web UI's own shape, `task(<random>)`."""
    return f"task({secrets.token_hex(8)})"


class Source(enum.Enum):
    TASK = "task"  # POST /internal/progress about our force_task_id
    SERVER = "server"  # GET /sdapi/v1/progress, ours told apart by job_timestamp
    NONE = "none"  # the server reports no progress


@dataclass
class EtaEstimate:
    """Seconds left, from the rate of progress we measured ourselves.

    The origin is the first time we saw our job run; an estimate exists once progress has moved
    past it (a step made) and at least `ETA_MIN_SECONDS` have passed. Until then 0 ("none").
    """

    clock: Clock = time.monotonic
    _origin: tuple[float, float] | None = None

    def update(self, fraction: float) -> float:
        now = self.clock()
        if self._origin is None or fraction < self._origin[1]:
            self._origin = (now, fraction)
            return 0.0
        started, first = self._origin
        done, elapsed = fraction - first, now - started
        if done <= 0 or elapsed < ETA_MIN_SECONDS:
            return 0.0
        return max((1.0 - fraction) * elapsed / done, 0.0)


@dataclass(frozen=True)
class _Baseline:
    """What /sdapi/v1/progress said just before we sent our job."""

    running: bool  # a job ran then: not ours
    timestamp: str


def _position(update: ProgressUpdate) -> tuple[int, int]:
    return (update.job_no, update.sampling_step)


class ProgressWatcher:
    """Watches one generation. Call `prepare()` before sending it (with `task_id` as its
    `force_task_id`), run `watch()` as a task while it runs, cancel that when the answer comes,
    then `finish(info)` says whether the server cut the job short on its own."""

    def __init__(
        self,
        client: SDClient,
        request: GenerationRequest,
        on_progress: ProgressCallback,
        *,
        task_id: str,
        interval: float = 0.5,
        previews: bool = True,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client = client
        self.request = request
        self.on_progress = on_progress
        self.task_id = task_id
        self.interval = interval
        self.previews = previews
        self.clock = clock
        self.source = Source.TASK
        self.server_interrupted = False  # the server reported our job interrupted
        self._eta = EtaEstimate(clock)
        self._last_frame: bytes | None = None
        # /internal/progress
        self._preview_id = -1
        self._task_seen = False
        self._unknown_polls = 0
        self._unknown_since: float | None = None
        # /sdapi/v1/progress
        self._baseline: _Baseline | None = None
        self._foreign_ended = False
        self._last_foreign: tuple[int, int] | None = None
        self._ours_timestamp: str | None = None
        self._ours_seen = False
        self._last_position: tuple[int, int] | None = None
        self._image_asked_at: tuple[int, int] | None = None
        self._frame_at: tuple[int, int] | None = None
        self._frame_period: int | None = None

    # -- choosing the endpoint --------------------------------------------------------------------

    async def prepare(self) -> None:
        """Pick the endpoint; for the fallback, note the job the server runs before ours."""
        client = self.client
        if TASK_PROGRESS in client.missing:
            self.source = Source.SERVER
        elif TASK_PROGRESS in client.offered:
            return  # known to work: no question before the job
        else:
            try:
                await client.task_progress(self.task_id, live_preview=False)
            except ApiError as exc:
                if not self._task_refused(exc):
                    return  # a hiccup: try the task endpoint while the job runs
            else:
                return
        if PROGRESS in client.missing:
            self.source = Source.NONE
            return
        try:
            before = await client.progress(skip_current_image=True)
        except ApiError as exc:
            if is_unsupported(exc):
                self.source = Source.NONE
            return
        self._baseline = _Baseline(before.active, before.job_timestamp)

    def _task_refused(self, exc: ApiError) -> bool:
        """True (and the fallback chosen, for this job and the next) when /internal/progress is
        not usable on this server."""
        if is_unsupported(exc) or exc.kind in _TASK_REFUSALS:
            self.client.missing.add(TASK_PROGRESS)
            self.client.offered.discard(TASK_PROGRESS)
            self.source = Source.SERVER
            return True
        return False

    # -- polling ---------------------------------------------------------------------------------

    async def watch(self) -> None:
        """Report progress until cancelled (or, for a server without progress, once)."""
        while True:
            if self.source is Source.NONE:
                self.on_progress(UNKNOWN_PROGRESS)
                return
            try:
                update = await self.poll()
            except ApiError as exc:
                if self.source is Source.TASK:
                    self._task_refused(exc)
                elif is_unsupported(exc):
                    self.source = Source.NONE
                    continue
                # Otherwise a hiccup: the generation call says how the job went.
            else:
                if update is not None:
                    self.on_progress(update)
            await asyncio.sleep(self.interval)

    async def poll(self) -> ProgressUpdate | None:
        """One poll; None when there is nothing new to say."""
        if self.source is Source.TASK:
            return self._from_task(
                await self.client.task_progress(
                    self.task_id, id_live_preview=self._preview_id, live_preview=self.previews
                )
            )
        update = await self.client.progress(skip_current_image=not self._want_image())
        return self._from_server(update)

    def _from_task(self, task: TaskProgress) -> ProgressUpdate | None:
        if task.active:
            self._task_seen = True
            if task.id_live_preview >= 0:
                self._preview_id = task.id_live_preview
            fraction = task.progress or 0.0
            job_no, job_count, step, steps = self._locate(fraction)
            return ProgressUpdate(
                progress=fraction,
                eta_relative=self._eta.update(fraction),
                job="",
                job_no=job_no,
                job_count=job_count,
                sampling_step=step,
                sampling_steps=steps,
                job_timestamp="",
                interrupted=False,
                skipped=False,
                current_image=self._new_frame(task.live_preview),
                textinfo=task.textinfo,
            )
        if task.queued:
            self._task_seen = True
            return ProgressUpdate.busy(task.textinfo)
        if task.completed or self._task_seen:
            return None  # ours ended: the answer is on its way
        # The server does not know our task (yet): it may ignore force_task_id.
        now = self.clock()
        if self._unknown_since is None:
            self._unknown_since = now
        self._unknown_polls += 1
        if (
            self._unknown_polls >= UNKNOWN_TASK_POLLS
            and now - self._unknown_since >= UNKNOWN_TASK_SECONDS
        ):
            # It ignores force_task_id: use the fallback, for the next jobs too (which then get
            # a baseline); for this one whatever runs now is taken for ours.
            self.client.missing.add(TASK_PROGRESS)
            self.client.offered.discard(TASK_PROGRESS)
            self.source = Source.SERVER
        return None

    def _locate(self, fraction: float) -> tuple[int, int, int, int]:
        """(batch, batches, step, steps) from a task's progress fraction, which is
        (job_no + step / steps) / job_count with job_count = n_iter (twice that with hires fix)."""
        request = self.request
        batches = max(1, request.n_iter)
        passes = 2 if request.enable_hr else 1
        jobs = batches * passes
        position = min(max(fraction, 0.0), 1.0) * jobs
        job = min(int(position + 1e-9), jobs - 1)
        steps = max(1, request.steps)
        if passes == 2 and job % 2 == 1:
            steps = max(1, request.hr_second_pass_steps or request.steps)
        step = min(max(round((position - job) * steps), 0), steps)
        return job // passes, batches, step, steps

    # -- the /sdapi/v1/progress fallback -----------------------------------------------------------

    def _is_ours(self, update: ProgressUpdate) -> bool:
        stamp = update.job_timestamp
        if self._ours_timestamp is not None:
            return stamp == self._ours_timestamp  # a later job is somebody else's
        baseline = self._baseline
        ours = (
            baseline is None
            or not baseline.running
            or not stamp
            or stamp != baseline.timestamp
            or self._foreign_ended
        )
        if not ours and self._last_foreign is not None and _position(update) < self._last_foreign:
            ours = self._foreign_ended = True  # it started over: a new job in the same second
        if ours:
            self._ours_timestamp = stamp or None
        else:
            self._last_foreign = _position(update)
        return ours

    def _from_server(self, update: ProgressUpdate) -> ProgressUpdate | None:
        if not update.active:
            if not self._ours_seen:
                self._foreign_ended = True  # the server is idle: the next job is ours
            return None  # ours has not started, or it ended and the answer is on its way
        if not self._is_ours(update):
            return ProgressUpdate.busy()
        self._ours_seen = True
        if update.interrupted:
            self.server_interrupted = True
        job_no, job_count = update.job_no, update.job_count
        if self.request.enable_hr and job_count == 2 * max(1, self.request.n_iter):
            job_no, job_count = job_no // 2, job_count // 2  # the hires pass is not a batch
        step, steps = update.sampling_step, update.sampling_steps
        if step == 0 and steps not in self._pass_steps():
            step = steps = 0  # sampling has not begun: the steps are the previous job's
        position = _position(update)
        frame = self._new_frame(update.current_image)
        if frame is not None:
            self._note_frame(position)
        self._last_position = position
        return replace(
            update,
            eta_relative=self._eta.update(self._fraction(update)),
            job_no=job_no,
            job_count=job_count,
            sampling_step=step,
            sampling_steps=steps,
            current_image=frame,
        )

    def _pass_steps(self) -> set[int]:
        """The step counts our job's sampling passes can report."""
        request = self.request
        counts = {request.steps}
        if request.enable_hr:
            counts.add(request.hr_second_pass_steps or request.steps)
        return counts

    @staticmethod
    def _fraction(update: ProgressUpdate) -> float:
        """Progress without the 0.01 the web UI adds to /sdapi/v1/progress."""
        if update.job_count > 0 and update.sampling_steps > 0:
            done = update.job_no + min(update.sampling_step / update.sampling_steps, 1.0)
            return min(done / update.job_count, 1.0)
        return update.progress

    def _want_image(self) -> bool:
        """Ask for the preview (which the server encodes for us) only when a new one can exist:
        our job runs, it advanced since we last asked, and about as many steps as the server
        makes between previews have passed."""
        if not self.previews or not self._ours_seen or self._last_position is None:
            return False
        here = self._last_position
        if self._image_asked_at is not None and here <= self._image_asked_at:
            return False
        frame, period = self._frame_at, self._frame_period
        if frame is not None and period and here[0] == frame[0] and here[1] - frame[1] < period:
            return False
        self._image_asked_at = here
        return True

    def _note_frame(self, position: tuple[int, int]) -> None:
        """Learn the server's preview period from the steps between new frames."""
        previous = self._frame_at
        if previous is not None and previous[0] == position[0] and position[1] > previous[1]:
            gap = position[1] - previous[1]
            self._frame_period = gap if self._frame_period is None else min(self._frame_period, gap)
        self._frame_at = position

    def _new_frame(self, image: bytes | None) -> bytes | None:
        """The preview if it is a new one; None for none or the one already passed on."""
        if image is None or image == self._last_frame:
            return None
        self._last_frame = image
        return image

    # -- after the job ---------------------------------------------------------------------------

    async def finish(self, info: dict[str, Any]) -> bool:
        """Whether the server interrupted our job without us asking (someone pressed Interrupt
        in the web page, the server is shutting down): the web UI keeps `state.interrupted` and
        the job's timestamp after a job, so one cheap poll tells. `info` is the job's info."""
        if self.server_interrupted:
            return True
        stamp = info.get("job_timestamp")
        if self.source is Source.NONE or not isinstance(stamp, str) or not stamp:
            return False
        if PROGRESS in self.client.missing:
            return False
        try:
            after = await self.client.progress(skip_current_image=True)
        except ApiError:
            return False
        return after.interrupted and after.job_timestamp == stamp
