"""The styles picker: the server's styles, ticked in the order they should apply.

Space ticks or unticks the highlighted style, enter applies the ticked ones (dismissing with
their names in the order ticked, as the web UI applies them), esc leaves the picks as they were.
The highlighted style's prompt and negative prompt are shown below the list.
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
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from sdtui.api import PromptStyle
from sdtui.text import one_line
from sdtui.ui.actions import KeyMap, bindings


class StyleList(SelectionList[str]):
    """The list, whose enter applies rather than ticks (space ticks)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("styles")

    def action_select(self) -> None:
        # SelectionList ticks the option highlighted when its OptionSelected message is handled:
        # with keys that arrive together (space, down) that is already the next one. Tick the
        # option highlighted now, when the key is read.
        if self.highlighted is not None:
            self.toggle(self.get_option_at_index(self.highlighted))

    def action_apply(self) -> None:
        screen = self.screen
        if isinstance(screen, StylesDialog):
            screen.apply()


class StylesDialog(ModalScreen[list[str] | None]):
    """Pick among `styles`; `picked` are ticked at first (those not offered are kept, after)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("dialog")

    DEFAULT_CSS = """
    StylesDialog { align: center middle; }
    StylesDialog > Vertical {
        width: 80%; max-width: 100; min-width: 40; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    StylesDialog StyleList { height: auto; max-height: 12; border: none; padding: 0; }
    StylesDialog #style-text { height: auto; max-height: 8; color: $text-muted; padding: 1 0 0 0; }
    StylesDialog #style-order, StylesDialog #style-help { height: auto; color: $text-muted; }
    """

    def __init__(
        self, styles: Sequence[PromptStyle], picked: Sequence[str], keys: KeyMap | None = None
    ) -> None:
        super().__init__()
        self.offered = {s.name: s for s in styles}
        offered = set(self.offered)
        self.order = [name for name in picked if name in offered]
        self.kept = [name for name in picked if name not in offered]
        self.keys = keys or KeyMap()

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Styles"
            yield StyleList(
                *(
                    Selection(Text(one_line(name, 80)), name, name in self.order)
                    for name in self.offered
                ),
                id="style-list",
            )
            yield Static("", id="style-order", markup=False)
            yield Static("", id="style-text", markup=False)
            apply, cancel = self.keys.name("styles.apply"), self.keys.name("dialog.cancel")
            yield Static(
                f"space ticks · {apply} applies · {cancel} cancels", id="style-help", markup=False
            )

    def on_mount(self) -> None:
        self.query_one(StyleList).focus()
        self._show_order()
        self._show_style(next(iter(self.offered), None))

    @on(SelectionList.SelectionToggled)
    def _toggled(self) -> None:
        self._sync_order()
        self._show_order()

    def _sync_order(self) -> None:
        """The ticked styles in the order they were ticked, read from the list as it is now
        (an enter read with the keys before it must not wait for their messages)."""
        ticked = self.query_one(StyleList).selected
        self.order = [n for n in self.order if n in ticked] + [
            n for n in ticked if n not in self.order
        ]

    @on(SelectionList.SelectionHighlighted)
    def _highlighted(self, event: SelectionList.SelectionHighlighted[str]) -> None:
        self._show_style(event.selection.value)

    def _show_order(self) -> None:
        order = ", ".join(f"{i}. {name}" for i, name in enumerate(self.order, 1))
        text = f"Applied in this order: {order}" if order else "No style ticked"
        if self.kept:
            text += " · kept, not on this server: " + ", ".join(self.kept)
        self.query_one("#style-order", Static).update(one_line(text, 400))

    def _show_style(self, name: str | None) -> None:
        style = self.offered.get(name) if name is not None else None
        text = Text()
        if style is None:
            text.append("This server lists no styles")
        else:
            text.append("Prompt: ", style="bold")
            text.append(one_line(style.prompt, 400) or "(none)")
            text.append("\nNegative: ", style="bold")
            text.append(one_line(style.negative_prompt, 400) or "(none)")
        self.query_one("#style-text", Static).update(text)

    def apply(self) -> None:
        self._sync_order()
        self.dismiss([*self.order, *self.kept])

    def action_cancel(self) -> None:
        self.dismiss(None)
