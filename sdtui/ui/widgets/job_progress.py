"""Progress of the running job: bar, step/steps, batch i of n, the queue behind it, ETA.

The line is built from parts by priority for the width it has, and built again when that width
changes: low-priority words go first, then the bar shrinks (down to none), then the ETA, the queue
count and the batch; only the first part is ever cut, with an ellipsis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from sdtui.api import ProgressUpdate
from sdtui.api.types import WAITING_TEXT

if TYPE_CHECKING:
    from sdtui.engine.generate import GenerationOutcome

SEPARATOR = " · "
#: Widths of the bar itself, widest first; the percentage beside it takes PERCENT_WIDTH.
BAR_WIDTHS = (20, 12, 6)
PERCENT_WIDTH = 5
#: Shorter ways to say the long things, tried before cutting.
SHORTER = {
    WAITING_TEXT: ("waiting: server busy", "waiting"),
    "waiting for the server…": ("waiting…",),
    "this server reports no progress": ("no progress reported",),
}

# Ranks: 0 is never dropped (only shortened or cut); higher ranks go first.
MAIN, DETAIL, QUEUE, ETA, WORDS = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Part:
    text: str
    rank: int
    style: str = ""


@dataclass(frozen=True)
class Layout:
    """What fits: the bar's width (0: no bar; `percent`: the percentage beside it) and the text."""

    bar: int
    percent: bool
    text: Text

    @property
    def plain(self) -> str:
        return self.text.plain


def _join(parts: list[Part]) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for n, part in enumerate(parts):
        if n:
            text.append(SEPARATOR)
        text.append(part.text, style=part.style)
    return text


def _shortened(parts: list[Part], level: int) -> list[Part]:
    """Each part in its `level`-th shorter form (or its shortest)."""
    out = []
    for part in parts:
        options = (part.text, *SHORTER.get(part.text, ()))
        out.append(Part(options[min(level, len(options) - 1)], part.rank, part.style))
    return out


def _levels(parts: list[Part]) -> range:
    return range(1, 1 + max(len(SHORTER.get(p.text, ())) for p in parts))


def fit(parts: list[Part], width: int, *, bar: bool = True) -> Layout:
    """Lay `parts` and a bar out in `width` cells, most important first (see the module doc)."""
    if not parts:
        parts = [Part("", MAIN)]
    bars: list[tuple[int, bool]] = [(w, True) for w in BAR_WIDTHS] if bar else []
    bars += [(0, True), (0, False)] if bar else [(0, False)]

    def used(bar_width: int, percent: bool) -> int:
        cells = bar_width + (PERCENT_WIDTH if percent else 0)
        return cells + 1 if cells else 0  # a space between the bar and the text

    def fits(kept: list[Part], bar_width: int, percent: bool) -> bool:
        return cell_len(_join(kept).plain) <= width - used(bar_width, percent)

    if fits(parts, *bars[0]):
        return Layout(*bars[0], _join(parts))
    without_words = [p for p in parts if p.rank < WORDS]
    for bar_width, percent in bars:
        if fits(without_words, bar_width, percent):
            return Layout(bar_width, percent, _join(without_words))
    for limit in (ETA, QUEUE, DETAIL):
        kept = [p for p in parts if p.rank < limit] or parts[:1]
        for candidate in (kept, *(_shortened(kept, n) for n in _levels(kept))):
            if fits(candidate, 0, False):
                return Layout(0, False, _join(candidate))
    text = _join(_shortened(kept, len(_levels(kept))))
    text.truncate(max(width, 0), overflow="ellipsis")
    return Layout(0, False, text)


def message_parts(message: str) -> list[Part]:
    """A status message as parts: its first phrase is the main one, the others details."""
    phrases = [p for p in message.split(SEPARATOR) if p] or [message]
    return [Part(phrases[0], MAIN), *(Part(p, DETAIL) for p in phrases[1:])]


def update_parts(update: ProgressUpdate) -> list[Part]:
    ranks = {"waiting": MAIN, "step": MAIN, "batch": DETAIL, "eta": ETA}
    parts = [Part(text, ranks.get(kind, WORDS)) for kind, text in update.describe_parts()]
    if not parts:
        parts = [Part("generating…", MAIN)]
    if update.interrupted:
        parts.append(Part("interrupting…", DETAIL))
    return parts


