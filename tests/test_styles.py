"""Styles merged into the prompts as the web UI v1.10 merges them (modules/styles.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import TextArea

from sdtui.demo import DemoServer
from sdtui.engine.styles import Style, apply_styles, merge_prompts, split_known
from sdtui.images.infotext import parse_infotext
from sdtui.images.png import read_text_chunks
from sdtui.ui.actions import KeyMap
from sdtui.ui.app import SdtuiApp
from sdtui.ui.dialogs.styles import StylesDialog
from sdtui.ui.widgets.style_preview import StylePreview
from tests.tui import SIZE, make_app, notifications, pngs, set_form, wait_for

STYLES = {
    "Cinematic": Style("cinematic still of {prompt}, shallow depth of field", "cartoon, painting"),
    "Oil painting": Style("oil painting, impasto", "photo"),
    "Night sky": Style("{prompt}, night, starry sky", ""),
    "Empty": Style("", ""),
}


def test_merge_rules() -> None:
    assert merge_prompts("style", "prompt") == "prompt, style"
    assert merge_prompts("  style ", " prompt ") == "prompt, style"
    assert merge_prompts("style", "") == "style"
    assert merge_prompts("", "prompt ") == "prompt"
    assert merge_prompts("a {prompt} b", " p ") == "a  p  b"  # placeholder: no stripping
    assert merge_prompts("{prompt}, {prompt}", "x") == "x, x"


def test_styles_apply_in_the_order_picked() -> None:
    assert apply_styles("a fox", "blurry", ["Cinematic", "Oil painting"], STYLES) == (
        "cinematic still of a fox, shallow depth of field, oil painting, impasto",
        "blurry, cartoon, painting, photo",
    )
    assert apply_styles("a fox", "blurry", ["Oil painting", "Cinematic"], STYLES) == (
        "cinematic still of a fox, oil painting, impasto, shallow depth of field",
        "blurry, photo, cartoon, painting",  # the negatives have no {prompt}: joined after
    )


def test_a_placeholder_style_with_an_empty_negative() -> None:
    assert apply_styles("a fox", "", ["Night sky"], STYLES) == ("a fox, night, starry sky", "")


def test_unknown_names_only_strip_as_the_web_ui_does() -> None:
    assert apply_styles(" a fox ", " neg ", ["Gone"], STYLES) == ("a fox", "neg")
    assert apply_styles(" a fox ", "", [], STYLES) == (" a fox ", "")


def test_split_known_keeps_the_order() -> None:
    assert split_known(["Night sky", "Gone", "Cinematic", "Old"], STYLES) == (
        ["Night sky", "Cinematic"],
        ["Gone", "Old"],
    )


def test_the_demo_merges_the_same_way() -> None:
    """The demo backend stands in for the server: its merge must be this one."""
    from sdtui.demo import catalog

    styles = {s.name: Style(s.prompt, s.negative_prompt) for s in catalog.PROMPT_STYLES}
    names = [s.name for s in catalog.PROMPT_STYLES]
    for picked in (names, names[::-1], names[1:2], []):
        assert catalog.apply_styles("a fox ", "blurry", picked) == apply_styles(
            "a fox ", "blurry", picked, styles
        )


# -- the TUI: the styles row, the picker, the job, the saved form ---------------------------------


KEYS = KeyMap()


def _row(app: SdtuiApp) -> list[str]:
    return str(app.query_one("#styles", StylePreview).render()).splitlines()


async def _connected(pilot: Any, app: SdtuiApp) -> StylePreview:
    await wait_for(pilot, lambda: app.context.connected)
    preview = app.query_one("#styles", StylePreview)
    await wait_for(pilot, lambda: preview.offered is not None)
    return preview


async def _pick(pilot: Any, app: SdtuiApp, moves: list[str]) -> None:
    """Open the picker, press `moves` (down / space), apply."""
    await pilot.press(KEYS.keys("pick_styles"))
    await wait_for(pilot, lambda: isinstance(app.screen, StylesDialog))
    await pilot.press(*moves, KEYS.keys("styles.apply"))
    await wait_for(pilot, lambda: app.screen is app.main)


async def test_pick_styles_in_order_preview_and_send(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        preview = await _connected(pilot, app)
        assert _row(app) == ["Styles: none"]
        prompt = app.query_one("#prompt", TextArea)
        prompt.focus()
        await pilot.press(*"a fox")
        # Oil painting (2nd) ticked first, then Cinematic (1st): they apply in that order.
        await _pick(pilot, app, ["down", "space", "up", "space"])
        assert preview.picked == ["Oil painting", "Cinematic"]
        assert _row(app)[0] == "Styles: Oil painting, Cinematic"
        merged = "cinematic still of a fox, oil painting, impasto, visible brush strokes, "
        assert _row(app)[1].startswith("→ " + merged)
        assert _row(app)[2] == "− photo, 3d render, cartoon, painting, illustration"
        await pilot.press(*" at dusk")  # the preview follows the typing
        await pilot.pause()
        assert _row(app)[1].startswith("→ cinematic still of a fox at dusk, oil painting")
        assert app.focused is prompt
        request = app.main.form.to_request()
        assert request.styles == ["Oil painting", "Cinematic"]
        set_form(app, steps="2", width="64", height="64", seed="5")
        await pilot.press(KEYS.keys("generate"))
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == 1, timeout=30)
        info = parse_infotext(read_text_chunks(pngs(tmp_path)[0].read_bytes())["parameters"])
        assert info.prompt.startswith("cinematic still of a fox at dusk, oil painting")
        assert info.negative_prompt == "photo, 3d render, cartoon, painting, illustration"
        await wait_for(pilot, lambda: not app.context.queue.busy, timeout=30)


async def test_escape_leaves_the_picks_and_untick_removes(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        preview = await _connected(pilot, app)
        await _pick(pilot, app, ["space", "down", "space"])
        assert preview.picked == ["Cinematic", "Oil painting"]
        await pilot.press(KEYS.keys("pick_styles"))
        await wait_for(pilot, lambda: isinstance(app.screen, StylesDialog))
        dialog = app.screen
        assert isinstance(dialog, StylesDialog)
        text = str(dialog.query_one("#style-text").render())
        assert "cinematic still of {prompt}" in text and "Negative: cartoon" in text
        await pilot.press("space", KEYS.keys("dialog.cancel"))  # unticked, then cancelled
        await wait_for(pilot, lambda: app.screen is app.main)
        assert preview.picked == ["Cinematic", "Oil painting"]
        await _pick(pilot, app, ["space"])  # Cinematic unticked: Oil painting stays
        assert preview.picked == ["Oil painting"]
        assert app.main.form.to_request().styles == ["Oil painting"]
        await _pick(pilot, app, ["down", "space"])
        assert preview.picked == [] and _row(app) == ["Styles: none"]
        assert app.main.form.to_request().styles is None


async def test_styles_are_saved_and_unknown_ones_kept_but_not_sent(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _connected(pilot, app)
        await _pick(pilot, app, ["down", "down", "space"])
        assert app.main.form.state()["styles"] == "Night sky"
        app.main.save_form()
    saved = app.context.session.load_form()
    saved["styles"] = "Night sky\nGone away\x1b[31m"
    app.context.session.save_form(saved)
    again = make_app(demo_server.url, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        preview = await _connected(pilot, again)
        assert preview.picked == ["Night sky", "Gone away"]
        assert _row(again)[0] == "Styles: Night sky · not on this server: Gone away"
        assert again.main.form.to_request().styles == ["Night sky"]
        assert again.main.form.state()["styles"] == "Night sky\nGone away"  # kept


async def test_a_server_without_styles(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    server = demo_factory()
    server._api.routes.pop("/sdapi/v1/prompt-styles")
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _connected(pilot, app)
        assert _row(app) == ["Styles: no styles on this server"]
        await pilot.press(KEYS.keys("pick_styles"))
        await pilot.pause()
        assert app.screen is app.main
        assert "This server lists no styles" in notifications(app)
        assert app.main.form.to_request().styles is None


async def test_keys_that_arrive_together_tick_what_they_reached() -> None:
    """space and down read in one go (tmux replaying input) tick the style space was pressed on."""
    from textual import events
    from textual.app import App

    from sdtui.api import PromptStyle

    picked: list[list[str] | None] = []

    class Host(App[None]):
        def on_mount(self) -> None:
            styles = [PromptStyle("A", "a"), PromptStyle("B", "b"), PromptStyle("C", "c")]
            self.push_screen(StylesDialog(styles, []), picked.append)

    app = Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        burst = [("down", None), ("space", " "), ("down", None), ("space", " ")]
        burst += [("up", None), ("up", None), ("space", " "), ("enter", None)]
        for name, character in burst:
            app.post_message(events.Key(name, character))
        await wait_for(pilot, lambda: bool(picked))
    assert picked == [["B", "C", "A"]]
