"""Turn a Pillow image into rows of half-block terminal cells.

Each cell is "▀" with the foreground set to the upper pixel and the background to the lower one,
so a ``cols x rows`` area shows ``cols x 2*rows`` pixels.

Why it is built this way (measured in ``bench/bench_render.py``):

* The image is shrunk with Pillow's BOX filter, which is an exact area average: every output
  pixel is the mean of the source pixels it covers, so detail averages out instead of turning
  into the jagged sampling noise nearest-neighbour gives. It runs in C and costs a couple of
  milliseconds for a 1024² image.
* Colours are rounded to 5 bits per channel. That keeps the error under half a step
  (about 4 of 255 levels), and it makes neighbouring cells of smooth gradients identical, so
  more of them merge into one segment and more ``Style`` objects are found in the cache.
* The per-cell loop does no arithmetic on colours: the shrunk image is transposed and packed as
  RGBX, so the upper and lower pixel of one cell sit next to each other in memory and read as a
  single 64-bit integer. That integer is the cache key for the cell's ``Style``.
* ``Style`` objects (and the Rich ``Color`` objects inside them) are built once per colour pair
  and reused across rows, images and threads, and runs of equal cells become one ``Segment``.
* Showing a new frame costs the UI thread per new colour, not per cell drawn, only if the
  per-colour work is done here too: ``warm_escape_codes`` builds each style's escape codes in
  the worker, and ``PixelFilter`` lets pixel styles skip Textual's ANSI-to-truecolor filter,
  which would return them unchanged (their colours carry RGB already).
* A terminal with 256 (or 16) colours would get each truecolor cell rounded to the nearest
  palette colour by Rich as it writes it, and smooth gradients turn into flat bands. For such
  a terminal (``colors="256"`` or ``"standard"``) the shrunk image is dithered to the palette
  instead, by Pillow's Floyd-Steinberg error diffusion in C (well under a millisecond at
  160x160 pixels): each pixel passes its rounding error on to its neighbours, so a small area
  keeps its average colour. The cells then hold indexed colours, which Rich writes as they are.

Nothing here touches the screen: call it from a worker thread and hand the result to a widget.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

from PIL import Image
from rich.color import Color, ColorSystem, ColorType
from rich.color_triplet import ColorTriplet
from rich.console import COLOR_SYSTEMS, Console
from rich.segment import Segment
from rich.style import Style
from textual.color import Color as TextualColor
from textual.filter import ANSIToTruecolor, LineFilter
from textual.strip import Strip

__all__ = [
    "COLOR_MODES",
    "HALF_BLOCK",
    "CellImage",
    "ColorMode",
    "PixelFilter",
    "RenderCache",
    "color_mode",
    "fit_cells",
    "is_pixel_style",
    "place_line",
    "quantise_level",
    "render_cells",
    "render_fitted",
    "warm_escape_codes",
    "with_pixel_filter",
]

HALF_BLOCK = "▀"
"""Upper half block: the foreground paints the top pixel, the background the bottom one."""

ColorMode = Literal["truecolor", "256", "standard"]
"""The colours cells are built with: 24-bit RGB, or dithered to the 256 or 16 colour palette."""

COLOR_MODES: Final[tuple[ColorMode, ...]] = get_args(ColorMode)

_LEVELS = 31  # 5 bits per channel
_STYLE_CACHE_LIMIT = 16_384
"""Distinct colour pairs kept; a 160x80 photo has at most 12,800, so a couple of frames fit."""

_BYTEORDER = sys.byteorder  # memoryview.cast("Q") reads native order; decode keys the same way
_BOX = Image.Resampling.BOX
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def quantise_level(value: int) -> int:
    """Round an 8-bit level to the nearest of 32 evenly spread levels (0 and 255 stay exact)."""
    step = (value * _LEVELS + 127) // 255
    return (step * 255 + _LEVELS // 2) // _LEVELS


_QUANTISE_TABLE = bytes(quantise_level(v) for v in range(256))


@dataclass(frozen=True)
class CellImage:
    """An image rendered to terminal cells: ``rows`` strips, each exactly ``cols`` cells wide.

    ``colors`` is the colour mode the cells were built for (see ``render_cells``).
    """

    cols: int
    rows: int
    strips: tuple[Strip, ...]
    colors: ColorMode = "truecolor"


def color_mode(color_system: str | None) -> ColorMode:
    """The colour mode to render in for a console's ``color_system`` (``Console.color_system``).

    None (a terminal Rich found no colours for) gives truecolor: Textual writes 24-bit codes
    then, as it does for a truecolor console.
    """
    if color_system == "256":
        return "256"
    if color_system in ("standard", "windows"):
        return "standard"
    return "truecolor"


def fit_cells(image_w: int, image_h: int, max_cols: int, max_rows: int) -> tuple[int, int]:
    """Largest ``(cols, rows)`` within the limits that keeps the image's aspect ratio.

    A cell is one pixel wide and two pixels tall in image space, so the cells show
    ``cols x 2*rows`` pixels. Small images are scaled up to fill the area. Never less than 1x1.
    """
    image_w = max(1, image_w)
    image_h = max(1, image_h)
    max_cols = max(1, max_cols)
    max_rows = max(1, max_rows)
    rows = round(max_cols * image_h / (2 * image_w))
    if rows <= max_rows:
        cols = max_cols
    else:
        rows = max_rows
        cols = round(2 * max_rows * image_w / image_h)
    return max(1, min(cols, max_cols)), max(1, min(rows, max_rows))


def _shrink_to_rgb(image: Image.Image, width: int, height: int) -> Image.Image:
    """Area-average ``image`` to ``width x height`` RGB, compositing any alpha on black.

    Resizing happens in the source mode where Pillow averages correctly (RGB, L, and RGBA,
    which it premultiplies while resizing), so compositing after the shrink touches only a
    few thousand pixels. Palette and other modes are converted first: resizing a palette image
    would pick pixels instead of averaging them.
    """
    size = (width, height)
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        mode = "PA"
    if mode in _ALPHA_MODES:
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        small = rgba.resize(size, _BOX)
        out = Image.new("RGB", size, (0, 0, 0))
        out.paste(small, mask=small.getchannel("A"))
        return out
    if mode == "RGB":
        return image.resize(size, _BOX)
    if mode == "L":
        return image.resize(size, _BOX).convert("RGB")
    return image.convert("RGB").resize(size, _BOX)


class _PixelStyle(Style):
    """The style of a pixel cell: a foreground and a background colour (truecolor, or a palette
    entry carrying its RGB), nothing else.

    Its own type, so a filter can tell pixel cells apart with one ``type(...) is`` test. Rich's
    operations on styles (combining, copying) return plain ``Style`` objects, so anything
    derived from a pixel style is treated as an ordinary style again.
    """

    __slots__ = ()


class _StyleCache:
    """Packed colour pair → ``Style``, shared by every render (thread-safe enough by design).

    Dict reads and writes are atomic, so two threads racing on a new key at worst build the
    same ``Style`` twice. The cache is emptied when it reaches its limit rather than tracking
    recency: filling it again costs about one frame's worth of work.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.styles: dict[int, Style] = {}
        self.colors: dict[bytes, Color] = {}

    def _color(self, rgb: bytes) -> Color:
        color = self.colors.get(rgb)
        if color is None:
            red, green, blue = rgb
            color = Color(
                f"#{red:02x}{green:02x}{blue:02x}",
                ColorType.TRUECOLOR,
                triplet=ColorTriplet(red, green, blue),
            )
            if len(self.colors) >= self.limit:
                self.colors.clear()
            self.colors[rgb] = color
        return color

    def make(self, key: int) -> Style:
        """Build, remember and return the style for a packed (upper RGBX, lower RGBX) key."""
        packed = key.to_bytes(8, _BYTEORDER)
        style = Style.from_color(self._color(packed[0:3]), self._color(packed[4:7]))
        # Re-typed rather than built through _PixelStyle(...): Style.__init__ parses every
        # attribute and costs 5x from_color, and the subclass adds no fields, so the object
        # is the same either way.
        style.__class__ = _PixelStyle
        styles = self.styles
        if len(styles) >= self.limit:
            styles.clear()
        styles[key] = style
        return style


