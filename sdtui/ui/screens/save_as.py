"""Ask for a folder to save images that could not be saved where they were meant to go."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class SaveAsScreen(ModalScreen[Path | None]):
    """Dismisses with the folder typed (expanded), or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save_as.cancel")]

    DEFAULT_CSS = """
    SaveAsScreen { align: center middle; }
    SaveAsScreen > Vertical {
        width: 70; height: auto; border: thick $accent; background: $surface; padding: 1 2;
    }
    SaveAsScreen Static { margin-bottom: 1; }
    """

    def __init__(self, count: int, suggestion: Path) -> None:
        super().__init__()
        self.count = count
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical():
            noun = "image" if self.count == 1 else f"{self.count} images"
            yield Static(
                f"Save {noun} into which folder? (enter saves, escape cancels)", markup=False
            )
            yield Input(str(self.suggestion), id="folder")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.dismiss(Path(text).expanduser())

    def action_cancel(self) -> None:
        self.dismiss(None)
