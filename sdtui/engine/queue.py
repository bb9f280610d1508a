"""The job queue: generation requests run one after another, in submission order.

Generating while a job runs queues the new job behind it; nothing cancels or races the running
job. The queue is independent of any UI: it reports what happens through one callback, so the TUI,
scripts and tests drive it alike. Each `Runner` is one server (one client); a later change can give
the queue several runners that take jobs from the same line.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sdtui.api import ApiError, ErrorKind, GenerationRequest, ProgressUpdate
from sdtui.engine.generate import GenerationOutcome
from sdtui.engine.progress import HeldInterrupt


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(eq=False)
class Job:
    id: int
    request: GenerationRequest
    state: JobState = JobState.QUEUED
    outcome: GenerationOutcome | None = None
    error: ApiError | None = None
    last_progress: ProgressUpdate | None = None
    interrupt: HeldInterrupt = field(default_factory=HeldInterrupt)

    @property
    def interrupt_requested(self) -> bool:
        return self.interrupt.requested

    @property
    def waiting(self) -> bool:
        """Sent, but the server is still busy with another client's job."""
        return self.interrupt.waiting


@dataclass(frozen=True)
class JobEvent:
    """Something happened to a job. `kind` is one of: queued, started, progress, finished,
    cancelled. For progress, `progress` is set; for finished, `job.state` says how it ended."""

    kind: str
    job: Job
    progress: ProgressUpdate | None = None
    queued: int = 0  # jobs waiting behind the running one, after this event


RunJob = Callable[[Job, Callable[[ProgressUpdate], None]], Awaitable[GenerationOutcome]]
Listener = Callable[[JobEvent], None]


@dataclass
class Runner:
    """Runs jobs on one server: `run` generates and saves; `interrupt`/`skip` reach that server."""

    run: RunJob
    interrupt: Callable[[], Awaitable[None]]
    skip: Callable[[], Awaitable[None]]


@dataclass
class JobQueue:
    runner: Runner
    listener: Listener
    _pending: deque[Job] = field(default_factory=deque)
    _current: Job | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _closed: bool = False
    held: bool = False  # no new job starts while held (the running one goes on)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def current(self) -> Job | None:
        return self._current

    @property
    def pending(self) -> list[Job]:
        return list(self._pending)

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._pending)

    def submit(self, request: GenerationRequest) -> Job:
        job = Job(next(self._ids), request)
        self._pending.append(job)
        self._emit("queued", job)
        self._wake.set()
        return job

    def hold(self, held: bool = True) -> None:
        """Start no new job until released (the running one goes on): a question about the
        queue's future must not be answered by the queue moving on meanwhile."""
        self.held = held
        self._wake.set()

    def cancel_pending(self) -> list[Job]:
        """Drop every job still waiting; the running one is left alone."""
        dropped = list(self._pending)
        self._pending.clear()
        for job in dropped:
            job.state = JobState.CANCELLED
            self._emit("cancelled", job)
        return dropped

    async def interrupt(self) -> bool:
        """Stop the running job early; the server returns (and we save) what it has so far."""
        job = self._current
        if job is None:
            return False
        if job.interrupt.request():  # else held: sent once ours runs (see on_progress)
            await self.runner.interrupt()
        return True

    async def _interrupt_quietly(self) -> None:
        with contextlib.suppress(ApiError):
            await self.runner.interrupt()

    async def skip(self) -> bool:
        if self._current is None:
            return False
        await self.runner.skip()
        return True

    def _emit(self, kind: str, job: Job, progress: ProgressUpdate | None = None) -> None:
        self.listener(JobEvent(kind, job, progress, queued=len(self._pending)))

    async def run_forever(self) -> None:
        """The dispatcher: take the oldest job, run it, report, repeat. Cancel to stop."""
        while not self._closed:
            if not self._pending or self.held:
                self._wake.clear()
                await self._wake.wait()
                continue
            job = self._pending.popleft()
            self._current = job
            job.state = JobState.RUNNING
            self._emit("started", job)

            def on_progress(update: ProgressUpdate, job: Job = job) -> None:
                job.last_progress = update
                if job.interrupt.progressed(update):  # asked for while it waited: ours runs now
                    task = asyncio.get_running_loop().create_task(self._interrupt_quietly())
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                self._emit("progress", job, update)

            try:
                job.outcome = await self.runner.run(job, on_progress)
            except ApiError as exc:
                job.error = exc
                job.state = JobState.FAILED
            except asyncio.CancelledError:
                job.state = JobState.CANCELLED
                self._current = None
                raise
            except Exception as exc:  # a bug must not kill the dispatcher; report it as a failure
                job.error = ApiError(ErrorKind.SERVER, f"Unexpected error: {exc!r}")
                job.state = JobState.FAILED
            else:
                job.state = JobState.INTERRUPTED if job.interrupt_requested else JobState.DONE
                if job.outcome is not None:
                    job.outcome.interrupted = job.interrupt_requested
            finally:
                self._current = None
            self._emit("finished", job)

    async def wait_idle(self, poll: float = 0.05) -> None:
        """Return once no job runs or waits (the last one's images are saved by then)."""
        while self.busy and not self._closed:
            await asyncio.sleep(poll)

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        with contextlib.suppress(Exception):
            self.cancel_pending()