_STYLES = _StyleCache(_STYLE_CACHE_LIMIT)


class _Palette:
    """A terminal palette to dither to, and the pixel styles of its colour pairs.

    Each entry's ``Color`` is indexed (``38;5;N`` or ``3N``), so Rich writes it as it is on a
    console of this many colours instead of picking a nearest colour again. It also carries
    the entry's RGB, so Textual's ANSI-to-truecolor filter (which converts only colours
    without one) would leave it alone too, and a 256-colour entry stays the same on a
    truecolor console.

    Pillow maps pixels to entries by position, ``entries[i]`` being the i-th palette colour;
    a cell's key packs its upper and lower pixel's positions into 16 bits.
    """

    def __init__(self, numbers: range, limit: int) -> None:
        self.limit = limit
        self.colors = tuple(_indexed_color(number) for number in numbers)
        self.image = Image.new("P", (1, 1))
        self.image.putpalette(bytes(level for color in self.colors for level in _rgb(color)))
        self.styles: dict[int, Style] = {}

    def make(self, key: int) -> Style:
        """Build, remember and return the style for a packed (upper, lower) entry key."""
        upper, lower = key.to_bytes(2, _BYTEORDER)
        style = Style.from_color(self.colors[upper], self.colors[lower])
        style.__class__ = _PixelStyle  # as in _StyleCache.make
        styles = self.styles
        if len(styles) >= self.limit:
            styles.clear()
        styles[key] = style
        return style


