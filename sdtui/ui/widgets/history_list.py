"""The history's list of entries: a virtual list on Textual's Line API.

A history can hold 100,000 images, so nothing here is proportional to the number of entries on
the UI thread: the panel queries the index in a thread and hands over a ready list of light
`IndexRow`s with its path map (`set_rows`), and the list swaps them in. Every entry is a fixed
row of ``ROW_HEIGHT`` lines, so the row under any screen line is one division away:
``render_line`` maps the line to (row, sub-line) and returns a strip from a per-entry cache. An
entry's strips are built only when its row is painted, and adding an image at the top is a list
insert plus a scroll adjustment: the rows already on screen are found in the cache again.

Thumbnails are asked for (`ThumbnailsWanted`) only for the rows on screen and a page around
them, and kept in a bounded LRU: memory stays flat however long the history is.

The rows are kept in the query's order (newest or oldest first, by creation time); inserts and
removals find their place by bisection on that order.
"""

from __future__ import annotations

import textwrap
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar

from PIL import Image
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.filter import LineFilter
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sdtui.render import CellImage, color_mode, place_line, render_cells, with_pixel_filter
from sdtui.render.thumbnails import THUMB_COLS, THUMB_ROWS
from sdtui.store.index import IndexRow
from sdtui.store.release import release_later
from sdtui.text import one_line
from sdtui.ui.actions import bindings

__all__ = ["ROW_HEIGHT", "THUMB_COLS", "THUMB_ROWS", "HistoryList", "path_map"]

ROW_HEIGHT = THUMB_ROWS
"""Lines per entry: the thumbnail's height; beside it the title, the facts and the settings."""

CACHE_ENTRIES = 512
"""Entries whose strips are kept: many screens' worth, a few hundred KB at most."""

THUMB_ENTRIES = 600
"""Thumbnails kept in memory (a few hundred bytes each): several screens' worth at 200x60."""

THUMB_MARGIN_ROWS = 8
"""Rows above and below the view (at least; a page when more) whose thumbnails are made ahead
of scrolling to them."""

EMPTY_NOTE = "No images yet.\n\nEverything you generate is saved and listed here."
"""What an empty history says (the list draws it in place of rows)."""

FAVOURITE = "★"
INTERRUPTED = "⏹"
IMPORTED = "⇣"

_PLACEHOLDER = "░"
_ELLIPSIS = "…"

RowStrips = tuple[Strip, ...]
Thumbnail = CellImage | Image.Image  # cells, or a few pixels turned into cells when shown
_CacheKey = tuple[int, int, bool, int]  # width, highlight state, has thumbnail, day


def _key(path: Path) -> str:
    """Rows are keyed by their path's string: Python 3.11's ``Path.__hash__`` is recomputed
    on every call (about 1 µs), which adds up over 100,000 rows; a string keeps its hash."""
    return str(path)


def path_map(rows: Sequence[IndexRow]) -> dict[str, IndexRow]:
    """The map `set_rows` wants beside the rows: build it in the thread that queried them."""
    return {_key(row.path): row for row in rows}


def _newest_key(row: IndexRow) -> float:
    return -row.created


def _oldest_key(row: IndexRow) -> float:
    return row.created


def _fit(text: str, width: int) -> str:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    return set_cell_size(text, width - 1) + _ELLIPSIS


def title_line(row: IndexRow) -> str:
    """The first line of a row: marks (★ starred, ⏹ interrupted, ⇣ imported), then the
    prompt's first line."""
    marks = (
        (FAVOURITE if row.favourite else "")
        + (INTERRUPTED if row.interrupted else "")
        + (IMPORTED if row.imported else "")
    )
    title = one_line(row.title, 200)
    return f"{marks} {title}" if marks else title


def facts_line(row: IndexRow, today: date) -> str:
    """The second line of a row: seed, the time (or the date when not today), and size."""
    created = datetime.fromtimestamp(row.created)
    if created.date() == today:
        when = created.strftime("%H:%M")
    elif created.year == today.year:
        when = created.strftime("%b %d")
    else:
        when = created.strftime("%Y-%m-%d")
    seed = str(row.seed) if row.seed is not None else "no seed"
    size = f"{row.width}×{row.height}" if row.width and row.height else "?×?"
    return f"{seed} · {when} · {size}"  # the size is what a narrow row loses first


