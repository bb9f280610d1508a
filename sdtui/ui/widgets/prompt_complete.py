"""The completion list the prompt editor opens at its cursor: the server's LoRAs and embeddings.

It never takes the focus: the editor keeps it, and hands this list the keys of the "complete"
scope (next, previous, accept, close) only while the list is shown, so typing goes on filtering
and a closed list eats nothing. It floats over the screen (`overlay: screen`) at the cursor,
below it, or above it where the screen ends first, and kept inside the screen at the right edge.

textual-autocomplete (4.0) was weighed for this and left: it drives an `Input` (its `value` and
`cursor_position`, `Input.Changed`), not a TextArea's two-dimensional document and selection.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Offset, Region, Size
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from sdtui.engine.prompt_edit import Candidate
from sdtui.ui.actions import KeyMap, in_scope

MAX_ROWS = 8  # suggestions shown at once (the list scrolls beyond)
MAX_WIDTH = 60


def complete_keys(keys: KeyMap) -> dict[str, str]:
    """Key → action of the "complete" scope, with the user's keymap applied."""
    return {
        key: spec.action
        for spec in in_scope("complete")
        for key in keys.keys(spec.id).split(",")
        if key
    }


class PromptComplete(OptionList):
    DEFAULT_CSS = """
    PromptComplete {
        overlay: screen;
        display: none;
        border: round $accent;
        background: $surface;
        padding: 0;
        scrollbar-size-vertical: 1;
    }
    PromptComplete.-shown {
        display: block;
    }
    """

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.candidates: list[Candidate] = []

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def show(self, candidates: list[Candidate], cursor: Offset, screen: Size) -> None:
        """Offer `candidates` (best first) beside the terminal cell `cursor`."""
        self.candidates = candidates
        labels = [candidate.label for candidate in candidates]
        self.set_options([Option(Text(label)) for label in labels])  # names are not markup
        self.highlighted = 0
        width = min(max(len(label) for label in labels) + 4, MAX_WIDTH, screen.width)
        height = min(len(labels), MAX_ROWS) + 2  # the border
        self.styles.width = width
        self.styles.height = height
        self.absolute_offset = place(cursor, Size(width, height), screen)
        self.add_class("-shown")
        self.scroll_home(animate=False)

    def hide(self) -> None:
        self.remove_class("-shown")
        self.candidates = []

    @property
    def current(self) -> Candidate | None:
        index = self.highlighted
        if index is None or not 0 <= index < len(self.candidates):
            return None
        return self.candidates[index]

    def action_next(self) -> None:
        self.action_cursor_down()

    def action_previous(self) -> None:
        self.action_cursor_up()


def place(cursor: Offset, size: Size, screen: Size) -> Offset:
    """Where the list goes: just below the cursor's cell, its text under the cursor; above the
    cursor when there is no room below; always inside the screen."""
    x = cursor.x - 1  # the border's left edge, so the names start under the cursor
    y = cursor.y + 1
    if y + size.height > screen.height and cursor.y - size.height >= 0:
        y = cursor.y - size.height
    region = Region(x, y, size.width, size.height).translate_inside(
        Region(0, 0, screen.width, screen.height)
    )
    return region.offset