def _indexed_color(number: int) -> Color:
    """Palette colour ``number`` as ``Color.from_ansi`` makes it, with the RGB Rich gives it.

    For 16-255 that RGB is the standard xterm one, which terminals keep; for the first 16
    it is Rich's default terminal theme, a guess at the user's.
    """
    color = Color.from_ansi(number)
    return color._replace(triplet=color.get_truecolor())


def _rgb(color: Color) -> ColorTriplet:
    assert color.triplet is not None  # as _indexed_color makes them
    return color.triplet


# The 256-colour terminal's fixed entries only: 16-231 (a 6x6x6 cube) and 232-255 (greys).
# The first 16 are the terminal theme's colours, which differ from one terminal to the next.
_PALETTES: dict[ColorMode, _Palette] = {
    "256": _Palette(range(16, 256), _STYLE_CACHE_LIMIT),
    "standard": _Palette(range(16), _STYLE_CACHE_LIMIT),
}
_FLOYD_STEINBERG = Image.Dither.FLOYDSTEINBERG


def render_cells(
    image: Image.Image, cols: int, rows: int, *, colors: ColorMode = "truecolor"
) -> CellImage:
    """Render ``image`` to exactly ``cols x rows`` half-block cells (the caller fits first).

    ``colors`` is what the terminal shows (``color_mode(console.color_system)``): "truecolor"
    gives 24-bit colours rounded to 5 bits per channel; "256" and "standard" dither the image
    to the terminal's palette, so gradients keep their shades on average instead of falling
    into bands, and give indexed colours that Rich does not convert again.

    Any mode is accepted: alpha is composited on black, grey and palette images become RGB.
    CPU-bound and free of UI state: run it in a worker thread.
    """
    if cols < 1 or rows < 1:
        raise ValueError(f"render_cells needs at least 1x1 cells, got {cols}x{rows}")
    if colors not in COLOR_MODES:
        raise ValueError(f"colors must be one of {', '.join(COLOR_MODES)}, got {colors!r}")
    small = _shrink_to_rgb(image, cols, rows * 2)
    cells: memoryview
    if colors == "truecolor":
        # Transposed, column c holds that column's pixels top to bottom, so the upper and lower
        # pixel of cell (c, r) are adjacent: 8 bytes of RGBX RGBX, read below as one integer.
        packed = small.transpose(Image.Transpose.TRANSPOSE).tobytes("raw", "RGBX")
        cells = memoryview(packed.translate(_QUANTISE_TABLE)).cast("Q")
        styles, make_style = _STYLES.styles, _STYLES.make
    else:
        # Dithered in the image's own orientation, then transposed as above: one byte per
        # pixel (its palette position), two per cell.
        palette = _PALETTES[colors]
        indexed = small.quantize(palette=palette.image, dither=_FLOYD_STEINBERG)
        cells = memoryview(indexed.transpose(Image.Transpose.TRANSPOSE).tobytes()).cast("H")
        styles, make_style = palette.styles, palette.make
    return CellImage(cols, rows, _strips(cells, cols, rows, styles, make_style), colors)


