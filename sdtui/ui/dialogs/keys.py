"""Every key, as the active keymap has it, in a dialog that esc (or the same key) closes."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from sdtui.ui.actions import SCOPE_TITLES, KeyMap, bindings, in_scope, key_name


class KeysDialog(ModalScreen[None]):
    BINDINGS = bindings("dialog")

    DEFAULT_CSS = """
    KeysDialog { align: center middle; }
    KeysDialog > VerticalScroll {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, keys: KeyMap) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does", ratio=1)
        for scope in ("main", "prompt", "complete", "app", "history", "list", "full", "styles"):
            table.add_row(Text(SCOPE_TITLES[scope], style="italic"), "")
            for spec in in_scope(scope):
                keys = self.keys.keys(spec.id)
                palette = self.keys.name("command_palette")
                shown = " ".join(key_name(k) for k in keys.split(",")) if keys else palette
                table.add_row(shown, spec.help)
        with VerticalScroll() as scroll:
            scroll.border_title = f"Keys · {self.keys.name('dialog.cancel')} closes"
            yield Static(table)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_show_keys(self) -> None:
        self.dismiss(None)
