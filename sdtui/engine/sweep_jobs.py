"""The jobs of one sweep, followed until the last one ends: then its grid can be drawn.

A sweep's cells are queued as ordinary jobs sharing a group id; they run on any server, in any
order, may fail, be cancelled or re-queued. `SweepJobs` collects each cell's first image as its
job ends and says when every cell is settled. UI-free: the TUI and `sdtui generate` share it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from sdtui.engine.queue import Job, JobState
from sdtui.engine.sweep import Sweep

ENDED = (JobState.DONE, JobState.INTERRUPTED, JobState.FAILED, JobState.CANCELLED)


@dataclass
class SweepRun:
    """One sweep in flight: which job makes which cell, and the images so far."""

    group: int
    sweep: Sweep
    grid: bool
    cells: dict[int, int] = field(default_factory=dict)  # job id -> cell index
    # Each cell's image: its file once saved (a big sweep must not hold every image in memory),
    # else its bytes.
    images: list[Path | bytes | None] = field(default_factory=list)
    infotexts: list[str | None] = field(default_factory=list)
    open: set[int] = field(default_factory=set)  # job ids not ended yet

    @property
    def infotext(self) -> str:
        """The grid's infotext: the first cell that has one, as the web UI keeps the first."""
        return next((text for text in self.infotexts if text), "")

    @property
    def made(self) -> int:
        return sum(1 for image in self.images if image is not None)

    def read_images(self) -> list[bytes | None]:
        """Every cell's image bytes, None where it has none (call in a thread: files are read)."""
        out: list[bytes | None] = []
        for image in self.images:
            if isinstance(image, Path):
                try:
                    out.append(image.read_bytes())
                except OSError:
                    out.append(None)
            else:
                out.append(image)
        return out


class SweepJobs:
    """Every sweep of a session, by group id."""

    def __init__(self) -> None:
        self._runs: dict[int, SweepRun] = {}
        self._ids = itertools.count(1)

    def new_group(self) -> int:
        return next(self._ids)

    def add(self, group: int, sweep: Sweep, jobs: list[Job], *, grid: bool) -> SweepRun:
        """`jobs[i]` makes `sweep.cells[i]`."""
        count = len(sweep.cells)
        run = SweepRun(group, sweep, grid, images=[None] * count, infotexts=[None] * count)
        for index, job in enumerate(jobs):
            run.cells[job.id] = index
            run.open.add(job.id)
        self._runs[group] = run
        return run

    def job_ended(self, job: Job) -> SweepRun | None:
        """Note a job's end; the sweep when it was the last of it (then it is forgotten)."""
        if job.group is None or job.state not in ENDED:
            return None
        run = self._runs.get(job.group)
        if run is None or job.id not in run.open:
            return None
        run.open.discard(job.id)
        index = run.cells[job.id]
        outcome = job.outcome
        if outcome is not None:
            first = next((image for image in outcome.images if image.png), None)
            if first is not None:
                run.images[index] = first.path or first.png
                run.infotexts[index] = first.infotext
        if run.open:
            return None
        del self._runs[job.group]
        return run
