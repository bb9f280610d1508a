"""The history: every image the index knows, newest first, searchable as you type.

The panel frames a `HistoryList` (the virtual list that holds light index rows, paints only the
rows on screen, and says so when there are none) with a search field, a progress line and the
output folder. It owns its work, all of it in thread workers: querying the index, scanning for
images saved or deleted by others, making thumbnails for the rows in view, fetching the full
record of the highlighted image, starring, and moving files to the trash (after asking) with an
undo. What the user wants done with an entry elsewhere goes up as messages.
"""

from __future__ import annotations

import gc
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from sdtui.store import HistoryEntry
from sdtui.store.index import HistoryQuery, IndexRow
from sdtui.store.query_text import ParsedQuery, parse_query
from sdtui.ui.actions import bindings
from sdtui.ui.context import AppContext
from sdtui.ui.messages import HistoryReady, LeaveHistory
from sdtui.ui.widgets.history_entry import EntryActions, entry_of
from sdtui.ui.widgets.history_filter import FolderLine, HistoryFilter
from sdtui.ui.widgets.history_list import (
    EMPTY_NOTE,
    THUMB_COLS,
    THUMB_ROWS,
    HistoryList,
    path_map,
)

__all__ = ["THUMB_COLS", "THUMB_ROWS", "HistoryList", "HistoryPanel", "entry_of"]

RESCAN_SECONDS = 5.0  # how often the index is brought up to date with the folders
FIRST_ROWS = 200  # rows shown at start-up before the whole history is read from the index
FREEZE_ROWS = 5000  # a list this long is taken out of the cyclic collector's scans
PROGRESS_SECONDS = 0.1  # the progress line is updated at most this often
NO_MATCH = "No image matches this search."


