"""The history panel's actions on the highlighted image, and its thumbnails.

`EntryActions` is the part of `HistoryPanel` that fetches the highlighted image's full record
(its infotext, in a thread: never a file read on the UI thread), loads or re-runs it, copies its
seed, path or folder, stars it, opens PNG Info, and makes thumbnails for the rows in view.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace
from pathlib import Path

from textual import on, work
from textual.timer import Timer

from sdtui.store import HistoryEntry
from sdtui.store.index import IndexedImage, IndexRow
from sdtui.text import one_line
from sdtui.ui.messages import ReuseParameters, ShowEntry
from sdtui.ui.widgets.history_filter import shorten_path
from sdtui.ui.widgets.history_list import THUMB_COLS, THUMB_ROWS, HistoryList, Thumbnail
from sdtui.ui.widgets.history_trash import TrashActions

__all__ = ["EntryActions", "entry_of"]

MAX_READ = 64 * 1024 * 1024
"""Image files up to this size are read for the preview in the thread that fetches the record."""

SHOW_DELAY_SECONDS = 0.08
"""Highlights closer together than this (a held key) show only the last one in the preview."""

THUMB_BATCH_SECONDS = 0.1
"""Thumbnails made are handed to the list at most this often (each handover is a repaint)."""


def entry_of(record: IndexedImage) -> HistoryEntry:
    """The preview's view of an indexed image."""
    return HistoryEntry(
        path=record.path,
        mtime=record.mtime,
        width=record.width or 0,
        height=record.height or 0,
        infotext=record.infotext,
        prompt=record.prompt,
        negative_prompt=record.negative_prompt,
        seed=record.seed,
        steps=record.steps,
        sampler=record.sampler,
        cfg_scale=record.cfg_scale,
        model=record.model,
    )


