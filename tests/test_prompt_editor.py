"""The prompt box shows exactly the words it holds: after load_text, resizes, hiding and editing.

What is on screen is read from `App.export_screenshot()` (the SVG Textual's snapshot tests use),
cut to the editor's text area: the rows, stripped and joined with spaces, must be the prompt's
words, and each row must be the greedy wrap at the editor's width (no row longer than the
width, none that could have taken the next word).
"""

from __future__ import annotations

import html
import json
import re
from itertools import pairwise
from pathlib import Path

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Static, TextArea

from sdtui.demo import DemoServer
from sdtui.ui.widgets.prompt_editor import PromptEditor

EDITOR: type[TextArea] = PromptEditor

LIGHTHOUSE = "a lighthouse on a cliff at dusk, oil painting, dramatic clouds, (masterpiece:1.2)"
#: Seven lines at both widths the form has (a text area 40 and 34 cells wide), wrapped differently.
LONG = (
    "a lighthouse on a cliff at dusk, oil painting, dramatic clouds, (masterpiece:1.2), "
    "<lora:add_detail:0.8>, highly detailed, volumetric light, crashing waves, "
    "(storm:0.9), seagulls, [rain], by the sea"
)
#: The user's resizes: started at 100 columns, then 140, then 80, and back.
SIZES = ((140, 45), (80, 24), (140, 45), (100, 30))

_TEXT = re.compile(
    r'<text[^>]*? x="([\d.]+)"[^>]*? textLength="([\d.]+)"[^>]*?-line-(\d+)\)">(.*?)</text>',
    re.DOTALL,
)


def screen_rows(app: App[object]) -> list[str]:
    """The screen as text rows, from the screenshot (the SVG leaves out runs of plain spaces)."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, length, line, text in _TEXT.findall(app.export_screenshot()):
        text = html.unescape(text).rstrip("\n").replace("\xa0", " ")
        if not text:
            continue
        cell = float(length) / len(text)
        column = round(float(x) / cell)
        for offset, char in enumerate(text):
            if column + offset < width:
                rows[int(line)][column + offset] = char
    return ["".join(row) for row in rows]


def shown(app: App[object], editor: TextArea) -> list[str]:
    """The editor's text rows as the screen shows them (scrollbars and border cut off)."""
    region = editor.scrollable_content_region
    rows = screen_rows(app)[region.y : region.bottom]
    return [row[region.x : region.right].rstrip() for row in rows]


def assert_shows(app: App[object], editor: TextArea, text: str) -> None:
    """The editor shows `text`, wrapped at its width; all of it, or if it overflows the box
    (scrolled to the top), the rows from the start that fit."""
    rows = [row for row in shown(app, editor) if row.strip()]
    width = editor.wrap_width
    words = " ".join(row.strip() for row in rows)
    text_words = " ".join(text.split())
    if editor.virtual_size.height > editor.scrollable_content_region.height:
        assert editor.scroll_y == 0
        assert len(rows) == editor.scrollable_content_region.height, rows
        assert text_words.startswith(words + " "), rows
    else:
        assert words == text_words, rows
    for index, (row, below) in enumerate(pairwise(rows)):
        assert len(row) <= width, (row, width)
        # Textual wraps after whitespace: a word moves down unless it fits with its space.
        at_end = index + 2 == len(rows) and len(below.split()) == 1 and words == text_words
        chunk = len(below.split()[0]) + (0 if at_end else 1)
        assert len(row) + 1 + chunk > width, (row, below, width)
    assert editor.text == text


