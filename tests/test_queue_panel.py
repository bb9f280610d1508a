"""The queue panel against the demo server: opening and closing it at 80x24 and 140x45, its rows,
and each of its keys doing what it says to the real queue (the jobs run in the order the panel
gave them, a cancelled job makes no image, a retried one runs again, an edited one is in the
form), with no key reaching the prompt. The rows' text is tested without a screen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, OptionList, TextArea

from sdtui.api import ApiError, ErrorKind, GenerationRequest, ProgressUpdate
from sdtui.config import ServerProfile
from sdtui.demo import DemoServer
from sdtui.engine import Job, JobState
from sdtui.images.convert import read_parameters
from sdtui.ui.app import SdtuiApp
from sdtui.ui.commands import ActionCommands
from sdtui.ui.dialogs.pick_model import PickModelDialog
from sdtui.ui.widgets.queue_panel import QueuePanel
from sdtui.ui.widgets.queue_row import (
    GLYPHS,
    Columns,
    detail_text,
    fit_middle,
    header_text,
    prompt_line,
    row_cells,
    status_text,
)
from tests.tui import SIZE, make_app, notifications, pngs, wait_for

NARROW = (80, 24)

# -- rows, without a screen ------------------------------------------------------------------------


def _job(n: int = 1, prompt: str = "a red fox", **changes: Any) -> Job:
    job = Job(n, GenerationRequest(prompt=prompt, width=512, height=768, steps=20))
    for name, value in changes.items():
        setattr(job.request if name == "model" else job, name, value)
    return job


def _update(step: int, steps: int = 20, **changes: Any) -> ProgressUpdate:
    values: dict[str, Any] = dict(
        progress=step / steps, eta_relative=1.0, job="", job_no=0, job_count=1,
        sampling_step=step, sampling_steps=steps, job_timestamp="", interrupted=False,
        skipped=False, current_image=None, textinfo=None,
    )  # fmt: skip
    values.update(changes)
    return ProgressUpdate(**values)


def _row_text(job: Job, width: int) -> str:
    columns = Columns.fitting(width, len(f"#{job.id}"), len(job.server or ""))
    return "".join(text for text, _ in row_cells(job, columns))


def test_a_row_fits_its_width_and_keeps_state_prompt_server_and_progress() -> None:
    job = _job(12, server="gpu1", state=JobState.RUNNING, last_progress=_update(9))
    for width in (44, 60, 80, 100):
        text = _row_text(job, width)
        assert len(text) == width
        assert text.startswith("▶  #12 a red fox") or text.startswith("▶ #12 a red fox")
        assert "gpu1" in text
        assert "45%" in text
    assert "512×768" not in _row_text(job, 44)  # the size is what a narrow panel leaves out
    assert "512×768" in _row_text(job, 80)


def test_each_state_has_its_glyph_and_says_how_it_stands() -> None:
    assert {GLYPHS[s] for s in JobState} == {"·", "▶", "✓", "⏹", "✗", "–"}
    assert status_text(_job(state=JobState.RUNNING)) == "starting"
    assert status_text(_job(state=JobState.RUNNING, last_progress=_update(5))) == "25% 5/20"
    waiting = _update(0, waiting=True)
    assert status_text(_job(state=JobState.RUNNING, last_progress=waiting)).startswith("waiting")
    error = ApiError(ErrorKind.SERVER, "The server failed (500): OutOfMemoryError: CUDA OOM")
    failed = _job(state=JobState.FAILED, error=error)
    assert status_text(failed, 14) == "CUDA OOM"  # the row: the words that tell
    assert error.message in detail_text(failed)  # below the list: whole
    assert status_text(_job(state=JobState.CANCELLED, note="cancelled")) == "cancelled"
    dropped = _job(note="gpu1 dropped out mid-job: re-queued", drops=1)
    assert status_text(dropped) == "gpu1 dropped out mid-job: re-queued"
    assert "dropped 1×" in detail_text(dropped)
    # The progress and its parts as far as they fit.
    running = _job(state=JobState.RUNNING, last_progress=_update(5, job_count=2))
    assert status_text(running) == "25% 5/20 batch 1/2"
    assert status_text(running, 10) == "25% 5/20"


def test_a_job_s_own_checkpoint_is_shown_at_every_width() -> None:
    job = _job(prompt="a red fox", model="sub/demo-ink.safetensors [abcdef1234]")
    for width in (44, 60, 100):
        text = _row_text(job, width)
        assert len(text) == width and "demo-ink" in text and "abcdef" not in text
        assert "a red fox" in text


def test_control_characters_and_markup_in_a_prompt_are_shown_as_plain_text() -> None:
    job = _job(prompt="\x1b]0;owned\x07a [b]bold[/b] fox\x1b[31m\nin the snow\r")
    assert prompt_line(job) == "a [b]bold[/b] fox in the snow"
    text = _row_text(job, 80)
    assert "\x1b" not in text and "\r" not in text and "\n" not in text
    assert "[b]bold[/b]" in text


def test_a_server_name_is_cut_in_the_middle_and_the_header_counts() -> None:
    assert fit_middle("127.0.0.1:7861", 10) == "127.…:7861"
    assert fit_middle("gpu1", 10) == "gpu1      "
    assert header_text(1, 3, 0, paused=True) == "Queue · 3 waiting · 1 running · paused"
    assert header_text(0, 0, 2, paused=False) == "Queue · nothing waiting · 2 failed"
    assert header_text(0, 2, 0, paused=True) == "Queue · 2 waiting · paused"


# -- in the app --------------------------------------------------------------------------------


async def _ready(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: app.main.history.loaded)


def _panel(app: SdtuiApp) -> QueuePanel:
    return app.main.queue_panel


def _prompt(app: SdtuiApp) -> TextArea:
    return app.query_one("#prompt", TextArea)


def _shown(app: SdtuiApp) -> list[str]:
    """The panel's lines as painted now (the list is scrolled to its top in these tests)."""
    view = _panel(app).list_view
    return [view.render_line(y).text.rstrip() for y in range(len(view.jobs))]