class JobProgress(Horizontal):
    DEFAULT_CSS = """
    JobProgress { height: 1; }
    JobProgress ProgressBar { width: auto; }
    JobProgress #progress-text {
        width: 1fr; height: 1; padding: 0; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._queued = 0
        self._parts: list[Part] = [Part("idle", MAIN)]
        self._layout: Layout | None = None

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=100, show_eta=False, show_percentage=True, id="progress-bar")
        yield Static("", id="progress-text")

    def on_mount(self) -> None:
        self.idle("ready")

    def on_resize(self, event: Resize) -> None:
        self._fit()

    # -- what it says --------------------------------------------------------------------------

    @property
    def status_text(self) -> str:
        """The whole line, every part, whatever the width."""
        return _join(self._all_parts()).plain

    @property
    def shown_text(self) -> str:
        """The text as shown at the present width (parts that do not fit left out)."""
        return str(self.query_one("#progress-text", Static).render())

    def _all_parts(self) -> list[Part]:
        parts = list(self._parts)
        if self._queued:
            parts.append(Part(f"{self._queued} queued", QUEUE, "bold"))
        return sorted(parts, key=lambda part: part.rank)  # most important on the left

    def _show(self, parts: list[Part]) -> None:
        self._parts = parts
        self._fit()

    def _fit(self) -> None:
        width = self.content_size.width
        parts = self._all_parts()
        layout = fit(parts, width) if width > 0 else Layout(BAR_WIDTHS[0], True, _join(parts))
        if layout == self._layout:
            return
        previous, self._layout = self._layout, layout
        if previous is None or (previous.bar, previous.percent) != (layout.bar, layout.percent):
            self._size_bar(layout)
        # A fixed 1-line box: a new text needs a repaint, not a layout of the whole screen.
        self.query_one("#progress-text", Static).update(layout.text, layout=False)

    def _size_bar(self, layout: Layout) -> None:
        """Inline sizes, so that they win over any stylesheet's."""
        progress_bar = self.query_one(ProgressBar)
        shown = layout.bar > 0 or layout.percent
        progress_bar.display = shown
        self.query_one("#progress-text", Static).styles.padding = (0, 0, 0, 1 if shown else 0)
        if not shown:
            return
        progress_bar.styles.width = layout.bar + (PERCENT_WIDTH if layout.percent else 0)
        for child in progress_bar.query_children():
            if not isinstance(child, Widget):
                continue
            if child.id == "bar":
                child.display = layout.bar > 0
                if layout.bar:
                    child.styles.width = layout.bar
            elif child.id == "percentage":
                child.display = layout.percent
                child.styles.width = PERCENT_WIDTH

    # -- the job's life ------------------------------------------------------------------------

    def set_queued(self, queued: int) -> None:
        if queued != self._queued:
            self._queued = queued
            self._fit()

    def idle(self, message: str) -> None:
        self.query_one(ProgressBar).update(total=100, progress=0)
        self._show(message_parts(message))

    def started(self) -> None:
        self.query_one(ProgressBar).update(total=100, progress=0)
        self._show(message_parts("waiting for the server…"))

    def update_progress(self, update: ProgressUpdate) -> None:
        bar = self.query_one(ProgressBar)
        if update.unknown:
            bar.update(total=None)
            self._show(message_parts("generating · this server reports no progress"))
            return
        if update.waiting:
            bar.update(total=100, progress=0)
            self._show(update_parts(update))
            return
        if not update.active:
            return
        bar.update(total=100, progress=round(update.progress * 100, 1))
        self._show(update_parts(update))

    def finished(self, message: str, *, complete: bool = True) -> None:
        """The job ended: `message` says how; the bar fills only when `complete`, and otherwise
        stays where the job left it."""
        bar = self.query_one(ProgressBar)
        if complete:
            bar.update(total=100, progress=100)
        elif bar.total is None:
            bar.update(total=100, progress=0)
        self._show(message_parts(message))

    def show_outcome(self, outcome: GenerationOutcome) -> None:
        """A finished job's own summary ("1 of 3 images saved · the server stopped early"), the bar
        full only if every image asked for came from a job that ran to its end."""
        self.finished(outcome.summary(), complete=outcome.complete)
