"""The job queue: generation requests spread over one or more servers, each running one at a time.

Each `Runner` is one server (one client). A free, online runner takes the first waiting job it
can run (`Runner.can_run`: the server offers the job's model), so every server stays busy and a
fast one naturally takes more jobs than a slow one. Generating while jobs run queues the new job
behind them; nothing cancels or races a running job.

Nothing is lost when a server drops out mid-job: the job goes back to the front of the line for
another server (or the same one once it answers again, `Runner.recover`), up to `MAX_DROPS`
times. A job no server can run, or one left when every server is given up, fails with a one-line
reason instead of waiting for good.

The queue is independent of any UI: it reports what happens to jobs through one callback
(`JobEvent`s) and calls `on_change` when the order, the pause or a server's state changes, so
the TUI, scripts and tests drive it alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sdtui.api import ApiError, ErrorKind, GenerationRequest, ProgressUpdate
from sdtui.engine.generate import GenerationOutcome
from sdtui.engine.progress import HeldInterrupt

#: A job re-queued this many times because its server dropped out fails instead.
MAX_DROPS = 3
#: Jobs kept in `JobQueue.finished` (the oldest go first).
FINISHED_KEPT = 200
#: Errors that mean the server went away under the job, not that the job is wrong.
DROP_KINDS = frozenset({ErrorKind.UNREACHABLE, ErrorKind.DROPPED, ErrorKind.TIMEOUT})


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: States a job ends in; `JobQueue.retry` takes all but DONE.
ENDED_STATES = frozenset({JobState.DONE, JobState.INTERRUPTED, JobState.FAILED, JobState.CANCELLED})
RETRYABLE_STATES = frozenset({JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED})


@dataclass(eq=False)
class Job:
    id: int
    request: GenerationRequest
    state: JobState = JobState.QUEUED
    outcome: GenerationOutcome | None = None
    error: ApiError | None = None
    last_progress: ProgressUpdate | None = None
    interrupt: HeldInterrupt = field(default_factory=HeldInterrupt)
    server: str | None = None  # the runner running it now, or that ran it last
    note: str = ""  # the last thing that happened to it, one line
    drops: int = 0  # times a server dropped out under it
    group: int | None = None  # a sweep's id: the jobs of one sweep share it
    created: float = field(default_factory=time.time)  # wall clock, at submit
    started: float | None = None  # time.monotonic() when it last started
    finished: float | None = None  # time.monotonic() when it ended
    dropped_on: list[str] = field(default_factory=list)  # the servers that dropped out under it

    @property
    def interrupt_requested(self) -> bool:
        return self.interrupt.requested

    @property
    def waiting(self) -> bool:
        """Sent, but the server is still busy with another client's job."""
        return self.interrupt.waiting

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES


@dataclass(frozen=True)
class JobEvent:
    """Something happened to a job. `kind` is one of: queued, started, progress, finished,
    cancelled (a waiting job dropped), requeued (its server dropped out: it waits again, at the
    front), removed (taken out of the line to be edited). For progress, `progress` is set; for
    finished, `job.state` says how it ended."""

    kind: str
    job: Job
    progress: ProgressUpdate | None = None
    queued: int = 0  # jobs waiting, after this event


RunJob = Callable[[Job, Callable[[ProgressUpdate], None]], Awaitable[GenerationOutcome]]
Listener = Callable[[JobEvent], None]


def _runs_anything(job: Job) -> bool:
    return True


@dataclass(eq=False)
class Runner:
    """Runs jobs on one server: `run` generates and saves; `interrupt`/`skip` reach that server.

    `can_run` says whether this server can run a job (it offers the job's model). `recover` is
    awaited after the server dropped out under a job: True once it answers again, False to give
    it up (None: give it up at once). `online`, `job` and `retired` are kept by the queue."""

    run: RunJob
    interrupt: Callable[[], Awaitable[None]]
    skip: Callable[[], Awaitable[None]]
    name: str = "server"
    can_run: Callable[[Job], bool] = _runs_anything
    recover: Callable[[], Awaitable[bool]] | None = None
    online: bool = True
    job: Job | None = None
    retired: bool = False