def _request(prompt: str, **values: Any) -> GenerationRequest:
    values = {"steps": 4, "width": 64, "height": 64, **values}
    return GenerationRequest(prompt=prompt, **values)


def _queue(app: SdtuiApp, *prompts: str, **values: Any) -> list[Job]:
    return [app.context.queue.submit(_request(p, **values)) for p in prompts]


def _state(job: Job) -> JobState:
    return job.state  # read again (a test's earlier check of it narrows the type for good)


def _select(app: SdtuiApp, job: Job) -> None:
    assert _panel(app).list_view.select(job)


async def _open(pilot: Any, app: SdtuiApp) -> None:
    await pilot.press("ctrl+j")
    await wait_for(pilot, lambda: _panel(app).list_view.has_focus)
    await pilot.pause()


def _made_prompts(tmp_path: Path) -> list[str]:
    """The prompts of the saved images, in the order they were written."""
    files = sorted(pngs(tmp_path), key=lambda p: p.stat().st_mtime_ns)
    return [(read_parameters(p.read_bytes()) or "").split("\n")[0] for p in files]


async def _idle(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: not app.context.queue.busy, timeout=30)
    await app.workers.wait_for_complete()


@pytest.mark.parametrize("size", [NARROW, SIZE], ids=["80x24", "140x45"])
async def test_ctrl_j_opens_the_panel_in_the_history_place_and_closes_it(
    demo_server: DemoServer, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=size) as pilot:
        await _ready(pilot, app)
        panel, history, preview = _panel(app), app.main.history, app.main.preview
        assert not panel.display
        await _open(pilot, app)
        assert panel.display and panel.is_open
        assert not history.display  # the panel holds the history's column
        assert panel.region.width >= 44 and panel.region.right <= size[0]
        assert "Queue · nothing waiting" in str(panel.border_title)
        note = " ".join(panel.list_view.render_line(y).text.strip() for y in range(4))
        assert "No jobs yet: ctrl+g queues the form. ctrl+j closes this panel." in note
        if size == NARROW:
            assert not preview.display  # the whole preview's room, over it
        else:
            assert preview.display and preview.region.width > 0
        # Esc: back to the prompt; the narrow panel closes with it, the wide one stays.
        await pilot.press("escape")
        await pilot.pause()
        assert _prompt(app).has_focus
        assert panel.is_open is (size == SIZE)
        if size == SIZE:
            await pilot.press("ctrl+j")  # an open panel beside the prompt is focused first
            await pilot.pause()
            assert panel.list_view.has_focus
            await pilot.press("ctrl+f")  # the history takes its column back
            await pilot.pause()
            assert not panel.is_open and history.display and history.list_view.has_focus
        await _open(pilot, app)
        await pilot.press("ctrl+j")  # from the panel: closed, back to the prompt
        await pilot.pause()
        assert not panel.display and _prompt(app).has_focus
        assert history.display is (size == SIZE)
        assert preview.display


