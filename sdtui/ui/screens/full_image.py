"""One image filling the terminal, with its parameters underneath (wrapped, never cut)."""

from __future__ import annotations

from typing import ClassVar

from PIL import Image
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from sdtui.engine.batch import ShownImage
from sdtui.render import RenderCache
from sdtui.text import one_line, strip_control
from sdtui.ui.actions import bindings
from sdtui.ui.widgets.footer import Footer
from sdtui.ui.widgets.image_view import ImageView


class FullImageScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("full")

    DEFAULT_CSS = """
    FullImageScreen ImageView { height: 1fr; }
    FullImageScreen #caption-box {
        height: auto; max-height: 33%; background: $panel; padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    FullImageScreen #caption { height: auto; }
    """

    def __init__(self, images: list[ShownImage], index: int, cache: RenderCache | None) -> None:
        super().__init__()
        self.images = images
        self.index = index
        self.cache = cache

    def compose(self) -> ComposeResult:
        yield ImageView(cache=self.cache, id="full-view")
        with VerticalScroll(id="caption-box", can_focus=False):
            yield Static("", id="caption", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        shown = self.images[self.index]
        try:
            image = shown.open()
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            self.notify(f"Cannot open the image: {one_line(str(exc))}", severity="error")
            return
        self.query_one(ImageView).set_image(image, shown.key)
        caption = Text()
        if len(self.images) > 1:
            caption.append(f"{self.index + 1}/{len(self.images)} · ", style="bold")
        if shown.path is not None:
            caption.append(strip_control(str(shown.path), keep_newlines=False) + "\n", style="dim")
        caption.append(strip_control(shown.infotext) or "(no generation parameters stored)")
        self.query_one("#caption", Static).update(caption)

    def action_step(self, delta: int) -> None:
        if len(self.images) > 1:
            self.index = (self.index + delta) % len(self.images)
            self._show()