class JobQueue:
    """Jobs waiting in one line, run by every runner at once (one job per runner)."""

    def __init__(
        self,
        runner: Runner | Sequence[Runner],
        listener: Listener,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.runners: list[Runner] = [runner] if isinstance(runner, Runner) else list(runner)
        self.listener = listener
        self.on_change = on_change
        self.held = False  # no new job starts while held (internal: a question is open)
        self._paused = False  # the user's pause
        self._pending: list[Job] = []
        self._running: list[Job] = []  # in the order they started
        self._finished: deque[Job] = deque(maxlen=FINISHED_KEPT)
        self._ids = itertools.count(1)
        # Swapped for a fresh one on every change: a waiter takes the current one before it
        # looks, so no change between its look and its wait goes unnoticed.
        self._changed = asyncio.Event()
        self._closed = False
        self._serving = False  # run_forever is running
        self._loops: dict[Runner, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what UIs read -----------------------------------------------------------------------

    @property
    def runner(self) -> Runner:
        """The first runner (a queue of one server)."""
        return self.runners[0]

    @property
    def current(self) -> Job | None:
        """The running job that started first."""
        return self._running[0] if self._running else None

    @property
    def running(self) -> list[Job]:
        """Every running job, in the order they started."""
        return list(self._running)

    @property
    def pending(self) -> list[Job]:
        """The waiting jobs, in the order they will start."""
        return list(self._pending)

    @property
    def finished(self) -> list[Job]:
        """The jobs that ended this session (the last `FINISHED_KEPT`), oldest first."""
        return list(self._finished)

    @property
    def busy(self) -> bool:
        return bool(self._running or self._pending)

    @property
    def paused(self) -> bool:
        return self._paused

    def runner_of(self, job: Job) -> Runner | None:
        """The runner running `job` now (None when it does not run)."""
        return next((runner for runner in self.runners if runner.job is job), None)

    def unfinished(self) -> list[GenerationRequest]:
        """The requests of every job not ended: running ones first, then the waiting ones in
        order (what to keep on disk for the next start)."""
        return [job.request for job in (*self._running, *self._pending)]

    # -- shaping the line --------------------------------------------------------------------

    def submit(
        self, request: GenerationRequest, *, group: int | None = None, front: bool = False
    ) -> Job:
        return self._enqueue(
            Job(next(self._ids), request, group=group), 0 if front else len(self._pending)
        )

    def _enqueue(self, job: Job, index: int) -> Job:
        """A new job into the line at `index`: told, checked for a server that can run it."""
        self._pending.insert(index, job)
        self._emit("queued", job)
        if self._serving:
            self._fail_stranded([job])
        self._changed_order()
        return job

    def pause(self) -> None:
        """Start no new job until `resume` (the running ones go on)."""
        if not self._paused:
            self._paused = True
            self._changed_order()

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._changed_order()

    def hold(self, held: bool = True) -> None:
        """Start no new job until released (the running ones go on): a question about the
        queue's future must not be answered by the queue moving on meanwhile."""
        self.held = held
        self._wake()

    def move(self, job: Job, delta: int) -> bool:
        """Move a waiting job up (-1) or down (+1) the line; False when it cannot move."""
        if job not in self._pending:
            return False
        index = self._pending.index(job)
        target = max(0, min(len(self._pending) - 1, index + delta))
        if target == index:
            return False
        self._pending.insert(target, self._pending.pop(index))
        self._changed_order()
        return True

    def move_to_top(self, job: Job) -> bool:
        """Make a waiting job the next to start; False when it is not waiting or first already."""
        if job not in self._pending or self._pending[0] is job:
            return False
        self._pending.remove(job)
        self._pending.insert(0, job)
        self._changed_order()
        return True

    def cancel(self, job: Job) -> bool:
        """Drop one waiting job ("cancelled" event). A running job is not cancelled here:
        interrupt it (its images so far are kept)."""
        if job not in self._pending:
            return False
        self._pending.remove(job)
        self._end_cancelled(job)
        self._changed_order()
        return True

    def take_back(self, job: Job) -> GenerationRequest | None:
        """Take a waiting job out of the line to edit it ("removed" event): its request, or None
        when it is not waiting (it started meanwhile)."""
        if job not in self._pending:
            return None
        self._pending.remove(job)
        job.state = JobState.CANCELLED
        job.note = "taken back to edit"
        self._emit("removed", job)
        self._changed_order()
        return job.request

    def duplicate(self, job: Job) -> Job:
        """The same request again, right behind `job` while it waits, else at the end. A copy is
        not one of a sweep's cells: it belongs to no group."""
        after = self._pending.index(job) + 1 if job in self._pending else len(self._pending)
        return self._enqueue(Job(next(self._ids), _fresh(job.request)), after)

    def retry(self, job: Job) -> Job | None:
        """A failed, cancelled or interrupted job again, as a new job at the end (in the same
        sweep group: it stands for the same cell). None for any other job."""
        if job.state not in RETRYABLE_STATES:
            return None
        return self.submit(_fresh(job.request), group=job.group)

    def cancel_pending(self) -> list[Job]:
        """Drop every job still waiting; the running ones are left alone."""
        dropped = list(self._pending)
        self._pending.clear()
        for job in dropped:
            self._end_cancelled(job)
        if dropped:
            self._changed_order()
        return dropped

    def add_runner(self, runner: Runner) -> None:
        """One more server: it takes jobs at once when the queue runs."""
        self.runners.append(runner)
        if self._serving:
            self._start_loop(runner)
        self._changed_order()

    # -- reaching the servers ----------------------------------------------------------------

    async def interrupt(self, job: Job | None = None) -> bool:
        """Stop a running job early (None: every running job); the server returns (and we save)
        what it has so far. False when no such job runs. A job still waiting behind another
        client's on its server has the interrupt held until it starts there."""
        targets = self._targets(job)
        errors: list[ApiError] = []
        for target, runner in targets:
            if target.interrupt.request():  # else held: sent once it runs (see on_progress)
                try:
                    await runner.interrupt()
                except ApiError as exc:
                    errors.append(exc)
        if errors:
            raise errors[0]
        return bool(targets)

    async def skip(self, job: Job | None = None) -> bool:
        """End the running batch of a job (None: of every running job); the next one starts."""
        targets = self._targets(job)
        errors: list[ApiError] = []
        for _, runner in targets:
            try:
                await runner.skip()
            except ApiError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        return bool(targets)

    def _targets(self, job: Job | None) -> list[tuple[Job, Runner]]:
        jobs = self._running if job is None else [job]
        pairs = [(one, self.runner_of(one)) for one in jobs]
        return [(one, runner) for one, runner in pairs if runner is not None]

    async def _interrupt_quietly(self, runner: Runner) -> None:
        with contextlib.suppress(ApiError):
            await runner.interrupt()

    # -- running -----------------------------------------------------------------------------

    async def run_forever(self) -> None:
        """Run jobs on every runner (one task each) until closed or cancelled. Cancelled, a
        running job ends CANCELLED; closed, running jobs finish first."""
        if self._serving:
            raise RuntimeError("the queue already runs")
        self._serving = True
        try:
            for runner in self.runners:
                self._start_loop(runner)
            self._fail_stranded(self._pending)
            while True:
                changed = self._changed
                for task in list(self._loops.values()):
                    error = None if not task.done() or task.cancelled() else task.exception()
                    if error is not None:
                        raise error  # a listener's bug: as loud as with one server
                if self._closed and all(task.done() for task in self._loops.values()):
                    return
                await changed.wait()
        finally:
            self._serving = False
            loops = list(self._loops.values())
            self._loops.clear()
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def wait_idle(self, poll: float = 0.5) -> None:
        """Return once no job runs or waits (the last one's images are saved by then), or the
        queue is closed. `poll` bounds each wait, should anything change unannounced."""
        while self.busy and not self._closed:
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), poll)

    def close(self) -> None:
        """Start no more jobs and drop the waiting ones; running jobs finish."""
        self._closed = True
        with contextlib.suppress(Exception):
            self.cancel_pending()
        self._wake()

    def _start_loop(self, runner: Runner) -> None:
        task = asyncio.get_running_loop().create_task(
            self._serve(runner), name=f"job-queue {runner.name}"
        )
        self._loops[runner] = task
        task.add_done_callback(lambda _: self._wake())

    async def _serve(self, runner: Runner) -> None:
        """One runner's loop: take the first job it can run, run it, repeat."""
        if not runner.online and not runner.retired:
            await self._recover(runner)  # it dropped out before the queue last stopped
        while not self._closed and not runner.retired:
            changed = self._changed
            job = self._take(runner)
            if job is None:
                await changed.wait()
                continue
            dropped = await self._run(runner, job)
            if dropped is not None:
                await self._recover(runner)

    def _take(self, runner: Runner) -> Job | None:
        if self._paused or self.held or not runner.online or runner.job is not None:
            return None
        skipped: list[Job] = []
        chosen = None
        for job in self._pending:
            if runner.can_run(job):
                chosen = job
                break
            skipped.append(job)
        self._fail_stranded(skipped)  # what it cannot run may be runnable nowhere now
        if chosen is None or chosen not in self._pending or self._paused or self.held:
            return None  # (a listener told of a failed job may have changed the line)
        self._pending.remove(chosen)
        return chosen

    async def _run(self, runner: Runner, job: Job) -> ApiError | None:
        """Run one job on `runner`; the error when the server dropped out under it."""
        runner.job = job
        self._running.append(job)
        job.state = JobState.RUNNING
        job.server = runner.name
        job.started = time.monotonic()
        job.finished = None
        job.last_progress = None
        job.error = None
        job.outcome = None
        if job.dropped_on:
            job.note = f"re-run on {runner.name} after {job.dropped_on[-1]} dropped out"
        self._emit("started", job)
        self._changed_order()

        def on_progress(update: ProgressUpdate) -> None:
            job.last_progress = update
            if job.interrupt.progressed(update):  # asked for while it waited: ours runs now
                task = asyncio.get_running_loop().create_task(self._interrupt_quietly(runner))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._emit("progress", job, update)

        try:
            job.outcome = await runner.run(job, on_progress)
        except ApiError as exc:
            if exc.kind in DROP_KINDS:
                self._dropped(runner, job, exc)
                return exc
            job.error = exc
            job.state = JobState.FAILED
        except asyncio.CancelledError:
            job.state = JobState.CANCELLED
            job.finished = time.monotonic()
            self._release(runner, job)
            self._finished.append(job)
            self._wake()
            raise
        except Exception as exc:  # a bug must not kill the dispatcher; report it as a failure
            job.error = ApiError(ErrorKind.SERVER, f"Unexpected error: {exc!r}")
            job.state = JobState.FAILED
        else:
            job.state = JobState.INTERRUPTED if job.interrupt_requested else JobState.DONE
            if job.outcome is not None:
                job.outcome.interrupted = job.interrupt_requested
        self._release(runner, job)
        self._end(job, "finished")
        self._changed_order()
        return None

    def _release(self, runner: Runner, job: Job) -> None:
        runner.job = None
        with contextlib.suppress(ValueError):
            self._running.remove(job)

    def _dropped(self, runner: Runner, job: Job, exc: ApiError) -> None:
        """The server went away under `job`: back to the front of the line (or failed, after
        `MAX_DROPS` drops or when the user asked to stop it), the runner offline."""
        self._release(runner, job)
        runner.online = False
        job.drops += 1
        job.dropped_on.append(runner.name)
        if job.interrupt_requested:
            job.error = ApiError(
                exc.kind, f"{runner.name} dropped out while the job was being interrupted: {exc}"
            )
            job.state = JobState.FAILED
            job.note = f"{runner.name} dropped out: not re-queued (interrupted)"
            self._end(job, "finished")
        elif job.drops >= MAX_DROPS:
            servers = ", ".join(dict.fromkeys(job.dropped_on))
            job.error = ApiError(
                exc.kind,
                f"Servers dropped out under this job {job.drops} times ({servers}); it is not "
                f"re-queued again (last: {exc})",
            )
            job.state = JobState.FAILED
            job.note = f"{runner.name} dropped out: failed after {job.drops} drops"
            self._end(job, "finished")
        else:
            job.state = JobState.QUEUED
            job.note = f"{runner.name} dropped out mid-job: re-queued"
            job.interrupt = HeldInterrupt()
            job.last_progress = None
            self._pending.insert(0, job)
            self._emit("requeued", job)
        self._changed_order()

    async def _recover(self, runner: Runner) -> None:
        """Wait for a dropped-out server to answer again; give it up when it will not."""
        back = False
        if runner.recover is not None:
            try:
                back = bool(await runner.recover())
            except asyncio.CancelledError:
                raise
            except Exception:  # a failing check gives the server up, not the queue
                back = False
        if back:
            runner.online = True
        else:
            runner.retired = True
            self._fail_stranded(self._pending)
        self._changed_order()

    def _fail_stranded(self, jobs: Sequence[Job]) -> None:
        """Fail the waiting `jobs` that no server left can run: none offers the model, or every
        server was given up."""
        if not jobs or not self.runners:
            return  # no server yet: one may be added
        left = [runner for runner in self.runners if not runner.retired]
        stranded: list[tuple[Job, str]] = []
        for job in list(jobs):
            if job not in self._pending:
                continue
            if not left:
                stranded.append((job, "Every server dropped out: no server left to run it"))
            elif not any(runner.can_run(job) for runner in left):
                model = job.request.model
                why = f"No server offers the model '{model}'" if model else "No server can run it"
                stranded.append((job, why))
        for job, why in stranded:
            if job not in self._pending:
                continue  # a listener took it out meanwhile
            self._pending.remove(job)
            kind = ErrorKind.UNREACHABLE if not left else ErrorKind.VALIDATION
            job.error = ApiError(kind, why)
            job.state = JobState.FAILED
            job.note = why
            self._end(job, "finished")
        if stranded:
            self._changed_order()

    # -- telling -----------------------------------------------------------------------------

    def _end_cancelled(self, job: Job) -> None:
        job.state = JobState.CANCELLED
        job.note = "cancelled"
        self._end(job, "cancelled")

    def _end(self, job: Job, kind: str) -> None:
        job.finished = time.monotonic()
        self._finished.append(job)
        self._emit(kind, job)

    def _emit(self, kind: str, job: Job, progress: ProgressUpdate | None = None) -> None:
        self.listener(JobEvent(kind, job, progress, queued=len(self._pending)))

    def changed(self, job: Job) -> None:
        """A waiting job's request was changed in place (its checkpoint): the servers look at
        it again (one left idle for want of a job it can run may take it now)."""
        if job in self._pending:
            self._changed_order()

    def set_online(self, runner: Runner, online: bool) -> None:
        """Whoever watches a server saw it go away or come back, with no job on it to find out:
        an offline runner takes no job (none is sent to a server known to be down)."""
        if runner.retired or runner.online == online:
            return
        runner.online = online
        self._changed_order()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _changed_order(self) -> None:
        """The line, the pause or a runner changed: tell the UI, wake the runners."""
        self._wake()
        if self.on_change is not None:
            self.on_change()


def _fresh(request: GenerationRequest) -> GenerationRequest:
    """A copy of a request for a new job: a task id names one task, so it is not copied."""
    return dataclasses.replace(request, force_task_id=None)