class EntryActions(TrashActions):
    """Mixed into `HistoryPanel` (which composes the list)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._record: HistoryEntry | None = None  # the highlighted image's full record
        self._pending_thumbs: deque[IndexRow] = deque()
        self._thumbs_running = False
        self._show_timer: Timer | None = None
        self._shown_at = 0.0

    @property
    def selected_row(self) -> IndexRow | None:
        return self._list.highlighted_row

    def _is_highlighted(self, row: IndexRow) -> bool:
        """Whether `row`'s image is the one highlighted (rows are new objects after a query)."""
        current = self._list.highlighted_row
        return current is not None and current.path == row.path

    @property
    def selected_entry(self) -> HistoryEntry | None:
        """The highlighted image's full record, once fetched (None until then)."""
        row, record = self._list.highlighted_row, self._record
        if row is None or record is None or record.path != row.path:
            return None
        return record

    # -- the highlighted image ------------------------------------------------------------------

    @on(HistoryList.Highlighted, "#history-list")
    def _highlighted(self, event: HistoryList.Highlighted) -> None:
        event.stop()
        if self._list.has_focus:  # the list moves by itself when images arrive: keep the view
            self._show_soon(event.row)

    def _show_soon(self, row: IndexRow) -> None:
        """Show the highlighted image: at once after a pause, else once the keys stop coming
        (a held key scrolls the list without decoding an image per step)."""
        if self._show_timer is not None:
            self._show_timer.stop()
            self._show_timer = None
        now = time.monotonic()
        if now - self._shown_at >= SHOW_DELAY_SECONDS:
            self._shown_at = now
            self._fetch_record(row, full=False)
            return

        def show() -> None:
            self._show_timer = None
            self._shown_at = time.monotonic()
            if self._is_highlighted(row):
                self._fetch_record(row, full=False)

        self._shown_at = now
        self._show_timer = self.set_timer(SHOW_DELAY_SECONDS, show)

    @on(HistoryList.Selected, "#history-list")
    def _selected(self, event: HistoryList.Selected) -> None:
        event.stop()
        self._fetch_record(event.row, full=True)

    @work(
        thread=True,
        exclusive=True,
        group="history-record",
        exit_on_error=False,
        description="reading an image's parameters",
    )
    def _fetch_record(self, row: IndexRow, *, full: bool, then: str = "") -> None:
        """The full record (infotext and all) of one row, read in a thread."""
        record = self.context.index.get(row.path)
        entry = entry_of(record) if record is not None else None
        png = None
        if entry is not None and not then:  # to be shown: the preview need not read the file
            try:
                png = row.path.read_bytes() if row.path.stat().st_size <= MAX_READ else None
            except OSError:
                png = None  # the preview says what is wrong when it opens the file itself
        self.app.call_from_thread(self._fetched, row, entry, full, then, png)

    def _fetched(
        self,
        row: IndexRow,
        entry: HistoryEntry | None,
        full: bool,
        then: str,
        png: bytes | None = None,
    ) -> None:
        if entry is None:
            self.notify(f"{one_line(row.path.name, 60)} is no longer indexed", severity="warning")
            return
        self._record = entry
        if then:
            if not entry.infotext:
                self.notify("This image carries no parameters", severity="warning", timeout=4)
            else:
                self.post_message(ReuseParameters(entry.infotext, rerun=then == "rerun"))
        elif full or self._is_highlighted(row):
            self.post_message(ShowEntry(entry, full=full, png=png))

    def action_reuse(self) -> None:
        if (row := self.selected_row) is not None:
            self._fetch_record(row, full=False, then="reuse")

    def action_rerun(self) -> None:
        if (row := self.selected_row) is not None:
            self._fetch_record(row, full=False, then="rerun")

    def action_copy_seed(self) -> None:
        row = self.selected_row
        if row is not None and row.seed is not None:
            self._copy(str(row.seed), "seed")

    def action_copy_path(self) -> None:
        if (row := self.selected_row) is not None:
            self._copy(str(row.path), "path")

    def action_copy_folder(self) -> None:
        row = self.selected_row
        folder = row.path.parent if row is not None else self.context.settings.output_dir
        self._copy(str(folder), "folder", shorten_path(folder, 70))

    def _copy(self, text: str, what: str, shown: str | None = None) -> None:
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {what}: {shown or one_line(text, 80)}", timeout=3)

    def action_star(self) -> None:
        if (row := self.selected_row) is not None:
            self._star(row, not row.favourite)

    @work(thread=True, group="history-star", exit_on_error=False, description="starring")
    def _star(self, row: IndexRow, on: bool) -> None:
        self.context.index.set_favourite(row.path, on)
        self.app.call_from_thread(self._list.replace_row, replace(row, favourite=on))

    # -- thumbnails -----------------------------------------------------------------------------

    @on(HistoryList.ThumbnailsWanted, "#history-list")
    def _thumbnails_wanted(self, event: HistoryList.ThumbnailsWanted) -> None:
        """The rows in view now replace those asked for before (scrolled past: not made)."""
        event.stop()
        dropped = list(self._pending_thumbs)
        self._pending_thumbs = deque(event.rows)
        self._list.forget_requests(row.path for row in dropped)
        if not self._thumbs_running:
            self._thumbs_running = True
            self.make_thumbnails()

    @work(thread=True, group="thumbnails", exit_on_error=False, description="making thumbnails")
    def make_thumbnails(self) -> None:
        """A few pixels per image (THUMB_COLS x 2*THUMB_ROWS at most), from the disk cache or
        made and cached: the list turns them into cells only for the rows on screen."""
        cache = self.context.thumbs
        batch: dict[Path, Thumbnail | None] = {}
        since = time.monotonic()
        try:
            while True:
                try:
                    row = self._pending_thumbs.popleft()
                except IndexError:
                    break
                try:
                    st = row.path.stat()
                    thumb = cache.get(row.path, st.st_size, st.st_mtime, THUMB_COLS, THUMB_ROWS)
                except OSError:
                    thumb = None
                batch[row.path] = thumb
                # Each handover repaints the list: one per screenful from the disk cache,
                # more often only when thumbnails are slow to make.
                if time.monotonic() - since >= THUMB_BATCH_SECONDS:
                    self.app.call_from_thread(self._list.set_thumbnails, batch)
                    batch, since = {}, time.monotonic()
        finally:
            self.app.call_from_thread(self._thumbnails_done, batch)

    def _thumbnails_done(self, batch: dict[Path, Thumbnail | None]) -> None:
        self._list.set_thumbnails(batch)
        self._thumbs_running = False
        if self._pending_thumbs:  # asked for while the worker was finishing
            self._thumbs_running = True
            self.make_thumbnails()

    def png_info(self) -> None:
        """Open the PNG Info dialog; what it loads goes to the form."""
        from sdtui.ui.dialogs.png_info import PngInfoDialog

        def loaded(infotext: str | None) -> None:
            if infotext:
                self.post_message(ReuseParameters(infotext))

        row = self.selected_row
        start = str(row.path) if row is not None and self._list.has_focus else ""
        self.app.push_screen(PngInfoDialog(self.context.keys, start), loaded)
