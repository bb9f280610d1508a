"""The top line: which server, whether it answers, which model is loaded, and the time."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from sdtui.text import one_line


class ConnectionBar(Widget):
    """State is set by the app; server text is shown as plain text, never as markup."""

    DEFAULT_CSS = """
    ConnectionBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    url: reactive[str] = reactive("")
    state: reactive[str] = reactive("connecting")  # connecting | connected | offline | loading
    model: reactive[str] = reactive("")
    demo: reactive[bool] = reactive(False)
    show_clock: reactive[bool] = reactive(True)

    def on_mount(self) -> None:
        self.set_interval(30, self.refresh)

    def render(self) -> Text:
        dot_style = {
            "connected": "bold green",
            "offline": "bold red",
            "connecting": "bold yellow",
            "loading": "bold yellow",
        }.get(self.state, "yellow")
        label = {
            "connected": "connected",
            "offline": "offline",
            "connecting": "connecting…",
            "loading": "loading model…",
        }.get(self.state, self.state)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("sdtui", style="bold")
        if self.demo:
            text.append(" demo", style="italic")
        text.append(" · ")
        text.append(one_line(self.url, 80))
        text.append(" ")
        text.append("●", style=dot_style)
        text.append(f" {label}")
        if self.model:
            text.append(" · model ")
            text.append(one_line(self.model, 80), style="bold")
        clock = datetime.now().strftime("%H:%M") if self.show_clock else ""
        width = self.size.width - 2
        pad = width - text.cell_len - len(clock)
        if pad >= 2:
            text.append(" " * pad + clock, style="dim")
        return text
