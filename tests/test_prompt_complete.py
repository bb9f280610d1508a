"""The prompt editor's LoRA/embedding completion, weight keys and infotext paste, in the TUI
against the demo backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import TextArea

from sdtui.demo import DemoServer
from sdtui.ui.actions import KeyMap
from sdtui.ui.app import SdtuiApp
from sdtui.ui.widgets.prompt_complete import PromptComplete, place
from sdtui.ui.widgets.prompt_editor import PromptEditor
from tests.tui import SIZE, make_app, notifications, wait_for

KEYS = KeyMap()


def key(binding_id: str, index: int = 0) -> str:
    return KEYS.keys(binding_id).split(",")[index]


async def _started(pilot: Any, app: SdtuiApp) -> PromptEditor:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: bool(app.context.facts.loras))
    prompt = app.query_one("#prompt", PromptEditor)
    prompt.load_text("")
    prompt.focus()
    await pilot.pause()
    return prompt


def _list(app: SdtuiApp) -> PromptComplete:
    return app.screen.query_one(PromptComplete)


def _offered(app: SdtuiApp) -> list[str]:
    completion = _list(app)
    return [c.name for c in completion.candidates] if completion.shown else []


async def test_typing_lora_offers_the_servers_loras_and_inserts_the_tag(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        await pilot.press(*"a fox, <lora:")
        await pilot.pause()
        assert _offered(app) == ["add_detail", "film_grain", "watercolor_v2"]
        await pilot.press(*"wat")
        await pilot.pause()
        assert _offered(app) == ["watercolor_v2"]  # filtered as you type
        await pilot.press("backspace", "backspace", "backspace", *"grain")
        await pilot.pause()
        assert _offered(app) == ["film_grain"]
        await pilot.press(key("complete.accept"))
        await pilot.pause()
        assert prompt.text == "a fox, <lora:film_grain:1>"
        assert prompt.cursor_location == (0, len(prompt.text))
        assert not _list(app).shown
        await pilot.press(*", x")
        await pilot.pause()
        assert prompt.text == "a fox, <lora:film_grain:1>, x"  # typing goes on after it
        assert app.focused is prompt


async def test_the_list_moves_and_accepts_with_its_keys(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        await pilot.press(*"<lora:")
        await pilot.pause()
        await pilot.press(key("complete.next"), key("complete.next"), key("complete.previous"))
        await pilot.press(key("complete.accept", 1))  # tab accepts too, the focus stays
        await pilot.pause()
        assert prompt.text == "<lora:film_grain:1>"
        assert app.focused is prompt


async def test_escape_closes_the_list_and_stays_in_the_prompt(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        app.query_one("#negative", TextArea).focus()
        await pilot.pause()
        await pilot.press(*"<lora:ad")
        await pilot.pause()
        negative = app.query_one("#negative", TextArea)
        assert _offered(app) == ["add_detail"]  # the negative prompt completes too
        await pilot.press(key("complete.close"))
        await pilot.pause()
        assert not _list(app).shown
        assert app.focused is negative  # esc did not also go back to the prompt
        assert negative.text == "<lora:ad"
        await pilot.press("enter")  # closed: enter is the editor's again
        await pilot.pause()
        assert negative.text == "<lora:ad\n"
        assert prompt.text == ""


async def test_a_closed_list_eats_no_keys(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        await pilot.press(*"one", "enter", *"two", "up", *"X")
        await pilot.pause()
        assert prompt.text == "oneX\ntwo"
        assert not _list(app).shown if app.screen.query(PromptComplete) else True


async def test_embeddings_are_offered_for_a_word(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        await pilot.press(*"photo, eas")
        await pilot.pause()
        assert _offered(app) == ["easynegative"]
        await pilot.press(key("complete.accept"))
        await pilot.pause()
        assert prompt.text == "photo, easynegative"
        await pilot.press(*", sky")
        await pilot.pause()
        assert not _list(app).shown  # "sky" names no embedding


async def test_the_completion_key_offers_everything_at_the_cursor(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        await pilot.press(*"photo, ")
        await pilot.press(key("prompt.complete"))
        await pilot.pause()
        assert _offered(app) == [
            "add_detail",
            "film_grain",
            "watercolor_v2",
            "bad-hands-5",
            "easynegative",
        ]
        await pilot.press(*"b")  # keeps filtering LoRAs and embeddings as you type
        await pilot.pause()
        assert _offered(app)[0] == "bad-hands-5"
        await pilot.press(key("complete.close"))
        await pilot.press(*"zzz")
        await pilot.press(key("prompt.complete"))
        await pilot.pause()
        assert not _list(app).shown
        assert any("No LoRA or embedding" in n for n in notifications(app))
        assert prompt.text == "photo, bzzz"


async def test_the_palette_offers_completion(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        await pilot.press(*"<")
        await pilot.press(key("complete.close"))
        await pilot.pause()
        await app.run_action("complete_prompt", app.main)
        await pilot.pause()
        assert _offered(app)[:1] == ["add_detail"]
        assert app.focused is prompt


async def test_server_names_reach_the_list_without_control_characters(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    from dataclasses import replace

    from sdtui.api.types import Lora

    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        facts = app.context.facts
        app.context.facts = replace(facts, loras=[Lora("evil\x1b[2Jname", "[b]bold\x07")])
        await pilot.press(*"<lora:")
        await pilot.pause()
        completion = _list(app)
        assert [c.name for c in completion.candidates] == ["evilname"]
        label = str(completion.get_option_at_index(0).prompt)
        assert "\x1b" not in label and "\x07" not in label and "[b]bold" in label


@pytest.mark.parametrize("size", [(80, 24), (140, 45)])
async def test_the_list_stays_on_screen_near_the_edges(
    demo_server: DemoServer, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=size) as pilot:
        prompt = await _started(pilot, app)
        await pilot.press(*("word " * 60), *"<lora:")
        await pilot.pause()
        completion = _list(app)
        assert completion.shown
        region = completion.region
        assert region.right <= size[0] and region.bottom <= size[1]
        assert region.x >= 0 and region.y >= 0
        cursor = prompt.cursor_screen_offset
        assert region.y == cursor.y + 1 or region.bottom == cursor.y  # below it, or above it


def test_place_flips_above_and_keeps_inside() -> None:
    from textual.geometry import Offset, Size

    screen = Size(80, 24)
    assert place(Offset(10, 5), Size(30, 6), screen) == Offset(9, 6)
    assert place(Offset(10, 20), Size(30, 6), screen) == Offset(9, 14)  # above: no room below
    assert place(Offset(70, 5), Size(30, 6), screen) == Offset(50, 6)  # kept inside on the right


# -- weights ------------------------------------------------------------------------------------


async def test_weight_keys_edit_and_undo(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        prompt.load_text("a fox, <lora:add_detail:1>")
        prompt.move_cursor((0, 4))
        await pilot.press(key("prompt.weight_up"), key("prompt.weight_up"))
        await pilot.pause()
        assert prompt.text == "a (fox:1.2), <lora:add_detail:1>"
        assert prompt.selected_text == "fox"  # the selection stays on the edited token
        await pilot.press(key("prompt.weight_down", 1))  # alt+down does the same
        await pilot.pause()
        assert prompt.text == "a (fox:1.1), <lora:add_detail:1>"
        prompt.move_cursor((0, 20))
        await pilot.press(key("prompt.weight_up"))
        await pilot.pause()
        assert prompt.text == "a (fox:1.1), <lora:add_detail:1.05>"
        assert prompt.selected_text == "lora:add_detail"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert prompt.text == "a (fox:1.1), <lora:add_detail:1>"
        assert app.screen is app.main and not app.context.queue.busy


async def test_weight_keys_on_a_selection(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        prompt.load_text("a red fox at dusk")
        prompt.move_cursor((0, 2))
        await pilot.press("shift+right", "shift+right", "shift+right")
        await pilot.press(*["shift+right"] * 4, key("prompt.weight_down"))
        await pilot.pause()
        assert prompt.text == "a (red fox:0.9) at dusk"
        assert prompt.selected_text == "red fox"


# -- pasting an infotext ------------------------------------------------------------------------

INFOTEXT = (
    "a lighthouse at dusk\nNegative prompt: blurry\n"
    "Steps: 7, Sampler: Euler a, Schedule type: Automatic, CFG scale: 5.5, Seed: 1234, "
    "Size: 64x96, Model: demo-dusk, Version: v1.10.1"
)


async def test_pasting_an_infotext_fills_the_form(demo_server: DemoServer, tmp_path: Path) -> None:
    from textual.widgets import Input

    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        app.post_message(events.Paste(INFOTEXT))
        await pilot.pause()
        await pilot.pause()
        assert prompt.text == "a lighthouse at dusk"
        assert app.query_one("#negative", TextArea).text == "blurry"
        assert app.query_one("#steps", Input).value == "7"
        assert app.query_one("#seed", Input).value == "1234"
        assert app.query_one("#width", Input).value == "64"


async def test_an_ordinary_paste_is_text(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _started(pilot, app)
        await pilot.press(*"x ")
        text = "mood: dark, light: soft, style: ink"
        app.post_message(events.Paste(text))
        await pilot.pause()
        assert prompt.text == "x " + text
        assert not _list(app).shown if app.screen.query(PromptComplete) else True