def _strips(
    cells: memoryview,
    cols: int,
    rows: int,
    styles: dict[int, Style],
    make_style: Callable[[int], Style],
) -> tuple[Strip, ...]:
    """One strip per row of cell keys (column-major in ``cells``), runs of a key merged."""
    half = HALF_BLOCK
    new_segment = Segment
    strips: list[Strip] = []
    for row in range(rows):
        line = cells[row::rows]  # cell keys of this row, left to right
        segments: list[Segment] = []
        append = segments.append
        run_key = line[0]
        run_start = 0
        for col, key in enumerate(line):
            if key != run_key:
                style = styles.get(run_key) or make_style(run_key)
                append(new_segment(half * (col - run_start), style))
                run_key = key
                run_start = col
        style = styles.get(run_key) or make_style(run_key)
        append(new_segment(half * (cols - run_start), style))
        strips.append(Strip(segments, cols))
    return tuple(strips)


def is_pixel_style(style: Style | None) -> bool:
    """True for a style ``render_cells`` made: a foreground and background colour, nothing else."""
    return type(style) is _PixelStyle


def warm_escape_codes(cell_image: CellImage, console: Console) -> None:
    """Build, off the UI thread, the escape codes the terminal driver will want for these cells.

    Textual turns a style into escape codes once and keeps them on the ``Style`` (``_ansi``,
    as ``Strip.render_ansi`` fills it in). A new preview frame brings thousands of new colour
    pairs, and building their codes in the driver costs the UI thread about 10 ms. Building
    them here, for the console's colour system, leaves the driver only lookups.

    A pixel style has a foreground and a background colour and no attributes, so its codes are
    those of its two colours, as ``Strip.render_ansi`` joins them (a test holds the two to the
    same output). They are built here rather than through ``render_ansi`` itself, whose
    16,384-entry memo would otherwise keep that many old pixel styles alive.
    """
    color_system = COLOR_SYSTEMS.get(console.color_system or "", ColorSystem.TRUECOLOR)
    pixel_style = _PixelStyle
    for strip in cell_image.strips:
        for segment in strip:
            style = segment.style
            if type(style) is pixel_style and style._ansi is None:
                color, bgcolor = style.color, style.bgcolor
                assert color is not None and bgcolor is not None  # how pixel styles are made
                style._ansi = ";".join(
                    (
                        *color.downgrade(color_system).get_ansi_codes(),
                        *bgcolor.downgrade(color_system).get_ansi_codes(False),
                    )
                )


class PixelFilter(LineFilter):
    """Textual's ANSI-to-truecolor filter, minus the work for pixel cells.

    The filter maps every segment's style through an LRU cache of 1,024 entries; a photo's few
    thousand colour pairs thrash it, which costs the UI thread about 8 ms per new frame, only
    to return each pixel style unchanged (their colours carry RGB, and they have no dim). This
    filter passes pixel styles through and sends every other segment (padding, a placeholder)
    through the wrapped filter, so what reaches the screen is exactly what the wrapped filter
    gives.
    """

    def __init__(self, inner: ANSIToTruecolor) -> None:
        super().__init__(enabled=inner.enabled)
        self.inner = inner

    def apply(self, segments: list[Segment], background: TextualColor) -> list[Segment]:
        pixel_style = _PixelStyle
        truecolor_style = self.inner.truecolor_style
        rich_background = background.rich_color
        return [
            segment
            if type(style := segment.style) is pixel_style
            else Segment(
                segment.text, None if style is None else truecolor_style(style, rich_background)
            )
            for segment in segments
        ]