class HistoryPanel(EntryActions):
    BINDINGS: ClassVar[list[BindingType]] = bindings("history")

    DEFAULT_CSS = """
    HistoryPanel > #history-status { height: auto; max-height: 2; color: $text-warning; }
    HistoryPanel > #history-folder { height: 1; color: $text-muted; }
    """

    def __init__(self, context: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self._list = HistoryList(id="history-list")
        self._search = HistoryFilter(context.keys.name("history.search"), id="history-search")
        self._status = Static("", id="history-status", markup=False)
        self._parsed = parse_query("")
        self._status_text = ""
        self._generation = 0  # of the latest query asked for: older answers are dropped
        self.loaded = False
        self.total = 0
        """Images in the index (under the panel's folders), whatever the search."""
        self.rescans = 0

    def compose(self) -> ComposeResult:
        yield self._search
        yield self._status
        yield self._list
        yield FolderLine(self.context.settings.output_dir, id="history-folder")

    @property
    def list_view(self) -> HistoryList:
        return self._list

    @property
    def entries(self) -> list[IndexRow]:
        """The rows shown (all of them without a search), in order (a copy)."""
        return list(self._list.rows)

    @property
    def parsed(self) -> ParsedQuery:
        return self._parsed

    def on_mount(self) -> None:
        self._status.display = False
        self._update_title()
        self.query_one("#history-folder").tooltip = str(self.context.settings.output_dir)

    def start(self) -> None:
        """Show what the index has, bring it up to date, then keep it so (called once the first
        frame is painted)."""
        self.reload()
        self.set_interval(RESCAN_SECONDS, self._rescan)

    def _update_title(self) -> None:
        shown = len(self._list.rows)
        if self._parsed.filtered:
            self.border_title = f"History · {shown:,} of {self.total:,}"
        else:
            self.border_title = f"History · {self.total:,}"

    def _set_status(self, text: str) -> None:
        if text == self._status_text:
            return  # an update re-lays out the screen: only when the line changes
        self._status_text = text
        self._status.update(text)
        self._status.display = bool(text)

    # -- querying -------------------------------------------------------------------------------

    def _query_rows(
        self,
        generation: int,
        parsed: ParsedQuery,
        highlight: Path | None = None,
        first: int | None = None,
    ) -> None:
        """(In a thread.) Run the query and hand the rows over, with their path map built here;
        with `first`, only that many (the top of a long history, shown before the rest)."""
        index = self.context.index
        query = parsed.query if first is None else replace(parsed.query, limit=first)
        rows = index.query(query)
        partial = first is not None and len(rows) >= first
        total = index.count(HistoryQuery()) if parsed.filtered or partial else len(rows)
        by_path = path_map(rows)
        self.app.call_from_thread(
            self._show_rows, generation, parsed, rows, by_path, total, highlight
        )

    def _show_rows(
        self,
        generation: int,
        parsed: ParsedQuery,
        rows: list[IndexRow],
        by_path: dict[str, IndexRow],
        total: int,
        highlight: Path | None,
    ) -> None:
        if generation != self._generation:
            return  # the search changed since: its own answer is on the way
        self.total = total
        note = NO_MATCH if parsed.filtered else EMPTY_NOTE
        self._list.set_rows(
            rows,
            by_path,
            newest_first=parsed.query.newest_first,
            highlight=highlight,
            empty_note=note,
        )
        if len(rows) >= FREEZE_ROWS:
            # Out of the cyclic collector's way (they hold no cycles; refcounts still free
            # them): each full collection would walk all of them, ~100 ms on the UI thread.
            gc.freeze()
        self._update_title()

    def _ask(self, highlight: Path | None = None) -> None:
        """Query again (the search changed, or the index did)."""
        self._generation += 1
        self._query(self._generation, self._parsed, highlight)

    @work(
        thread=True,
        exclusive=True,
        group="history-query",
        exit_on_error=False,
        description="searching the history",
    )
    def _query(self, generation: int, parsed: ParsedQuery, highlight: Path | None) -> None:
        self._query_rows(generation, parsed, highlight)

    @work(
        thread=True,
        exclusive=True,
        group="history",
        exit_on_error=False,
        description="reading the history",
    )
    def reload(self) -> None:
        """Show what the index holds at once, then scan the folders (a progress line while many
        files are read) and show what changed."""
        self.app.call_from_thread(self._begin_reload)
        index = self.context.index
        generation, parsed = self._generation, self._parsed
        self._query_rows(generation, parsed, first=FIRST_ROWS)  # a screenful at once
        self._query_rows(generation, parsed)
        last = 0.0

        def progress(done: int, total: int | None) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_SECONDS:
                last = now
                self.app.call_from_thread(self._progress, done, total)

        result = index.scan(progress)
        if result.changed:
            self._query_rows(self._generation, self._parsed)
        record = None
        newest = index.query(HistoryQuery(limit=1))
        if newest:
            record = index.get(newest[0].path)
        self.app.call_from_thread(self._reloaded, entry_of(record) if record else None)

    def _begin_reload(self) -> None:
        self.loaded = False

    def _progress(self, done: int, total: int | None) -> None:
        if self.loaded:
            return
        of = f" / {total:,}" if total else ""
        self._set_status(f"Indexing {done:,}{of}…")

    def _reloaded(self, newest: HistoryEntry | None) -> None:
        self._set_status(self._problems())
        self.loaded = True
        self.post_message(HistoryReady(newest))

    def _rescan(self) -> None:
        if self.loaded:
            self._rescan_index(self._generation, self._parsed)

    @work(
        thread=True, exclusive=True, group="rescan", exit_on_error=False, description="rescanning"
    )
    def _rescan_index(self, generation: int, parsed: ParsedQuery) -> None:
        """Pick up images another sdtui (or anything else) saved or deleted. When nothing changed
        nothing comes back to the UI thread; new images alone are queried as such; otherwise
        the whole query runs again here."""
        self.rescans += 1
        index = self.context.index
        result = index.scan()
        if not result.changed:
            return
        rows = self._list.rows
        if (
            rows
            and result.added
            and not (result.removed or result.updated or parsed.filtered)
            and parsed.query.newest_first
        ):
            # Only new images (another sdtui generating): ask for those newer than the top row
            # rather than the whole list again, unless some were older than it.
            since = datetime.fromtimestamp(rows[0].created)
            newer = index.query(replace(parsed.query, since=since))
            new = [row for row in newer if self._list.row_for(row.path) is None]
            if len(new) == result.added:
                self.app.call_from_thread(self._added, generation, new, False)
                return
        self._query_rows(generation, parsed)

    def add_paths(self, paths: list[Path], interrupted: bool = False) -> None:
        """Images this app just saved: index them and show them, highlighted."""
        if paths:
            self._add_paths(paths, interrupted, self._generation, self._parsed)

    @work(
        thread=True, group="history-add", exit_on_error=False, description="adding to the history"
    )
    def _add_paths(
        self, paths: list[Path], interrupted: bool, generation: int, parsed: ParsedQuery
    ) -> None:
        rows = self.context.index.add(paths, interrupted=interrupted)
        if not rows:
            return
        if parsed.filtered:  # whether they match is the index's to say
            self._query_rows(generation, parsed, highlight=rows[0].path)
        else:
            self.app.call_from_thread(self._added, generation, rows)

    def restored(self, rows: list[IndexRow]) -> None:
        if rows and self._parsed.filtered:
            self._ask(highlight=rows[0].path)
        elif rows:
            self._added(self._generation, rows)

    def _added(self, generation: int, rows: list[IndexRow], highlight: bool = True) -> None:
        if generation != self._generation:
            return
        before = len(self._list.rows)
        self._list.add_rows(rows, highlight=highlight)
        self.total += len(self._list.rows) - before
        self._update_title()

    # -- the search -----------------------------------------------------------------------------

    @on(HistoryFilter.Query, "#history-search")
    def _search_changed(self, event: HistoryFilter.Query) -> None:
        event.stop()
        self._parsed = event.parsed
        if self.loaded or not self._status.display:
            self._set_status(self._problems())
        self._ask()

    def _problems(self) -> str:
        return " · ".join(self._parsed.problems)

    @on(HistoryFilter.Submitted, "#history-search")
    def _search_done(self, event: HistoryFilter.Submitted) -> None:
        event.stop()
        self._search.flush()
        self._back_to_list()

    def _back_to_list(self) -> None:
        """Focus the list and show what it highlights: the search moved the highlight while the
        list had no focus, so the preview still shows what was highlighted before."""
        self._list.focus()
        if (row := self._list.highlighted_row) is not None:
            self._fetch_record(row, full=False)

    def action_search(self) -> None:
        self._search.focus()

    def action_leave(self) -> None:
        """Escape: clear the search first (back in the list); with none, back to the prompt."""
        if self._search.value:
            self._search.value = ""
            self._search.flush()
            self._back_to_list()
            return
        if self._search.has_focus:
            self._back_to_list()
            return
        self.post_message(LeaveHistory())

    # -- focus ----------------------------------------------------------------------------------

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
