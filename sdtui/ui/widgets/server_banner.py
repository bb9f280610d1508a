"""A line under the top bar, shown only while the server cannot be reached: why, and the fix."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from sdtui.text import one_line


class ServerBanner(Widget):
    DEFAULT_CSS = """
    ServerBanner {
        display: none; height: auto; max-height: 4; padding: 0 1;
        background: $error 30%; color: $text;
    }
    ServerBanner.-shown { display: block; }
    """

    reason: reactive[str] = reactive("", layout=True)
    hint: reactive[str] = reactive("")

    def watch_reason(self, reason: str) -> None:
        self.set_class(bool(reason), "-shown")

    def render(self) -> Text:
        text = Text(one_line(self.reason, 400))
        if self.reason and self.hint:
            text.append(f" · {self.hint}", style="dim")
        return text
