"""The TUI driven through Pilot against the demo backend over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static, TextArea

from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.render import fit_cells
from sdtui.ui.widgets.connection_bar import ConnectionBar, ConnState
from sdtui.ui.widgets.job_progress import JobProgress
from sdtui.ui.widgets.server_banner import ServerBanner
from tests.tui import SIZE, job_is_sampling, make_app, pngs, set_form, wait_for


async def test_generate_shows_progress_preview_history_and_saves(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.03)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        assert app.query_one(ConnectionBar).state is ConnState.CONNECTED
        assert app.query_one(ConnectionBar).model
        assert app.focused is app.query_one("#prompt")
        await pilot.press(*"a red fox")
        set_form(app, steps="12", width="64", height="64", seed="1234")
        await pilot.press("ctrl+g")
        seen_progress: list[str] = []
        await wait_for(pilot, lambda: app.context.queue.current is not None)
        while app.context.queue.busy:
            seen_progress.append(app.query_one(JobProgress).status_text)
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert any("step" in text for text in seen_progress)
        [path] = pngs(tmp_path)
        info = parse_infotext(read_parameters(path.read_bytes()) or "")
        assert info.prompt == "a red fox"
        assert (info.seed, info.steps, info.width, info.height) == (1234, 12, 64, 64)
        await wait_for(pilot, lambda: len(app.main.history.entries) == 1)
        assert app.main.history.entries[0].path == path
        await wait_for(
            pilot, lambda: app.main.preview.view.shown_key == app.main.preview.in_view.images[0].key
        )
        assert "saved" in app.query_one(JobProgress).status_text


async def test_interrupt_keeps_partial_images(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.05)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.press(*"storm")
        set_form(app, steps="150", width="64", height="64")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: job_is_sampling(app))
        await pilot.press("f2")
        await wait_for(pilot, lambda: not app.context.queue.busy, timeout=5)
        await pilot.pause(0.2)
        assert "interrupted" in app.query_one(JobProgress).status_text
        assert len(pngs(tmp_path)) == 1


async def test_second_generate_queues_behind_the_first(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.02)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.press(*"first")
        set_form(app, steps="60", width="64", height="64", seed="1")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.context.queue.current is not None)
        set_form(app, seed="2")
        await pilot.press("ctrl+g")
        assert len(app.context.queue.pending) == 1
        await wait_for(pilot, lambda: "1 queued" in app.query_one(JobProgress).status_text)
        await wait_for(pilot, lambda: not app.context.queue.busy, timeout=15)
        await app.workers.wait_for_complete()
        seeds = sorted(
            parse_infotext(read_parameters(p.read_bytes()) or "").seed or 0 for p in pngs(tmp_path)
        )
        assert seeds == [1, 2]


async def test_reuse_parameters_from_history(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.0)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.press(*"lighthouse")
        set_form(app, steps="7", width="64", height="128", seed="77")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(app.main.history.entries) == 1)
        app.query_one("#prompt", TextArea).load_text("something else")
        set_form(app, steps="30", seed="-1", width="512")
        await pilot.press("ctrl+f")
        await pilot.press("l")
        await pilot.pause(0.1)
        assert app.query_one("#prompt", TextArea).text == "lighthouse"
        values = {
            f: app.query_one(f"#{f}", Input).value for f in ("steps", "seed", "width", "height")
        }
        assert values == {"steps": "7", "seed": "77", "width": "64", "height": "128"}


async def test_invalid_value_is_refused_and_explained(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.0)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.click("#steps")
        await pilot.press("ctrl+u", *"999")
        await pilot.pause(0.1)
        error = app.query_one("#form-error", Static)
        assert "Steps must be a whole number from 1 to 150" in str(error.render())
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        assert app.context.queue.current is None and not app.context.queue.pending
        assert not pngs(tmp_path)
        assert app.focused is app.query_one("#steps")


async def test_no_server_shows_the_fix_and_keeps_running(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(f"http://127.0.0.1:{port}", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        banner = app.query_one("#banner", ServerBanner)
        await wait_for(pilot, lambda: banner.has_class("-shown"))
        text = str(banner.render())
        assert f"127.0.0.1:{port}" in text
        assert "--api" in text and "--demo" in text and "retrying" in text
        assert app.query_one(ConnectionBar).state is ConnState.OFFLINE
        await pilot.press(*"still typing")
        assert app.query_one("#prompt", TextArea).text == "still typing"


async def test_markup_in_prompt_is_shown_literally(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.0)
    app = make_app(server.url, tmp_path)
    prompt = "[bold red]not bold[/] \x1b]0;pwned\x07 [link=x]y[/link]"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        app.query_one("#prompt", TextArea).load_text(prompt)
        set_form(app, width="64", height="64")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(app.main.history.entries) == 1)
        await pilot.pause(0.2)
        rendered = "\n".join(str(line.text) for line in [app.main.history.list_view.render_line(0)])
        assert "[bold red]not bold[/]" in rendered
        assert "\x1b" not in rendered and "pwned" not in rendered


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (140, 45), (200, 60)])
async def test_layout_fits_small_and_large_terminals(
    demo_server: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    """At 80x24 the preview was 16 cells wide and the history squeezed beside it; at 200x60 the
    history stayed narrow. Now the preview gets the room (a square image at least 36 cells wide
    at 80x24), the history opens over it on narrow terminals, and widens on wide ones."""
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.pause(0.2)
        preview = app.main.preview
        view = preview.view
        form = app.main.form
        history = app.main.history
        cols, _ = fit_cells(512, 512, view.size.width, view.size.height)
        assert cols >= 36
        assert form.region.right <= preview.region.x
        for widget_id in ("#steps", "#seed", "#width", "#height", "#sampler", "#model"):
            widget = app.query_one(widget_id)
            assert widget.region.width >= 5, widget_id
            assert widget.region.bottom <= size[1] - 1, widget_id
        assert app.query_one("#seed").region.width >= 11  # a 10-digit seed shows whole
        narrow = size[0] < 120
        if narrow:
            assert not history.display or history.region.width == 0
            await pilot.press("ctrl+f")
            await pilot.pause()
            assert history.region.width >= 30 and history.list_view.has_focus
            await pilot.press("escape")
            await pilot.pause()
            assert app.focused is app.query_one("#prompt")
            assert history.region.width == 0
        else:
            assert preview.region.right <= history.region.x
            assert history.region.right <= size[0]
            assert history.region.width >= (50 if size[0] >= 170 else 30)


async def test_unwritable_output_keeps_images_for_save_as(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.0)
    blocked = tmp_path / "out"
    blocked.write_text("a file where the output folder should be")
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.press(*"kept")
        set_form(app, width="64", height="64", seed="3")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: bool(app.main.preview.in_view.images))
        assert (
            app.main.preview.in_view.images[0].path is None
            and app.main.preview.in_view.images[0].png
        )
        assert app.query_one("#prompt", TextArea).text == "kept"
        await pilot.press("f3")
        await pilot.pause(0.2)
        folder = app.screen.query_one("#folder", Input)
        folder.value = str(tmp_path / "elsewhere")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.preview.in_view.images[0].path is not None)
        saved = list((tmp_path / "elsewhere").rglob("*.png"))
        assert len(saved) == 1
        assert parse_infotext(read_parameters(saved[0].read_bytes()) or "").seed == 3


async def test_blank_selects_send_the_server_default(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """Nothing picked means nothing sent: the server's default sampler, not a placeholder name."""
    server = demo_factory(step_delay=0.0)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        request = app.main.form.to_request()
        assert request.sampler_name is None and request.scheduler is None
        await pilot.press(*"x")
        set_form(app, width="64", height="64")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(app.main.history.entries) == 1)
        assert app.main.history.entries[0].sampler == "Euler"  # the web UI's default, sampler_index
