"""The history's list of entries: a virtual list on Textual's Line API.

A history can hold 100,000 images, so nothing here is proportional to the number of entries on
the UI thread except plain list operations (an insert, a filter pass). Every entry is a fixed row
of ``ROW_HEIGHT`` lines, so the row under any screen line is one division away:
``render_line`` maps the line to (row, sub-line) and returns a strip from a per-entry cache. An
entry's strips are built only when its row is painted, and adding an image at the top is a list
insert plus a scroll adjustment: the rows already on screen are found in the cache again.

The entries are kept newest first (by file modification time); inserts and removals find their
place by bisection on that order.
"""

from __future__ import annotations

import re
import textwrap
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
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
from sdtui.store import HistoryEntry
from sdtui.text import one_line
from sdtui.ui.actions import bindings

__all__ = ["ROW_HEIGHT", "THUMB_COLS", "THUMB_ROWS", "HistoryList"]

ROW_HEIGHT = THUMB_ROWS
"""Lines per entry: the thumbnail's height; beside it the title, the facts and the settings."""

CACHE_ENTRIES = 512
"""Entries whose strips are kept: many screens' worth, a few hundred KB at most."""

EMPTY_NOTE = "No images yet.\n\nEverything you generate is saved and listed here."
"""What an empty history says (the list draws it in place of rows)."""

_PLACEHOLDER = "░"
_ELLIPSIS = "…"

RowStrips = tuple[Strip, ...]
Thumbnail = CellImage | Image.Image  # cells, or a few pixels turned into cells when shown
_CacheKey = tuple[int, int, bool, int]  # width, highlight state, has thumbnail, day


def _age(entry: HistoryEntry) -> float:
    """Sort key putting the newest entry first (lists are sorted ascending by this)."""
    return -entry.mtime


def _key(path: Path) -> str:
    """Entries are keyed by their path's string: the store has already built it (by opening the
    file), and a string keeps its hash, where Python 3.11's ``Path.__hash__`` is recomputed
    (about 1 µs), which adds up to a tenth of a second over 100,000 entries."""
    return str(path)


def _index_of(rows: list[HistoryEntry], entry: HistoryEntry) -> int | None:
    """Index of the entry with ``entry.path`` in ``rows`` (sorted newest first), or None."""
    index = bisect_left(rows, -entry.mtime, key=_age)
    mtime = entry.mtime
    key = _key(entry.path)
    while index < len(rows) and rows[index].mtime == mtime:
        if _key(rows[index].path) == key:
            return index
        index += 1
    return None


def _fit(text: str, width: int) -> str:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    return set_cell_size(text, width - 1) + _ELLIPSIS


def facts_line(entry: HistoryEntry, today: date) -> str:
    """The second line of a row: seed, size, and the time (or the date when not today)."""
    created = entry.created
    when = created.strftime("%H:%M" if created.date() == today else "%b %d")
    seed = str(entry.seed) if entry.seed is not None else "no seed"
    return f"{seed} · {entry.width}×{entry.height} · {when}"


def settings_line(entry: HistoryEntry) -> str:
    """The third line: model, steps, sampler and CFG, as far as the row is wide."""
    parts = [
        one_line(entry.model, 60) if entry.model else "",
        f"{entry.steps} steps" if entry.steps else "",
        one_line(entry.sampler, 30) if entry.sampler else "",
        f"CFG {entry.cfg_scale:g}" if entry.cfg_scale is not None else "",
    ]
    return " · ".join(part for part in parts if part)


