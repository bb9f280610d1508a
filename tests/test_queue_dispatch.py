"""The job queue over several servers, and batch splitting.

Unit tests drive the real `JobQueue` with in-memory runners whose run functions sleep, wait for a
gate, or raise the errors a real client raises; the last tests run it over two real demo
backends with real clients and the real `generate`."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sdtui.api import ApiError, ErrorKind, GenerationRequest, GenerationResult, ProgressUpdate
from sdtui.api.client import SDClient
from sdtui.demo import DemoServer
from sdtui.engine import GenerationOutcome, generate, split_batch
from sdtui.engine.queue import FINISHED_KEPT, MAX_DROPS, Job, JobEvent, JobQueue, JobState, Runner
from sdtui.store import ImageStore

ACTIVE = ProgressUpdate(0.5, 0.0, "", 0, 1, 5, 10, "", False, False, None, None)


@dataclass
class FakeServer:
    """One in-memory server: each job takes `delay` seconds (or until released), and may be
    made to drop out or fail."""

    name: str
    delay: float = 0.02
    models: set[str] | None = None  # None: any model
    drops: int = 0  # the next this many jobs drop out
    drop_kind: ErrorKind = ErrorKind.DROPPED
    fail: ApiError | None = None
    recovers: bool | None = None  # None: no recover function
    gated: bool = False  # jobs run until `release()` (or an interrupt)
    waiting_first: bool = False  # the first progress says another client's job runs
    ran: list[int] = field(default_factory=list)
    interrupts: int = 0
    skips: int = 0
    recover_calls: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, job: Job, on_progress: Callable[[ProgressUpdate], None]) -> Any:
        self.ran.append(job.id)
        self.started.set()
        if self.waiting_first:
            on_progress(ProgressUpdate.busy())
            await asyncio.sleep(0.05)
        on_progress(ACTIVE)
        if self.gated:
            await self.gate.wait()
        else:
            await asyncio.sleep(self.delay)
        if self.drops:
            self.drops -= 1
            raise ApiError(self.drop_kind, f"The connection to {self.name} broke")
        if self.fail is not None:
            raise self.fail
        result = GenerationResult([], [], [], {}, {})
        return GenerationOutcome(request=job.request, result=result)

    async def interrupt(self) -> None:
        self.interrupts += 1
        self.gate.set()

    async def skip(self) -> None:
        self.skips += 1

    async def recover(self) -> bool:
        self.recover_calls += 1
        await asyncio.sleep(0.01)
        return bool(self.recovers)

    def runner(self) -> Runner:
        def can_run(job: Job) -> bool:
            return self.models is None or job.request.model in self.models

        return Runner(
            self.run,
            self.interrupt,
            self.skip,
            name=self.name,
            can_run=can_run,
            recover=None if self.recovers is None else self.recover,
        )


@dataclass
class Recorder:
    events: list[JobEvent] = field(default_factory=list)
    changes: int = 0

    def __call__(self, event: JobEvent) -> None:
        self.events.append(event)

    def change(self) -> None:
        self.changes += 1

    def kinds(self, job: Job) -> list[str]:
        return [e.kind for e in self.events if e.job is job and e.kind != "progress"]


def make_queue(*servers: FakeServer) -> tuple[JobQueue, Recorder]:
    recorder = Recorder()
    queue = JobQueue([s.runner() for s in servers], recorder, on_change=recorder.change)
    return queue, recorder


@asynccontextmanager
async def running(queue: JobQueue) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(queue.run_forever())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def idle(queue: JobQueue, timeout: float = 5.0) -> None:
    await asyncio.wait_for(queue.wait_idle(), timeout)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.005)


def req(prompt: str = "a", **kw: Any) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, **kw)


# -- order and spreading --------------------------------------------------------------------------


async def test_one_server_runs_jobs_in_submission_order() -> None:
    server = FakeServer("gpu1")
    queue, rec = make_queue(server)
    jobs = [queue.submit(req(str(i))) for i in range(3)]
    assert [j.state for j in jobs] == [JobState.QUEUED] * 3
    async with running(queue):
        await idle(queue)
    assert server.ran == [j.id for j in jobs]
    assert all(j.state is JobState.DONE and j.server == "gpu1" for j in jobs)
    assert rec.kinds(jobs[1]) == ["queued", "started", "finished"]
    assert queue.finished == jobs
    assert all(j.started is not None and j.finished is not None for j in jobs)
    assert jobs[0].finished <= jobs[1].started  # type: ignore[operator]
    assert not queue.busy and queue.current is None


async def test_two_servers_run_two_jobs_at_once() -> None:
    a, b = FakeServer("gpu1", delay=0.2), FakeServer("gpu2", delay=0.2)
    queue, _ = make_queue(a, b)
    jobs = [queue.submit(req(str(i))) for i in range(4)]
    started = time.monotonic()
    async with running(queue):
        await until(lambda: len(queue.running) == 2)
        assert queue.current is jobs[0] and {j.server for j in queue.running} == {"gpu1", "gpu2"}
        await idle(queue)
    elapsed = time.monotonic() - started
    assert sorted(a.ran + b.ran) == [j.id for j in jobs]
    assert len(a.ran) == len(b.ran) == 2
    assert elapsed < 0.7  # one server alone: 0.8 s


async def test_a_fast_server_takes_more_jobs_than_a_slow_one() -> None:
    fast, slow = FakeServer("fast", delay=0.02), FakeServer("slow", delay=0.25)
    queue, _ = make_queue(fast, slow)
    for i in range(8):
        queue.submit(req(str(i)))
    async with running(queue):
        await idle(queue)
    assert len(fast.ran) >= 6 and len(slow.ran) >= 1


async def test_each_job_goes_to_a_server_that_can_run_it() -> None:
    a = FakeServer("gpu1", models={"alpha"})
    b = FakeServer("gpu2", models={"beta"})
    queue, _ = make_queue(a, b)
    jobs = [queue.submit(req(model=m)) for m in ("beta", "beta", "alpha", "beta")]
    async with running(queue):
        await idle(queue)
    assert [j.server for j in jobs] == ["gpu2", "gpu2", "gpu1", "gpu2"]
    assert a.ran == [jobs[2].id]


async def test_a_job_no_server_can_run_fails_with_one_line() -> None:
    a = FakeServer("gpu1", models={"alpha"})
    b = FakeServer("gpu2", models={"beta"})
    queue, rec = make_queue(a, b)
    odd = queue.submit(req(model="gamma"))
    nameless = queue.submit(req())  # no model: neither fake server takes it
    fine = queue.submit(req(model="alpha"))
    async with running(queue):
        await idle(queue)
        late = queue.submit(req(model="gamma"))  # while running: fails at once
        assert late.state is JobState.FAILED
    assert odd.state is JobState.FAILED and nameless.state is JobState.FAILED
    assert odd.error is not None and odd.error.message == "No server offers the model 'gamma'"
    assert nameless.error is not None and nameless.error.message == "No server can run it"
    assert fine.state is JobState.DONE
    assert rec.kinds(odd) == ["queued", "finished"] and a.ran == [fine.id] and b.ran == []


# -- servers dropping out -------------------------------------------------------------------------


async def test_a_dropped_job_goes_back_to_the_front_and_the_other_server_runs_it() -> None:
    a = FakeServer("gpu1", drops=1, recovers=False, gated=True)
    b = FakeServer("gpu2", gated=True)
    queue, rec = make_queue(a, b)
    requeued: list[tuple[JobState, str | None, str, bool]] = []

    def listen(event: JobEvent) -> None:
        rec(event)
        if event.kind == "requeued":
            job = event.job
            requeued.append((job.state, job.server, job.note, queue.runners[0].online))
            assert queue.pending[0] is job  # at the front

    queue.listener = listen
    first, second, third = (queue.submit(req(p)) for p in ("first", "second", "third"))
    async with running(queue):
        await until(lambda: len(queue.running) == 2)
        assert queue.runner_of(first) is queue.runners[0] and queue.pending == [third]
        a.gate.set()  # gpu1 drops out under the first job
        await until(lambda: queue.runners[0].retired)
        assert not queue.runners[0].online
        assert queue.pending == [first, third]  # the dropped one first
        b.gate.set()
        await idle(queue)
    assert requeued == [(JobState.QUEUED, "gpu1", "gpu1 dropped out mid-job: re-queued", False)]
    assert rec.kinds(first) == ["queued", "started", "requeued", "started", "finished"]
    assert first.state is JobState.DONE and first.server == "gpu2"
    assert first.drops == 1 and first.dropped_on == ["gpu1"]
    assert first.note == "re-run on gpu2 after gpu1 dropped out"
    assert a.recover_calls == 1 and a.ran == [first.id]
    assert b.ran == [second.id, first.id, third.id]


async def test_a_server_that_recovers_takes_jobs_again() -> None:
    a = FakeServer("gpu1", drops=1, recovers=True, drop_kind=ErrorKind.UNREACHABLE)
    queue, rec = make_queue(a)
    job = queue.submit(req())
    async with running(queue):
        await idle(queue)
    runner = queue.runners[0]
    assert job.state is JobState.DONE and job.drops == 1
    assert runner.online and not runner.retired and a.recover_calls == 1
    assert a.ran == [job.id, job.id]
    assert rec.changes >= 4  # started, dropped, back online, started, finished


async def test_a_server_without_recover_is_given_up_at_once() -> None:
    a = FakeServer("gpu1", drops=1, drop_kind=ErrorKind.TIMEOUT)
    b = FakeServer("gpu2")
    queue, _ = make_queue(a, b)
    jobs = [queue.submit(req(str(i))) for i in range(3)]
    async with running(queue):
        await idle(queue)
    assert queue.runners[0].retired and all(j.state is JobState.DONE for j in jobs)
    assert a.ran == [jobs[0].id]


async def test_a_job_dropped_three_times_fails_naming_the_servers() -> None:
    a = FakeServer("gpu1", drops=5, recovers=True)
    b = FakeServer("gpu2", drops=5, recovers=True)
    queue, rec = make_queue(a, b)
    job = queue.submit(req())
    async with running(queue):
        await idle(queue)
        await until(lambda: all(r.online for r in queue.runners))  # both come back
    assert job.state is JobState.FAILED and job.drops == MAX_DROPS
    assert job.error is not None and job.error.kind is ErrorKind.DROPPED
    assert "3 times (gpu1, gpu2)" in job.error.message
    assert rec.kinds(job).count("requeued") == MAX_DROPS - 1
    assert rec.kinds(job)[-1] == "finished"
    assert a.recover_calls + b.recover_calls == MAX_DROPS


async def test_when_every_server_is_given_up_the_waiting_jobs_fail() -> None:
    a = FakeServer("gpu1", drops=1, recovers=False)
    b = FakeServer("gpu2", drops=1)
    queue, _ = make_queue(a, b)
    jobs = [queue.submit(req(str(i))) for i in range(4)]
    async with running(queue) as task:
        await idle(queue)
        assert all(r.retired for r in queue.runners)
        late = queue.submit(req("late"))
        assert late.state is JobState.FAILED
        assert not task.done()  # the queue still runs: a server may be added
    for job in [*jobs, late]:
        assert job.state is JobState.FAILED
        assert job.error is not None and "no server left to run it" in job.error.message
    assert not queue.pending


async def test_a_runner_added_while_running_takes_jobs() -> None:
    a = FakeServer("gpu1", gated=True)
    queue, rec = make_queue(a)
    first = queue.submit(req("1"))
    second = queue.submit(req("2"))
    async with running(queue):
        await until(lambda: a.started.is_set())
        before = rec.changes
        queue.add_runner(FakeServer("gpu2").runner())
        await until(lambda: second.state is JobState.DONE)
        assert rec.changes > before and second.server == "gpu2"
        assert queue.running == [first]
        a.gate.set()
        await idle(queue)
    assert first.state is JobState.DONE


async def test_a_runner_made_offline_waits_for_its_server_before_the_first_job() -> None:
    a = FakeServer("gpu1", recovers=True)
    queue, _ = make_queue(a)
    queue.runners[0].online = False  # not connected yet
    job = queue.submit(req())
    async with running(queue):
        await idle(queue)
    assert a.recover_calls == 1 and job.state is JobState.DONE and queue.runners[0].online


async def test_a_server_seen_down_by_its_watcher_gets_no_job_until_it_is_back() -> None:
    a, b = FakeServer("gpu1"), FakeServer("gpu2")
    queue, recorder = make_queue(a, b)
    async with running(queue):
        queue.set_online(queue.runners[0], False)  # the heartbeat saw gpu1 go: no job is sent
        changes = recorder.changes
        jobs = [queue.submit(req(str(n))) for n in range(3)]
        await idle(queue)
        assert a.ran == [] and b.ran == [j.id for j in jobs]
        assert recorder.changes > changes
        queue.set_online(queue.runners[0], True)
        late = queue.submit(req("late"))
        await idle(queue)
    assert late.state is JobState.DONE and late.server in ("gpu1", "gpu2")
    assert all(j.drops == 0 for j in [*jobs, late])


async def test_a_listener_that_raises_stops_run_forever_loudly() -> None:
    def listener(event: JobEvent) -> None:
        if event.kind == "finished":
            raise RuntimeError("listener bug")

    queue = JobQueue(FakeServer("gpu1").runner(), listener)
    queue.submit(req())
    with pytest.raises(RuntimeError, match="listener bug"):
        await asyncio.wait_for(queue.run_forever(), 5)


# -- shaping the line -----------------------------------------------------------------------------


async def test_pause_holds_new_jobs_and_resume_runs_them() -> None:
    a = FakeServer("gpu1")
    queue, rec = make_queue(a)
    queue.pause()
    assert queue.paused and rec.changes == 1
    job = queue.submit(req())
    async with running(queue):
        await asyncio.sleep(0.1)
        assert a.ran == [] and job.state is JobState.QUEUED
        queue.resume()
        assert not queue.paused
        await idle(queue)
    assert job.state is JobState.DONE


async def test_pause_lets_running_jobs_finish() -> None:
    a = FakeServer("gpu1", gated=True)
    queue, _ = make_queue(a)
    first, second = queue.submit(req("1")), queue.submit(req("2"))
    async with running(queue):
        await until(lambda: a.started.is_set())
        queue.pause()
        a.gate.set()
        await until(lambda: first.state is JobState.DONE)
        await asyncio.sleep(0.05)
        assert second.state is JobState.QUEUED and a.ran == [first.id]


async def test_move_top_cancel_take_back_duplicate_and_retry() -> None:
    queue, rec = make_queue(FakeServer("gpu1"))
    a, b, c, d = (queue.submit(req(p)) for p in "abcd")

    def order() -> list[str]:
        return [j.request.prompt for j in queue.pending]

    assert queue.move(c, -1) and order() == ["a", "c", "b", "d"]
    assert not queue.move(a, -1)  # already first
    assert queue.move(a, +5) and order() == ["c", "b", "d", "a"]
    assert queue.move_to_top(d) and order() == ["d", "c", "b", "a"]
    assert not queue.move_to_top(d)
    changes = rec.changes
    assert queue.cancel(b) and b.state is JobState.CANCELLED and order() == ["d", "c", "a"]
    assert rec.kinds(b) == ["queued", "cancelled"] and rec.changes == changes + 1
    assert not queue.cancel(b)
    assert queue.take_back(c) is c.request and order() == ["d", "a"]
    assert rec.kinds(c) == ["queued", "removed"] and c not in queue.finished
    assert queue.take_back(c) is None
    copy = queue.duplicate(d)
    assert order() == ["d", "d", "a"] and queue.pending[1] is copy and copy.id > d.id
    assert copy.request == d.request and copy.request is not d.request
    assert queue.unfinished() == [d.request, copy.request, a.request]
    retried = queue.retry(b)
    assert retried is not None and queue.pending[-1] is retried
    assert retried.request.prompt == "b" and retried.state is JobState.QUEUED
    assert queue.retry(a) is None  # waiting: nothing to retry
    assert queue.finished == [b]


async def test_retry_takes_failed_cancelled_and_interrupted_jobs_not_done_ones() -> None:
    server = FakeServer("gpu1", fail=ApiError(ErrorKind.SERVER, "CUDA out of memory"))
    queue, _ = make_queue(server)
    failed = queue.submit(req("f"))
    async with running(queue):
        await idle(queue)
        assert failed.state is JobState.FAILED and failed.error is not None
        server.fail = None
        again = queue.retry(failed)
        assert again is not None
        await idle(queue)
    assert again.state is JobState.DONE and queue.retry(again) is None


async def test_group_and_front_submit() -> None:
    queue, _ = make_queue(FakeServer("gpu1"))
    one = queue.submit(req("1"), group=7)
    two = queue.submit(req("2"), front=True)
    assert queue.pending == [two, one] and one.group == 7 and two.group is None
    assert queue.duplicate(one).group is None  # a copy is not a sweep cell
    one.state = JobState.FAILED
    assert queue.retry(one).group == 7  # type: ignore[union-attr]


async def test_running_jobs_are_listed_first_in_unfinished() -> None:
    a = FakeServer("gpu1", gated=True)
    queue, _ = make_queue(a)
    first, second = queue.submit(req("1")), queue.submit(req("2"))
    async with running(queue):
        await until(lambda: a.started.is_set())
        assert queue.unfinished() == [first.request, second.request]
        assert not queue.cancel(first)  # running: interrupt it instead
        assert queue.take_back(first) is None
        a.gate.set()
        await idle(queue)
    assert queue.unfinished() == []


async def test_cancel_pending_drops_every_waiting_job() -> None:
    a = FakeServer("gpu1", gated=True)
    queue, rec = make_queue(a)
    jobs = [queue.submit(req(str(i))) for i in range(3)]
    async with running(queue):
        await until(lambda: a.started.is_set())
        dropped = queue.cancel_pending()
        assert dropped == jobs[1:] and not queue.pending
        assert all(rec.kinds(j)[-1] == "cancelled" for j in dropped)
        a.gate.set()
        await idle(queue)
    assert jobs[0].state is JobState.DONE


async def test_finished_keeps_the_last_two_hundred() -> None:
    queue, _ = make_queue(FakeServer("gpu1", delay=0))
    jobs = [queue.submit(req(str(i))) for i in range(FINISHED_KEPT + 5)]
    async with running(queue):
        await idle(queue, timeout=20)
    finished = queue.finished
    assert len(finished) == FINISHED_KEPT and finished == jobs[5:]


# -- reaching the right server --------------------------------------------------------------------


async def test_interrupt_a_job_reaches_its_own_server() -> None:
    a, b = FakeServer("gpu1", gated=True), FakeServer("gpu2", gated=True)
    queue, _ = make_queue(a, b)
    first, second = queue.submit(req("1")), queue.submit(req("2"))
    async with running(queue):
        await until(lambda: len(queue.running) == 2)
        assert queue.runner_of(second) is queue.runners[1]
        assert await queue.interrupt(second)
        await until(lambda: second.state is JobState.INTERRUPTED)
        assert (a.interrupts, b.interrupts) == (0, 1)
        assert second.outcome is not None and second.outcome.interrupted
        assert await queue.skip(first)
        assert (a.skips, b.skips) == (1, 0)
        assert not await queue.interrupt(second)  # it ended
        assert await queue.interrupt()  # every running job: the first
        await idle(queue)
    assert first.state is JobState.INTERRUPTED and a.interrupts == 1
    assert not await queue.interrupt() and not await queue.skip()


async def test_a_held_interrupt_is_sent_to_the_jobs_server_once_it_runs() -> None:
    a = FakeServer("gpu1", gated=True)
    b = FakeServer("gpu2", gated=True, waiting_first=True)
    queue, _ = make_queue(a, b)
    queue.submit(req("1"))
    second = queue.submit(req("2"))
    async with running(queue):
        await until(lambda: second.waiting)  # another client's job holds gpu2
        assert await queue.interrupt(second)
        assert b.interrupts == 0  # held: it would stop the other client's job
        await until(lambda: b.interrupts == 1)  # sent as soon as ours runs
        await until(lambda: second.state is JobState.INTERRUPTED)
        assert a.interrupts == 0
        a.gate.set()
        await idle(queue)


async def test_cancelling_run_forever_cancels_the_running_jobs() -> None:
    a, b = FakeServer("gpu1", gated=True), FakeServer("gpu2", gated=True)
    queue, _ = make_queue(a, b)
    jobs = [queue.submit(req(str(i))) for i in range(3)]
    async with running(queue):
        await until(lambda: len(queue.running) == 2)
    assert [j.state for j in jobs] == [JobState.CANCELLED, JobState.CANCELLED, JobState.QUEUED]
    assert queue.running == [] and all(r.job is None for r in queue.runners)
    async with running(queue):  # it can run again
        a.gate.set()
        b.gate.set()
        await idle(queue)
    assert jobs[2].state is JobState.DONE


async def test_close_lets_running_jobs_finish_and_drops_the_rest() -> None:
    a = FakeServer("gpu1", delay=0.1)
    queue, _ = make_queue(a)
    first, second = queue.submit(req("1")), queue.submit(req("2"))
    task = asyncio.create_task(queue.run_forever())
    await until(lambda: a.started.is_set())
    queue.close()
    await asyncio.wait_for(task, 2)
    assert first.state is JobState.DONE and second.state is JobState.CANCELLED


async def test_an_unexpected_error_fails_the_job_not_the_queue() -> None:
    queue, _ = make_queue(FakeServer("gpu1"))
    server = FakeServer("gpu0")

    async def broken(job: Job, on_progress: Callable[[ProgressUpdate], None]) -> Any:
        raise RuntimeError("bug")

    queue.runners[0].run = broken
    bad = queue.submit(req("bad"))
    async with running(queue):
        await idle(queue)
        queue.runners[0].run = server.run
        good = queue.submit(req("good"))
        await idle(queue)
    assert bad.state is JobState.FAILED and bad.error is not None
    assert "RuntimeError" in bad.error.message and good.state is JobState.DONE


# -- batch splitting ------------------------------------------------------------------------------


def test_split_batch_gives_each_batch_the_seeds_one_server_would() -> None:
    parts = split_batch(req(seed=100, n_iter=4, force_task_id="task(x)"))
    assert [p.seed for p in parts] == [100, 101, 102, 103]
    assert all(p.n_iter == 1 and p.force_task_id is None and p.prompt == "a" for p in parts)
    two = split_batch(req(seed=10, n_iter=3, batch_size=2))
    assert [p.seed for p in two] == [10, 12, 14] and all(p.batch_size == 2 for p in two)


def test_split_batch_draws_one_random_seed_for_all() -> None:
    parts = split_batch(req(seed=-1, n_iter=3), rng=random.Random(5))
    base = random.Random(5).randrange(4294967294)
    assert [p.seed for p in parts] == [base, base + 1, base + 2]
    assert split_batch(req(seed=-1, n_iter=2))[0].seed >= 0


def test_split_batch_with_a_variation_steps_the_variation_seed() -> None:
    # The web UI keeps the seed and steps the subseed when a variation strength is set.
    parts = split_batch(req(seed=7, subseed=50, subseed_strength=0.3, n_iter=3, batch_size=2))
    assert [(p.seed, p.subseed) for p in parts] == [(7, 50), (7, 52), (7, 54)]
    drawn = split_batch(req(seed=7, subseed_strength=0.3, n_iter=2), rng=random.Random(1))
    sub = random.Random(1).randrange(4294967294)
    assert [p.subseed for p in drawn] == [sub, sub + 1]
    plain = split_batch(req(seed=7, subseed=50, subseed_strength=0, n_iter=2))
    assert [(p.seed, p.subseed) for p in plain] == [(7, 50), (8, 50)]


def test_split_batch_leaves_a_single_batch_alone() -> None:
    one = req(seed=-1, n_iter=1, force_task_id="task(y)")
    assert split_batch(one) == [one] and split_batch(one)[0] is one


async def test_split_batch_seeds_match_one_servers_run(demo_server: DemoServer) -> None:
    client = SDClient(demo_server.url)
    try:
        whole = await client.generate(req(seed=40, n_iter=3, batch_size=2, steps=2, width=64))
        parts = [
            await client.generate(p)
            for p in split_batch(req(seed=40, n_iter=3, batch_size=2, steps=2, width=64))
        ]
    finally:
        await client.aclose()
    assert [s for r in parts for s in r.seeds] == whole.seeds == list(range(40, 46))


# -- two real demo servers ------------------------------------------------------------------------


@dataclass
class Link:
    """A demo server, its client and the queue runner that generates there."""

    server: DemoServer
    client: SDClient
    runner: Runner


def link(server: DemoServer, store: ImageStore, name: str) -> Link:
    client = SDClient(server.url)

    async def run(job: Job, on_progress: Callable[[ProgressUpdate], None]) -> GenerationOutcome:
        return await generate(
            client, job.request, store, on_progress=on_progress, poll_interval=0.05
        )

    runner = Runner(run, client.interrupt, client.skip, name=name)
    return Link(server, client, runner)


@pytest.fixture
def links(demo_factory: Callable[..., DemoServer], tmp_path: Path) -> Callable[[int], list[Link]]:
    """Demo servers at 0.05 s a step, each with its runner, all saving into `tmp_path`."""
    store = ImageStore(tmp_path)

    def make(count: int) -> list[Link]:
        return [link(demo_factory(step_delay=0.05), store, f"gpu{i + 1}") for i in range(count)]

    return make


def demo_req(prompt: str, seed: int) -> GenerationRequest:
    return req(prompt, seed=seed, steps=10, width=64, height=64)  # ~0.5 s at 0.05 s a step


async def timed(links: list[Link], count: int) -> tuple[float, list[Job]]:
    queue = JobQueue([one.runner for one in links], lambda event: None)
    jobs = [queue.submit(demo_req(f"tree {i}", 100 + i)) for i in range(count)]
    started = time.monotonic()
    async with running(queue):
        await idle(queue, timeout=30)
    return time.monotonic() - started, jobs


async def test_four_jobs_over_two_demo_servers_take_about_half_the_time(
    links: Callable[[int], list[Link]],
) -> None:
    one, two = links(1), links(2)
    try:
        alone, jobs_alone = await timed(one, 4)
        shared, jobs_shared = await timed(two, 4)
    finally:
        for made in (*one, *two):
            await made.client.aclose()
    assert all(j.state is JobState.DONE for j in (*jobs_alone, *jobs_shared))
    assert {j.server for j in jobs_shared} == {"gpu1", "gpu2"}
    assert shared / alone < 0.8, (alone, shared)
    seeds = sorted(j.outcome.images[0].seed for j in jobs_shared if j.outcome)
    assert seeds == [100, 101, 102, 103]


async def test_a_demo_server_killed_mid_job_has_its_job_rerun_on_the_other(
    links: Callable[[int], list[Link]], tmp_path: Path
) -> None:
    gpu1, gpu2 = links(2)
    events: list[JobEvent] = []
    queue = JobQueue([gpu1.runner, gpu2.runner], events.append)
    jobs = [queue.submit(demo_req(f"lake {i}", 200 + i)) for i in range(3)]
    try:
        async with running(queue):

            def sampling_on_gpu1() -> bool:
                job = gpu1.runner.job
                progress = job.last_progress if job is not None else None
                return progress is not None and progress.sampling_step >= 2

            await until(sampling_on_gpu1, timeout=10)
            victim = gpu1.runner.job
            assert victim is not None
            await asyncio.to_thread(gpu1.server.kill)
            await idle(queue, timeout=30)
    finally:
        await gpu1.client.aclose()
        await gpu2.client.aclose()
    assert gpu1.runner.retired  # no recover: given up at once
    assert all(j.state is JobState.DONE for j in jobs), [(j.state, j.error) for j in jobs]
    assert victim.drops == 1 and victim.dropped_on == ["gpu1"] and victim.server == "gpu2"
    assert [e.kind for e in events if e.job is victim and e.kind != "progress"] == [
        "queued",
        "started",
        "requeued",
        "started",
        "finished",
    ]
    saved = sorted(tmp_path.rglob("*.png"))
    assert len(saved) == 3
    paths = {img.path for j in jobs if j.outcome for img in j.outcome.images}
    assert paths == set(saved)
    assert sorted(img.seed for j in jobs if j.outcome for img in j.outcome.images) == [
        200,
        201,
        202,
    ]


async def test_a_stopped_demo_answers_the_running_job_with_what_it_has(
    demo_factory: Callable[..., DemoServer],
) -> None:
    """`DemoServer.stop` is a graceful shutdown: the running job answers (stopped early), it
    does not drop; `kill` is the one that cuts the connection."""
    server = demo_factory(step_delay=0.05)
    client = SDClient(server.url)
    seen: list[ProgressUpdate] = []
    try:
        task = asyncio.create_task(
            generate(client, demo_req("x", 1), None, on_progress=seen.append, poll_interval=0.05)
        )
        await until(lambda: any(u.sampling_step >= 2 for u in seen))
        await asyncio.to_thread(server.stop)
        outcome = await asyncio.wait_for(task, 5)
        assert len(outcome.result.images) == 1  # an answer, not a broken connection
        with pytest.raises(ApiError) as caught:
            await client.generate(demo_req("x", 2))
        assert caught.value.kind in (ErrorKind.UNREACHABLE, ErrorKind.DROPPED)
    finally:
        await client.aclose()
