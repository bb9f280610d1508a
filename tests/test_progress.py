"""Progress of our own job only: two clients on one demo server, the fallback without
/internal/progress, the ETA, and how a finished job is summed up."""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from sdtui.api import GenerationRequest, GenerationResult, ProgressUpdate, SDClient
from sdtui.demo import DemoServer
from sdtui.engine import GenerationOutcome, SavedImage, generate
from sdtui.engine.progress import ETA_MIN_SECONDS, EtaEstimate, HeldInterrupt, new_task_id
from sdtui.store import ImageStore

API = "/sdapi/v1"
A_STEPS, B_STEPS = 41, 12  # different step counts tell the two jobs' progress apart
A_SIZE, B_SIZE = (96, 64), (64, 64)  # and different sizes their previews


def request(**changes: Any) -> GenerationRequest:
    fields: dict[str, Any] = {"prompt": "a lighthouse", "seed": 5, "width": 64, "height": 64}
    fields.update(changes)
    return GenerationRequest(**fields)


def size_of(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        return image.size


async def until(condition: Callable[[], bool], what: str, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def a_long_job(server: DemoServer) -> tuple[threading.Thread, dict[str, Any]]:
    """Client A: a long job from another program (plain HTTP, its own task id)."""
    answer: dict[str, Any] = {}
    body = {"prompt": "client a", "steps": A_STEPS, "width": A_SIZE[0], "height": A_SIZE[1]}
    body["force_task_id"] = "task(client-a)"

    def run() -> None:
        answer["response"] = httpx.post(f"{server.url}{API}/txt2img", json=body, timeout=60)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, answer


def a_is_sampling(server: DemoServer) -> bool:
    state = httpx.get(f"{server.url}{API}/progress?skip_current_image=true").json()["state"]
    return bool(state["sampling_steps"] == A_STEPS and state["sampling_step"] >= 2)


async def two_clients(server: DemoServer, tmp_path: Path) -> tuple[list[ProgressUpdate], Any]:
    """A runs a long job; B's job is sent meanwhile; A is interrupted once B has waited a while.
    Returns B's progress updates and outcome."""
    httpx.post(f"{server.url}{API}/options", json={"show_progress_every_n_steps": 1})
    thread, _ = a_long_job(server)
    await until(lambda: a_is_sampling(server), "client A's job to sample")
    updates: list[ProgressUpdate] = []
    async with SDClient(server.url) as client:
        job = asyncio.create_task(
            generate(
                client,
                request(steps=B_STEPS),
                ImageStore(tmp_path),
                on_progress=updates.append,
                poll_interval=0.03,
            )
        )
        await until(lambda: sum(u.waiting for u in updates) >= 5, "B to wait behind A")
        assert not job.done()
        httpx.post(f"{server.url}{API}/interrupt")  # A's job ends; B's runs
        outcome = await asyncio.wait_for(job, 30)
    thread.join(10)
    return updates, outcome


def check_b_saw_only_its_own_job(updates: list[ProgressUpdate]) -> None:
    waiting = [u for u in updates if u.waiting]
    ours = [u for u in updates if u.active]
    assert waiting and ours
    # Waiting first, then ours: once B's job ran, nothing of A's came back.
    assert updates.index(ours[0]) > updates.index(waiting[-1])
    for update in waiting:
        assert update.describe() == ["waiting: the server is busy with another job"]
        assert update.sampling_steps == 0 and update.current_image is None
    for update in ours:
        assert update.sampling_steps in (0, B_STEPS), update  # 0: B's sampling not begun
    assert any(u.sampling_steps == B_STEPS and u.sampling_step > 0 for u in ours)
    previews = [u.current_image for u in updates if u.current_image is not None]
    assert previews, "B saw no live preview of its own job"
    assert all(size_of(p) == B_SIZE for p in previews)  # never A's picture
    assert len(set(previews)) == len(previews)  # and never the same frame twice


async def test_progress_of_another_clients_job_is_shown_as_waiting(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.02)
    updates, outcome = await two_clients(server, tmp_path)
    check_b_saw_only_its_own_job(updates)
    task_id = outcome.result.parameters["force_task_id"]
    assert re.fullmatch(r"task\([0-9a-f]{16}\)", task_id)  # sent with the job
    assert outcome.request.force_task_id is None  # the caller's request is left alone
    assert outcome.complete and outcome.summary() == "1 image saved"


async def test_without_internal_progress_the_job_timestamp_tells_ours_apart(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    """`--nowebui` (and SD.Next, Forge variants): only /sdapi/v1/progress, which describes
    whatever job runs. The job that ran when B sent its own is not B's."""
    server = demo_factory(step_delay=0.02, nowebui=True)
    assert httpx.post(f"{server.url}/internal/progress", json={}).status_code == 404
    updates, outcome = await two_clients(server, tmp_path)
    check_b_saw_only_its_own_job(updates)
    assert outcome.complete


async def test_the_fallback_fetches_previews_only_when_new_ones_can_exist(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.03, nowebui=True)
    httpx.post(f"{server.url}{API}/options", json={"show_progress_every_n_steps": 5})
    asked: list[str] = []

    async def note(request: httpx.Request) -> None:
        if request.url.path == f"{API}/progress":
            asked.append(request.url.params["skip_current_image"])

    updates: list[ProgressUpdate] = []
    async with SDClient(server.url) as client:
        client._http.event_hooks["request"].append(note)
        await generate(
            client,
            request(steps=40),
            ImageStore(tmp_path),
            on_progress=updates.append,
            poll_interval=0.01,
        )
    frames = [u.current_image for u in updates if u.current_image is not None]
    assert 2 <= len(frames) == len(set(frames)) <= 8  # a preview every 5 of 40 steps
    # Most polls are cheap ones: the preview is asked for about once per new frame.
    assert asked.count("false") <= 3 * 8 < asked.count("true")


# -- the ETA ----------------------------------------------------------------------------------


async def test_no_eta_before_the_first_step_and_then_a_sensible_one(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    """A 3 s job: the server's own estimate says about 1 s at step 0."""
    server = demo_factory(step_delay=0.1)
    seen: list[tuple[float, ProgressUpdate]] = []
    async with SDClient(server.url) as client:
        await generate(
            client,
            request(steps=30),
            None,
            on_progress=lambda u: seen.append((time.monotonic(), u)),
            poll_interval=0.05,
        )
    end = time.monotonic()
    running = [(t, u) for t, u in seen if u.active]
    assert running
    started = running[0][0]
    for t, update in running:
        if update.sampling_step == 0 or t - started < ETA_MIN_SECONDS:
            assert update.eta_relative == 0 and not any("ETA" in p for p in update.describe())
    estimates = [(t, u.eta_relative) for t, u in running if u.eta_relative > 0]
    assert estimates, "no ETA was ever shown"
    for t, eta in estimates:
        left = end - t
        assert abs(eta - left) <= max(1.0, 0.5 * left), (eta, left)


def test_eta_estimate_waits_for_progress_and_time() -> None:
    now = [100.0]
    eta = EtaEstimate(clock=lambda: now[0])
    assert eta.update(0.0) == 0  # the first sight of the job: nothing to go by
    now[0] += 0.5
    assert eta.update(0.0) == 0  # no step yet
    now[0] += 0.5
    assert eta.update(0.1) == pytest.approx(9.0)  # 10 % in 1 s: 9 s to go
    now[0] += 1.0
    assert eta.update(0.2) == pytest.approx(8.0)
    fresh = EtaEstimate(clock=lambda: now[0])
    fresh.update(0.0)
    now[0] += 0.2
    assert fresh.update(0.3) == 0  # big progress, but too little time to judge a rate


def test_task_ids_are_unique_and_in_the_web_uis_shape() -> None:
    ids = {new_task_id() for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"task\([0-9a-f]{16}\)", i) for i in ids)


# -- how a job ended ------------------------------------------------------------------------------


async def test_server_dying_mid_batch_is_not_reported_as_a_full_batch(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    """A stopping demo server (Ctrl-C on `serve-demo`) interrupts its job and still answers with
    the images made so far: a 200 with fewer images than asked, which read as "1 image saved"."""
    server = demo_factory(step_delay=0.02)
    updates: list[ProgressUpdate] = []
    async with SDClient(server.url) as client:
        job = asyncio.create_task(
            generate(
                client,
                request(steps=20, n_iter=3),
                ImageStore(tmp_path),
                on_progress=updates.append,
                poll_interval=0.02,
            )
        )
        await until(lambda: any(u.sampling_step >= 3 for u in updates), "the job to sample")
        await asyncio.to_thread(server.stop)
        outcome = await asyncio.wait_for(job, 15)
    assert len(outcome.images) < 3
    assert not outcome.complete and outcome.cut_short
    assert re.fullmatch(r"[12] of 3 images saved · the server stopped early", outcome.summary())


async def test_an_interrupt_from_elsewhere_is_noticed_even_with_every_image(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    """Someone presses Interrupt in the web page: a batch of 2 comes back half-sampled."""
    server = demo_factory(step_delay=0.02)
    updates: list[ProgressUpdate] = []
    async with SDClient(server.url) as client:
        job = asyncio.create_task(
            generate(
                client,
                request(steps=200, batch_size=2),
                ImageStore(tmp_path),
                on_progress=updates.append,
                poll_interval=0.02,
            )
        )
        await until(lambda: any(u.sampling_step >= 3 for u in updates), "the job to sample")
        httpx.post(f"{server.url}{API}/interrupt")
        outcome = await asyncio.wait_for(job, 15)
    assert len(outcome.images) == 2 and outcome.stopped_early and not outcome.complete
    assert outcome.summary() == "2 images saved · the server stopped early"


def outcome_of(
    images: list[SavedImage], *, interrupted: bool = False, **asked: Any
) -> GenerationOutcome:
    result = GenerationResult(images=[], seeds=[], infotexts=[], info={}, parameters={})
    return GenerationOutcome(request(**asked), result, images, interrupted=interrupted)


def saved(n: int, tmp_path: Path) -> list[SavedImage]:
    return [SavedImage(i, i, "", b"png", path=tmp_path / f"{i}.png") for i in range(n)]


@pytest.mark.parametrize(
    ("count", "asked", "interrupted", "summary", "complete"),
    [
        (1, {}, False, "1 image saved", True),
        (4, {"batch_size": 2, "n_iter": 2}, False, "4 images saved", True),
        (1, {"n_iter": 3}, False, "1 of 3 images saved · the server stopped early", False),
        (2, {"batch_size": 2, "n_iter": 2}, True, "interrupted · 2 of 4 images saved", False),
        (2, {"batch_size": 2}, True, "interrupted · 2 images saved", False),
        (0, {"n_iter": 2}, True, "interrupted · no images", False),
    ],
)
def test_summary_says_what_happened(
    tmp_path: Path,
    count: int,
    asked: dict[str, Any],
    interrupted: bool,
    summary: str,
    complete: bool,
) -> None:
    outcome = outcome_of(saved(count, tmp_path), interrupted=interrupted, **asked)
    assert outcome.summary() == summary
    assert outcome.complete is complete


def test_summary_counts_images_that_could_not_be_written(tmp_path: Path) -> None:
    images = [*saved(2, tmp_path), SavedImage(2, 2, "", b"png", error="image 3 not saved: full")]
    outcome = outcome_of(images, batch_size=3)
    assert outcome.summary() == "2 of 3 images saved · 1 not written to disk"
    assert outcome.complete  # the server did its whole job
    unstored = [SavedImage(0, 0, "", b"png")]  # no store: nothing was meant to be written
    assert outcome_of(unstored).summary() == "1 image received"


def test_an_interrupt_asked_for_while_waiting_is_held_until_our_job_runs() -> None:
    held = HeldInterrupt()
    assert not held.progressed(ProgressUpdate.busy())  # ours waits behind another job
    assert held.request() is False  # held: sending it now would stop the other job
    assert not held.progressed(ProgressUpdate.busy())
    running = replace(ProgressUpdate.idle(), progress=0.2, job_count=1, sampling_steps=20)
    assert held.progressed(running) is True  # due now, once
    assert not held.progressed(running)
    fresh = HeldInterrupt()
    assert fresh.request() is True and fresh.sent  # not waiting: sent at once
