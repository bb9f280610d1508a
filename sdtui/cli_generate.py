"""`sdtui generate` over several servers, and sweeps.

Every server is asked at once what it offers; one that does not answer is left out (one warning
line). The request is built against the first server that answers, then becomes jobs: a batch
count N becomes N jobs with the seeds one server would give them, a sweep a job a cell. The jobs
go through the engine's queue, one running on each server at a time, so a fast server takes more
of them. A server that drops out mid-job is given up and its job runs on another. Saved paths are
printed as each job ends; with --grid the sweep's grid is saved last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sdtui.cli import (
    BadArgument,
    CliError,
    _check_flags,
    _explicit,
    _Lists,
    _prepare_request,
    _ProgressLine,
    _read_inputs,
    _warn,
    signal_handlers,
)
from sdtui.config import ServerProfile, Settings
from sdtui.text import one_line

if TYPE_CHECKING:
    from sdtui.api import GenerationRequest
    from sdtui.engine.generate import SavedImage
    from sdtui.engine.links import ServerLink
    from sdtui.engine.queue import Job, JobEvent, JobQueue
    from sdtui.engine.server import ServerFacts
    from sdtui.engine.sweep import Axis, Sweep
    from sdtui.engine.sweep_jobs import SweepRun

#: How many --sweep flags a generate takes: the x, y and z axes (engine.sweep.MAX_AXES).
MAX_AXES = 3


def parse_sweeps(args: argparse.Namespace) -> list[Axis]:
    """The --sweep axes, parsed (BadArgument, one line, before anything is read or sent)."""
    texts: list[str] = args.sweep or []
    if args.grid and not texts:
        raise BadArgument("--grid draws a sweep: give --sweep FIELD=V1,V2,... too")
    if len(texts) > MAX_AXES:
        raise BadArgument(f"--sweep at most {MAX_AXES} times (the x, y and z axes)")
    if not texts:
        return []
    from sdtui.engine.sweep import parse_axis

    axes = []
    for text in texts:
        try:
            axes.append(parse_axis(text))
        except ValueError as exc:
            raise BadArgument(f"--sweep {one_line(text, 80)}: {exc}") from None
    return axes


@dataclass
class _Results:
    """What the jobs made, as they end."""

    total: int
    images: list[tuple[SavedImage, str]] = field(default_factory=list)  # image, server
    failed: list[Job] = field(default_factory=list)
    ended: int = 0
    cut_short: int = 0
    first_saved: datetime | None = None  # when the first image was saved (its dated folder)


class _QueueProgress(_ProgressLine):
    """One progress line on stderr (a terminal only): each server's running job, the rest."""

    def draw(self, queue: JobQueue, results: _Results) -> None:
        if not self.enabled:
            return
        parts = []
        for job in queue.running:
            update = job.last_progress
            if update is None or not update.active:
                state = "waiting" if update is not None and update.waiting else "starting"
            else:
                state = f"{update.progress:.0%}"
            parts.append(f"{job.server or '?'} {state}")
        pending = len(queue.pending)
        if pending:
            parts.append(f"{pending} queued")
        parts.append(f"{results.ended}/{results.total} done")
        width = shutil.get_terminal_size().columns - 1  # a wrapped line cannot be redrawn
        self.show(one_line(" · ".join(parts), max(10, width)))


class _QueueStopper:
    """SIGINT/SIGTERM while the jobs run: the first interrupts every running job (the images
    made so far are saved) and drops the waiting ones; a second one, or one before any job was
    queued, quits at once."""

    def __init__(self, progress: _QueueProgress) -> None:
        self.progress = progress
        self.signum: int | None = None
        self.queue: JobQueue | None = None
        self.work: asyncio.Task[Any] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def stopping(self) -> bool:
        return self.signum is not None

    @property
    def status(self) -> int:
        return 128 + self.signum if self.signum is not None else 0

    def __call__(self, signum: int) -> None:
        first = self.signum is None
        self.signum = signum
        queue = self.queue
        if not first or queue is None:
            self.quit()
            return
        self.progress.clear()
        queue.cancel_pending()
        print(
            "interrupting: the images made so far will be saved (Ctrl-C again to quit)",
            file=sys.stderr,
            flush=True,
        )
        task = asyncio.get_running_loop().create_task(self._interrupt(queue))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _interrupt(self, queue: JobQueue) -> None:
        from sdtui.api import ApiError

        try:
            await queue.interrupt()
        except ApiError as exc:
            self.progress.clear()
            _warn(f"cannot interrupt the jobs: {exc.message}; quitting")
            self.quit()

    def quit(self) -> None:
        if self.work is not None:
            self.work.cancel()

    def installed(self) -> contextlib.AbstractContextManager[None]:
        return signal_handlers(self)


