"""Shared server state: the FIFO job queue, the running job's progress, settings, task ids.

These mirror the web UI's ``queue_lock``, ``shared.state``, ``shared.opts`` and the task
bookkeeping of ``modules/progress.py``, each guarded by its own lock so that progress,
interrupt, skip and GET options answer while a job holds the queue.
"""

from __future__ import annotations

import copy
import datetime
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

__all__ = [
    "JobState",
    "Options",
    "PreviewFrame",
    "ServerStopping",
    "TaskRegistry",
    "TicketLock",
]


class ServerStopping(Exception):
    """The server is shutting down; queued work will not run."""


class TicketLock:
    """A FIFO lock: jobs run one at a time in the order they asked, like the web UI's queue.

    ``threading.Lock`` makes no fairness promise; a ticket counter does.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._closed = False

    def acquire(self) -> None:
        with self._cond:
            if self._closed:
                raise ServerStopping
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket and not self._closed:
                self._cond.wait()
            if self._closed:
                raise ServerStopping

    def release(self) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def close(self) -> None:
        """Wake every waiter with :class:`ServerStopping`; later acquires fail at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Options:
    """The settings dict (``shared.opts.data``), safe to read while a job changes it."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._data = data

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._data)


@dataclass
class PreviewFrame:
    """A live preview waiting to be drawn: rendering happens only if someone asks for it."""

    id: int
    render: Callable[[], Image.Image]
    image: Image.Image | None = None
    encoded: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get_image(self) -> Image.Image:
        with self.lock:
            if self.image is None:
                self.image = self.render()
            return self.image

    def get_encoded(self, key: str, encode: Callable[[Image.Image], str]) -> str:
        image = self.get_image()
        with self.lock:
            if key not in self.encoded:
                self.encoded[key] = encode(image)
            return self.encoded[key]


class JobState:
    """What ``/sdapi/v1/progress`` reports (``shared.state``), plus interrupt/skip flags.

    As in the web UI, fields other than ``job`` and ``job_count`` keep their last values when
    a job ends, so an idle server still shows the previous job's timestamp and step.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.wake = threading.Event()  # set on interrupt/skip so a sleeping step ends early
        self.skipped = False
        self.interrupted = False
        self.stopping_generation = False
        self.job = ""
        self.job_count = 0
        self.job_timestamp = "0"
        self.job_no = 0
        self.sampling_step = 0
        self.sampling_steps = 0
        self.time_start: float | None = None
        self.textinfo: str | None = None
        self.preview: PreviewFrame | None = None
        self._preview_counter = 0

    def begin(self, job: str) -> str:
        """Start a job (``state.begin``); returns its ``job_timestamp``."""
        with self._lock:
            self.sampling_step = 0
            self.time_start = time.time()
            self.job_count = -1
            self.job_no = 0
            self.job_timestamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
            self.preview = None
            self._preview_counter = 0
            self.skipped = False
            self.interrupted = False
            self.stopping_generation = False
            self.textinfo = None
            self.job = job
            self.wake.clear()
            return self.job_timestamp

    def end(self) -> None:
        with self._lock:
            self.job = ""
            self.job_count = 0

    def set_job_count(self, count: int) -> None:
        with self._lock:
            self.job_count = count

    def next_job(self) -> None:
        with self._lock:
            self.job_no += 1
            self.sampling_step = 0

    def start_sampling(self, steps: int) -> None:
        with self._lock:
            self.sampling_steps = steps
            self.sampling_step = 0

    def set_step(self, step: int) -> None:
        with self._lock:
            self.sampling_step = step

    def set_preview(self, render: Callable[[], Image.Image]) -> None:
        with self._lock:
            self._preview_counter += 1
            self.preview = PreviewFrame(self._preview_counter, render)

    def interrupt(self) -> None:
        with self._lock:
            self.interrupted = True
        self.wake.set()

    def skip(self) -> None:
        with self._lock:
            self.skipped = True
        self.wake.set()

    def take_skip(self) -> None:
        """Clear a skip before the next batch, as the processing loop does."""
        with self._lock:
            self.skipped = False
            if not self.interrupted:
                self.wake.clear()

    def should_stop(self) -> bool:
        with self._lock:
            return self.interrupted or self.skipped

    def is_interrupted(self) -> bool:
        with self._lock:
            return self.interrupted

    def snapshot(self) -> dict[str, Any]:
        """Everything progress needs, read at once."""
        with self._lock:
            return {
                "state": {
                    "skipped": self.skipped,
                    "interrupted": self.interrupted,
                    "stopping_generation": self.stopping_generation,
                    "job": self.job,
                    "job_count": self.job_count,
                    "job_timestamp": self.job_timestamp,
                    "job_no": self.job_no,
                    "sampling_step": self.sampling_step,
                    "sampling_steps": self.sampling_steps,
                },
                "time_start": self.time_start,
                "textinfo": self.textinfo,
                "preview": self.preview,
            }


class TaskRegistry:
    """Task ids for ``/internal/progress``: queued, running, recently finished."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}
        self._current: str | None = None
        self._finished: list[str] = []

    def add(self, task_id: str) -> None:
        with self._lock:
            self._pending[task_id] = time.time()

    def start(self, task_id: str) -> None:
        with self._lock:
            self._current = task_id
            self._pending.pop(task_id, None)

    def finish(self, task_id: str) -> None:
        with self._lock:
            self._pending.pop(task_id, None)
            if self._current == task_id:
                self._current = None
            self._finished.append(task_id)
            del self._finished[:-16]

    def status(self, task_id: str | None) -> tuple[bool, bool, bool, str]:
        """(active, queued, completed, textinfo-when-not-active) for one task id."""
        with self._lock:
            active = task_id is not None and task_id == self._current
            queued = task_id in self._pending
            completed = task_id in self._finished
            text = "Waiting..."
            if queued and task_id is not None:
                order = sorted(self._pending, key=lambda t: self._pending[t])
                text = f"In queue: {order.index(task_id) + 1}/{len(order)}"
            return active, queued, completed, text
