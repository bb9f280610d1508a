"""The queue panel's list of jobs: one line each, on Textual's Line API.

Progress arrives several times a second for every running job, so a job's line is repainted
alone (`refresh_job`): `render_line` finds the job under the line and returns its cached strip
unless what the line shows of it changed (state, progress, note, server, checkpoint, error).
A change of the list's shape (`set_jobs`: a job queued, started, ended, moved) swaps the list
and keeps the highlight on the same job.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sdtui.api import ProgressUpdate
from sdtui.engine import Job, JobState
from sdtui.ui.actions import bindings
from sdtui.ui.widgets.queue_row import Columns, fit, made_with, row_cells

#: The list's own keys (moving the highlight); the panel holds the keys that act on a job.
CURSOR_ACTIONS = frozenset({"cursor_up", "cursor_down", "page_up", "page_down", "first", "last"})

_PART_CLASS = {
    "dim": "queue-list--dim",
    "model": "queue-list--model",
    "server": "queue-list--dim",
}
_STATE_CLASS = {
    JobState.QUEUED: "queue-list--dim",
    JobState.RUNNING: "queue-list--running",
    JobState.DONE: "queue-list--done",
    JobState.INTERRUPTED: "queue-list--stopped",
    JobState.FAILED: "queue-list--failed",
    JobState.CANCELLED: "queue-list--dim",
}


@dataclass(frozen=True)
class _Shown:
    """What a job's line was drawn from (compared field by field; progress by identity)."""

    width: int
    cursor: int  # 0 no highlight, 1 highlighted, 2 highlighted with focus
    state: JobState
    progress: ProgressUpdate | None
    note: str
    server: str | None
    model: str | None
    failed: bool
    ended: bool
    fallback_model: str
    columns: Columns

    def same(self, other: _Shown) -> bool:
        return self.progress is other.progress and self == other


def _cursor_bindings() -> list[BindingType]:
    return [b for b in bindings("queue") if isinstance(b, Binding) and b.action in CURSOR_ACTIONS]


