"""One image filling the terminal, with its parameters underneath."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from PIL import Image
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from sdtui.render import RenderCache
from sdtui.text import one_line
from sdtui.ui.widgets.footer import Footer
from sdtui.ui.widgets.image_view import ImageView

# (image opener, cache key, caption) for each image the screen can step through
ImageSource = tuple[Callable[[], Image.Image], Hashable, str]


class FullImageScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,ctrl+o", "app.pop_screen", "Close", id="full.close"),
        Binding("left,[", "step(-1)", "Previous", id="full.previous"),
        Binding("right,]", "step(1)", "Next", id="full.next"),
    ]

    DEFAULT_CSS = """
    FullImageScreen ImageView { height: 1fr; }
    FullImageScreen #caption { height: auto; max-height: 4; padding: 0 1; background: $panel; }
    """

    def __init__(self, images: list[ImageSource], index: int, cache: RenderCache | None) -> None:
        super().__init__()
        self.images = images
        self.index = index
        self.cache = cache

    def compose(self) -> ComposeResult:
        yield ImageView(cache=self.cache, id="full-view")
        yield Static("", id="caption", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        opener, key, caption = self.images[self.index]
        try:
            image = opener()
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            self.notify(f"Cannot open the image: {one_line(str(exc))}", severity="error")
            return
        self.query_one(ImageView).set_image(image, key)
        position = f"{self.index + 1}/{len(self.images)} · " if len(self.images) > 1 else ""
        self.query_one("#caption", Static).update(Text(position + caption))

    def action_step(self, delta: int) -> None:
        if len(self.images) > 1:
            self.index = (self.index + delta) % len(self.images)
            self._show()
