"""A small modal question with one button per answer."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from sdtui.ui.actions import bindings


class ChoiceDialog(ModalScreen[str | None]):
    """Ask a question; dismisses with the chosen answer's key, or None on escape."""

    BINDINGS = bindings("dialog")

    DEFAULT_CSS = """
    ChoiceDialog { align: center middle; }
    ChoiceDialog > Vertical {
        width: auto; max-width: 90%; min-width: 40; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ChoiceDialog #question { width: auto; max-width: 76; margin-bottom: 1; }
    ChoiceDialog Horizontal { height: auto; width: auto; }
    ChoiceDialog Button { margin-right: 2; }
    """

    def __init__(self, question: str, choices: list[tuple[str, str, str]]) -> None:
        """choices: (key, label, variant) triples; the first is focused."""
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question", markup=False)
            with Horizontal():
                for key, label, variant in self.choices:
                    yield Button(label, id=f"choice-{key}", variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_cancel(self) -> None:
        self.dismiss(None)
