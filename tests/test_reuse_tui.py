"""Load and re-run from the history go through engine.reuse: the image's model, one image for a
re-run, lines about what could not be used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, TextArea

from sdtui.demo import DemoServer
from sdtui.engine.names import model_short_name
from sdtui.images.infotext import parse_infotext
from sdtui.ui.app import SdtuiApp
from sdtui.ui.messages import InfotextPasted
from sdtui.ui.widgets.form_fields import ServerSelect
from tests.test_form_power import BASE, generate, infotext
from tests.tui import SIZE, make_app, notifications, pngs, set_form, wait_for


async def _started(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: app.main.history.loaded)
    await app.workers.wait_for_complete()


async def _switch_model(pilot: Any, app: SdtuiApp, title: str) -> None:
    app.main.bar.switch_model(title)
    await wait_for(pilot, lambda: app.context.facts.model_title == title)
    await app.workers.wait_for_complete()


def _other_model(app: SdtuiApp) -> str:
    facts = app.context.facts
    return next(m.title for m in facts.models if m.title != facts.model_title)


async def test_load_switches_to_the_images_model(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        first = app.context.facts.model_title
        assert first
        app.query_one("#prompt", TextArea).load_text("an orchard")
        set_form(app, **BASE)
        await generate(pilot, app, tmp_path)
        await _switch_model(pilot, app, _other_model(app))
        await pilot.press("ctrl+f", "home", "l")
        await wait_for(pilot, lambda: app.context.facts.model_title == first)
        await app.workers.wait_for_complete()
        assert app.query_one("#model", ServerSelect).chosen == first
        assert app.query_one("#prompt", TextArea).text == "an orchard"


async def test_a_model_the_server_lacks_is_named_and_the_loaded_one_kept(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        loaded = app.context.facts.model_title
        text = (
            "a dune\nSteps: 9, Sampler: Euler, CFG scale: 6, Seed: 3, Size: 64x64, "
            "Model hash: 0123456789, Model: no-such-model"
        )
        app.main.post_message(InfotextPasted(text))
        await pilot.pause(0.3)
        said = "\n".join(notifications(app))
        assert "no-such-model is not on this server" in said
        assert "is kept" in said
        assert app.context.facts.model_title == loaded
        assert app.query_one("#steps", Input).value == "9"


async def test_rerun_makes_one_image_on_the_images_model_and_leaves_the_form(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        first = app.context.facts.model_title or ""
        app.query_one("#prompt", TextArea).load_text("a lantern")
        set_form(app, **BASE)
        source = await generate(pilot, app, tmp_path)
        await _switch_model(pilot, app, _other_model(app))
        set_form(app, batch_count="3", steps="9")
        app.query_one("#prompt", TextArea).load_text("typed since")
        await pilot.pause()
        before = app.main.form.state()
        await pilot.press("ctrl+f", "home")
        await pilot.pause()
        row = app.main.history.selected_row
        assert row is not None and row.path == source
        sent = len(pngs(tmp_path))
        await pilot.press("r")
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == sent + 1, timeout=20)
        await wait_for(pilot, lambda: not app.context.queue.busy)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        assert len(pngs(tmp_path)) == sent + 1  # one image, not the form's batch count of 3
        newest = max(pngs(tmp_path), key=lambda p: p.stat().st_mtime_ns)
        again = parse_infotext(infotext(newest))
        original = parse_infotext(infotext(source))
        assert again.seed == original.seed == 4242
        assert again.prompt == "a lantern"
        assert again.get("Model") == model_short_name(first)
        assert app.main.form.state() == before  # the form is left as typed


async def test_rerun_of_an_image_without_parameters_says_so(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    from sdtui.ui.messages import ReuseParameters

    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.main.post_message(ReuseParameters("", rerun=True))
        await pilot.pause(0.2)
        assert any("carries no parameters" in m for m in notifications(app))
        assert app.context.queue.current is None and not app.context.queue.pending


async def test_pasting_a_png_infotext_into_the_prompt_fills_the_form_and_undoes(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    from textual import events

    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a kite")
        set_form(app, **BASE)
        source = await generate(pilot, app, tmp_path)
        text = infotext(source)
        app.query_one("#prompt", TextArea).load_text("mine")
        set_form(app, steps="30", seed="-1")
        await pilot.pause()
        before = app.main.form.state()
        prompt = app.query_one("#prompt", TextArea)
        prompt.focus()
        prompt.post_message(events.Paste(text))
        await wait_for(pilot, lambda: prompt.text == "a kite")
        assert app.query_one("#steps", Input).value == "3"
        assert app.query_one("#seed", Input).value == "4242"
        await pilot.press(app.context.keys.name("undo_fill"))
        await pilot.pause(0.2)
        assert app.main.form.state() == before
        assert app.main.check_action("undo_fill", ()) is None  # nothing left to undo


async def test_rerun_drops_a_hires_upscaler_the_server_lacks_and_says_so(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    """The real server refuses an unknown hr_upscaler: a re-run of an image made elsewhere sends
    the server's names only, and says what it left out."""
    from sdtui.ui.messages import ReuseParameters

    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        text = (
            "a harbour\nSteps: 3, Sampler: Euler, CFG scale: 6, Seed: 77, Size: 64x64, "
            "Denoising strength: 0.5, Hires upscale: 2, Hires upscaler: 4x-NoSuchUpscaler"
        )
        sent = len(pngs(tmp_path))
        app.main.post_message(ReuseParameters(text, rerun=True))
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == sent + 1, timeout=20)
        await wait_for(pilot, lambda: not app.context.queue.busy)
        await app.workers.wait_for_complete()
        said = "\n".join(notifications(app))
        assert "4x-NoSuchUpscaler' is not on this server" in said
        newest = max(pngs(tmp_path), key=lambda p: p.stat().st_mtime_ns)
        made = parse_infotext(infotext(newest))
        assert made.seed == 77
        assert float(made.get("Hires upscale") or 0) == 2
        assert made.get("Hires upscaler") != "4x-NoSuchUpscaler"
