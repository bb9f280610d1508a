"""Ask for one file by path (the init image for img2img, a mask...)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from sdtui.ui.actions import KeyMap, bindings


class AskPathDialog(ModalScreen[Path | None]):
    """Dismisses with the file typed (~ expanded) once it exists, or None on escape. A path that
    is not a file is said so in the dialog, keeping what was typed."""

    BINDINGS = bindings("dialog")

    DEFAULT_CSS = """
    AskPathDialog { align: center middle; }
    AskPathDialog > Vertical {
        width: 76; max-width: 100%; height: auto; border: thick $accent; background: $surface;
        padding: 1 2;
    }
    AskPathDialog #question { margin-bottom: 1; }
    AskPathDialog #problem { color: $error; height: auto; }
    """

    def __init__(self, question: str, keys: KeyMap, suggestion: str = "") -> None:
        super().__init__()
        self.question = question
        self.keys = keys
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical():
            cancel = self.keys.name("dialog.cancel")
            yield Static(
                f"{self.question} (enter opens, {cancel} cancels)", id="question", markup=False
            )
            yield Input(self.suggestion, id="path", placeholder="~/Pictures/photo.png")
            yield Static("", id="problem", markup=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        path = Path(text).expanduser()
        # One stat of a path the user typed: cheap enough for the event loop.
        if path.is_file():
            self.dismiss(path)
        else:
            what = "a folder" if path.is_dir() else "not found"
            self.query_one("#problem", Static).update(f"{text}: {what}; type a file's path")

    def action_cancel(self) -> None:
        self.dismiss(None)