_PIXEL_FILTERS: weakref.WeakKeyDictionary[ANSIToTruecolor, PixelFilter] = (
    weakref.WeakKeyDictionary()
)


def with_pixel_filter(filters: Sequence[LineFilter]) -> list[LineFilter]:
    """``filters`` (a widget's line filters) with the ANSI-to-truecolor one made a PixelFilter.

    For a widget that draws ``render_cells`` output, from its ``get_line_filters``. The same
    filter always gets the same wrapper, so Textual's per-strip filter caches keep working.
    """
    wrapped: list[LineFilter] = []
    for line_filter in filters:
        if isinstance(line_filter, ANSIToTruecolor):
            pixel_filter = _PIXEL_FILTERS.get(line_filter)
            if pixel_filter is None:
                pixel_filter = _PIXEL_FILTERS[line_filter] = PixelFilter(line_filter)
            line_filter = pixel_filter
        wrapped.append(line_filter)
    return wrapped


def render_fitted(
    image: Image.Image, max_cols: int, max_rows: int, *, colors: ColorMode = "truecolor"
) -> CellImage:
    """Render ``image`` at the largest size that fits ``max_cols x max_rows`` (see fit_cells)."""
    cols, rows = fit_cells(image.width, image.height, max_cols, max_rows)
    return render_cells(image, cols, rows, colors=colors)


def place_line(
    cell_image: CellImage | None, y: int, width: int, height: int, pad_style: Style
) -> Strip:
    """Line ``y`` of a ``width x height`` area showing ``cell_image`` centred.

    Cells larger than the area are cropped evenly on both sides; the rest of the area is
    blank cells in ``pad_style``. Only lookups and crops, so it is cheap enough for a widget's
    ``render_line``.
    """
    if width <= 0:
        return Strip([], 0)
    if cell_image is None:
        return Strip.blank(width, pad_style)
    row = y - (height - cell_image.rows) // 2
    if not 0 <= row < cell_image.rows:
        return Strip.blank(width, pad_style)
    strip = cell_image.strips[row]
    cols = cell_image.cols
    if cols >= width:
        start = (cols - width) // 2
        return strip.crop(start, start + width) if cols != width else strip
    left = (width - cols) // 2
    return strip.crop_pad(cols, left, width - cols - left, pad_style)


class RenderCache:
    """A small thread-safe LRU of rendered images keyed by ``(key, cols, rows, colors)``.

    ``key`` names the image (a history id, a path, a preview counter): the cache never looks
    at pixels, so a changed image needs a new key. ``colors`` is the cells' colour mode, so
    cells built for one kind of terminal are never shown on another.
    """

    def __init__(self, max_entries: int = 64) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Hashable, int, int, ColorMode], CellImage] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, key: Hashable, cols: int, rows: int, *, colors: ColorMode = "truecolor"
    ) -> CellImage | None:
        """The cells stored for this image, size and colour mode, or None; a hit becomes most
        recent."""
        entry_key = (key, cols, rows, colors)
        with self._lock:
            cell_image = self._entries.get(entry_key)
            if cell_image is not None:
                self._entries.move_to_end(entry_key)
            return cell_image

    def put(self, key: Hashable, cell_image: CellImage) -> None:
        """Store cells under ``(key, cols, rows, colors)`` of ``cell_image``, evicting the
        oldest."""
        entry_key = (key, cell_image.cols, cell_image.rows, cell_image.colors)
        with self._lock:
            self._entries[entry_key] = cell_image
            self._entries.move_to_end(entry_key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