async def _probe(links: Sequence[ServerLink]) -> list[ServerLink]:
    """Ask every server at once what it offers; those that answer, in the order given. Each one
    that does not is one warning line; none answering is a CliError."""
    from sdtui.api import ApiError
    from sdtui.engine.server import fetch_server_facts

    async def probe(link: ServerLink) -> None:
        try:
            link.set_connected(await fetch_server_facts(link.client))
        except ApiError as exc:
            link.set_offline(exc.message)

    await asyncio.gather(*(probe(link) for link in links))
    alive = [link for link in links if link.connected]
    if not alive:
        if len(links) == 1:
            raise CliError(links[0].reason)
        reasons = "; ".join(f"{link.name}: {link.reason}" for link in links)
        raise CliError(f"no server answers ({reasons})")
    for link in links:
        if not link.connected:
            _warn(f"{link.name} is left out: {link.reason}")
    return alive


def _facts(first: ServerLink, alive: Sequence[ServerLink]) -> ServerFacts:
    """The first server's lists, with every server's checkpoints: a model only some servers have
    is asked for by name, and runs on those (the queue asks each server whether it has it)."""
    import dataclasses

    models = {model.title: model for link in alive for model in link.facts.models}
    return dataclasses.replace(first.facts, models=list(models.values()))


def _lists(first: ServerLink, alive: Sequence[ServerLink]) -> _Lists:
    """The lists the flags' names are matched against: the first server's (the lists it was
    just asked for), the checkpoints of all."""
    lists = _Lists(first.client)
    facts = _facts(first, alive)
    lists.preset("sd_models", facts.models)
    lists.preset("samplers", facts.samplers)
    return lists


def _requests(
    request: GenerationRequest, axes: Sequence[Axis], facts: Any
) -> tuple[list[GenerationRequest], Sweep | None]:
    """The jobs: a sweep's cells, or the batch split a job a batch. BadArgument for a sweep
    that cannot be made."""
    if not axes:
        from sdtui.engine.dispatch import split_batch

        return split_batch(request), None
    from sdtui.engine.sweep import expand, resolve_axis

    try:
        resolved = [resolve_axis(axis, facts) for axis in axes]
        sweep = expand(request, resolved)
    except ValueError as exc:
        raise BadArgument(f"--sweep: {exc}") from None
    return [cell.request for cell in sweep.cells], sweep


def _image_record(image: SavedImage, server: str) -> dict[str, Any]:
    return {
        "path": str(image.path) if image.path else None,
        "seed": image.seed,
        "infotext": image.infotext,
        "error": image.error,
        "server": server,
    }


def _summary(results: _Results, interrupted: bool) -> str:
    saved = sum(1 for image, _ in results.images if image.path is not None)
    parts = [f"{saved} image{'' if saved == 1 else 's'} saved"]
    done = results.ended - len(results.failed)
    if done < results.total:
        parts.append(f"{done} of {results.total} jobs done")
    if results.failed:
        parts.append(f"{len(results.failed)} failed")
    if results.cut_short:
        parts.append(f"{results.cut_short} stopped early")
    if interrupted:
        parts.insert(0, "interrupted")
    return " · ".join(parts)


async def run_jobs(
    args: argparse.Namespace, settings: Settings, servers: Sequence[ServerProfile]
) -> int:
    """`sdtui generate` as jobs over `servers` (several, or one with a sweep)."""
    from sdtui.engine.links import ServerLink

    _check_flags(args)
    axes = parse_sweeps(args)
    inputs = await asyncio.to_thread(_read_inputs, args)
    explicit = _explicit(args) if args.from_file or args.init_image else set()
    links = [ServerLink(profile) for profile in servers]
    progress = _QueueProgress()
    stopper = _QueueStopper(progress)
    try:
        with stopper.installed():
            stopper.work = task = asyncio.get_running_loop().create_task(
                _run(args, settings, links, axes, inputs, explicit, stopper, progress)
            )
            try:
                await asyncio.wait([task])
            finally:
                progress.clear()
            if task.cancelled():  # only the stopper cancels it
                print("sdtui: stopped", file=sys.stderr)
                return stopper.status
            return task.result()
    finally:
        await asyncio.gather(*(link.aclose() for link in links), return_exceptions=True)


