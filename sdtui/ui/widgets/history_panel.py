"""The history: every saved image, newest first, with a pixel thumbnail and its key facts.

The panel frames a `HistoryList` (the virtual list that holds the entries, paints only the
rows on screen, and says so when there are none) with a search field, the key bindings and the
messages the app listens to.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from sdtui.store import HistoryEntry
from sdtui.ui.widgets.history_list import THUMB_COLS, THUMB_ROWS, HistoryList, Thumbnail

__all__ = ["THUMB_COLS", "THUMB_ROWS", "HistoryList", "HistoryPanel"]


class HistoryPanel(Vertical):
    """Parents call `set_entries`/`add_entries`/`remove_path`/`set_thumbnails`; the panel posts
    messages for what the user asks for."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "reuse", "Load", id="history.reuse"),
        Binding("r", "rerun", "Re-run", id="history.rerun"),
        Binding("c", "copy_seed", "Seed", id="history.copy_seed"),
        Binding("y", "copy_path", "Path", id="history.copy_path"),
        Binding("d,delete", "delete", "Delete", id="history.delete"),
        Binding("slash", "search", "Search", id="history.search"),
    ]

    class EntryMessage(Message):
        def __init__(self, entry: HistoryEntry) -> None:
            super().__init__()
            self.entry = entry

    class Highlighted(EntryMessage):
        """The user moved to an entry: show it."""

    class Opened(EntryMessage):
        """Enter on an entry: full view."""

    class Reuse(EntryMessage):
        pass

    class Rerun(EntryMessage):
        pass

    class Delete(EntryMessage):
        pass

    class Copy(Message):
        def __init__(self, text: str, what: str) -> None:
            super().__init__()
            self.text = text
            self.what = what

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._list = HistoryList(id="history-list")

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ search prompts", id="history-search", compact=True)
        yield self._list

    @property
    def list_view(self) -> HistoryList:
        """The focusable list of entries."""
        return self._list

    def on_mount(self) -> None:
        self.query_one("#history-search").display = False
        self._update_title()

    def _update_title(self) -> None:
        if not self.children:
            return  # not composed yet: on_mount comes back here
        history = self._list
        total = history.total
        count = f"{len(history.rows)}/{total}" if history.filter_text else f"{total}"
        self.border_title = f"History · {count}"

    # -- what the app calls ---------------------------------------------------------------------

    def set_entries(self, entries: list[HistoryEntry]) -> None:
        """Show exactly these entries (newest first); the highlight stays on the same image."""
        self._list.set_entries(entries)
        self._update_title()

    def add_entries(self, entries: list[HistoryEntry], *, highlight: bool = True) -> None:
        """Merge new images in, newest first. With `highlight`, the first of them becomes the
        highlighted entry; otherwise the highlight stays where the user left it."""
        self._list.add_entries(entries, highlight=highlight)
        self._update_title()

    def remove_path(self, path: Path) -> None:
        self._list.remove_path(path)
        self._update_title()

    def set_thumbnails(self, thumbs: Mapping[Path, Thumbnail]) -> None:
        self._list.set_thumbnails(thumbs)

    def entries_missing_thumbnails(self) -> list[HistoryEntry]:
        return self._list.entries_missing_thumbnails()

    @property
    def entries(self) -> list[HistoryEntry]:
        """Every entry, newest first, whatever the search shows."""
        return self._list.entries

    @property
    def selected_entry(self) -> HistoryEntry | None:
        return self._list.highlighted_entry

    def select_path(self, path: Path) -> None:
        self._list.select_path(path)

    # -- events ---------------------------------------------------------------------------------

    @on(HistoryList.Highlighted, "#history-list")
    def _highlighted(self, event: HistoryList.Highlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(event.entry))

    @on(HistoryList.Selected, "#history-list")
    def _selected(self, event: HistoryList.Selected) -> None:
        event.stop()
        self.post_message(self.Opened(event.entry))

    @on(Input.Changed, "#history-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._list.set_filter(event.value)
        self._update_title()

    @on(Input.Submitted, "#history-search")
    def _search_done(self) -> None:
        self._list.focus()

    def action_search(self) -> None:
        search = self.query_one("#history-search", Input)
        search.display = True
        search.focus()

    def _post_for_selected(self, message_type: type[EntryMessage]) -> None:
        entry = self.selected_entry
        if entry is not None:
            self.post_message(message_type(entry))

    def action_reuse(self) -> None:
        self._post_for_selected(self.Reuse)

    def action_rerun(self) -> None:
        self._post_for_selected(self.Rerun)

    def action_delete(self) -> None:
        self._post_for_selected(self.Delete)

    def action_copy_seed(self) -> None:
        entry = self.selected_entry
        if entry is not None and entry.seed is not None:
            self.post_message(self.Copy(str(entry.seed), "seed"))

    def action_copy_path(self) -> None:
        entry = self.selected_entry
        if entry is not None:
            self.post_message(self.Copy(str(entry.path), "path"))
