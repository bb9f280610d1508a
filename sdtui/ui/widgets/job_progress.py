"""Progress of the running job: bar, step/steps, batch i of n, ETA, and the queue behind it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from sdtui.api import ProgressUpdate


class JobProgress(Horizontal):
    DEFAULT_CSS = """
    JobProgress { height: 1; }
    JobProgress ProgressBar { width: 27; }
    JobProgress #progress-bar Bar { width: 20; }
    JobProgress #progress-bar PercentageStatus { width: 6; }
    JobProgress #progress-text {
        width: 1fr; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._queued = 0
        self._status = "idle"

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=100, show_eta=False, show_percentage=True, id="progress-bar")
        yield Static("", id="progress-text")

    def on_mount(self) -> None:
        self.idle("ready")

    @property
    def status_text(self) -> str:
        return str(self.query_one("#progress-text", Static).render())

    def _text(self, main: str) -> None:
        text = Text(main, no_wrap=True, overflow="ellipsis")
        if self._queued:
            text.append(f" · {self._queued} queued", style="bold")
        self._status = main
        # A fixed 1-line box: a new text needs a repaint, not a layout of the whole screen.
        self.query_one("#progress-text", Static).update(text, layout=False)

    def set_queued(self, queued: int) -> None:
        self._queued = queued
        self._text(self._status)

    def idle(self, message: str) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=100, progress=0)
        self._text(message)

    def started(self) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=100, progress=0)
        self._text("waiting for the server…")

    def update_progress(self, update: ProgressUpdate) -> None:
        bar = self.query_one(ProgressBar)
        if update.unknown:
            bar.update(total=None)
            self._text("generating · this server reports no progress")
            return
        if not update.active:
            return
        bar.update(total=100, progress=round(update.progress * 100, 1))
        parts = update.describe()
        if update.interrupted:
            parts.append("interrupting…")
        self._text(" · ".join(parts) or "generating…")

    def finished(self, message: str, *, complete: bool = True) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=100, progress=100 if complete else bar.progress)
        self._text(message)
