"""Labelled image grids, laid out as the web UI's X/Y/Z plot draws them.

The geometry follows the web UI's `draw_grid_annotations`: a white margin, the column labels
centred over their columns, the row labels in a margin three quarters of a cell wide on the left,
a font sized from the cell ((width + height) / 25), each label wrapped to the room it has. With
several sheets (the Z axis), each sheet is a sub-grid; the sub-grids are joined side by side with
their labels on top, in a font sized from the sub-grid. A missing cell (a job that failed) is grey.

Cells are read from their headers first, so the layout is known before any pixel is decoded; a
grid that would exceed the decode limit (:data:`MAX_IMAGE_PIXELS`, so sdtui can open it again)
has its cells scaled down until it fits. Images are decoded one at a time and pasted straight into
the grid: memory holds the grid and one image, not every image of a large sweep.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from sdtui.images.convert import MAX_IMAGE_PIXELS, check_decodable, image_size
from sdtui.images.png import ImageDataError
from sdtui.text import strip_control

__all__ = [
    "BACKGROUND",
    "MISSING_CELL",
    "TEXT_COLOUR",
    "GridLayout",
    "WrappedLabels",
    "grid_layout",
    "labelled_grid",
    "labelled_grid_png",
    "wrap_label",
]

BACKGROUND = (255, 255, 255)
MISSING_CELL = (128, 128, 128)
TEXT_COLOUR = (0, 0, 0)
#: The smallest font drawn, however small the cells (the web UI's rule gives 5 px for 64 px cells).
MIN_FONT_SIZE = 8

_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
_Size = tuple[int, int]
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError)


@functools.lru_cache(maxsize=16)
def _font(size: int) -> _Font:
    # Pillow's own scalable font (no font file shipped); a bitmap font where FreeType is missing.
    return ImageFont.load_default(size=size)


def _text_width(font: _Font, text: str) -> float:
    return float(font.getlength(text)) if text else 0.0


def _line_height(font: _Font) -> int:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return int(ascent + descent)
    box = font.getbbox("Ag")
    return int(box[3] - box[1])


def _break_word(word: str, font: _Font, width: float) -> list[str]:
    """A word too long for a line, cut into pieces that fit (at least one character each)."""
    pieces: list[str] = []
    piece = ""
    for char in word:
        if piece and _text_width(font, piece + char) > width:
            pieces.append(piece)
            piece = char
        else:
            piece += char
    if piece:
        pieces.append(piece)
    return pieces


def wrap_label(text: str, font: _Font, width: float) -> list[str]:
    """`text` in lines no wider than `width` (words kept whole where one fits on a line)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if _text_width(font, candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        if _text_width(font, word) <= width:
            line = word
        else:
            *whole, line = _break_word(word, font, width)
            lines += whole
    if line:
        lines.append(line)
    return lines


@dataclass(frozen=True)
class WrappedLabels:
    """Labels wrapped for one font and width."""

    font_size: int
    line_height: int
    spacing: int
    lines: tuple[tuple[str, ...], ...]

    def block_height(self, index: int) -> int:
        count = len(self.lines[index])
        return count * self.line_height + max(0, count - 1) * self.spacing if count else 0

    @property
    def tallest(self) -> int:
        return max((self.block_height(i) for i in range(len(self.lines))), default=0)


def _wrap_all(texts: Sequence[str], font_size: int, width: float) -> WrappedLabels:
    font = _font(font_size)
    return WrappedLabels(
        font_size=font_size,
        line_height=_line_height(font),
        spacing=font_size // 2,
        lines=tuple(
            tuple(wrap_label(strip_control(t, keep_newlines=False), font, max(1.0, width)))
            for t in texts
        ),
    )


@dataclass(frozen=True)
class GridLayout:
    """Where everything goes in a grid of `sheets` sub-grids of `columns` x `rows` cells."""

    columns: int
    rows: int
    sheets: int
    cell_width: int
    cell_height: int
    scale: float  # how much the cells were scaled down to stay under the pixel limit (1 = not)
    pad_left: int  # the row labels' margin in each sub-grid (0 without row labels)
    pad_top: int  # the column labels' margin in each sub-grid (0 without column labels)
    title_height: int  # the sheet labels' margin above the sub-grids (0 with one sheet)
    x_labels: WrappedLabels
    y_labels: WrappedLabels
    z_labels: WrappedLabels

    @property
    def sub_width(self) -> int:
        return self.pad_left + self.columns * self.cell_width

    @property
    def sub_height(self) -> int:
        return self.pad_top + self.rows * self.cell_height

    @property
    def width(self) -> int:
        return self.sheets * self.sub_width

    @property
    def height(self) -> int:
        return self.title_height + self.sub_height

    def cell_box(self, column: int, row: int, sheet: int = 0) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of one cell in the whole grid."""
        left = sheet * self.sub_width + self.pad_left + column * self.cell_width
        top = self.title_height + self.pad_top + row * self.cell_height
        return left, top, left + self.cell_width, top + self.cell_height


def _layout_at(
    cell: _Size,
    shape: tuple[int, int, int],
    labels: tuple[Sequence[str], Sequence[str], Sequence[str]],
    scale: float,
) -> GridLayout:
    columns, rows, sheets = shape
    x_texts, y_texts, z_texts = labels
    width = max(1, round(cell[0] * scale))
    height = max(1, round(cell[1] * scale))
    font_size = max(MIN_FONT_SIZE, (width + height) // 25)
    has_y = any(t.strip() for t in y_texts)
    pad_left = width * 3 // 4 if has_y else 0
    x_labels = _wrap_all(x_texts, font_size, width - font_size // 2)
    y_labels = _wrap_all(y_texts, font_size, pad_left - font_size // 2)
    pad_top = x_labels.tallest + 2 * x_labels.spacing if x_labels.tallest else 0
    sub_width = pad_left + columns * width
    sub_height = pad_top + rows * height
    if sheets > 1:
        title_size = max(MIN_FONT_SIZE, (sub_width + sub_height) // 25)
        z_labels = _wrap_all(z_texts, title_size, sub_width - title_size // 2)
        title_height = z_labels.tallest + 2 * z_labels.spacing if z_labels.tallest else 0
    else:
        z_labels = _wrap_all((), font_size, 1)
        title_height = 0
    return GridLayout(
        columns=columns,
        rows=rows,
        sheets=sheets,
        cell_width=width,
        cell_height=height,
        scale=scale,
        pad_left=pad_left,
        pad_top=pad_top,
        title_height=title_height,
        x_labels=x_labels,
        y_labels=y_labels,
        z_labels=z_labels,
    )


def _padded(texts: Sequence[str], count: int, what: str) -> list[str]:
    if texts and len(texts) != count:
        raise ValueError(f"{len(texts)} {what} labels for {count} {what}s")
    return [*texts] if texts else [""] * count


def grid_layout(
    sizes: Sequence[_Size | None],
    columns: int,
    rows: int,
    x_labels: Sequence[str] = (),
    y_labels: Sequence[str] = (),
    z_labels: Sequence[str] = (),
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> GridLayout:
    """The layout for cells of these sizes (None: missing), `columns` fastest, then rows, then
    sheets. Cells take the largest width and height among them; the whole is scaled down to at
    most `max_pixels`. ValueError when no cell has a size or the counts do not add up."""
    if columns < 1 or rows < 1 or not sizes or len(sizes) % (columns * rows):
        raise ValueError(f"{len(sizes)} images do not fill a grid of {columns}x{rows}")
    sheets = len(sizes) // (columns * rows)
    present = [s for s in sizes if s is not None]
    if not present:
        raise ValueError("no image to make a grid of: every cell is missing")
    cell = (max(w for w, _ in present), max(h for _, h in present))
    labels = (
        _padded(x_labels, columns, "column"),
        _padded(y_labels, rows, "row"),
        _padded(z_labels, sheets, "sheet"),
    )
    scale = 1.0
    layout = _layout_at(cell, (columns, rows, sheets), labels, scale)
    for _ in range(40):  # labels shrink with the cells, so a few steps always get under the limit
        pixels = layout.width * layout.height
        if pixels <= max_pixels or (layout.cell_width == 1 and layout.cell_height == 1):
            break
        scale *= math.sqrt(max_pixels / pixels) * 0.995
        layout = _layout_at(cell, (columns, rows, sheets), labels, scale)
    if layout.width * layout.height > max_pixels:
        raise ValueError(f"a grid of {len(sizes)} cells cannot fit in {max_pixels} pixels")
    return layout


def _draw_block(
    draw: ImageDraw.ImageDraw, labels: WrappedLabels, index: int, centre_x: float, top: float
) -> None:
    font = _font(labels.font_size)
    y = top
    for line in labels.lines[index]:
        x = centre_x - _text_width(font, line) / 2
        draw.text((x, y), line, font=font, fill=TEXT_COLOUR)
        y += labels.line_height + labels.spacing


def _draw_labels(draw: ImageDraw.ImageDraw, layout: GridLayout) -> None:
    for sheet in range(layout.sheets):
        origin_x = sheet * layout.sub_width
        origin_y = layout.title_height
        if layout.title_height:
            centre = origin_x + layout.sub_width / 2
            top = (layout.title_height - layout.z_labels.block_height(sheet)) / 2
            _draw_block(draw, layout.z_labels, sheet, centre, top)
        if layout.pad_top:
            for column in range(layout.columns):
                centre = origin_x + layout.pad_left + (column + 0.5) * layout.cell_width
                top = origin_y + (layout.pad_top - layout.x_labels.block_height(column)) / 2
                _draw_block(draw, layout.x_labels, column, centre, top)
        if layout.pad_left:
            for row in range(layout.rows):
                middle = origin_y + layout.pad_top + (row + 0.5) * layout.cell_height
                top = middle - layout.y_labels.block_height(row) / 2
                _draw_block(draw, layout.y_labels, row, origin_x + layout.pad_left / 2, top)


def _header_size(data: bytes | None) -> _Size | None:
    if data is None:
        return None
    try:
        width, height = image_size(data)
    except (ImageDataError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def _decode(data: bytes) -> Image.Image | None:
    """The image as RGB, or None for bytes that do not decode (drawn as a missing cell)."""
    try:
        check_decodable(data)
        with Image.open(BytesIO(data)) as image:
            image.load()
            if image.mode == "RGB":
                return image.copy()
            if "A" in image.mode or "transparency" in image.info:
                flat = Image.new("RGB", image.size, BACKGROUND)
                flat.paste(image.convert("RGBA"), mask=image.convert("RGBA"))
                return flat
            return image.convert("RGB")
    except (ImageDataError, Image.DecompressionBombError, *_DECODE_ERRORS):
        return None


def labelled_grid(
    images: Sequence[bytes | None],
    columns: int,
    rows: int,
    x_labels: Sequence[str] = (),
    y_labels: Sequence[str] = (),
    z_labels: Sequence[str] = (),
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> Image.Image:
    """The grid of `images` (encoded PNG/JPEG/WebP bytes, None for a missing cell), `columns`
    fastest, then rows, then sheets, with their labels. ValueError as for :func:`grid_layout`."""
    sizes = [_header_size(data) for data in images]
    layout = grid_layout(sizes, columns, rows, x_labels, y_labels, z_labels, max_pixels=max_pixels)
    canvas = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    per_sheet = columns * rows
    for index, data in enumerate(images):
        sheet, rest = divmod(index, per_sheet)
        row, column = divmod(rest, columns)
        box = layout.cell_box(column, row, sheet)
        picture = _decode(data) if data is not None and sizes[index] else None
        if picture is None:
            draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=MISSING_CELL)
            continue
        if layout.scale < 1:
            size = (
                max(1, round(picture.width * layout.scale)),
                max(1, round(picture.height * layout.scale)),
            )
            picture = picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        left = box[0] + (layout.cell_width - picture.width) // 2
        top = box[1] + (layout.cell_height - picture.height) // 2
        canvas.paste(picture, (left, top))
        picture.close()
    _draw_labels(draw, layout)
    return canvas


def labelled_grid_png(
    images: Sequence[bytes | None],
    columns: int,
    rows: int,
    x_labels: Sequence[str] = (),
    y_labels: Sequence[str] = (),
    z_labels: Sequence[str] = (),
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> bytes:
    """:func:`labelled_grid`, encoded as PNG (no text chunks: splice the infotext in after)."""
    grid = labelled_grid(images, columns, rows, x_labels, y_labels, z_labels, max_pixels=max_pixels)
    out = BytesIO()
    grid.save(out, "PNG", compress_level=6)
    return out.getvalue()