class FormLike(App[None]):
    """The form's layout: a fixed-width column (narrower below 120 columns) holding the prompt."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    CSS = """
    Screen { layout: horizontal; }
    #form { width: 42; height: 1fr; }
    Screen.-narrow #form { width: 36; }
    #form.-hidden { display: none; }
    #prompt { height: 1fr; min-height: 4; border: round $primary; padding: 0; }
    #negative { height: 5; border: round $primary; padding: 0; }
    #preview { width: 1fr; }
    """

    def __init__(
        self, text: str = "", *, before_mount: bool = False, editor: type[TextArea] | None = None
    ) -> None:
        super().__init__()
        self.text = text
        self.before_mount = before_mount
        self.editor_class = editor or EDITOR

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            editor = self.editor_class(id="prompt", soft_wrap=True, tab_behavior="focus")
            if self.before_mount:
                editor.load_text(self.text)
            yield editor
            yield self.editor_class(id="negative", soft_wrap=True, tab_behavior="focus")
        yield Static("preview", id="preview")

    def on_mount(self) -> None:
        if not self.before_mount:
            self.editor.load_text(self.text)
        self.editor.focus()

    @property
    def editor(self) -> TextArea:
        return self.query_one("#prompt", TextArea)


@pytest.mark.parametrize("before_mount", [False, True], ids=["on_mount", "before_mount"])
async def test_resizes_keep_the_shown_words(before_mount: bool) -> None:
    app = FormLike(LIGHTHOUSE, before_mount=before_mount)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert_shows(app, app.editor, LIGHTHOUSE)
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert_shows(app, app.editor, LIGHTHOUSE)


async def test_long_prompt_with_emphasis_and_lora_tag() -> None:
    app = FormLike(LONG)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert_shows(app, app.editor, LONG)
        for size in (*SIZES, (80, 24), (140, 45)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert_shows(app, app.editor, LONG)


async def test_a_scrollbar_appearing_and_going() -> None:
    """At 80 columns the prompt overflows its box: the scrollbar narrows the text by two cells."""
    text = LONG + ", warm window glow"  # 7 lines at 39 cells, 8 at 33 and at 31
    app = FormLike(text)
    async with app.run_test(size=(140, 14)) as pilot:
        await pilot.pause()
        assert not app.editor.show_vertical_scrollbar
        assert_shows(app, app.editor, text)
        for size in ((80, 14), (140, 14), (80, 14)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert app.editor.show_vertical_scrollbar == (size[0] == 80)
            assert_shows(app, app.editor, text)


async def test_load_text_after_mount_then_resizes() -> None:
    """'Reuse' loads another prompt into the mounted box; then the terminal is resized."""
    app = FormLike(LIGHTHOUSE)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.editor.load_text(LONG)
        await pilot.pause()
        assert_shows(app, app.editor, LONG)
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert_shows(app, app.editor, LONG)
            app.editor.load_text(LIGHTHOUSE)
            await pilot.pause()
            assert_shows(app, app.editor, LIGHTHOUSE)
            app.editor.load_text(LONG)
            await pilot.pause()
            assert_shows(app, app.editor, LONG)


async def test_load_text_while_hidden() -> None:
    """Loaded while hidden (a resize happening meanwhile), then shown, then resized."""
    app = FormLike(LIGHTHOUSE)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        form = app.query_one("#form")
        form.add_class("-hidden")
        await pilot.pause()
        await pilot.resize_terminal(140, 45)
        app.editor.load_text(LONG)
        await pilot.pause()
        form.remove_class("-hidden")
        await pilot.pause()
        assert_shows(app, app.editor, LONG)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert_shows(app, app.editor, LONG)


async def test_container_width_changed_by_css() -> None:
    """The form's column narrows and widens by a class, the terminal keeping its size."""
    app = FormLike(LIGHTHOUSE)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        for _ in range(2):
            app.screen.set_class(True, "-narrow")
            await pilot.pause()
            assert app.editor.size.width == 34
            assert_shows(app, app.editor, LIGHTHOUSE)
            app.screen.set_class(False, "-narrow")
            await pilot.pause()
            assert app.editor.size.width == 40
            assert_shows(app, app.editor, LIGHTHOUSE)


async def test_editing_after_resize() -> None:
    app = FormLike(LIGHTHOUSE)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        editor = app.editor
        text = LIGHTHOUSE
        for size, typed, at_end in (
            ((80, 24), ", <lora:add_detail:0.8>", True),
            ((140, 45), "oil ", False),
        ):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert_shows(app, editor, text)
            editor.move_cursor(editor.document.end if at_end else (0, 0))
            await pilot.press(*typed)
            await pilot.pause()
            text = text + typed if at_end else typed + text
            assert_shows(app, editor, text)