def settings_line(row: IndexRow) -> str:
    """The third line: interrupted, model, steps, sampler and CFG, as far as the row is wide;
    "imported" last for an image from an imported folder."""
    parts = [
        f"{INTERRUPTED} interrupted" if row.interrupted else "",
        one_line(row.model, 60) if row.model else "",
        f"{row.steps} steps" if row.steps else "",
        one_line(row.sampler, 30) if row.sampler else "",
        f"CFG {row.cfg_scale:g}" if row.cfg_scale is not None else "",
        "imported" if row.imported else "",
    ]
    return " · ".join(part for part in parts if part)


class HistoryList(ScrollView, can_focus=True):
    """History rows, newest (or oldest) first, one fixed-height row each, with a keyboard highlight.

    Shows the rows the panel queried, with their thumbnails; posts `Highlighted` when the
    highlighted row changes, `Selected` on enter (or a second click on the same row), and
    `ThumbnailsWanted` for rows that come into view without one.
    """

    DEFAULT_CSS = """
    HistoryList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .history-list--highlight {
            background: $block-hover-background;
        }
        &:focus > .history-list--highlight {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .history-list--dim {
            color: $text-muted;
            text-style: none;
        }
        & > .history-list--placeholder {
            color: $text-disabled;
            text-style: none;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "history-list--highlight",
        "history-list--dim",
        "history-list--placeholder",
    }

    BINDINGS: ClassVar[list[BindingType]] = bindings("list")

    @dataclass
    class Highlighted(Message):
        """The highlight moved to another row."""

        history_list: HistoryList
        row: IndexRow

        @property
        def control(self) -> HistoryList:
            return self.history_list

    @dataclass
    class Selected(Message):
        """Enter (or a second click) on the highlighted row."""

        history_list: HistoryList
        row: IndexRow

        @property
        def control(self) -> HistoryList:
            return self.history_list

    @dataclass
    class ThumbnailsWanted(Message):
        """Rows on screen (or about to be) with no thumbnail yet: make them, then
        `set_thumbnails`. Each row is asked for once until its thumbnail arrives."""

        history_list: HistoryList
        rows: list[IndexRow]

        @property
        def control(self) -> HistoryList:
            return self.history_list

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._rows: list[IndexRow] = []
        self._by_path: dict[str, IndexRow] = {}
        self._newest_first = True
        self._thumbs: OrderedDict[str, Thumbnail | None] = OrderedDict()  # LRU, bounded
        self._requested: set[str] = set()  # thumbnails asked for, not arrived yet
        self._highlighted: int | None = None
        self._empty_note = EMPTY_NOTE
        self._clicked: str | None = None  # entry of the last click, for click-again-to-open
        self._reveal_pending = False  # make the highlight visible once the list has a size
        self._cache: OrderedDict[str, dict[_CacheKey, RowStrips]] = OrderedDict()
        self._today = date.today()
        self._note: tuple[int, str, tuple[Strip, ...]] | None = None  # (width, text, lines)
        self.rows_rendered = 0
        """How many times an entry's strips were built (for tests and benchmarks)."""

    # -- the model ------------------------------------------------------------------------------

    @property
    def rows(self) -> list[IndexRow]:
        """The rows shown, in the query's order (not a copy: do not change it)."""
        return self._rows

    @property
    def newest_first(self) -> bool:
        return self._newest_first

    @property
    def highlighted(self) -> int | None:
        """Index in `rows` of the highlighted row."""
        return self._highlighted

    @property
    def highlighted_row(self) -> IndexRow | None:
        index = self._highlighted
        return self._rows[index] if index is not None else None

    @property
    def cached_entries(self) -> int:
        """How many rows have strips in the cache now."""
        return len(self._cache)

    @property
    def thumbnails_held(self) -> int:
        return len(self._thumbs)

    def row_for(self, path: Path) -> IndexRow | None:
        return self._by_path.get(_key(path))

    def _sort_key(self) -> Callable[[IndexRow], float]:
        return _newest_key if self._newest_first else _oldest_key

    def _index_of(self, row: IndexRow) -> int | None:
        """Index in `rows` of the row with `row.path` (bisection on the creation time)."""
        rows = self._rows
        key = self._sort_key()
        index = bisect_left(rows, key(row), key=key)
        created = row.created
        wanted = _key(row.path)
        while index < len(rows) and rows[index].created == created:
            if _key(rows[index].path) == wanted:
                return index
            index += 1
        return None

    def set_rows(
        self,
        rows: list[IndexRow],
        by_path: dict[str, IndexRow] | None = None,
        *,
        newest_first: bool = True,
        highlight: Path | None = None,
        empty_note: str | None = None,
    ) -> None:
        """Show `rows` (sorted as `newest_first` says) in place of the rows shown.

        `by_path` is `path_map(rows)`, made where the rows were queried (a thread) so that the
        swap costs the UI thread nothing proportional to the rows. The highlight stays on the
        same image when it is still listed (else `highlight`, else the top), and the view stays
        on the rows it showed.
        """
        previous = self.highlighted_row
        top = self._top_row()
        old_rows, old_by_path = self._rows, self._by_path
        self._rows = rows
        self._by_path = path_map(rows) if by_path is None else by_path
        self._newest_first = newest_first
        self._requested.clear()
        if empty_note is not None:
            self._empty_note = empty_note
        self._cache.clear()
        index = None
        for wanted in (highlight, previous.path if previous is not None else None):
            row = self._by_path.get(_key(wanted)) if wanted is not None else None
            if row is not None:
                index = self._index_of(row)
                if index is not None:
                    break
        self._update_virtual_size()
        anchor = self._by_path.get(_key(top.path)) if top is not None else None
        anchored = self._index_of(anchor) if anchor is not None else None
        self._scroll_to_line(anchored * ROW_HEIGHT if anchored is not None else 0)
        if index is None and rows:
            index = anchored if anchored is not None else 0
        self._highlighted = index
        if index is not None and (highlight is not None or not self._row_visible(index)):
            self._reveal(index)
        self.refresh()
        self._announce(previous)
        # The rows shown until now: freeing 100,000 of them here would hold the UI for ~70 ms.
        del previous, top
        release_later(old_by_path, old_rows)

    def add_rows(self, rows: Sequence[IndexRow], *, highlight: bool = True) -> None:
        """Insert rows not shown yet at their place (the caller knows they match the query).

        With `highlight`, the first of them becomes the highlighted row. Otherwise the highlight
        stays on the same row, and when the list is scrolled the view stays put: rows inserted
        above it shift the scroll offset by their height.
        """
        new = [row for row in rows if _key(row.path) not in self._by_path]
        if not new:
            if highlight and rows:
                self.select_path(rows[0].path)
            return
        previous = self.highlighted_row
        was_visible = self._highlighted is not None and self._row_visible(self._highlighted)
        highlighted = self._highlighted
        scroll_y = round(self.scroll_y)
        key = self._sort_key()
        for row in new:
            self._by_path[_key(row.path)] = row
        # Reversed, so rows with equal times end up in the given order (each goes first).
        for row in sorted(new, key=key, reverse=True):
            index = bisect_left(self._rows, key(row), key=key)
            self._rows.insert(index, row)
            if highlighted is not None and index <= highlighted:
                highlighted += 1
            if index * ROW_HEIGHT < scroll_y:
                scroll_y += ROW_HEIGHT
        if highlighted is None and self._rows:
            highlighted = 0
        self._highlighted = highlighted
        self._update_virtual_size()
        self._scroll_to_line(scroll_y)
        target = self._index_of(new[0]) if highlight else None
        if target is not None:
            self._highlighted = target
            self._reveal(target)
        elif was_visible and self._highlighted is not None:
            self._reveal(self._highlighted)
        self.refresh()
        self._announce(previous)

    def replace_row(self, row: IndexRow) -> bool:
        """The same image with new facts (a star): repaint its row; False when not shown."""
        old = self._by_path.get(_key(row.path))
        index = self._index_of(old) if old is not None else None
        if index is None or old is None or old.created != row.created:
            return False
        self._rows[index] = row
        self._by_path[_key(row.path)] = row
        self._cache.pop(_key(row.path), None)
        self.refresh_lines(index * ROW_HEIGHT, ROW_HEIGHT)
        return True

    def remove_path(self, path: Path) -> None:
        """Forget the row for `path`; the next row (or the last) takes its highlight."""
        key = _key(path)
        row = self._by_path.get(key)
        index = self._index_of(row) if row is not None else None
        if index is None:
            return
        previous = self.highlighted_row
        del self._by_path[key]
        del self._rows[index]
        self._thumbs.pop(key, None)
        self._cache.pop(key, None)
        highlighted = self._highlighted
        if highlighted is not None and index < highlighted:
            self._highlighted = highlighted - 1
        elif highlighted is not None and highlighted >= len(self._rows):
            self._highlighted = len(self._rows) - 1 if self._rows else None
        scroll_y = round(self.scroll_y)
        if index * ROW_HEIGHT < scroll_y:
            scroll_y -= ROW_HEIGHT
        self._update_virtual_size()
        self._scroll_to_line(scroll_y)
        self.refresh()
        self._announce(previous)

    def set_thumbnails(self, thumbs: Mapping[Path, Thumbnail | None]) -> None:
        """Thumbnails for shown rows (None: the file has none); repaints only what changed."""
        held = self._thumbs
        top = round(self.scroll_y) // ROW_HEIGHT
        bottom = (round(self.scroll_y) + self._view_height()) // ROW_HEIGHT
        shown: list[int] = []
        for path, cells in thumbs.items():
            key = _key(path)
            self._requested.discard(key)
            row = self._by_path.get(key)
            if row is not None:
                held[key] = cells
                held.move_to_end(key)
                self._cache.pop(key, None)
                index = self._index_of(row)
                if index is not None and top <= index <= bottom:
                    shown.append(index)
        while len(held) > THUMB_ENTRIES:
            held.popitem(last=False)
        # Rows made ahead of the view are painted when scrolled to: no repaint for them now.
        if shown:
            first, last = min(shown), max(shown)
            self.refresh_lines(first * ROW_HEIGHT, (last - first + 1) * ROW_HEIGHT)

    def forget_requests(self, paths: Iterable[Path]) -> None:
        """Thumbnails asked for that will not come (scrolled past): ask again when in view."""
        for path in paths:
            self._requested.discard(_key(path))

    def _want_thumbnails(self) -> None:
        """Ask for the thumbnails of the rows on screen and a few around them (once each)."""
        height = self._view_height()
        if height <= 0 or not self._rows:
            return
        first = round(self.scroll_y) // ROW_HEIGHT
        last = (round(self.scroll_y) + height) // ROW_HEIGHT
        margin = max(THUMB_MARGIN_ROWS, last - first + 1)  # a page ahead: ready when paged to
        held, requested = self._thumbs, self._requested
        wanted: list[IndexRow] = []
        # On screen first (top down), then the rows just below and just above.
        spans = (range(first, last + 1), range(last + 1, last + 1 + margin))
        for span in (*spans, range(first - 1, first - 1 - margin, -1)):
            for index in span:
                if 0 <= index < len(self._rows):
                    row = self._rows[index]
                    key = _key(row.path)
                    if key in held:
                        held.move_to_end(key)
                    elif key not in requested:
                        requested.add(key)
                        wanted.append(row)
        if wanted:
            # Posted from a callback, not from here: a message made while the screen paints
            # would name the screen as its sender and stop bubbling there.
            self.call_later(self._ask_thumbnails, wanted)

    def _ask_thumbnails(self, rows: list[IndexRow]) -> None:
        self.post_message(self.ThumbnailsWanted(self, rows))

    def select_path(self, path: Path) -> bool:
        """Highlight the row for `path` if it is shown; False when it is not."""
        row = self._by_path.get(_key(path))
        index = self._index_of(row) if row is not None else None
        if index is None:
            return False
        self._move_highlight(index)
        return True

    def _top_row(self) -> IndexRow | None:
        index = round(self.scroll_y) // ROW_HEIGHT
        return self._rows[index] if 0 <= index < len(self._rows) else None

    # -- highlight and scrolling ----------------------------------------------------------------

    def _announce(self, previous: IndexRow | None) -> None:
        """Post `Highlighted` when the highlighted row is another one than `previous`."""
        current = self.highlighted_row
        if current is not None and (previous is None or previous.path != current.path):
            self.post_message(self.Highlighted(self, current))

    def _move_highlight(self, index: int) -> None:
        rows = self.rows
        if not rows:
            return
        index = max(0, min(index, len(rows) - 1))
        previous = self.highlighted_row
        old = self._highlighted
        self._highlighted = index
        scroll_y = round(self.scroll_y)
        self._reveal(index)
        if round(self.scroll_y) == scroll_y:  # a scroll repaints every line anyway
            if old is not None:
                self.refresh_lines(old * ROW_HEIGHT, ROW_HEIGHT)
            self.refresh_lines(index * ROW_HEIGHT, ROW_HEIGHT)
        self._announce(previous)

    def _view_height(self) -> int:
        return self.scrollable_content_region.height

    def _row_visible(self, index: int) -> bool:
        top = index * ROW_HEIGHT
        scroll_y = round(self.scroll_y)
        return scroll_y <= top and top + ROW_HEIGHT <= scroll_y + self._view_height()

    def _scroll_to_line(self, y: int) -> None:
        if round(self.scroll_y) != y:
            self.scroll_to(y=y, animate=False, force=True)

    def _reveal(self, index: int) -> None:
        """Scroll the least needed to show row `index` whole (later, if not laid out yet)."""
        height = self._view_height()
        if height <= 0 or not self.is_mounted:
            self._reveal_pending = True
            return
        self._reveal_pending = False
        top = index * ROW_HEIGHT
        scroll_y = round(self.scroll_y)
        if top < scroll_y or height < ROW_HEIGHT:
            self._scroll_to_line(top)
        elif top + ROW_HEIGHT > scroll_y + height:
            self._scroll_to_line(top + ROW_HEIGHT - height)

    def _update_virtual_size(self) -> None:
        size = Size(self.scrollable_content_region.width, len(self.rows) * ROW_HEIGHT)
        old = self.virtual_size
        if size == old:
            return
        height = self.scrollable_content_region.height
        if size.width != old.width or (size.height > height) != (old.height > height):
            self.virtual_size = size  # the scrollbar comes or goes: the screen's layout changes
            return
        # Only the length changed (a search, new rows): setting `virtual_size` would lay out
        # the whole screen again (~20 ms with the form's fields). What Textual does itself
        # when a size changes without a layout: the value, and the scrollbar's extent.
        self.set_reactive(HistoryList.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        if self._highlighted is not None and (
            self._reveal_pending or not self._row_visible(self._highlighted)
        ):
            self._reveal(self._highlighted)

    def _page_rows(self) -> int:
        return max(1, self._view_height() // ROW_HEIGHT)

    def _key_move(self, index: int) -> None:
        self._clicked = None
        self._move_highlight(index)

    def action_cursor_up(self) -> None:
        self._key_move((self._highlighted or 0) - 1)

    def action_cursor_down(self) -> None:
        current = self._highlighted
        self._key_move(0 if current is None else current + 1)

    def action_page_up(self) -> None:
        self._key_move((self._highlighted or 0) - self._page_rows())

    def action_page_down(self) -> None:
        self._key_move((self._highlighted or 0) + self._page_rows())

    def action_first(self) -> None:
        self._key_move(0)

    def action_last(self) -> None:
        self._key_move(len(self.rows) - 1)

    def action_select(self) -> None:
        row = self.highlighted_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    def on_click(self, event: events.Click) -> None:
        """A click highlights an entry; a second click on the same entry opens it."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = (offset.y + round(self.scroll_y)) // ROW_HEIGHT
        rows = self.rows
        if not 0 <= index < len(rows):
            return
        row = rows[index]
        if index == self._highlighted and self._clicked == _key(row.path):
            self._clicked = None
            self.post_message(self.Selected(self, row))
            return
        self._clicked = _key(row.path)
        self._move_highlight(index)

    # -- painting -------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        """Theme or CSS changed: cached strips carry the old colours."""
        super().notify_style_update()
        self._cache.clear()
        self._note = None
        self.refresh()

    def get_line_filters(self) -> Sequence[LineFilter]:
        """The app's filters; thumbnail pixels skip the ANSI-to-truecolor one (see PixelFilter)."""
        return with_pixel_filter(super().get_line_filters())

    def render_lines(self, crop: Region) -> list[Strip]:
        self._today = date.today()  # rows show the time for today's images, else the date
        lines = super().render_lines(crop)
        self._want_thumbnails()
        return lines

    @property
    def empty_note(self) -> str:
        """What the list says instead of rows: nothing saved yet, or nothing matches."""
        return self._empty_note

    def render_line(self, y: int) -> Strip:
        """Screen line `y`: a cache lookup for the row under it (built on first sight)."""
        width = self.scrollable_content_region.width
        index, sub = divmod(round(self.scroll_y) + y, ROW_HEIGHT)
        rows = self.rows
        if width <= 0 or not 0 <= index < len(rows):
            if not rows and width > 0:
                return self._note_line(y, width)
            return Strip.blank(max(0, width), self.visual_style.rich_style)
        return self._row_strips(index, rows[index], width)[sub]

    def _note_line(self, y: int, width: int) -> Strip:
        """Line `y` of the empty-list note, wrapped to `width` with a margin of one cell.

        The note is drawn by the list itself rather than by a widget swapped in for it: showing
        the list for the first image would otherwise be a layout change of the whole panel.
        """
        text = self.empty_note
        note = self._note
        if note is None or note[0] != width or note[1] != text:
            style = self.get_visual_style("history-list--dim").rich_style
            wrapped = [""]
            for paragraph in text.split("\n"):
                wrapped.extend(textwrap.wrap(paragraph, max(1, width - 2)) or [""])
            strips = tuple(
                Strip([Segment(_fit(" " + line, width), style)], width) for line in wrapped
            )
            note = self._note = (width, text, strips)
        lines = note[2]
        return lines[y] if y < len(lines) else Strip.blank(width, self.visual_style.rich_style)

    def _row_strips(self, index: int, entry: IndexRow, width: int) -> RowStrips:
        state = 0
        if index == self._highlighted:
            state = 2 if self.has_focus else 1
        path = _key(entry.path)
        key = (width, state, self._thumbs.get(path) is not None, self._today.toordinal())
        cache = self._cache
        per_entry = cache.get(path)
        if per_entry is None:
            per_entry = cache[path] = {}
            while len(cache) > CACHE_ENTRIES:
                cache.popitem(last=False)
        else:
            cache.move_to_end(path)
        strips = per_entry.get(key)
        if strips is None:
            strips = per_entry[key] = self._build_row(entry, width, state > 0)
        return strips

    def _build_row(self, entry: IndexRow, width: int, highlighted: bool) -> RowStrips:
        """The strips of one row: thumbnail (or placeholder), a space, title / facts / blank."""
        self.rows_rendered += 1
        if highlighted:
            line_style = self.get_visual_style("history-list--highlight").rich_style
            # The facts keep the highlight's background but not its emphasis.
            dim_style = self.get_visual_style(
                "history-list--highlight", "history-list--dim"
            ).rich_style + Style(bold=False, italic=False)
        else:
            line_style = self.visual_style.rich_style
            dim_style = self.get_visual_style("history-list--dim").rich_style
        placeholder_style = self.get_visual_style("history-list--placeholder").rich_style
        text_width = width - THUMB_COLS - 1
        texts = (
            (title_line(entry), line_style),
            (facts_line(entry, self._today), dim_style),
            (settings_line(entry), dim_style),
        )
        thumb = self._thumbs.get(_key(entry.path))
        if isinstance(thumb, Image.Image):
            # Thumbnails are kept as a few pixels each and turned into cells only for the rows
            # on screen: a CellImage per history entry would cost ~10 KB each, forever.
            colors = color_mode(self.app.console.color_system)
            thumb = render_cells(thumb, thumb.width, max(1, thumb.height // 2), colors=colors)
        strips: list[Strip] = []
        for sub, (text, style) in enumerate(texts):
            segments = list(self._thumb_line(thumb, sub, line_style, placeholder_style))
            segments.append(Segment(" ", line_style))
            segments.append(Segment(_fit(text, text_width), style))
            strip = Strip(segments, THUMB_COLS + 1 + max(0, text_width))
            strips.append(strip.crop(0, width) if text_width < 0 else strip)
        return tuple(strips)

    @staticmethod
    def _thumb_line(
        thumb: CellImage | None, sub: int, pad_style: Style, placeholder_style: Style
    ) -> Strip:
        if thumb is not None:
            return place_line(thumb, sub, THUMB_COLS, THUMB_ROWS, pad_style)
        fill = _PLACEHOLDER if sub == ROW_HEIGHT // 2 else " "
        return Strip([Segment(fill * THUMB_COLS, placeholder_style)], THUMB_COLS)