async def test_rows_for_running_waiting_and_ended_jobs_in_that_order(
    slow_demo: DemoServer, tmp_path: Path
) -> None:
    app = make_app(slow_demo.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        queue = app.context.queue
        [first] = _queue(app, "the first one", steps=2)
        await wait_for(pilot, lambda: first.state is JobState.DONE)
        running, *waiting = _queue(app, "a long one", "second", "third", steps=40)
        await wait_for(pilot, lambda: running.last_progress is not None)
        await _open(pilot, app)
        panel = _panel(app)
        assert [j.id for j in panel.list_view.jobs] == [running.id, *(j.id for j in waiting), 1]
        lines = _shown(app)
        assert lines[0].startswith("▶") and "a long one" in lines[0] and "%" in lines[0]
        assert lines[1].startswith("·") and "second" in lines[1]
        assert lines[3].startswith("✓") and "the first one" in lines[3]
        assert "1 waiting" not in str(panel.border_title)
        assert "2 waiting · 1 running" in str(panel.border_title)
        # Progress repaints the running job's line alone: the list is not rebuilt for it, and
        # the other lines are the same strips as before.
        view = panel.list_view
        rebuilds, others = panel.rebuilds, [view.render_line(y) for y in (1, 2, 3)]
        await pilot.pause(0.5)
        assert panel.rebuilds == rebuilds
        assert _shown(app)[0] != lines[0]
        assert all(view.render_line(y) is strip for y, strip in zip((1, 2, 3), others, strict=True))
        queue.cancel_pending()
        await queue.interrupt()
        await _idle(pilot, app)


async def test_reordering_changes_the_order_the_jobs_run_in(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=NARROW) as pilot:
        await _ready(pilot, app)
        await _open(pilot, app)
        await pilot.press("p")  # pause: nothing starts while the line is shaped
        assert app.context.queue.paused
        one, two, three, four = _queue(app, "one", "two", "three", "four")
        await pilot.pause()
        _select(app, four)
        await pilot.press("t")  # four to the top
        _select(app, one)
        await pilot.press("shift+down", "J")  # one two places down
        _select(app, three)
        await pilot.press("K")  # three one place up
        await pilot.pause()
        order = [four, three, two, one]
        assert app.context.queue.pending == order
        assert [j.id for j in _panel(app).list_view.jobs] == [j.id for j in order]
        assert _panel(app).highlighted_job is three  # the highlight went with the job
        assert "paused" in str(_panel(app).border_title)
        await pilot.press("space")  # resume
        await _idle(pilot, app)
        assert _made_prompts(tmp_path) == ["four", "three", "two", "one"]


async def test_cancel_one_duplicate_and_retry(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        queue = app.context.queue
        await _open(pilot, app)
        await pilot.press("p")
        keep, drop, twice = _queue(app, "keep me", "drop me", "twice")
        await pilot.pause()
        _select(app, drop)
        await pilot.press("x")
        assert drop.state is JobState.CANCELLED and drop not in queue.pending
        _select(app, twice)
        await pilot.press("d")
        copy = queue.pending[-1]
        assert copy is not twice and copy.request.prompt == "twice"
        assert any(f"queued again as #{copy.id}" in n for n in notifications(app))
        await pilot.press("p")
        await _idle(pilot, app)
        assert sorted(_made_prompts(tmp_path)) == ["keep me", "twice", "twice"]
        # A failed job (the server refuses the size) retried: a new job that runs again.
        [bad] = _queue(app, "too small", width=4, height=4)
        await wait_for(pilot, lambda: bad.state is JobState.FAILED)
        await pilot.pause()
        _select(app, bad)
        await pilot.pause()
        assert _shown(app)[0].startswith("✗")
        assert "8x8" in _panel(app).detail.text  # the error, whole, below the list
        await pilot.press("r")
        [again] = [j for j in (*queue.pending, *queue.running, *queue.finished) if j.id > bad.id]
        assert again.request.prompt == "too small" and again.request is not bad.request
        await wait_for(pilot, lambda: again.state is JobState.FAILED)
        # The cancelled one retried: it runs this time and saves its image.
        _select(app, drop)
        await pilot.press("r")
        await _idle(pilot, app)
        assert sorted(_made_prompts(tmp_path)) == ["drop me", "keep me", "twice", "twice"]
        # Retry refuses a job that did not fail; c takes the ended rows off the list.
        _select(app, keep)
        await pilot.press("r")
        assert any("did not fail" in n for n in notifications(app))
        await pilot.press("c")
        await pilot.pause()
        assert _panel(app).list_view.jobs == []


async def test_x_on_a_running_job_interrupts_it_and_keeps_its_image(
    slow_demo: DemoServer, tmp_path: Path
) -> None:
    app = make_app(slow_demo.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        [job] = _queue(app, "stop me", steps=60)
        await wait_for(pilot, lambda: job.last_progress is not None and job.last_progress.active)
        await _open(pilot, app)
        await pilot.press("x")
        await _idle(pilot, app)
        assert job.state is JobState.INTERRUPTED
        assert _made_prompts(tmp_path) == ["stop me"]
        assert _shown(app)[0].startswith("⏹")
        await pilot.press("r")  # an interrupted job retried runs again, whole
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == 2, timeout=30)
        await _idle(pilot, app)


async def test_edit_takes_a_waiting_job_into_the_form(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=NARROW) as pilot:
        await _ready(pilot, app)
        _prompt(app).load_text("what I was typing")
        app.context.queue.pause()
        [job] = _queue(app, "a job to edit, with (emphasis:1.2)", steps=13, batch_size=2)
        await _open(pilot, app)
        await pilot.press("e")
        await wait_for(pilot, lambda: _prompt(app).text == job.request.prompt)
        assert _prompt(app).has_focus
        assert app.query_one("#steps", Input).value == "13"
        assert app.query_one("#batch-size", Input).value == "2"
        assert job not in app.context.queue.pending and job.state is JobState.CANCELLED
        assert not _panel(app).is_open  # narrow: the panel closed as the focus left it
        assert any("out of the queue and in the form" in n for n in notifications(app))
        await pilot.press("f5")  # what was typed before comes back
        await pilot.pause()
        assert _prompt(app).text == "what I was typing"


async def test_pause_stops_new_starts_and_resume_starts_them(
    slow_demo: DemoServer, tmp_path: Path
) -> None:
    app = make_app(slow_demo.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        queue = app.context.queue
        # Long enough that the pause lands while the first runs, on a loaded machine too.
        running, waiting = _queue(app, "runs", "waits", steps=40)
        await wait_for(pilot, lambda: running.state is JobState.RUNNING)
        await _open(pilot, app)
        await pilot.press("p")
        await wait_for(pilot, lambda: queue.paused)
        assert running.state is JobState.RUNNING, "the test's job ended before the pause"
        await wait_for(pilot, lambda: running.state is JobState.DONE)
        await pilot.pause(0.5)
        assert waiting.state is JobState.QUEUED and queue.pending == [waiting]
        assert "paused" in str(_panel(app).border_title)
        await pilot.press("p")
        await wait_for(pilot, lambda: waiting.state is not JobState.QUEUED)
        assert "paused" not in str(_panel(app).border_title)
        await _idle(pilot, app)
        assert _state(waiting) is JobState.DONE


async def test_a_waiting_job_gets_a_checkpoint_of_its_own(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await _ready(pilot, app)
        app.context.queue.pause()
        [job] = _queue(app, "on another model")
        await _open(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, PickModelDialog))
        dialog = app.screen
        assert isinstance(dialog, PickModelDialog)
        titles = [t for t, _, _ in dialog.models]
        wanted = next(t for t in titles if t != app.context.facts.model_title)
        options = dialog.query_one(OptionList)
        assert options.highlighted == 0  # the server's model, as the job has now
        for _ in range(titles.index(wanted) + 1):
            await pilot.press("down")
        assert options.highlighted_option is not None
        assert options.highlighted_option.id == wanted
        await pilot.press("enter")
        await wait_for(pilot, lambda: job.request.model == wanted)
        short = wanted.split(" [")[0].rsplit(".", 1)[0]
        assert short in _shown(app)[0]
        app.context.queue.resume()
        await _idle(pilot, app)
        [path] = pngs(tmp_path)
        assert f"Model: {short}" in (read_parameters(path.read_bytes()) or "")
        # m on an ended job says why not; esc in the picker changes nothing.
        await pilot.press("m")
        assert any("only a waiting job" in n for n in notifications(app))


async def test_panel_keys_never_reach_the_prompt(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        _prompt(app).load_text("keep this")
        app.context.queue.pause()
        [job] = _queue(app, "waiting")
        await _open(pilot, app)
        # (Pause and resume are left out: the job would start between them.)
        await pilot.press("K", "J", "shift+up", "shift+down", "t", "d", "c", "up", "down")
        await pilot.press("home", "end", "pageup", "pagedown", "r")
        await pilot.pause()
        assert _prompt(app).text == "keep this"
        # With the focus in the prompt the panel's letters are typed, not acted on.
        await pilot.press("escape")
        await pilot.pause()
        assert _panel(app).is_open and _prompt(app).has_focus
        _prompt(app).move_cursor(_prompt(app).document.end)
        await pilot.press("x", "e")
        await pilot.pause()
        assert _prompt(app).text == "keep thisxe"
        assert job.state is JobState.QUEUED
        app.context.queue.cancel_pending()
        await _idle(pilot, app)


async def test_two_servers_each_row_names_its_server_and_the_picker_both(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    one, two = demo_factory(step_delay=0.05), demo_factory(step_delay=0.05)
    servers = (ServerProfile("gpu1", one.url), ServerProfile("gpu2", two.url))
    app = make_app(one.url, tmp_path, servers=servers)
    async with app.run_test(size=NARROW) as pilot:
        await wait_for(pilot, lambda: all(link.connected for link in app.context.servers))
        await _ready(pilot, app)
        jobs = _queue(app, "first", "second", "third", steps=30)
        await wait_for(pilot, lambda: len(app.context.queue.running) == 2)
        await _open(pilot, app)
        lines = _shown(app)
        assert sorted("gpu1" if "gpu1" in line else "gpu2" for line in lines[:2]) == [
            "gpu1",
            "gpu2",
        ]
        assert all(line.startswith("▶") for line in lines[:2])
        assert lines[2].startswith("·") and "third" in lines[2]
        _select(app, jobs[2])
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, PickModelDialog))
        dialog = app.screen
        assert isinstance(dialog, PickModelDialog)
        assert dialog.models and all(where == "gpu1, gpu2" for _, _, where in dialog.models)
        await pilot.press("escape")
        app.context.queue.cancel_pending()
        await app.context.queue.interrupt()
        await _idle(pilot, app)


async def test_the_palette_opens_pauses_and_sets_a_checkpoint(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)

        def offered() -> set[str]:
            return {spec.id for spec, _ in ActionCommands(app.screen)._offered()}

        assert {"toggle_queue", "pause_queue"} <= offered()
        assert "queue_model" not in offered()  # no waiting job to give one
        [ended] = _queue(app, "too small", width=4, height=4)
        await wait_for(pilot, lambda: ended.state is JobState.FAILED)
        await app.run_action("pause_queue", app.main)
        assert app.context.queue.paused
        [job] = _queue(app, "waiting")
        assert "queue_model" in offered()
        await _open(pilot, app)
        _select(app, ended)
        await app.run_action("queue_model", app.main)  # on the waiting job, not the ended one
        await wait_for(pilot, lambda: isinstance(app.screen, PickModelDialog))
        assert _panel(app).is_open and _panel(app).highlighted_job is job
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        await app.run_action("pause_queue", app.main)
        assert not app.context.queue.paused
        await _idle(pilot, app)
        assert job.state is JobState.DONE


# -- the look --------------------------------------------------------------------------------


def test_queue_panel_at_100x30(
    snap_compare: Callable[..., bool], demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.0)
    app = make_app(server.url, tmp_path)

    async def before(pilot: Any) -> None:
        await _ready(pilot, app)
        queue = app.context.queue
        for runner in queue.runners:
            runner.name = "gpu1"  # the demo's port changes from run to run
        [done] = _queue(app, "a lighthouse in a storm", seed=100, steps=4)
        await wait_for(pilot, lambda: done.state is JobState.DONE)
        assert done.started is not None
        done.finished = done.started + 12.0  # the time it took, fixed
        [failed] = _queue(app, "too small to make", width=4, height=4, seed=1)
        await wait_for(pilot, lambda: failed.state is JobState.FAILED)
        queue.pause()
        waiting = _queue(app, "a red fox at dusk, \x1b[31mwatercolour\x1b[0m", seed=7)
        waiting += _queue(app, "[b]not bold[/b] mountains in fog", seed=8, steps=30)
        ink = next(m.title for m in app.context.facts.models if m.model_name == "demo-ink")
        waiting[1].request.model = ink
        waiting += _queue(app, "cancelled before it ran", seed=9)
        queue.cancel(waiting[2])
        await _open(pilot, app)
        _select(app, waiting[0])
        for editor in app.query(TextArea):
            editor.cursor_blink = False
        bar = app.main.bar
        bar.show_clock = False
        bar.url = "http://127.0.0.1:7860"
        await app.workers.wait_for_complete()
        app.clear_notifications()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(100, 30), run_before=before)


async def test_dialog_cancel_leaves_the_checkpoint(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot, app)
        app.context.queue.pause()
        [job] = _queue(app, "keeps its model", model=None)
        await _open(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, PickModelDialog))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PickModelDialog))
        assert job.request.model is None
        app.context.queue.cancel_pending()
        await asyncio.sleep(0)
