"""Dispatch over several servers: four equal jobs on two demo backends against the same four on one.

Run: ``python bench/bench_dispatch.py [--jobs 4] [--steps 20] [--step-delay 0.05] [--reps 3]``.
Prints each setup's wall time (median of the repetitions, interleaved so that drift in the
machine's load touches every setup alike), the ratios against the one-server baseline measured in
the same run, and PASS/FAIL per budget (exit status 1 on FAIL). The default size takes about
half a minute, most of it the demo servers' sampling sleeps.

Three demo backends (``sdtui.demo.server.DemoServer``) on three loopback ports: two alike (A, B)
and one three times slower per step (C). Each job goes through the multi-runner ``JobQueue`` and
``sdtui.engine.generate`` on a real ``SDClient`` with progress polling on, as the TUI runs it,
and saves its PNG into a temporary folder:

- ``one server``: the jobs on A alone (the baseline).
- ``two servers``: the same jobs on A and B. Budget: two / one < 0.65 (about 0.5 is the aim:
  each server runs one job at a time, so two servers should halve the time).
- ``fast + 3x slower``: the same jobs on A and C. The fast box should take more of them (with
  four jobs of 1 s on A and 3 s on C: three and one); how many each took is printed. Budget: A
  takes more jobs than C in every repetition, and the time stays under the baseline's.

Every run also checks that each job finished with its image saved, and that each image names
the server that ran it (its ``sdtui-server`` chunk equals ``Job.server``).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._util import verdict
from sdtui.api import GenerationRequest, ProgressUpdate, SDClient
from sdtui.demo.server import DemoServer
from sdtui.engine.generate import GenerationOutcome, generate
from sdtui.engine.queue import Job, JobEvent, JobQueue, JobState, Runner
from sdtui.images.png import read_text_chunks
from sdtui.store import ImageStore
from sdtui.store.metadata import SERVER_KEY

BUDGET_TWO_OVER_ONE = 0.65
SLOWER = 3.0
SIZE = 128
POLL_INTERVAL = 0.1  # progress polls, as often as the TUI's


@dataclass
class Box:
    """One demo backend and the client that talks to it."""

    name: str
    server: DemoServer
    client: SDClient


@dataclass
class Run:
    seconds: float
    taken: Counter[str]
    problems: list[str]


def make_runner(box: Box, store: ImageStore) -> Runner:
    async def run(job: Job, on_progress: Callable[[ProgressUpdate], None]) -> GenerationOutcome:
        return await generate(
            box.client,
            job.request,
            store,
            on_progress=on_progress,
            poll_interval=POLL_INTERVAL,
            server=box.name,
        )

    return Runner(run, box.client.interrupt, box.client.skip, name=box.name)


def job_request(index: int, steps: int) -> GenerationRequest:
    prompt = "a lighthouse on a cliff at dawn"
    return GenerationRequest(prompt=prompt, seed=100 + index, steps=steps, width=SIZE, height=SIZE)


def check(jobs: list[Job]) -> list[str]:
    """What went wrong: a job that did not finish, an image not saved or naming another server."""
    problems = []
    for job in jobs:
        if job.state is not JobState.DONE or job.outcome is None:
            problems.append(f"job {job.id} ended {job.state.value}: {job.error}")
            continue
        for image in job.outcome.images:
            if image.path is None:
                problems.append(f"job {job.id}: image not saved ({image.error})")
                continue
            named = read_text_chunks(image.path.read_bytes()).get(SERVER_KEY)
            if named != job.server:
                problems.append(f"job {job.id} ran on {job.server}, its image names {named}")
    return problems


async def run_jobs(boxes: list[Box], count: int, steps: int, store: ImageStore) -> Run:
    """`count` equal jobs through one queue over `boxes`: the time from the dispatcher's start
    to the last job's images saved, and how many jobs each server took."""
    finished: list[Job] = []
    done = asyncio.Event()

    def listen(event: JobEvent) -> None:
        if event.kind == "finished":
            finished.append(event.job)
            if len(finished) == count:
                done.set()

    queue = JobQueue([make_runner(box, store) for box in boxes], listen)
    jobs = [queue.submit(job_request(i, steps)) for i in range(count)]
    started = time.perf_counter()
    dispatcher = asyncio.create_task(queue.run_forever())
    try:
        await asyncio.wait_for(done.wait(), timeout=60 + count * steps * 1.0)
        seconds = time.perf_counter() - started
    finally:
        queue.close()
        dispatcher.cancel()
        await asyncio.gather(dispatcher, return_exceptions=True)
    return Run(seconds, Counter(job.server or "?" for job in jobs), check(jobs))


