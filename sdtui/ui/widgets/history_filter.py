"""The history's search box and its folder line.

`HistoryFilter` is the one-line search field at the top of the history: it reads its text with
`parse_query` (words, ``model:``, ``since:``, ``size:``, ``is:fav``, ``sort:oldest``...) a moment
after the last key (typing fast queries once) and posts `HistoryFilter.Query`. `FolderLine` shows
the output folder in what room there is (``~`` for the home folder, an ellipsis in the middle).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import events
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from sdtui.store.query_text import SEARCH_HELP, ParsedQuery, parse_query
from sdtui.text import one_line

__all__ = ["DEBOUNCE_SECONDS", "FolderLine", "HistoryFilter", "shorten_path"]

DEBOUNCE_SECONDS = 0.08
"""Quiet time after a key before the search runs: a word typed fast is one query."""


def shorten_path(path: Path, width: int, home: Path | None = None) -> str:
    """`path` in at most `width` cells: the home folder as ``~``, then an ellipsis in the middle
    (the start says where, the end says which)."""
    home = Path.home() if home is None else home
    text = str(path)
    with contextlib.suppress(ValueError):
        text = "~/" + str(path.relative_to(home)) if path != home else "~"
    text = one_line(text, 4096)
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    if width < 5:
        return set_cell_size(text, width - 1) + "…"
    tail = (width - 1) * 2 // 3
    head = width - 1 - tail
    return set_cell_size(text, head) + "…" + text[-tail:]


class HistoryFilter(Input):
    """The search field: posts `Query` with the parsed text once typing pauses."""

    @dataclass
    class Query(Message):
        """The search changed: `parsed` is what to ask the index for."""

        history_filter: HistoryFilter
        text: str
        parsed: ParsedQuery

        @property
        def control(self) -> HistoryFilter:
            return self.history_filter

    def __init__(self, key: str, *, id: str | None = None) -> None:
        super().__init__(placeholder=f"{key} search: {SEARCH_HELP}", id=id, compact=True)
        self.tooltip = (
            "Words search the prompts (as prefixes). Filters: model:NAME, since:YYYY-MM-DD, "
            "until:YYYY-MM-DD, size:WxH, is:fav (or *), is:interrupted, sort:oldest"
        )
        self._timer: Timer | None = None
        self._sent: str | None = None

    @property
    def parsed(self) -> ParsedQuery:
        return parse_query(self.value)

    def _on_input_changed(self, event: Input.Changed) -> None:
        if event.input is not self:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.flush)

    def flush(self) -> None:
        """Send the query for the text now (the pause is over, or enter was pressed)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.value
        if text.strip() == (self._sent or "").strip() and self._sent is not None:
            return
        self._sent = text
        self.post_message(self.Query(self, text, parse_query(text)))


class FolderLine(Static):
    """One line: the output folder, shortened to fit."""

    def __init__(self, folder: Path, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.folder = folder

    def on_resize(self, event: events.Resize) -> None:
        self._show(event.size.width)

    def on_mount(self) -> None:
        self._show(self.size.width)

    def _show(self, width: int) -> None:
        if width > 0:
            self.update(Text(shorten_path(self.folder, width), no_wrap=True))
