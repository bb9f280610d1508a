"""Ask for a folder to save images that could not be saved where they were meant to go."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from sdtui.ui.actions import KeyMap, bindings


class SaveAsDialog(ModalScreen[Path | None]):
    """Dismisses with the folder typed (expanded), or None on escape."""

    BINDINGS = bindings("dialog")

    DEFAULT_CSS = """
    SaveAsDialog { align: center middle; }
    SaveAsDialog > Vertical {
        width: 70; max-width: 100%; height: auto; border: thick $accent; background: $surface;
        padding: 1 2;
    }
    SaveAsDialog Static { margin-bottom: 1; }
    """

    def __init__(self, count: int, suggestion: Path, keys: KeyMap) -> None:
        super().__init__()
        self.count = count
        self.suggestion = suggestion
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical():
            noun = "image" if self.count == 1 else f"{self.count} images"
            cancel = self.keys.name("dialog.cancel")
            yield Static(
                f"Save {noun} into which folder? (enter saves, {cancel} cancels)", markup=False
            )
            yield Input(str(self.suggestion), id="folder")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.dismiss(Path(text).expanduser())

    def action_cancel(self) -> None:
        self.dismiss(None)