async def measure(args: argparse.Namespace, work: Path) -> int:
    store = ImageStore(work)
    delays = {"A": args.step_delay, "B": args.step_delay, "C": args.step_delay * SLOWER}
    servers = {name: DemoServer(step_delay=delay).start() for name, delay in delays.items()}
    boxes = {name: Box(name, server, SDClient(server.url)) for name, server in servers.items()}
    setups = {
        "one server": [boxes["A"]],
        "two servers": [boxes["A"], boxes["B"]],
        f"fast + {SLOWER:g}x slower": [boxes["A"], boxes["C"]],
    }
    runs: dict[str, list[Run]] = {name: [] for name in setups}
    try:
        # Warm each connection (and the progress endpoint probe) outside the timed runs.
        await run_jobs(list(boxes.values()), len(boxes), 1, store)
        for rep in range(args.reps):
            order = list(setups)
            order = order[rep % len(order) :] + order[: rep % len(order)]
            for name in order:
                runs[name].append(await run_jobs(setups[name], args.jobs, args.steps, store))
    finally:
        for box in boxes.values():
            await box.client.aclose()
        for server in servers.values():
            server.stop()
    return report(args, runs)


def report(args: argparse.Namespace, runs: dict[str, list[Run]]) -> int:
    names = list(runs)
    one, two, uneven = (statistics.median(r.seconds for r in runs[n]) for n in names)
    ideal = args.steps * args.step_delay
    print(
        f"{args.jobs} jobs of {args.steps} steps at {args.step_delay * 1000:g} ms a step "
        f"(~{ideal:.2f} s of sampling each; C {SLOWER:g}x slower), {SIZE}x{SIZE}, "
        f"median of {args.reps}"
    )
    for name in names:
        each = ", ".join(f"{r.seconds:.2f}" for r in runs[name])
        per_rep = " / ".join(
            " ".join(f"{s}:{c}" for s, c in sorted(r.taken.items())) for r in runs[name]
        )
        print(
            f"  {name:<18} median {statistics.median(r.seconds for r in runs[name]):6.2f} s"
            f"  (runs: {each})  jobs per server: {per_rep}"
        )
    ratio = two / one
    ok_two = ratio < BUDGET_TWO_OVER_ONE
    print(
        f"  two / one          = {ratio:5.2f}  (budget < {BUDGET_TWO_OVER_ONE:g}, aim ~0.5)"
        f"  {verdict(ok_two)}"
    )
    fast_more = all(r.taken["A"] > r.taken["C"] for r in runs[names[2]])
    ok_uneven = fast_more and uneven < one
    print(
        f"  fast+slow / one    = {uneven / one:5.2f}  (fast box took more jobs every run: "
        f"{'yes' if fast_more else 'no'}; budget < 1)  {verdict(ok_uneven)}"
    )
    problems = [p for name in names for r in runs[name] for p in r.problems]
    for problem in problems[:10]:
        print(f"  FAIL: {problem}")
    passed = ok_two and ok_uneven and not problems
    print(verdict(passed))
    return 0 if passed else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=4, help="jobs per setup (default %(default)s)")
    parser.add_argument("--steps", type=int, default=20, help="steps a job (default %(default)s)")
    parser.add_argument(
        "--step-delay", type=float, default=0.05, help="seconds a step (default %(default)s)"
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default %(default)s)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdtui-bench-dispatch-"))
    try:
        return asyncio.run(measure(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
