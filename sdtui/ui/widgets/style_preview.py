"""The form's styles row and what the prompts become with them.

"Styles: none", "Styles: Cinematic, Oil painting", or "no styles on this server"; below it, dim
and cut to one line each, the prompt and negative prompt the server will generate from (v1.10's
merge, `sdtui.engine.styles`), updated as the prompts are typed.

Picked styles the server does not list are kept (they come back on a server that has them) and
named on the row, but not sent: the server would only apply them as empty styles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widgets import Static

from sdtui.api import PromptStyle
from sdtui.engine.styles import apply_styles, split_known
from sdtui.text import one_line, strip_control
from sdtui.ui.actions import KeyMap
from sdtui.ui.dialogs.styles import StylesDialog

PREVIEW_LIMIT = 400  # characters of a merged prompt worth drawing (the line is cut to its width)


class StylePreview(Static):
    DEFAULT_CSS = """
    StylePreview {
        height: auto;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.picked: list[str] = []
        self.offered: list[PromptStyle] | None = None  # None: the server has not answered yet
        self._prompts = ("", "")
        self._styles: dict[str, PromptStyle] = {}

    def on_mount(self) -> None:
        self._render_row()

    def set_offered(self, styles: Sequence[PromptStyle]) -> None:
        """The server's styles (an empty list: it has none, or no styles endpoint)."""
        self.offered = [
            PromptStyle(
                strip_control(s.name, keep_newlines=False),
                strip_control(s.prompt),
                strip_control(s.negative_prompt),
            )
            for s in styles
            if s.name
        ]
        self._styles = {s.name: s for s in self.offered}
        self._render_row()

    def set_picked(self, names: Sequence[str]) -> None:
        cleaned = (strip_control(n, keep_newlines=False).strip() for n in names)
        self.picked = list(dict.fromkeys(n for n in cleaned if n))
        self._render_row()

    def set_prompts(self, prompt: str, negative: str) -> None:
        if (prompt, negative) != self._prompts:
            self._prompts = (prompt, negative)
            if self.sent:
                self._render_row()

    def pick(self, keys: KeyMap, then: Callable[[], object]) -> None:
        """Open the styles dialog; once styles are applied, show them and call `then`."""
        if self.offered is None:
            self.notify("The server's styles are not known yet: connecting…", timeout=3)
            return
        if not self.offered and not self.picked:
            self.notify("This server lists no styles", severity="warning", timeout=3)
            return

        def picked(names: list[str] | None) -> None:
            if names is not None:
                self.set_picked(names)
                then()

        self.app.push_screen(StylesDialog(self.offered, self.picked, keys), picked)

    @property
    def sent(self) -> list[str]:
        """The styles the job sends: the picked ones this server lists (all of them while its
        list is not known)."""
        if self.offered is None:
            return list(self.picked)
        return split_known(self.picked, self._styles)[0]

    @property
    def saved(self) -> str:
        """The picks as the form's saved state holds them (one name a line)."""
        return "\n".join(self.picked)

    def restore(self, saved: object) -> None:
        self.set_picked(saved.splitlines() if isinstance(saved, str) else [])

    def merged(self) -> tuple[str, str]:
        """The prompt and negative prompt with the sent styles applied."""
        return apply_styles(*self._prompts, self.sent, self._styles)

    def _render_row(self) -> None:
        row = Text("Styles: ", style="dim")
        if self.offered is not None and not self.offered and not self.picked:
            row.append("no styles on this server", style="dim italic")
        else:
            known, unknown = (
                (self.picked, [])
                if self.offered is None
                else split_known(self.picked, self._styles)
            )
            row.append(", ".join(known) if known else "none" if not unknown else "")
            if unknown:
                if known:
                    row.append(" · ")
                row.append("not on this server: " + ", ".join(unknown), style="italic")
        lines = [row]
        if self.sent and self.offered is not None:
            prompt, negative = self.merged()
            lines.append(Text("→ " + one_line(prompt, PREVIEW_LIMIT), style="dim"))
            if negative != self._prompts[1]:
                lines.append(Text("− " + one_line(negative, PREVIEW_LIMIT), style="dim"))
        self.update(Text("\n").join(lines))