async def _run(
    args: argparse.Namespace,
    settings: Settings,
    links: list[ServerLink],
    axes: list[Axis],
    inputs: Any,
    explicit: set[str],
    stopper: _QueueStopper,
    progress: _QueueProgress,
) -> int:
    from sdtui.api import ApiError
    from sdtui.engine.links import make_runner
    from sdtui.engine.queue import JobQueue
    from sdtui.engine.sweep_jobs import SweepJobs
    from sdtui.store import ImageStore

    alive = await _probe(links)
    first = alive[0]
    try:
        request = await _prepare_request(_lists(first, alive), args, inputs, explicit)
    except ApiError as exc:
        raise CliError(f"{first.name}: {exc.message}") from None
    requests, sweep = _requests(request, axes, _facts(first, alive))
    if stopper.stopping:
        return stopper.status
    store = ImageStore(settings.output_dir)
    results = _Results(total=len(requests))
    sweeps = SweepJobs()  # each cell's image, as its job ends (the grid's)
    several = len(alive) > 1

    links_by_name = {link.name: link for link in alive}

    def heard(event: JobEvent) -> None:
        job = event.job
        if event.kind == "requeued":
            progress.clear()
            link = links_by_name.get(job.server or "")
            why = f" ({link.reason})" if link is not None and link.reason else ""
            others = [r for r in queue.runners if r.name != job.server and not r.retired]
            where = "its job goes to another server" if others else "no other server is left"
            _warn(f"{job.server} dropped out mid-job{why}: {where}")
            if stopper.stopping:
                queue.cancel(job)
        elif event.kind == "finished":
            results.ended += 1
            progress.clear()
            _job_ended(job, results, args, several)
            sweeps.job_ended(job)
        if event.kind in ("started", "progress", "finished", "requeued"):
            progress.draw(queue, results)

    runners = [
        make_runner(
            link, store, poll_interval=settings.poll_interval, previews=False, recover=False
        )
        for link in alive
    ]
    queue = JobQueue(runners, heard)
    group = sweeps.new_group() if sweep is not None else None
    jobs = [queue.submit(cell_request, group=group) for cell_request in requests]
    run = None if sweep is None or group is None else sweeps.add(group, sweep, jobs, grid=args.grid)
    stopper.queue = queue
    loop = asyncio.get_running_loop()
    dispatcher = loop.create_task(queue.run_forever())
    idle = loop.create_task(queue.wait_idle(poll=0.2))
    try:
        await asyncio.wait([dispatcher, idle], return_when=asyncio.FIRST_COMPLETED)
        if dispatcher.done():
            dispatcher.result()  # a failure while telling about a job (stdout closed): raise it
    finally:
        idle.cancel()
        queue.close()
        if not dispatcher.done():
            dispatcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dispatcher
    interrupted = stopper.stopping
    grid_path = None
    if run is not None and args.grid:
        grid_path = await _save_grid(run, results, store)
    _report(args, results, interrupted, grid_path, links)
    if interrupted:
        return stopper.status
    if results.failed or results.cut_short or any(image.error for image, _ in results.images):
        return 1
    if not results.images:
        _warn("the servers returned no images" if several else "the server returned no images")
        return 1
    return 0 if results.ended == results.total else 1


def _job_ended(job: Job, results: _Results, args: argparse.Namespace, several: bool) -> None:
    """Print a finished job's saved paths (now, not at the end: a long run shows its work)."""
    from sdtui.engine.queue import JobState

    server = job.server or ""
    if job.state is JobState.FAILED or job.outcome is None:
        if job.state is not JobState.CANCELLED:
            results.failed.append(job)
            reason = job.error.message if job.error is not None else "failed"
            _warn(f"{server}: {reason}" if server and several else reason)
        return
    outcome = job.outcome
    if outcome.cut_short:
        results.cut_short += 1
    for image in outcome.images:
        results.images.append((image, server))
        if image.path is not None and results.first_saved is None:
            results.first_saved = datetime.now()
        if not args.json and image.path is not None:
            print(image.path, flush=True)
    for error in outcome.errors:
        _warn(error)


async def _save_grid(run: SweepRun, results: _Results, store: Any) -> str | None:
    """The sweep's labelled grid beside its images (None when no cell made one)."""
    from sdtui.engine.sweep import grid_infotext, save_grid
    from sdtui.store import SaveError

    if not run.made:
        _warn("no cell made an image: no grid saved")
        return None
    images = await asyncio.to_thread(run.read_images)
    infotext = grid_infotext(run.sweep, run.infotext)
    try:
        path = await save_grid(run.sweep, images, store, infotext, when=results.first_saved)
    except (SaveError, OSError, ValueError) as exc:
        _warn(f"the grid could not be saved: {exc}")
        return None
    return str(path)


def _report(
    args: argparse.Namespace,
    results: _Results,
    interrupted: bool,
    grid_path: str | None,
    links: Sequence[ServerLink],
) -> None:
    summary = _summary(results, interrupted)
    if args.json:
        record: dict[str, Any] = {
            "images": [_image_record(image, server) for image, server in results.images],
            "interrupted": interrupted,
            "jobs": results.total,
            "failed": [
                {
                    "server": job.server,
                    "seed": job.request.seed,
                    "error": job.error.message if job.error else None,
                }
                for job in results.failed
            ],
            "stopped_early": results.cut_short > 0,
            "summary": summary,
            "servers": [
                {"server": link.name, "url": link.url, "error": link.reason or None}
                for link in links
            ],
        }
        if args.sweep:
            record["grid"] = grid_path
        print(json.dumps(record, ensure_ascii=False, indent=2))
    elif grid_path is not None:
        print(grid_path)
    sys.stdout.flush()
    done = results.ended - len(results.failed)
    if interrupted or results.failed or results.cut_short or done < results.total:
        print(f"sdtui: {summary}", file=sys.stderr)