class _Matcher:
    """Whether an entry matches a search: case-insensitive in the prompt, or in the seed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._pattern = re.compile(re.escape(text), re.IGNORECASE)
        self._seed = text.isdigit()

    def __call__(self, entry: HistoryEntry) -> bool:
        if self._pattern.search(entry.prompt) is not None:
            return True
        return self._seed and entry.seed is not None and self.text in str(entry.seed)


class HistoryList(ScrollView, can_focus=True):
    """History entries, newest first, one fixed-height row each, with a keyboard highlight.

    Owns the entries, the thumbnails and the search filter; posts `Highlighted` when the
    highlighted entry changes and `Selected` on enter (or a second click on the same entry).
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
        """The highlight moved to another entry."""

        history_list: HistoryList
        entry: HistoryEntry

        @property
        def control(self) -> HistoryList:
            return self.history_list

    @dataclass
    class Selected(Message):
        """Enter (or a second click) on the highlighted entry."""

        history_list: HistoryList
        entry: HistoryEntry

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
        self._all: list[HistoryEntry] = []  # newest first
        self._by_path: dict[str, HistoryEntry] = {}
        self._filtered: list[HistoryEntry] | None = None  # rows while a search is active
        self._matcher: _Matcher | None = None
        self._thumbs: dict[str, Thumbnail] = {}
        self._highlighted: int | None = None
        self._clicked: str | None = None  # entry of the last click, for click-again-to-open
        self._reveal_pending = False  # make the highlight visible once the list has a size
        self._cache: OrderedDict[str, dict[_CacheKey, RowStrips]] = OrderedDict()
        self._today = date.today()
        self._note: tuple[int, str, tuple[Strip, ...]] | None = None  # (width, text, lines)
        self.rows_rendered = 0
        """How many times an entry's strips were built (for tests and benchmarks)."""

    # -- the model ------------------------------------------------------------------------------

    @property
    def rows(self) -> list[HistoryEntry]:
        """The entries shown, newest first: all of them, or those matching the search."""
        return self._all if self._filtered is None else self._filtered

    @property
    def entries(self) -> list[HistoryEntry]:
        """Every entry, newest first, whatever the search (a copy)."""
        return list(self._all)

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def filter_text(self) -> str:
        return self._matcher.text if self._matcher is not None else ""

    @property
    def highlighted(self) -> int | None:
        """Index in `rows` of the highlighted entry."""
        return self._highlighted

    @property
    def highlighted_entry(self) -> HistoryEntry | None:
        index = self._highlighted
        return self.rows[index] if index is not None else None

    @property
    def cached_entries(self) -> int:
        """How many entries have strips in the cache now."""
        return len(self._cache)

    def set_entries(self, entries: list[HistoryEntry]) -> None:
        """Replace every entry (kept newest first; equal times keep the given order)."""
        previous = self.highlighted_entry
        by_path = {_key(entry.path): entry for entry in entries}
        unique = entries
        if len(by_path) != len(entries):  # the same file twice: keep its first entry
            by_path = {}
            for entry in entries:
                by_path.setdefault(_key(entry.path), entry)
            unique = list(by_path.values())
        self._all = sorted(unique, key=_age)
        self._by_path = by_path
        self._thumbs = {p: c for p, c in self._thumbs.items() if p in by_path}
        self._cache.clear()
        self._filtered = self._apply_filter(self._all) if self._matcher is not None else None
        self._highlighted = None
        self._rehighlight(previous)

    def add_entries(self, entries: list[HistoryEntry], *, highlight: bool = True) -> None:
        """Insert entries not shown yet at their place (newest first).

        With `highlight`, the first of them becomes the highlighted entry. Otherwise the
        highlight stays on the same entry, and when the list is scrolled the view stays put:
        rows inserted above it shift the scroll offset by their height.
        """
        new: list[HistoryEntry] = []
        for entry in entries:
            key = _key(entry.path)
            if key not in self._by_path:
                self._by_path[key] = entry
                new.append(entry)
        if not new:
            return
        previous = self.highlighted_entry
        was_visible = self._highlighted is not None and self._row_visible(self._highlighted)
        highlighted = self._highlighted
        scroll_y = round(self.scroll_y)
        matcher = self._matcher
        # Reversed, so entries with equal times end up in the given order (each goes first).
        for entry in sorted(new, key=_age, reverse=True):
            index = bisect_left(self._all, -entry.mtime, key=_age)
            self._all.insert(index, entry)
            if self._filtered is not None:
                if matcher is None or not matcher(entry):
                    continue
                index = bisect_left(self._filtered, -entry.mtime, key=_age)
                self._filtered.insert(index, entry)
            if highlighted is not None and index <= highlighted:
                highlighted += 1
            if index * ROW_HEIGHT < scroll_y:
                scroll_y += ROW_HEIGHT
        if highlighted is None and self.rows:
            highlighted = 0
        self._highlighted = highlighted
        self._update_virtual_size()
        self._scroll_to_line(scroll_y)
        target = _index_of(self.rows, new[0]) if highlight else None
        if target is not None:
            self._highlighted = target
            self._reveal(target)
        elif was_visible and self._highlighted is not None:
            self._reveal(self._highlighted)
        self.refresh()
        self._announce(previous)

    def remove_path(self, path: Path) -> None:
        """Forget the entry for `path`; the next entry (or the last) takes its highlight."""
        key = _key(path)
        entry = self._by_path.pop(key, None)
        if entry is None:
            return
        previous = self.highlighted_entry
        self._thumbs.pop(key, None)
        self._cache.pop(key, None)
        index = _index_of(self._all, entry)
        if index is not None:
            del self._all[index]
        if self._filtered is not None:
            index = _index_of(self._filtered, entry)
            if index is not None:
                del self._filtered[index]
        if index is not None:
            highlighted = self._highlighted
            if highlighted is not None and index < highlighted:
                self._highlighted = highlighted - 1
            elif highlighted is not None and highlighted >= len(self.rows):
                self._highlighted = len(self.rows) - 1 if self.rows else None
            scroll_y = round(self.scroll_y)
            if index * ROW_HEIGHT < scroll_y:
                scroll_y -= ROW_HEIGHT
            self._update_virtual_size()
            self._scroll_to_line(scroll_y)
        self.refresh()
        self._announce(previous)

    def set_thumbnails(self, thumbs: Mapping[Path, Thumbnail]) -> None:
        """Show thumbnails for known entries (others are ignored); repaints only what changed."""
        changed = False
        for path, cells in thumbs.items():
            key = _key(path)
            if key in self._by_path:
                self._thumbs[key] = cells
                self._cache.pop(key, None)
                changed = True
        if changed:
            self.refresh()

    def entries_missing_thumbnails(self) -> list[HistoryEntry]:
        thumbs = self._thumbs
        return [entry for entry in self._all if _key(entry.path) not in thumbs]

    def set_filter(self, text: str) -> None:
        """Show only entries whose prompt (or seed) contains `text`; empty shows all."""
        text = text.strip()
        if text == self.filter_text:
            return
        previous = self.highlighted_entry
        old = self._matcher
        if not text:
            self._matcher = None
            self._filtered = None
        else:
            # Typing more only narrows: what matches the longer text matched the shorter one.
            narrowing = old is not None and old.text.lower() in text.lower()
            source = self._filtered if narrowing and self._filtered is not None else self._all
            self._matcher = _Matcher(text)
            self._filtered = self._apply_filter(source)
        self._highlighted = None
        self._rehighlight(previous)

    def _apply_filter(self, source: list[HistoryEntry]) -> list[HistoryEntry]:
        matcher = self._matcher
        return list(source) if matcher is None else [e for e in source if matcher(e)]

    def _rehighlight(self, previous: HistoryEntry | None) -> None:
        """After the rows changed wholesale: highlight `previous` again if shown, else the top."""
        rows = self.rows
        index = None
        current = self._by_path.get(_key(previous.path)) if previous is not None else None
        if current is not None:
            index = _index_of(rows, current)
        if index is None and rows:
            index = 0
            self._scroll_to_line(0)
        self._highlighted = index
        self._update_virtual_size()
        if index is not None:
            self._reveal(index)
        self.refresh()
        self._announce(previous)

    def select_path(self, path: Path) -> bool:
        """Highlight the entry for `path` if it is shown; False when it is not."""
        entry = self._by_path.get(_key(path))
        index = _index_of(self.rows, entry) if entry is not None else None
        if index is None:
            return False
        self._move_highlight(index)
        return True

    # -- highlight and scrolling ----------------------------------------------------------------

    def _announce(self, previous: HistoryEntry | None) -> None:
        """Post `Highlighted` when the highlighted entry is another one than `previous`."""
        current = self.highlighted_entry
        if current is not None and (previous is None or previous.path != current.path):
            self.post_message(self.Highlighted(self, current))

    def _move_highlight(self, index: int) -> None:
        rows = self.rows
        if not rows:
            return
        index = max(0, min(index, len(rows) - 1))
        previous = self.highlighted_entry
        old = self._highlighted
        self._highlighted = index
        if old is not None:
            self.refresh_lines(old * ROW_HEIGHT, ROW_HEIGHT)
        self.refresh_lines(index * ROW_HEIGHT, ROW_HEIGHT)
        self._reveal(index)
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
        if size != self.virtual_size:
            self.virtual_size = size

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
        entry = self.highlighted_entry
        if entry is not None:
            self.post_message(self.Selected(self, entry))

    def on_click(self, event: events.Click) -> None:
        """A click highlights an entry; a second click on the same entry opens it."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = (offset.y + round(self.scroll_y)) // ROW_HEIGHT
        rows = self.rows
        if not 0 <= index < len(rows):
            return
        entry = rows[index]
        if index == self._highlighted and self._clicked == _key(entry.path):
            self._clicked = None
            self.post_message(self.Selected(self, entry))
            return
        self._clicked = _key(entry.path)
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
        return super().render_lines(crop)

    @property
    def empty_note(self) -> str:
        """What the list says instead of rows: nothing saved yet, or nothing matches."""
        if self._all and not self.rows:
            return "No image matches this search."
        return "" if self._all else EMPTY_NOTE

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

    def _row_strips(self, index: int, entry: HistoryEntry, width: int) -> RowStrips:
        state = 0
        if index == self._highlighted:
            state = 2 if self.has_focus else 1
        path = _key(entry.path)
        key = (width, state, path in self._thumbs, self._today.toordinal())
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

    def _build_row(self, entry: HistoryEntry, width: int, highlighted: bool) -> RowStrips:
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
            (one_line(entry.title, 200), line_style),
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
