"""Upscale an image through the server's extras: which upscaler, by how much or to which size."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from sdtui.engine import limits
from sdtui.engine.upscale import UpscaleOptions
from sdtui.text import one_line
from sdtui.ui.actions import KeyMap, bindings

PREFERRED = ("R-ESRGAN 4x+", "ESRGAN_4x", "Lanczos")  # the first of these the server has is picked


class UpscaleDialog(ModalScreen[UpscaleOptions | None]):
    """Dismisses with the options chosen (enter in any field), or None on escape. Width and
    height left empty scale by the factor; both given resize to that size (cropped to fit)."""

    BINDINGS = bindings("dialog")

    DEFAULT_CSS = """
    UpscaleDialog { align: center middle; }
    UpscaleDialog > Vertical {
        width: 64; max-width: 100%; height: auto; border: thick $accent; background: $surface;
        padding: 1 2;
    }
    UpscaleDialog #up-grid {
        grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; grid-gutter: 1 1; height: auto;
    }
    UpscaleDialog .field-label { color: $text-muted; width: 100%; text-align: right; }
    UpscaleDialog #up-question { margin-bottom: 1; }
    UpscaleDialog #up-problem { color: $error; height: auto; margin-top: 1; }
    """

    def __init__(self, name: str, upscalers: list[str], keys: KeyMap) -> None:
        super().__init__()
        self.image_name = name
        self.upscalers = [u for u in upscalers if u and u != "None"] or ["Lanczos"]
        self.keys = keys

    def compose(self) -> ComposeResult:
        picked = next((u for u in PREFERRED if u in self.upscalers), self.upscalers[0])
        with Vertical():
            cancel = self.keys.name("dialog.cancel")
            yield Static(
                f"Upscale {one_line(self.image_name, 40)} (enter starts, {cancel} cancels)",
                id="up-question",
                markup=False,
            )
            with Grid(id="up-grid"):
                yield Label("Upscaler", classes="field-label")
                yield Select(
                    [(one_line(u, 40), u) for u in self.upscalers],
                    value=picked,
                    id="up-upscaler",
                    compact=True,
                    allow_blank=False,
                )
                yield Label("Scale by", classes="field-label")
                yield Input("2", id="up-scale", compact=True)
                yield Label("or W x H", classes="field-label")
                yield Input("", id="up-size", compact=True, placeholder="e.g. 1024x1536")
            yield Static("", id="up-problem", markup=False)

    def on_mount(self) -> None:
        self.query_one("#up-scale", Input).focus()

    def options(self) -> UpscaleOptions:
        """The options typed; ValueError with the words to show when a field is wrong."""
        upscaler = str(self.query_one("#up-upscaler", Select).value)
        size = self.query_one("#up-size", Input).value.strip().lower().replace(" ", "")
        if size:
            width_text, sep, height_text = size.partition("x")
            if not sep:
                raise ValueError("Size: type it as WIDTHxHEIGHT, e.g. 1024x1536")
            try:
                width = int(limits.parse("width", width_text))
                height = int(limits.parse("height", height_text))
            except limits.LimitError as exc:
                raise ValueError(exc.message) from None
            return UpscaleOptions(upscaler, width=width, height=height)
        try:
            scale = float(limits.parse("upscale_by", self.query_one("#up-scale", Input).value))
        except limits.LimitError as exc:
            raise ValueError(exc.message) from None
        return UpscaleOptions(upscaler, scale=scale)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        try:
            options = self.options()
        except ValueError as exc:
            self.query_one("#up-problem", Static).update(str(exc))
            return
        self.dismiss(options)

    def action_cancel(self) -> None:
        self.dismiss(None)
