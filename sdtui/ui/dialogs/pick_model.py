"""Pick a checkpoint for one job: the servers' checkpoints in a list.

A list rather than a row of buttons: a web UI user has dozens of checkpoints. The first entry
gives the job back to whatever model its server has loaded. Dismisses with the chosen title,
"" for the server's own model, or None on escape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from sdtui.text import one_line
from sdtui.ui.actions import bindings

SERVERS_MODEL = ""
"""The answer for "no checkpoint of its own: the server's loaded one"."""


class PickModelDialog(ModalScreen[str | None]):
    """`models`: (title, label, where) triples; `where` names the servers that have it ("" when
    there is one server). `current` is highlighted at first."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("dialog")

    DEFAULT_CSS = """
    PickModelDialog { align: center middle; }
    PickModelDialog > Vertical {
        width: 80%; max-width: 90; min-width: 40; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    PickModelDialog #model-question { height: auto; margin-bottom: 1; }
    PickModelDialog OptionList { height: auto; max-height: 16; border: none; padding: 0; }
    """

    def __init__(
        self, question: str, models: Sequence[tuple[str, str, str]], current: str | None
    ) -> None:
        super().__init__()
        self.question = question
        self.models = list(models)
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(Text("The server's loaded model (none of its own)"), SERVERS_MODEL)]
        for title, label, where in self.models:
            text = Text(one_line(label, 80))
            if where:
                text.append(f"  {one_line(where, 60)}", style="dim")
            options.append(Option(text, title))
        with Vertical() as box:
            box.border_title = "Checkpoint"
            yield Static(self.question, id="model-question", markup=False)
            yield OptionList(*options, id="model-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        titles = [SERVERS_MODEL, *(title for title, _, _ in self.models)]
        current = self.current or SERVERS_MODEL
        options.highlighted = titles.index(current) if current in titles else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id or SERVERS_MODEL)

    def action_cancel(self) -> None:
        self.dismiss(None)
