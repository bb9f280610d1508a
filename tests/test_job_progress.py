"""The progress line at the widths it gets: parts dropped by priority, never cut, re-fitted on
resize; the end of a job leaves the bar where the job left it unless every image came."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import ProgressBar

from sdtui.api import GenerationRequest, GenerationResult, ProgressUpdate
from sdtui.engine import GenerationOutcome, SavedImage
from sdtui.ui.widgets.job_progress import SEPARATOR, JobProgress

RUNNING = ProgressUpdate(0.45, 14.0, "", 0, 2, 12, 20, "", False, False, None, None)
PARTS = ["step 12/20", "batch 1/2", "2 queued", "ETA 14s"]


class OneLine(App[None]):
    """Nothing but a JobProgress across the whole terminal."""

    CSS = "JobProgress { width: 1fr; }"

    def compose(self) -> ComposeResult:
        yield JobProgress(id="progress")


def rendered(app: App[None]) -> str:
    """The first screen line as drawn (the compositor joins the bar and the text)."""
    return app.screen._compositor.render_strips()[0].text.rstrip()


def text_of(line: str) -> str:
    """The words of a line, after the bar and its percentage."""
    return line.split("% ", 1)[1] if "% " in line else line


async def show_running(app: OneLine) -> JobProgress:
    progress = app.query_one(JobProgress)
    progress.started()
    progress.set_queued(2)
    progress.update_progress(RUNNING)
    return progress


@pytest.mark.parametrize(
    ("width", "shown", "bar"),
    [
        (30, ["step 12/20", "batch 1/2"], False),
        (36, ["step 12/20", "batch 1/2", "2 queued"], False),  # the pane at 100 columns
        (45, PARTS, False),
        (60, PARTS, True),
        (100, PARTS, True),
    ],
)
async def test_parts_that_do_not_fit_are_left_out_whole(
    width: int, shown: list[str], bar: bool
) -> None:
    app = OneLine()
    async with app.run_test(size=(width, 3)) as pilot:
        progress = await show_running(app)
        await pilot.pause()
        line = rendered(app)
        assert len(line) <= width and "…" not in line
        assert text_of(line).split(SEPARATOR) == shown, line
        assert ("45%" in line) is bar
        assert progress.status_text == SEPARATOR.join(PARTS)  # the whole story, always


async def test_a_wide_line_has_the_whole_bar() -> None:
    app = OneLine()
    async with app.run_test(size=(100, 3)) as pilot:
        await show_running(app)
        await pilot.pause()
        line = rendered(app)
        bar, _, _ = line.partition(" 45%")
        assert len(bar.strip()) == 20  # the widest bar


async def test_the_line_is_fitted_again_on_resize() -> None:
    app = OneLine()
    async with app.run_test(size=(100, 3)) as pilot:
        progress = await show_running(app)
        await pilot.pause()
        assert "ETA 14s" in rendered(app)
        await pilot.resize_terminal(30, 3)
        await pilot.pause()
        assert rendered(app) == "step 12/20 · batch 1/2"
        assert progress.shown_text == "step 12/20 · batch 1/2"
        await pilot.resize_terminal(60, 3)
        await pilot.pause()
        assert "45%" in rendered(app) and "ETA 14s" in rendered(app)


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (20, "waiting: server busy"),
        (45, "waiting: the server is busy with another job"),
    ],
)
async def test_waiting_is_shortened_not_cut(width: int, expected: str) -> None:
    app = OneLine()
    async with app.run_test(size=(width, 3)) as pilot:
        progress = app.query_one(JobProgress)
        progress.started()
        progress.update_progress(ProgressUpdate.busy())
        await pilot.pause()
        assert text_of(rendered(app)) == expected


async def test_an_interrupted_job_keeps_its_bar_where_it_was() -> None:
    app = OneLine()
    async with app.run_test(size=(100, 3)) as pilot:
        progress = app.query_one(JobProgress)
        progress.started()
        progress.update_progress(RUNNING)
        progress.finished("interrupted · 1 image saved", complete=False)
        await pilot.pause()
        assert app.query_one(ProgressBar).percentage == pytest.approx(0.45)
        assert "45%" in rendered(app) and "100%" not in rendered(app)
        assert text_of(rendered(app)) == "interrupted · 1 image saved"


def outcome(count: int, n_iter: int, tmp_path: Path) -> GenerationOutcome:
    result = GenerationResult(images=[], seeds=[], infotexts=[], info={}, parameters={})
    images = [SavedImage(i, i, "", b"png", path=tmp_path / f"{i}.png") for i in range(count)]
    return GenerationOutcome(GenerationRequest(n_iter=n_iter), result, images)


async def test_a_batch_cut_short_is_not_shown_complete(tmp_path: Path) -> None:
    app = OneLine()
    async with app.run_test(size=(100, 3)) as pilot:
        progress = app.query_one(JobProgress)
        progress.started()
        progress.update_progress(RUNNING)
        progress.show_outcome(outcome(1, 3, tmp_path))
        await pilot.pause()
        line = rendered(app)
        assert "100%" not in line
        assert text_of(line) == "1 of 3 images saved · the server stopped early"
        progress.show_outcome(outcome(3, 3, tmp_path))
        await pilot.pause()
        assert "100%" in rendered(app) and text_of(rendered(app)) == "3 images saved"


async def test_a_server_without_progress_gets_an_indeterminate_bar() -> None:
    app = OneLine()
    async with app.run_test(size=(60, 3)) as pilot:
        progress = app.query_one(JobProgress)
        progress.started()
        progress.update_progress(
            ProgressUpdate(0, 0, "", 0, -1, 0, 0, "", False, False, None, None)
        )
        await pilot.pause()
        assert app.query_one(ProgressBar).total is None
        assert "this server reports no progress" in rendered(app)
        assert "no progress" in progress.status_text