def recording(base: type[TextArea]) -> type[TextArea]:
    """`base`, noting every painted frame whose words differ from `text` at that instant."""

    class Recording(base):  # type: ignore[misc,valid-type]
        wrong: list[tuple[list[str], str]] = []
        frames = 0

        def render_lines(self, crop: Region) -> list[Strip]:
            strips: list[Strip] = super().render_lines(crop)
            if self.id == "prompt" and crop.y == 0 and len(strips) == self.outer_size.height:
                Recording.frames += 1
                rows = [strip.text[1:-1].strip() for strip in strips[1:-1]]
                shown = " ".join(row for row in rows if row)
                if shown != " ".join(self.text.split()):
                    Recording.wrong.append((rows, self.text))
            return strips

    return Recording


async def test_every_frame_shows_what_text_holds() -> None:
    """Typing, a burst of keys, a paste, undo, load_text and resizes, each frame checked as it
    is painted: the box never shows other words than `text` holds at that moment."""
    recorder = recording(EDITOR)
    app = FormLike("a lighthouse", editor=recorder)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = app.editor
        editor.move_cursor(editor.document.end)
        await pilot.press(*" on a cliff")
        for character in " at dusk, oil painting":
            app.post_message(events.Key(character, character))  # all queued at once
        await pilot.pause()
        app.post_message(events.Paste(", dramatic clouds, (masterpiece:1.2)"))
        await pilot.pause()
        assert editor.text == LIGHTHOUSE
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await pilot.pause()
        await pilot.press("ctrl+z")
        editor.load_text(LONG)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("ctrl+z", "f7", *"new")
        await pilot.resize_terminal(140, 45)
        await pilot.pause()
        assert editor.text == "new"
    assert recorder.frames > 10  # type: ignore[attr-defined]
    assert recorder.wrong == []  # type: ignore[attr-defined]


class Generating(FormLike):
    """A priority key reading the prompt, as the app's generate does (ctrl+g)."""

    BINDINGS = [Binding("ctrl+g", "generate", priority=True)]

    def __init__(self) -> None:
        super().__init__("")
        self.read_after_pending: list[str] = []

    def action_generate(self) -> None:
        # Reading self.editor.text here gives "" in the test below. Keys the app has already forwarded to the editor wait in the editor's queue; a
        # callback posted there runs after them.
        self.editor.call_later(lambda: self.read_after_pending.append(self.editor.text))


async def test_a_priority_key_reads_the_prompt_after_the_keys_typed_before_it() -> None:
    """Typed fast, then ctrl+g: the app reads its keys ahead of the editor, so `text` read in a
    priority action can lack the last keys (an empty prompt sent while the box shows text).
    `text` itself is never behind what was drawn; reading it via the editor's queue is exact."""
    app = Generating()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for key in (*"cat", "ctrl+g"):
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause()
        assert app.editor.text == "cat"
        assert app.read_after_pending == ["cat"]
        assert_shows(app, app.editor, "cat")


async def test_restored_prompt_in_the_app_survives_resizes(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    """The user's path: the form restored from disk at 100 columns, then 140, then 80."""
    from tests.tui import make_app  # the whole app: imported here, the widget tests need less

    (tmp_path / "state.json").write_text(json.dumps({"prompt": LIGHTHOUSE}), encoding="utf-8")
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        prompt = app.query_one("#prompt", TextArea)
        assert_shows(app, prompt, LIGHTHOUSE)
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert_shows(app, prompt, LIGHTHOUSE)


def test_textual_internals_the_editor_relies_on() -> None:
    """PromptEditor reads WrappedDocument._width and calls
    TextArea._rewrap_and_refresh_virtual_size: if this fails after a Textual upgrade, see
    whether TextArea now repaints after re-wrapping on resize (then PromptEditor can go) or
    where these moved."""
    editor = TextArea("one two three", soft_wrap=True)
    editor.wrapped_document.wrap(7)
    assert editor.wrapped_document._width == 7
    assert callable(editor._rewrap_and_refresh_virtual_size)
