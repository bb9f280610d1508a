"""The labelled grid, laid out as the web UI's X/Y/Z plot draws it: white margins sized from the
cells, labels centred over columns and left of rows, sheets side by side under their own labels,
grey where an image is missing, scaled down to stay under the decode limit."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from sdtui.images.convert import check_decodable
from sdtui.images.grid import (
    BACKGROUND,
    MISSING_CELL,
    grid_layout,
    labelled_grid,
    labelled_grid_png,
    wrap_label,
)

RED = (220, 30, 30)
BLUE = (30, 30, 220)


def png_of(colour: tuple[int, ...], size: tuple[int, int] = (64, 64), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def dark_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels in `box` clearly darker than the white margin: drawn text."""
    found = image.crop(box).convert("L").getcolors(maxcolors=256) or []
    return sum(count for count, value in found if isinstance(value, int) and value < 128)


def colours(image: Image.Image, box: tuple[int, int, int, int]) -> set[tuple[int, ...]]:
    found = image.crop(box).getcolors(maxcolors=1 << 24) or []
    return {
        tuple(int(v) for v in value) if isinstance(value, tuple) else (int(value),)
        for _, value in found
    }


def inner(box: tuple[int, int, int, int], by: int = 2) -> tuple[int, int, int, int]:
    return box[0] + by, box[1] + by, box[2] - by, box[3] - by


def test_a_labelled_grid_is_its_margins_plus_its_cells() -> None:
    images = [png_of(RED), None, png_of(BLUE), png_of(RED)]
    x_labels, y_labels = ["CFG Scale: 5", "CFG Scale: 7"], ["Steps: 20", "Steps: 30"]
    grid = labelled_grid(images, 2, 2, x_labels, y_labels)
    layout = grid_layout([(64, 64)] * 4, 2, 2, x_labels, y_labels)
    assert layout.cell_width == layout.cell_height == 64 and layout.scale == 1
    assert layout.pad_left == 64 * 3 // 4  # the web UI's row-label margin
    assert layout.pad_top > 0 and layout.title_height == 0
    assert grid.size == (layout.pad_left + 2 * 64, layout.pad_top + 2 * 64)

    # the cells: their images, and grey where one is missing
    assert colours(grid, layout.cell_box(0, 0)) == {RED}
    assert colours(grid, layout.cell_box(1, 0)) == {MISSING_CELL}
    assert colours(grid, layout.cell_box(0, 1)) == {BLUE}
    assert colours(grid, layout.cell_box(1, 1)) == {RED}
    # the margins are white, with text over each column and left of each row
    corner = (0, 0, layout.pad_left, layout.pad_top)
    assert colours(grid, corner) == {BACKGROUND}
    for column in range(2):
        left, top, right, _ = layout.cell_box(column, 0)
        assert dark_pixels(grid, (left, 0, right, top)) > 10
    for row in range(2):
        _, top, _, bottom = layout.cell_box(0, row)
        assert dark_pixels(grid, (0, top, layout.pad_left, bottom)) > 10


def test_labels_are_centred_over_their_columns() -> None:
    grid = labelled_grid([png_of(RED)] * 2, 2, 1, ["Steps: 20", "Steps: 30"])
    layout = grid_layout([(64, 64)] * 2, 2, 1, ["Steps: 20", "Steps: 30"])
    for column in range(2):
        left, top, right, _ = layout.cell_box(column, 0)
        middle = (left + right) // 2
        left_ink = dark_pixels(grid, (left, 0, middle, top))
        right_ink = dark_pixels(grid, (middle, 0, right, top))
        assert left_ink and right_ink and 0.5 < left_ink / right_ink < 2


def test_without_labels_there_is_no_margin() -> None:
    grid = labelled_grid([png_of(RED)] * 6, 3, 2)
    assert grid.size == (3 * 64, 2 * 64)
    assert colours(grid, (0, 0, grid.width, grid.height)) == {RED}


def test_only_column_labels_leave_no_left_margin() -> None:
    layout = grid_layout([(64, 64)] * 3, 3, 1, ["a", "b", "c"], [""])
    assert layout.pad_left == 0 and layout.pad_top > 0
    layout = grid_layout([(64, 64)] * 3, 1, 3, [""], ["a", "b", "c"])
    assert layout.pad_top == 0 and layout.pad_left == 48


def test_the_font_is_sized_from_the_cells() -> None:
    small = grid_layout([(128, 128)], 1, 1, ["Steps: 20"], ["Euler a"])
    large = grid_layout([(512, 768)], 1, 1, ["Steps: 20"], ["Euler a"])
    assert small.x_labels.font_size == (128 + 128) // 25
    assert large.x_labels.font_size == (512 + 768) // 25
    assert large.pad_top > small.pad_top
    tiny = grid_layout([(16, 16)], 1, 1, ["x"])
    assert tiny.x_labels.font_size == 8  # still legible


def test_long_labels_wrap_to_the_column() -> None:
    long = "a very long checkpoint name that will not fit on one line.safetensors [abcdef1234]"
    layout = grid_layout([(128, 128)], 1, 1, [long])
    lines = layout.x_labels.lines[0]
    assert len(lines) > 2 and " ".join(lines) == long
    one = grid_layout([(128, 128)], 1, 1, ["short"])
    assert layout.pad_top > one.pad_top  # the margin grows with the lines


