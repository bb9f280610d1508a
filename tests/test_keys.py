"""Keys: no app key edits text, the keymap is what the screen says, the README table is the
registry's. Pilot tests against the demo backend."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TextArea
from textual.widgets._footer import FooterKey

from sdtui.demo import DemoServer
from sdtui.ui.actions import ACTIONS, EDITOR_KEYS, readme_table
from sdtui.ui.app import SdtuiApp
from tests.tui import SIZE, make_app, notifications, pngs, set_form, wait_for

ROOT = Path(__file__).resolve().parent.parent
PROMPT_TEXT = "a lighthouse at dusk, oil painting"

#: Every app key of the main screen and the app (quit exits, so it is left out).
APP_KEYS = [
    (spec.id, key)
    for spec in ACTIONS
    if spec.scope in ("main", "app") and spec.key and spec.id != "quit"
    for key in spec.key.split(",")
]


async def _started(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: app.main.history.loaded)
    await app.workers.wait_for_complete()


async def _settle(pilot: Any, app: SdtuiApp) -> None:
    """Let a key's action run, then close whatever screen or dialog it opened."""
    await pilot.pause()
    await pilot.pause()
    while app.screen is not app.main:
        await pilot.press("escape")
        await pilot.pause()


def _prompt(app: SdtuiApp) -> TextArea:
    return app.query_one("#prompt", TextArea)


async def _idle(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: not app.context.queue.busy, timeout=30)
    await app.workers.wait_for_complete()


# -- no app key edits text ----------------------------------------------------------------------


def test_app_keys_are_not_editor_keys() -> None:
    """The registry's own rule: a main-screen or app key is never one the editors use."""
    taken = [(binding_id, key) for binding_id, key in APP_KEYS if key in EDITOR_KEYS]
    assert taken == []


