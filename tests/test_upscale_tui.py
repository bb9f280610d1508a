"""Upscaling a history image from the TUI through the demo's extras endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from textual.widgets import Input, Select, Static, TextArea

from sdtui.demo import DemoServer
from sdtui.images.png import read_text_chunks
from sdtui.ui.app import SdtuiApp
from sdtui.ui.dialogs.upscale import UpscaleDialog
from tests.test_form_power import BASE, generate
from tests.tui import SIZE, make_app, notifications, pngs, set_form, wait_for


async def _started(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: app.main.history.loaded)
    await app.workers.wait_for_complete()


async def _open_dialog(pilot: Any, app: SdtuiApp) -> UpscaleDialog:
    await pilot.press("ctrl+f", "home", "U")
    await wait_for(pilot, lambda: isinstance(app.screen, UpscaleDialog))
    assert isinstance(app.screen, UpscaleDialog)
    return app.screen


async def test_upscale_key_saves_beside_the_source_and_adds_it_to_the_history(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a pier")
        set_form(app, **BASE)
        source = await generate(pilot, app, tmp_path)
        dialog = await _open_dialog(pilot, app)
        assert "Lanczos" in [u.name for u in app.context.facts.upscalers]
        dialog.query_one("#up-upscaler", Select).value = "Lanczos"
        await pilot.press("enter")  # in the scale field: 2
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == 2, timeout=20)
        await app.workers.wait_for_complete()
        [result] = [p for p in pngs(tmp_path) if p != source]
        assert result.parent == source.parent  # beside its source
        with Image.open(result) as image:
            assert image.size == (128, 128)
        texts = read_text_chunks(result.read_bytes())
        source_texts = read_text_chunks(source.read_bytes())
        assert texts["parameters"] == source_texts["parameters"]
        assert "Postprocess upscale by: 2" in texts["postprocessing"]
        assert "Postprocess upscaler: Lanczos" in texts["postprocessing"]
        await wait_for(pilot, lambda: any(e.path == result for e in app.main.history.entries))
        assert any("Upscaled" in m for m in notifications(app))


async def test_upscale_to_a_size_and_bad_input_in_the_dialog(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a pier")
        set_form(app, **BASE)
        source = await generate(pilot, app, tmp_path)
        dialog = await _open_dialog(pilot, app)
        dialog.query_one("#up-scale", Input).value = "20"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        problem = str(dialog.query_one("#up-problem", Static).render())
        assert "Upscale by must be a number from 1 to 8" in problem
        dialog.query_one("#up-size", Input).value = "96 x 80"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == 2, timeout=20)
        await app.workers.wait_for_complete()
        [result] = [p for p in pngs(tmp_path) if p != source]
        with Image.open(result) as image:
            assert image.size == (96, 80)
        assert "96x80" in result.name


async def test_escape_closes_the_dialog_without_upscaling(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a pier")
        set_form(app, **BASE)
        await generate(pilot, app, tmp_path)
        await _open_dialog(pilot, app)
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.screen is app.main
        assert len(pngs(tmp_path)) == 1


async def test_an_upscaler_the_server_refuses_is_one_line(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a pier")
        set_form(app, **BASE)
        await generate(pilot, app, tmp_path)
        dialog = await _open_dialog(pilot, app)
        dialog.upscalers.append("No Such Upscaler")
        select = dialog.query_one("#up-upscaler", Select)
        select.set_options([(u, u) for u in dialog.upscalers])
        select.value = "No Such Upscaler"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("No Such Upscaler" in m for m in notifications(app)))
        await app.workers.wait_for_complete()
        assert len(pngs(tmp_path)) == 1