class QueueList(ScrollView, can_focus=True):
    """Jobs, one line each, with a keyboard highlight; posts `Highlighted` when it moves to
    another job (or to none)."""

    DEFAULT_CSS = """
    QueueList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .queue-list--highlight { background: $block-hover-background; }
        &:focus > .queue-list--highlight {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .queue-list--dim { color: $text-muted; }
        & > .queue-list--model { color: $secondary; }
        & > .queue-list--running { color: $accent; text-style: bold; }
        & > .queue-list--done { color: $success; }
        & > .queue-list--stopped { color: $warning; }
        & > .queue-list--failed { color: $error; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-list--highlight",
        "queue-list--dim",
        "queue-list--model",
        "queue-list--running",
        "queue-list--done",
        "queue-list--stopped",
        "queue-list--failed",
    }

    BINDINGS: ClassVar[list[BindingType]] = _cursor_bindings()

    @dataclass
    class Highlighted(Message):
        queue_list: QueueList
        job: Job | None

        @property
        def control(self) -> QueueList:
            return self.queue_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._jobs: list[Job] = []
        self._index: dict[int, int] = {}  # job id -> line
        self._cursor: int | None = None
        self._cache: dict[int, tuple[_Shown, Strip]] = {}
        self._columns: Columns | None = None
        self._made_with: dict[int, str] = {}  # ended jobs' checkpoints, read once
        self.server_models: dict[str, str | None] = {}
        """Each server's loaded checkpoint (by runner name): what a running job without a
        checkpoint of its own runs on."""
        self.empty_note = "No jobs yet."
        self.lines_rendered = 0
        """How many times a job's line was built (for tests and benchmarks)."""

    # -- the model ------------------------------------------------------------------------------

    @property
    def jobs(self) -> list[Job]:
        """The jobs shown, in order (not a copy: do not change it)."""
        return self._jobs

    @property
    def highlighted_job(self) -> Job | None:
        index = self._cursor
        return self._jobs[index] if index is not None else None

    def line_of(self, job: Job) -> int | None:
        return self._index.get(job.id)

    def set_jobs(self, jobs: list[Job]) -> None:
        """Show `jobs` in place of those shown; the highlight stays on the same job (else on
        the same line, or the last)."""
        previous = self.highlighted_job
        self._jobs = jobs
        self._index = {job.id: line for line, job in enumerate(jobs)}
        cursor: int | None = None
        if previous is not None:
            cursor = self._index.get(previous.id)
            if cursor is None and self._cursor is not None:
                cursor = min(self._cursor, len(jobs) - 1)
        if cursor is None and jobs:
            cursor = 0
        self._cursor = cursor if cursor is not None and cursor >= 0 else None
        self._cache = {job.id: shown for job in jobs if (shown := self._cache.get(job.id))}
        self._made_with = {job.id: made for job in jobs if (made := self._made_with.get(job.id))}
        self._columns = None
        self._update_virtual_size()
        if self._cursor is not None:
            self._reveal(self._cursor)
        self.refresh()
        self._announce(previous)

    def refresh_job(self, job: Job) -> None:
        """Repaint `job`'s line alone (its progress or note changed)."""
        line = self._index.get(job.id)
        if line is not None:
            self.refresh_line(line)

    def select(self, job: Job) -> bool:
        line = self._index.get(job.id)
        if line is None:
            return False
        self._move(line)
        return True

    # -- highlight and scrolling ----------------------------------------------------------------

    def _announce(self, previous: Job | None) -> None:
        current = self.highlighted_job
        if current is not previous:
            self.post_message(self.Highlighted(self, current))

    def _move(self, line: int) -> None:
        if not self._jobs:
            return
        line = max(0, min(line, len(self._jobs) - 1))
        previous, old = self.highlighted_job, self._cursor
        self._cursor = line
        scroll_y = round(self.scroll_y)
        self._reveal(line)
        if round(self.scroll_y) == scroll_y:
            if old is not None:
                self.refresh_line(old)
            self.refresh_line(line)
        self._announce(previous)

    def _view_height(self) -> int:
        return self.scrollable_content_region.height

    def _reveal(self, line: int) -> None:
        height = self._view_height()
        if height <= 0:
            return
        scroll_y = round(self.scroll_y)
        if line < scroll_y:
            self.scroll_to(y=line, animate=False, force=True)
        elif line >= scroll_y + height:
            self.scroll_to(y=line - height + 1, animate=False, force=True)

    def _update_virtual_size(self) -> None:
        size = Size(self.scrollable_content_region.width, len(self._jobs))
        if size != self.virtual_size:
            self.virtual_size = size

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._columns = None
        if self._cursor is not None:
            self._reveal(self._cursor)

    def action_cursor_up(self) -> None:
        self._move((self._cursor or 0) - 1)

    def action_cursor_down(self) -> None:
        self._move(0 if self._cursor is None else self._cursor + 1)

    def action_page_up(self) -> None:
        self._move((self._cursor or 0) - max(1, self._view_height() - 1))

    def action_page_down(self) -> None:
        self._move((self._cursor or 0) + max(1, self._view_height() - 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self._jobs) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and 0 <= offset.y + round(self.scroll_y) < len(self._jobs):
            self._move(offset.y + round(self.scroll_y))

    # -- painting -------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        """Theme or CSS changed: cached strips carry the old colours."""
        super().notify_style_update()
        self._cache.clear()
        self.refresh()

    def on_focus(self) -> None:
        if self._cursor is not None:
            self.refresh_line(self._cursor)

    def on_blur(self) -> None:
        self.on_focus()

    def _columns_for(self, width: int) -> Columns:
        columns = self._columns
        if columns is None:
            number = max((len(str(job.id)) for job in self._jobs), default=1) + 1
            server = max((len(job.server or "") for job in self._jobs), default=0)
            columns = self._columns = Columns.fitting(width, number, server)
        return columns

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = round(self.scroll_y) + y
        jobs = self._jobs
        base = self.visual_style.rich_style
        if width <= 0:
            return Strip.blank(0, base)
        if not 0 <= line < len(jobs):
            note = textwrap.wrap(self.empty_note, max(1, width - 2)) if not jobs else []
            if y < len(note):
                dim = self.get_visual_style("queue-list--dim").rich_style
                return Strip([Segment(fit(" " + note[y], width), dim)], width)
            return Strip.blank(width, base)
        job = jobs[line]
        columns = self._columns_for(width)
        cursor = 0 if line != self._cursor else 2 if self.has_focus else 1
        shown = _Shown(
            width, cursor, job.state, job.last_progress, job.note, job.server,
            job.request.model, job.error is not None, job.outcome is not None,
            self._fallback_model(job) if columns.model else "", columns,
        )  # fmt: skip
        cached = self._cache.get(job.id)
        if cached is not None and cached[0].same(shown):
            return cached[1]
        strip = self._build(job, columns, width, cursor, shown.fallback_model)
        self._cache[job.id] = (shown, strip)
        return strip

    def _fallback_model(self, job: Job) -> str:
        if job.outcome is None:
            return made_with(job, self.server_models)
        made = self._made_with.get(job.id)
        if made is None:
            made = self._made_with[job.id] = made_with(job, self.server_models)
        return made

    def _build(self, job: Job, columns: Columns, width: int, cursor: int, model: str) -> Strip:
        self.lines_rendered += 1
        cells = row_cells(job, columns, model)
        if cursor:
            style = self.get_visual_style("queue-list--highlight").rich_style
            segments = [Segment(text, style) for text, _ in cells]
        else:
            base = self.visual_style.rich_style
            styles: dict[str, Style] = {}
            segments = []
            for text, part in cells:
                name = (
                    _STATE_CLASS[job.state] if part in ("mark", "status") else _PART_CLASS.get(part)
                )
                if name is None:
                    segments.append(Segment(text, base))
                    continue
                if name not in styles:
                    styles[name] = self.get_visual_style(name).rich_style
                segments.append(Segment(text, styles[name]))
        return Strip(segments).adjust_cell_length(width, self.visual_style.rich_style)