@pytest.mark.parametrize("select", [False, True], ids=["cursor", "selection"])
async def test_no_app_key_edits_the_prompt(
    demo_server: DemoServer, tmp_path: Path, select: bool
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        set_form(app, steps="2", width="64", height="64")
        for binding_id, key in APP_KEYS:
            prompt = _prompt(app)
            prompt.load_text(PROMPT_TEXT)
            prompt.focus()
            prompt.move_cursor((0, len(PROMPT_TEXT) - 3))
            await pilot.pause()
            if select:
                await pilot.press("shift+left", "shift+left")
                assert prompt.selected_text
            await pilot.press(key)
            await _settle(pilot, app)
            assert _prompt(app).text == PROMPT_TEXT, f"{key} ({binding_id}) edited the prompt"
        await _idle(pilot, app)


@pytest.mark.parametrize("select", [False, True], ids=["cursor", "selection"])
async def test_no_app_key_edits_a_number_field(
    demo_server: DemoServer, tmp_path: Path, select: bool
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        _prompt(app).load_text("a fox")
        set_form(app, width="64", height="64")
        for binding_id, key in APP_KEYS:
            steps = app.query_one("#steps", Input)
            steps.value = "12"
            steps.focus()
            await pilot.pause()
            steps.cursor_position = 1
            if select:
                await pilot.press("shift+right")
                assert steps.selected_text == "2"
            await pilot.press(key)
            await _settle(pilot, app)
            value = app.query_one("#steps", Input).value
            assert value == "12", f"{key} ({binding_id}) edited the Steps field"
        await _idle(pilot, app)


# (keys pressed, text before, cursor (row, column), text after, cursor after or None)
EDITS = [
    (["ctrl+u"], "one two three", (0, 8), "three", (0, 0)),
    (["ctrl+k"], "one two three", (0, 7), "one two", (0, 7)),
    (["ctrl+w"], "one two three", (0, 7), "one  three", (0, 4)),
    (["ctrl+x"], "first line\nsecond line", (0, 3), "second line", None),
    (["shift+left", "shift+left", "ctrl+x"], "one two three", (0, 7), "one t three", (0, 5)),
    (["ctrl+a", *"X"], "one two", (0, 4), "Xone two", (0, 1)),
    (["ctrl+e", *"X"], "one two", (0, 2), "one twoX", (0, 8)),
]


@pytest.mark.parametrize(
    ("keys", "before", "cursor", "after", "cursor_after"),
    EDITS,
    ids=["ctrl+u", "ctrl+k", "ctrl+w", "ctrl+x-line", "ctrl+x-selection", "ctrl+a", "ctrl+e"],
)
async def test_editor_keys_edit_the_prompt(
    demo_server: DemoServer,
    tmp_path: Path,
    keys: list[str],
    before: str,
    cursor: tuple[int, int],
    after: str,
    cursor_after: tuple[int, int] | None,
) -> None:
    """The editing keys do in the prompt what they do in a terminal editor, and nothing else."""
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        before_notes = notifications(app)
        prompt = _prompt(app)
        prompt.load_text(before)
        prompt.focus()
        prompt.move_cursor(cursor)
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        assert app.focused is prompt
        assert prompt.text == after
        if cursor_after is not None:
            assert prompt.cursor_location == cursor_after
        assert app.context.queue.current is None and not app.context.queue.pending
        assert app.screen is app.main
        assert notifications(app) == before_notes


# -- previous/next image from the form ------------------------------------------------------------


async def test_next_image_works_with_focus_in_the_form(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    keys = app.context.keys
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        await pilot.press(*"twins")
        set_form(app, batch_size="2", width="64", height="64", steps="3")
        await pilot.press(keys.keys("generate").split(",")[0])
        await wait_for(pilot, lambda: len(app.main.preview.in_view.images) == 2, timeout=30)
        await _idle(pilot, app)
        await pilot.pause()
        preview = app.main.preview
        assert preview.in_view.index == 0
        _prompt(app).focus()
        await pilot.pause()
        await pilot.press(keys.keys("next_image").split(",")[0])
        await pilot.pause()
        assert preview.in_view.index == 1
        assert preview.view.key == preview.in_view.images[1].key
        assert _prompt(app).text == "twins"
        assert app.focused is _prompt(app)
        await pilot.press(keys.keys("previous_image").split(",")[0])
        await pilot.pause()
        assert preview.in_view.index == 0
        assert _prompt(app).text == "twins"


# -- escape in the history ------------------------------------------------------------------------


async def test_escape_clears_the_search_then_goes_back_to_the_prompt(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        history = app.main.history
        search = app.query_one("#history-search", Input)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert app.focused is history.list_view
        await pilot.press("slash")
        await pilot.pause()
        assert search.display and search.has_focus
        await pilot.press(*"fox")
        await pilot.pause()
        assert search.value == "fox"
        await pilot.press("escape")
        await pilot.pause()
        assert search.value == ""
        assert app.focused is history.list_view
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is _prompt(app)


# -- the keymap is what the screen says -----------------------------------------------------------


def _footer_keys(app: SdtuiApp) -> dict[str, str]:
    return {key.description: key.key_display for key in app.screen.query(FooterKey)}


async def test_remapped_generate_key_is_shown_and_used(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path, keys={"generate": "f5"})
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        placeholder = app.main.preview.view.placeholder
        assert "f5" in placeholder and "ctrl+g" not in placeholder
        assert _footer_keys(app).get("Generate") == "f5"
        await pilot.press(*"moon")
        set_form(app, steps="2", width="64", height="64")
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        assert app.context.queue.current is None and not app.context.queue.pending
        assert pngs(tmp_path) == []
        await pilot.press("f5")
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == 1, timeout=20)
        await _idle(pilot, app)
        assert _prompt(app).text == "moon"


async def test_unknown_binding_id_is_named_with_a_suggestion(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path, keys={"genrate": "f5"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert any("genrate" in n.message and "generate" in n.message for n in warnings), [
            n.message for n in warnings
        ]
        await _started(pilot, app)


async def test_priority_action_on_an_editor_key_is_refused(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path, keys={"interrupt": "ctrl+x"})
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
        assert any("interrupt" in m and "ctrl+x" in m for m in warnings), warnings
        assert app.context.keys.keys("interrupt") == "f2"
        prompt = _prompt(app)
        prompt.load_text("keep this\ncut this")
        prompt.focus()
        prompt.move_cursor((1, 2))
        await pilot.pause()
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert prompt.text == "keep this\n"


# -- ctrl+c and screenshots: plain text -----------------------------------------------------------


async def test_ctrl_c_outside_an_editor_names_the_quit_key(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert app.focused is app.main.history.list_view
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running
        [note] = [n for n in app._notifications if "quit" in n.message.lower()]
        assert app.context.keys.name("quit") in note.message
        assert "[" not in note.message and "]" not in note.message
        assert not note.markup


async def test_screenshot_goes_to_the_output_folder(
    demo_server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no ~/Downloads
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.deliver_screenshot()
        await pilot.pause()
        [svg] = sorted((tmp_path / "out" / "screenshots").glob("*.svg"))
        assert svg.read_text(encoding="utf-8").lstrip().startswith("<svg")
        [note] = [n for n in app._notifications if "creenshot" in n.message]
        assert str(svg) in note.message
        assert "[" not in note.message and not note.markup
        assert note.severity == "information"


async def test_screenshot_palette_entry(
    demo_server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        [command] = [c for c in app.get_system_commands(app.screen) if c.title == "Screenshot"]
        command.callback()
        folder = tmp_path / "out" / "screenshots"
        await wait_for(pilot, lambda: any(folder.glob("*.svg")), timeout=5)
        await wait_for(pilot, lambda: any("creenshot" in m for m in notifications(app)))
        [note] = [n for n in app._notifications if "creenshot" in n.message]
        assert "[" not in note.message and str(folder) in note.message


async def test_screenshot_into_an_unwritable_folder_says_so(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.deliver_screenshot(path=str(blocker))
        await pilot.pause()
        [note] = [n for n in app._notifications if "creenshot" in n.message]
        assert note.severity == "error"
        assert "\n" not in note.message and str(blocker) in note.message
        assert "[" not in note.message


# -- the README and the registry ------------------------------------------------------------------


def test_readme_key_table_is_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table() in readme


_KEY_LITERAL = re.compile(r"\b(?:ctrl|alt|shift)\+|^f(?:[1-9]|1[0-2])$")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are statements of their own (docstrings)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _key_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _docstrings(tree)
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and _KEY_LITERAL.search(node.value)
    ]


def test_the_scan_finds_key_literals() -> None:
    sample = ROOT / "tests" / "test_keys.py"  # this file names keys in strings
    assert _key_literals(sample)


def test_no_key_name_outside_the_registry() -> None:
    """Every key shown is looked up in the keymap: no key name is written anywhere else."""
    found = [
        hit
        for path in sorted((ROOT / "sdtui" / "ui").rglob("*.py"))
        if path.name != "actions.py"
        for hit in _key_literals(path)
    ]
    assert found == []
