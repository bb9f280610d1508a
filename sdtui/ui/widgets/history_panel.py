"""The history: every saved image, newest first, with a pixel thumbnail and its key facts.

The panel frames a `HistoryList` (the virtual list that holds the entries, paints only the rows
on screen, and says so when there are none) with a search field. It owns its work: reading the
output folder, making thumbnails, picking up images saved by others, deleting (after asking).
What the user wants done with an entry elsewhere goes up as messages.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import Input

from sdtui.render.thumbnails import make_thumbnail
from sdtui.store import HistoryEntry
from sdtui.text import one_line
from sdtui.ui.actions import bindings
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.choice import ChoiceDialog
from sdtui.ui.messages import HistoryReady, LeaveHistory, ReuseParameters, ShowEntry
from sdtui.ui.widgets.history_list import THUMB_COLS, THUMB_ROWS, HistoryList, Thumbnail

__all__ = ["THUMB_COLS", "THUMB_ROWS", "HistoryList", "HistoryPanel"]

RESCAN_SECONDS = 5.0  # how often the output folder is checked for images saved by others
RESCAN_FOLDERS = 2  # today's and yesterday's folders: where other instances save now
HISTORY_LIMIT = 100_000  # entries listed; the list draws only what is visible
FIRST_CHUNK = 200  # entries read before the history first shows
LATER_CHUNK = 5_000
THUMBNAIL_LIMIT = 200  # thumbnails made at start-up, newest first


class HistoryPanel(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = bindings("history")

    def __init__(self, context: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self._list = HistoryList(id="history-list")
        self.loaded = False

    def compose(self) -> ComposeResult:
        search = self.context.keys.name("history.search")
        yield Input(
            placeholder=f"{search} search prompts and seeds", id="history-search", compact=True
        )
        yield self._list

    @property
    def list_view(self) -> HistoryList:
        return self._list

    @property
    def entries(self) -> list[HistoryEntry]:
        """Every entry, newest first, whatever the search shows."""
        return self._list.entries

    @property
    def selected_entry(self) -> HistoryEntry | None:
        return self._list.highlighted_entry

    def on_mount(self) -> None:
        self.query_one("#history-search").display = False
        self._update_title()

    def start(self) -> None:
        """Read the folder, then keep an eye on it (called once the first frame is painted)."""
        self.reload()
        self.set_interval(RESCAN_SECONDS, self._rescan)

    def _update_title(self) -> None:
        history = self._list
        count = (
            f"{len(history.rows)}/{history.total}" if history.filter_text else f"{history.total}"
        )
        self.border_title = f"History · {count}"

    # -- loading --------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="history",
        exit_on_error=False,
        description="reading the history",
    )
    def reload(self) -> None:
        """Read the output folder newest first, handing entries over in chunks: the newest show at
        once, older ones join as they are read."""
        store = self.context.store
        chunk: list[HistoryEntry] = []
        first = True
        for entry in store.iter_entries(limit=HISTORY_LIMIT):
            chunk.append(entry)
            if len(chunk) >= (FIRST_CHUNK if first else LATER_CHUNK):
                self.app.call_from_thread(self._loaded, chunk, first, [])
                chunk, first = [], False
        self.app.call_from_thread(self._loaded, chunk, first, list(store.notes), last=True)

    def _loaded(
        self, entries: list[HistoryEntry], first: bool, notes: list[str], last: bool = False
    ) -> None:
        if first:
            self._list.set_entries(entries)
            self.make_thumbnails(entries[:THUMBNAIL_LIMIT])
        else:
            self._list.add_entries(entries, highlight=False)
        self._update_title()
        if last:
            self.loaded = True
            rows = self._list.rows[:1]
            self.post_message(HistoryReady(rows[0] if rows else None))
        if notes:
            shown = "; ".join(one_line(n, 120) for n in notes[:3])
            more = f" (and {len(notes) - 3} more)" if len(notes) > 3 else ""
            self.notify(f"Skipped unreadable files: {shown}{more}", severity="warning", timeout=8)

    def add_paths(self, paths: list[Path]) -> None:
        """Images this app just saved: read their facts and show them, highlighted."""
        if paths:
            self._add_paths(paths)

    @work(
        thread=True, group="history-add", exit_on_error=False, description="adding to the history"
    )
    def _add_paths(self, paths: list[Path]) -> None:
        entries = []
        for path in paths:
            with contextlib.suppress(Exception):
                entries.append(self.context.store.entry(path))
        self.app.call_from_thread(self._merge, entries, [], True)

    def _merge(self, entries: list[HistoryEntry], gone: list[Path], ours: bool) -> None:
        for path in gone:
            self._list.remove_path(path)
        if entries:
            self._list.add_entries(entries, highlight=ours)
            if ours:  # a rescan may have listed it first: highlight it all the same
                self._list.select_path(entries[0].path)
            # Decoding full images competes for the CPU: start once the new rows are painted.
            self.call_after_refresh(self.make_thumbnails, entries)
        self._update_title()

    def _rescan(self) -> None:
        self._rescan_folder(frozenset(e.path for e in self._list.entries))

    @work(
        thread=True, exclusive=True, group="rescan", exit_on_error=False, description="rescanning"
    )
    def _rescan_folder(self, known: frozenset[Path]) -> None:
        """Pick up images that another sdtui (or anything else) saved, and drop those deleted
        behind our back. New images land in the newest dated folders, so only those are listed,
        and only new files are opened."""
        store = self.context.store
        folders = set(store.recent_folders(RESCAN_FOLDERS)) | {store.root}
        on_disk = [path for _, path in store.paths(recent=RESCAN_FOLDERS)]
        present = set(on_disk)
        new = []
        for path in on_disk:
            if path not in known:
                with contextlib.suppress(Exception):
                    new.append(store.entry(path))
        gone = [path for path in known if path.parent in folders and path not in present]
        if new or gone:
            self.app.call_from_thread(self._merge, new, gone, False)

    @work(thread=True, group="thumbnails", exit_on_error=False, description="making thumbnails")
    def make_thumbnails(self, entries: list[HistoryEntry]) -> None:
        """A few pixels per image (THUMB_COLS x 2*THUMB_ROWS at most, area-averaged): the list
        turns them into cells only for the rows on screen."""
        batch: dict[Path, Thumbnail] = {}
        for entry in entries:
            thumb = make_thumbnail(entry.path, THUMB_COLS, THUMB_ROWS)
            if thumb is None:
                continue
            batch[entry.path] = thumb
            if len(batch) >= 8:
                self.app.call_from_thread(self._list.set_thumbnails, batch)
                batch = {}
        if batch:
            self.app.call_from_thread(self._list.set_thumbnails, batch)

    # -- the user's actions ---------------------------------------------------------------------

    @on(HistoryList.Highlighted, "#history-list")
    def _highlighted(self, event: HistoryList.Highlighted) -> None:
        event.stop()
        if self._list.has_focus:  # the list moves by itself when images arrive: keep the view
            self.post_message(ShowEntry(event.entry))

    @on(HistoryList.Selected, "#history-list")
    def _selected(self, event: HistoryList.Selected) -> None:
        event.stop()
        self.post_message(ShowEntry(event.entry, full=True))

    @on(Input.Changed, "#history-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._list.set_filter(event.value)
        self._update_title()

    @on(Input.Submitted, "#history-search")
    def _search_done(self, event: Input.Submitted) -> None:
        event.stop()
        self._back_to_list()

    def _back_to_list(self) -> None:
        """Focus the list and show what it highlights: the search moved the highlight while the
        list had no focus, so the preview still shows what was highlighted before."""
        self._list.focus()
        if (entry := self._list.highlighted_entry) is not None:
            self.post_message(ShowEntry(entry))

    def focus_list(self) -> None:
        self.add_class("-open")  # narrow terminals show the panel only while it is in use
        self._list.focus()

    def on_descendant_focus(self) -> None:
        self.add_class("-open")

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self._close_if_left)

    def _close_if_left(self) -> None:
        if not self.has_focus_within and self.app.screen is self.screen:
            self.remove_class("-open")

    def action_search(self) -> None:
        search = self.query_one("#history-search", Input)
        search.display = True
        search.focus()

    def action_leave(self) -> None:
        """Escape: clear the search first (back in the list); with none, back to the prompt."""
        search = self.query_one("#history-search", Input)
        if search.value or search.display:
            search.value = ""
            search.display = False
            self._back_to_list()
            return
        self.post_message(LeaveHistory())

    def action_reuse(self) -> None:
        if (entry := self._entry_with_parameters()) is not None:
            self.post_message(ReuseParameters(entry.infotext))

    def action_rerun(self) -> None:
        if (entry := self._entry_with_parameters()) is not None:
            self.post_message(ReuseParameters(entry.infotext, rerun=True))

    def _entry_with_parameters(self) -> HistoryEntry | None:
        entry = self.selected_entry
        if entry is not None and not entry.infotext:
            self.notify("This image carries no parameters", severity="warning", timeout=4)
            return None
        return entry

    def action_copy_seed(self) -> None:
        entry = self.selected_entry
        if entry is not None and entry.seed is not None:
            self._copy(str(entry.seed), "seed")

    def action_copy_path(self) -> None:
        if (entry := self.selected_entry) is not None:
            self._copy(str(entry.path), "path")

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {what}: {one_line(text, 80)}", timeout=3)

    def action_delete(self) -> None:
        entry = self.selected_entry
        if entry is None:
            return

        def answer(choice: str | None) -> None:
            if choice == "delete":
                self._delete(entry)

        question = f"Delete {entry.path.name}?\n{one_line(entry.title, 70)}"
        choices = [("cancel", "Keep", "default"), ("delete", "Delete", "error")]
        self.app.push_screen(ChoiceDialog(question, choices), answer)

    @work(thread=True, group="delete", exit_on_error=False, description="deleting")
    def _delete(self, entry: HistoryEntry) -> None:
        try:
            self.context.store.delete(entry.path)
        except FileNotFoundError:
            pass  # gone already: the row goes too
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(
                self.notify, f"Cannot delete: {one_line(str(exc))}", severity="error"
            )
            return
        self.app.call_from_thread(self._merge, [], [entry.path], False)
        self.app.call_from_thread(self.notify, f"Deleted {entry.path.name}", timeout=3)