def test_wrap_label_breaks_a_word_too_long_for_any_line() -> None:
    from sdtui.images.grid import _font

    font = _font(12)
    lines = wrap_label("x" * 80 + " end", font, 60)
    assert all(font.getlength(line) <= 60 for line in lines)
    assert "".join(lines[:-1]) + lines[-1] == "x" * 80 + "end" or lines[-1] == "end"
    assert wrap_label("", font, 60) == []
    assert wrap_label("two words", font, 1000) == ["two words"]


def test_sheets_are_sub_grids_joined_under_their_labels() -> None:
    images = [png_of(RED), png_of(BLUE)] * 2 + [None, png_of(BLUE)] * 2
    x_labels, y_labels, z_labels = ["x1", "x2"], ["y1", "y2"], ["Seed: 1", "Seed: 2"]
    grid = labelled_grid(images, 2, 2, x_labels, y_labels, z_labels)
    layout = grid_layout([(64, 64)] * 8, 2, 2, x_labels, y_labels, z_labels)
    assert layout.sheets == 2 and layout.title_height > 0
    assert grid.size == (2 * layout.sub_width, layout.title_height + layout.sub_height)
    assert layout.sub_width == layout.pad_left + 2 * 64
    # the title font is sized from the sub-grid, as the web UI sizes it
    assert layout.z_labels.font_size == (layout.sub_width + layout.sub_height) // 25
    assert colours(grid, layout.cell_box(0, 0, 1)) == {MISSING_CELL}
    assert colours(grid, layout.cell_box(1, 1, 1)) == {BLUE}
    assert colours(grid, layout.cell_box(0, 1, 0)) == {RED}
    for sheet in range(2):
        left = sheet * layout.sub_width
        title = (left, 0, left + layout.sub_width, layout.title_height)
        assert dark_pixels(grid, title) > 20
        # each sheet repeats its own column and row labels
        cell_left, cell_top, cell_right, _ = layout.cell_box(0, 0, sheet)
        assert dark_pixels(grid, (cell_left, layout.title_height, cell_right, cell_top)) > 5
        assert dark_pixels(grid, (left, cell_top, cell_left, cell_top + 64)) > 5


def test_images_of_different_sizes_are_centred_in_the_largest_cell() -> None:
    images = [png_of(RED, (64, 96)), png_of(BLUE, (32, 32))]
    grid = labelled_grid(images, 2, 1)
    assert grid.size == (128, 96)
    assert colours(grid, (0, 0, 64, 96)) == {RED}
    assert colours(grid, (64 + 16, 32, 64 + 48, 64)) == {BLUE}
    assert colours(grid, (64, 0, 128, 30)) == {BACKGROUND}


def test_transparent_and_grey_images_are_drawn_on_white() -> None:
    grid = labelled_grid([png_of((0, 0, 0, 0), mode="RGBA"), png_of((90,), mode="L")], 2, 1)
    assert grid.mode == "RGB"
    assert colours(grid, (0, 0, 64, 64)) == {BACKGROUND}
    assert colours(grid, (64, 0, 128, 64)) == {(90, 90, 90)}


def test_bytes_that_are_not_an_image_are_a_missing_cell() -> None:
    truncated = png_of(BLUE)[:-20]
    grid = labelled_grid([png_of(RED), b"not an image", truncated], 3, 1)
    assert colours(grid, inner((64, 0, 128, 64))) == {MISSING_CELL}
    assert colours(grid, inner((128, 0, 192, 64))) == {MISSING_CELL}


def test_a_big_grid_is_scaled_down_under_the_pixel_limit() -> None:
    images = [png_of(RED, (256, 256)), png_of(BLUE, (256, 256))] * 8
    limit = 400_000
    labels = [f"CFG Scale: {i}" for i in range(4)]
    layout = grid_layout([(256, 256)] * 16, 4, 4, labels, labels, max_pixels=limit)
    assert layout.scale < 1 and layout.width * layout.height <= limit
    assert layout.cell_width < 256
    data = labelled_grid_png(images, 4, 4, labels, labels, max_pixels=limit)
    fmt, width, height = check_decodable(data)
    assert fmt == "png" and (width, height) == (layout.width, layout.height)
    with Image.open(io.BytesIO(data)) as grid:
        box = layout.cell_box(0, 0)
        assert colours(grid.convert("RGB"), inner(box, 3)) == {RED}
        assert colours(grid.convert("RGB"), inner(layout.cell_box(1, 3), 3)) == {BLUE}
    unscaled = grid_layout([(256, 256)] * 16, 4, 4, labels, labels)
    assert unscaled.scale == 1


def test_counts_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^3 images do not fill a grid of 2x2$"):
        grid_layout([(64, 64)] * 3, 2, 2)
    with pytest.raises(ValueError, match=r"^3 column labels for 2 columns$"):
        grid_layout([(64, 64)] * 2, 2, 1, ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"^no image to make a grid of"):
        grid_layout([None, None], 2, 1)


def test_the_png_has_no_text_chunks_to_splice_around() -> None:
    from sdtui.images.png import read_text_chunks

    data = labelled_grid_png([png_of(RED)], 1, 1, ["a"])
    assert read_text_chunks(data) == {}


def test_control_characters_in_labels_are_not_drawn() -> None:
    layout = grid_layout([(128, 128)], 1, 1, ["model\x1b]0;title\x07 name\r\n"])
    assert layout.x_labels.lines[0] == ("model name",)
