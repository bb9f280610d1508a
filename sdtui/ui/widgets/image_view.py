"""The preview pane: shows one image as half-block cells, fitted and centred in the widget.

Rendering to cells happens in a thread worker; ``render_line`` only looks up and crops strips
that are already built, so a repaint (scrolling, a dialog closing, a resize) costs nothing.
Results carry the number of the request that asked for them, and only the latest request's
result is shown, so a slow render of an old live-preview frame can never replace a newer one.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from PIL import Image
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.filter import LineFilter
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

from sdtui.render import (
    CellImage,
    RenderCache,
    color_mode,
    fit_cells,
    place_line,
    render_cells,
    warm_escape_codes,
    with_pixel_filter,
)

__all__ = ["ImageView"]

_FAILED_TEXT = "Could not show this image"


@dataclass
class _CellsReady(Message, bubble=False):
    """Private: a worker finished rendering the cells for one request."""

    request: int
    key: Hashable
    cell_image: CellImage


class ImageView(Widget):
    """Shows a Pillow image as half-block pixels, refitted whenever the widget is resized."""

    DEFAULT_CSS = """
    ImageView {
        width: 1fr;
        height: 1fr;
    }
    ImageView > .image-view--placeholder {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"image-view--placeholder"}

    placeholder: reactive[str] = reactive("No image yet")
    """Text shown in the middle while there is no image."""

    @dataclass
    class Rendered(Message):
        """New cells are on screen: ``cols x rows`` cells showing the image named ``key``."""

        image_view: ImageView
        cols: int
        rows: int
        key: Hashable

        @property
        def control(self) -> ImageView:
            """The view that rendered, so ``@on(ImageView.Rendered, "#preview")`` works."""
            return self.image_view

    def __init__(
        self,
        *,
        cache: RenderCache | None = None,
        placeholder: str = "No image yet",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._cache = cache if cache is not None else RenderCache(max_entries=8)
        self._cacheable = True
        self._image: Image.Image | None = None
        self._key: Hashable = None
        self._cells: CellImage | None = None
        self._cells_key: Hashable = None
        self._failed = False
        self._request = 0
        self._latest_worker: Worker[None] | None = None
        # Renders of one view run one at a time: two threads never read the same image at once
        # (a lazily loaded Pillow image is not safe for that), and a render that has been
        # superseded while waiting here is skipped instead of run.
        self._render_lock = threading.Lock()
        self.set_reactive(ImageView.placeholder, placeholder)

    @property
    def key(self) -> Hashable:
        """The key of the image last given to ``set_image`` (None when there is none)."""
        return self._key

    @property
    def cell_image(self) -> CellImage | None:
        """The cells on screen now (they may lag the latest image while it renders)."""
        return self._cells

    @property
    def shown_key(self) -> Hashable:
        """The key of the image whose cells are on screen now."""
        return self._cells_key

    def set_image(self, image: Image.Image | None, key: Hashable, *, cache: bool = True) -> None:
        """Show ``image``, named by ``key``; None shows the placeholder.

        ``key`` names the picture for the render cache and for skipping repeat work, so a
        different picture needs a different key (for live previews, a frame counter).

        Returns at once: the cells are built in a worker and shown when ready, while the
        previous cells stay on screen. The caller must not modify ``image`` afterwards.
        ``cache=False`` is for frames shown once (live previews): caching them would only push
        images worth keeping out of the cache and leave the garbage collector more to walk.
        """
        self._image = image
        self._key = key
        self._cacheable = cache
        self._failed = False
        if image is None:
            self._request += 1
            self._latest_worker = None
            self._cells = None
            self._cells_key = None
            if self.is_mounted:
                self.workers.cancel_group(self, "render")
            self.refresh()
            return
        self._refit()

    def on_resize(self, event: events.Resize) -> None:
        """Fit the image to the new size (the old cells stay, centred, until then)."""
        self.refresh()  # re-centre what is shown now, placeholder included
        self._refit()

    def _refit(self) -> None:
        """Show the current image at the size that fits now: from the cache, or via a worker."""
        # Every call supersedes whatever is in flight, even when nothing new is started:
        # after a resize there and back, a render for the in-between size must not land.
        self._request += 1
        self._latest_worker = None
        image = self._image
        width, height = self.size
        if image is None or width < 1 or height < 1 or not self.is_mounted:
            return
        key = self._key
        cols, rows = fit_cells(image.width, image.height, width, height)
        colors = color_mode(self.app.console.color_system)
        shown = self._cells
        if (
            shown is not None
            and self._cells_key == key
            and (shown.cols, shown.rows, shown.colors) == (cols, rows, colors)
        ):
            self.workers.cancel_group(self, "render")
            return
        cached = self._cache.get(key, cols, rows, colors=colors) if self._cacheable else None
        if cached is not None:
            self.workers.cancel_group(self, "render")
            self._show(key, cached)
            return
        self._latest_worker = self._render_cells_worker(
            self._request, image, key, cols, rows, self._cacheable, self.app.console
        )

    @work(thread=True, exclusive=True, group="render", exit_on_error=False)
    def _render_cells_worker(
        self,
        request: int,
        image: Image.Image,
        key: Hashable,
        cols: int,
        rows: int,
        cache: bool,
        console: Console,
    ) -> None:
        """Build the cells (and their escape codes) off the UI thread and post them back."""
        worker = get_current_worker()
        with self._render_lock:
            if worker.is_cancelled:
                return
            cell_image = render_cells(image, cols, rows, colors=color_mode(console.color_system))
            warm_escape_codes(cell_image, console)
        if not worker.is_cancelled:
            if cache:
                self._cache.put(key, cell_image)
            self.post_message(_CellsReady(request, key, cell_image))

    @on(_CellsReady)
    def _cells_ready(self, message: _CellsReady) -> None:
        if message.request == self._request:
            self._show(message.key, message.cell_image)

    @on(Worker.StateChanged)
    def _render_failed(self, event: Worker.StateChanged) -> None:
        """A broken image shows a short note instead of crashing the app.

        The event keeps bubbling, so the app's single worker handler still sees the error.
        """
        if event.state == WorkerState.ERROR and event.worker is self._latest_worker:
            self._cells = None
            self._cells_key = None
            self._failed = True
            self.refresh()

    def _show(self, key: Hashable, cell_image: CellImage) -> None:
        self._cells = cell_image
        self._cells_key = key
        self.refresh()
        self.post_message(self.Rendered(self, cell_image.cols, cell_image.rows, key))

    def get_line_filters(self) -> Sequence[LineFilter]:
        """The app's filters, with pixel cells let through the ANSI-to-truecolor one untouched
        (they are truecolor already; see ``PixelFilter``)."""
        return with_pixel_filter(super().get_line_filters())

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the centred cells (or of the placeholder): lookups and crops only."""
        width, height = self.size
        pad_style = self.visual_style.rich_style
        if self._cells is not None:
            return place_line(self._cells, y, width, height, pad_style)
        if y != height // 2 or width < 1 or (self._image is not None and not self._failed):
            return Strip.blank(width, pad_style)
        text = _FAILED_TEXT if self._failed else self.placeholder
        return _centred_text(text, width, self.get_component_rich_style("image-view--placeholder"))


def _centred_text(text: str, width: int, style: Style) -> Strip:
    """``text`` centred in ``width`` cells, cut at the right edge when it does not fit."""
    length = cell_len(text)
    strip = Strip([Segment(text, style)], length)
    if length >= width:
        return strip.crop(0, width)
    left = (width - length) // 2
    return strip.crop_pad(length, left, width - length - left, style)
