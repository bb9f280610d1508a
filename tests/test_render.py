"""Tests for sdtui.render: fitting, half-block cells, colour averaging, the caches."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat
from rich.color import ColorSystem, ColorType
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.terminal_theme import MONOKAI
from textual.color import Color
from textual.filter import ANSIToTruecolor, Monochrome
from textual.strip import Strip

from sdtui.render import (
    COLOR_MODES,
    HALF_BLOCK,
    CellImage,
    ColorMode,
    PixelFilter,
    RenderCache,
    color_mode,
    fit_cells,
    is_pixel_style,
    place_line,
    quantise_level,
    render_cells,
    render_fitted,
    truecolor_hint,
    warm_escape_codes,
    with_pixel_filter,
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def cell_colours(cell_image: CellImage) -> list[list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """(fg, bg) RGB triplets of every cell, row by row, with runs expanded to single cells."""
    rows = []
    for strip in cell_image.strips:
        row = []
        for segment in strip:
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            fg = tuple(style.color.get_truecolor())
            bg = tuple(style.bgcolor.get_truecolor())
            assert set(segment.text) == {HALF_BLOCK}
            row.extend([(fg, bg)] * len(segment.text))
        rows.append(row)
    return rows


# fit_cells -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "limits", "expected"),
    [
        ((512, 512), (40, 20), (40, 20)),  # square: 40 x 40 pixels fills the area exactly
        ((512, 512), (80, 20), (40, 20)),  # square in a wide area: height limits
        ((512, 512), (40, 80), (40, 20)),  # square in a tall area: width limits
        ((1024, 256), (80, 40), (80, 10)),  # wide 4:1 → 80 x 20 pixels
        ((256, 1024), (80, 40), (20, 40)),  # tall 1:4 → 20 x 80 pixels
        ((768, 512), (100, 100), (100, 33)),  # 3:2 → 100 x 66.7 pixels, rounded
        ((16, 16), (200, 50), (100, 50)),  # small images scale up to fill
    ],
)
def test_fit_cells_keeps_aspect(
    size: tuple[int, int], limits: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert fit_cells(*size, *limits) == expected


def test_fit_cells_never_exceeds_limits_and_keeps_ratio_closely() -> None:
    for w, h in [(1, 1000), (1000, 1), (640, 480), (333, 777), (1920, 1080)]:
        for max_cols, max_rows in [(1, 1), (7, 3), (80, 24), (161, 47)]:
            cols, rows = fit_cells(w, h, max_cols, max_rows)
            assert 1 <= cols <= max_cols and 1 <= rows <= max_rows
            # One side is at its limit unless the other side is already at the 1-cell floor.
            assert cols == max_cols or rows == max_rows or cols == 1 or rows == 1


def test_fit_cells_tiny_and_degenerate_inputs_give_at_least_one_cell() -> None:
    assert fit_cells(1, 1, 1, 1) == (1, 1)
    assert fit_cells(10_000, 1, 80, 40) == (80, 1)  # would round to 0 rows
    assert fit_cells(1, 10_000, 80, 40) == (1, 40)  # would round to 0 cols
    assert fit_cells(512, 512, 0, 0) == (1, 1)
    assert fit_cells(0, 0, 10, 10) == (10, 5)  # no size known: treated as 1x1 pixels


# render_cells --------------------------------------------------------------------------------


def test_render_cells_has_exact_size_and_every_strip_is_cols_wide() -> None:
    image = Image.linear_gradient("L").convert("RGB")
    for cols, rows in [(1, 1), (7, 3), (80, 40), (33, 17)]:
        cells = render_cells(image, cols, rows)
        assert (cells.cols, cells.rows) == (cols, rows)
        assert len(cells.strips) == rows
        for strip in cells.strips:
            assert isinstance(strip, Strip)
            assert strip.cell_length == cols
            assert sum(len(segment.text) for segment in strip) == cols
            assert strip.text == HALF_BLOCK * cols


def test_render_cells_rejects_empty_size() -> None:
    with pytest.raises(ValueError):
        render_cells(Image.new("RGB", (4, 4)), 0, 3)


def test_solid_image_gives_the_same_colours_everywhere_in_one_segment_per_row() -> None:
    colour = (200, 120, 40)
    expected = tuple(quantise_level(level) for level in colour)
    cells = render_cells(Image.new("RGB", (300, 200), colour), 30, 10)
    for strip in cells.strips:
        assert len(strip) == 1  # merged into one run
    for row in cell_colours(cells):
        assert set(row) == {(expected, expected)}


def test_top_half_red_bottom_half_blue_gives_red_foreground_blue_background() -> None:
    image = Image.new("RGB", (1, 2))
    image.putpixel((0, 0), RED)
    image.putpixel((0, 1), BLUE)
    cells = render_cells(image, 1, 1)
    assert cell_colours(cells) == [[(RED, BLUE)]]


def test_rows_map_to_pixel_pairs_and_columns_left_to_right() -> None:
    """A 3x4 image at its own size: cell (c, r) shows pixels (c, 2r) over (c, 2r + 1)."""
    palette = [
        (0, 0, 0),
        (255, 255, 255),
        (255, 0, 0),
        (0, 255, 0),
        (0, 0, 255),
        (255, 255, 0),
    ]
    image = Image.new("RGB", (3, 4))
    for y in range(4):
        for x in range(3):
            image.putpixel((x, y), palette[(x + 2 * y) % len(palette)])
    colours = cell_colours(render_cells(image, 3, 2))
    for r in range(2):
        for c in range(3):
            top = palette[(c + 4 * r) % len(palette)]
            bottom = palette[(c + 4 * r + 2) % len(palette)]
            assert colours[r][c] == (top, bottom)


def test_downscale_averages_instead_of_picking_a_pixel() -> None:
    """2x2 black/white checkerboard in one cell: each half is the grey mean, not 0 or 255."""
    image = Image.new("RGB", (2, 2))
    image.putpixel((0, 0), (0, 0, 0))
    image.putpixel((1, 0), (255, 255, 255))
    image.putpixel((0, 1), (255, 255, 255))
    image.putpixel((1, 1), (0, 0, 0))
    ((fg, bg),) = cell_colours(render_cells(image, 1, 1))[0]
    for level in (*fg, *bg):
        assert abs(level - 127.5) <= 5  # 5-bit rounding moves it by at most ~4


def test_downscale_of_large_checkerboard_is_flat_grey() -> None:
    """Pixel-sized noise averages out; nearest-neighbour would show black and white cells."""
    image = Image.new("L", (64, 64))
    image.putdata([255 * ((x + y) % 2) for y in range(64) for x in range(64)])
    colours = cell_colours(render_cells(image, 8, 4))
    levels = {level for row in colours for fg, bg in row for level in (*fg, *bg)}
    assert len(levels) == 1
    assert abs(levels.pop() - 127.5) <= 5


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "I;16", "1", "RGBX", "YCbCr"])
def test_any_mode_is_converted_to_rgb(mode: str) -> None:
    if mode == "I;16":
        image = Image.new(mode, (20, 20), 0)
    else:
        image = Image.new("RGB", (20, 20), (0, 0, 0)).convert(mode)
    cells = render_cells(image, 5, 5)
    assert cell_colours(cells)[0][0] == ((0, 0, 0), (0, 0, 0))


def test_grey_image_stays_grey() -> None:
    cells = render_cells(Image.new("L", (10, 10), 255), 2, 2)
    assert set(cell_colours(cells)[1]) == {((255, 255, 255), (255, 255, 255))}


def test_alpha_is_composited_on_black() -> None:
    image = Image.new("RGBA", (2, 2), (255, 0, 0, 255))
    image.putpixel((0, 1), (0, 255, 0, 0))  # fully transparent green must not show
    image.putpixel((1, 1), (0, 0, 255, 0))
    ((fg, bg),) = cell_colours(render_cells(image, 1, 1))[0]
    assert fg == RED
    assert bg == (0, 0, 0)


def test_half_transparent_white_is_mid_grey() -> None:
    image = Image.new("LA", (4, 4), (255, 128))
    ((fg, bg),) = cell_colours(render_cells(image, 1, 1))[0]
    assert fg == bg
    assert all(abs(level - 128) <= 5 for level in fg)


def test_palette_image_with_transparency_is_composited() -> None:
    image = Image.new("P", (2, 2), 1)
    image.putpalette([0, 0, 0, 255, 255, 255])
    image.info["transparency"] = 1  # index 1 (white) is transparent
    ((fg, bg),) = cell_colours(render_cells(image, 1, 1))[0]
    assert fg == bg == (0, 0, 0)


def test_quantise_level_is_within_half_a_step_and_keeps_the_ends() -> None:
    assert quantise_level(0) == 0
    assert quantise_level(255) == 255
    step = 255 / 31
    for level in range(256):
        assert abs(quantise_level(level) - level) <= step / 2
    assert len({quantise_level(level) for level in range(256)}) == 32


def test_styles_are_reused_across_renders() -> None:
    image = Image.new("RGB", (8, 8), (10, 200, 30))
    first = render_cells(image, 4, 2)
    second = render_cells(image, 6, 3)
    assert next(iter(first.strips[0])).style is next(iter(second.strips[2])).style


def test_render_fitted_fits_then_renders() -> None:
    cells = render_fitted(Image.new("RGB", (1024, 512), RED), 40, 40)
    assert (cells.cols, cells.rows) == (40, 10)
    assert len(cells.strips) == 10


# place_line ----------------------------------------------------------------------------------

PAD = Style(bgcolor="#123456")


def test_place_line_centres_small_cells_with_padding() -> None:
    cells = render_cells(Image.new("RGB", (4, 4), RED), 4, 2)
    lines = [place_line(cells, y, 10, 6, PAD) for y in range(6)]
    assert [line.cell_length for line in lines] == [10] * 6
    assert [line.text for line in lines] == [" " * 10] * 2 + ["   ▀▀▀▀   "] * 2 + [" " * 10] * 2
    segments: list[Segment] = list(lines[2])
    assert segments[0].style == PAD and segments[-1].style == PAD


def test_place_line_crops_large_cells_evenly() -> None:
    image = Image.new("RGB", (10, 4))
    for x in range(10):
        for y in range(4):
            image.putpixel((x, y), (x * 25, 0, 0))
    cells = render_cells(image, 10, 2)
    line = place_line(cells, 0, 4, 1, PAD)
    assert line.cell_length == 4
    assert [colour[0][0] for colour in cell_colours(CellImage(4, 1, (line,)))[0]] == [
        quantise_level(x * 25) for x in range(3, 7)
    ]
    assert place_line(cells, 0, 0, 1, PAD).cell_length == 0
    assert place_line(None, 0, 5, 1, PAD).text == " " * 5


# RenderCache ---------------------------------------------------------------------------------


def _cells(cols: int, rows: int) -> CellImage:
    return CellImage(cols, rows, tuple(Strip.blank(cols) for _ in range(rows)))


def test_cache_hit_is_keyed_by_image_and_size() -> None:
    cache = RenderCache(max_entries=4)
    small, big = _cells(2, 1), _cells(4, 2)
    cache.put("a", small)
    cache.put("a", big)
    assert cache.get("a", 2, 1) is small
    assert cache.get("a", 4, 2) is big
    assert cache.get("a", 3, 1) is None
    assert cache.get("b", 2, 1) is None
    assert len(cache) == 2


def test_cache_evicts_least_recently_used() -> None:
    cache = RenderCache(max_entries=2)
    one, two, three = _cells(1, 1), _cells(2, 1), _cells(3, 1)
    cache.put("one", one)
    cache.put("two", two)
    assert cache.get("one", 1, 1) is one  # "one" is now the most recent
    cache.put("three", three)  # evicts "two"
    assert cache.get("two", 2, 1) is None
    assert cache.get("one", 1, 1) is one
    assert cache.get("three", 3, 1) is three
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0


def test_cache_keeps_colour_modes_apart() -> None:
    """Cells for a 256-colour terminal are never handed out for a truecolor one, nor back."""
    cache = RenderCache(max_entries=4)
    image = gradient(8, 8)
    truecolor = render_cells(image, 4, 2)
    indexed = render_cells(image, 4, 2, colors="256")
    cache.put("a", truecolor)
    assert cache.get("a", 4, 2, colors="256") is None
    assert cache.get("a", 4, 2, colors="standard") is None
    cache.put("a", indexed)
    assert cache.get("a", 4, 2) is truecolor  # truecolor is the default mode
    assert cache.get("a", 4, 2, colors="truecolor") is truecolor
    assert cache.get("a", 4, 2, colors="256") is indexed
    assert len(cache) == 2


def test_cache_rejects_zero_capacity() -> None:
    with pytest.raises(ValueError):
        RenderCache(max_entries=0)


# What the UI thread is spared: filtering and escape codes -------------------------------------


def gradient(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            (x * 7 % 256, y * 11 % 256, (x + y) * 5 % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def test_pixel_filter_passes_pixels_through_and_converts_everything_else() -> None:
    inner = ANSIToTruecolor(MONOKAI)
    pixel_filter = PixelFilter(inner)
    cells = render_cells(gradient(12, 8), 12, 4)
    pixels = list(cells.strips[0])
    assert all(is_pixel_style(s.style) for s in pixels)
    ansi = Segment("x", Style(color="red", bgcolor="blue"))  # ANSI colours: need converting
    plain = Segment("y", None)
    background = Color(10, 20, 30)

    out = pixel_filter.apply([*pixels, ansi, plain], background)

    assert out[: len(pixels)] == pixels
    assert all(a is b for a, b in zip(out, pixels, strict=False))  # the very same segments
    expected = inner.apply([ansi, plain], background)
    assert out[len(pixels) :] == expected
    assert out[-2].style is not None and out[-2].style.color is not None
    assert out[-2].style.color.triplet is not None  # now truecolor, as the inner filter does


def test_styles_derived_from_pixel_styles_are_ordinary_styles() -> None:
    style = next(iter(render_cells(gradient(4, 4), 4, 2).strips[0])).style
    assert style is not None and is_pixel_style(style)
    assert not is_pixel_style(style + Style(dim=True))  # a dim pixel must be filtered again
    assert not is_pixel_style(style.copy())
    assert not is_pixel_style(None) and not is_pixel_style(Style(color="red"))


def test_with_pixel_filter_wraps_only_the_truecolor_filter_and_always_the_same_way() -> None:
    truecolor, mono = ANSIToTruecolor(MONOKAI), Monochrome()
    wrapped = with_pixel_filter([truecolor, mono])
    assert isinstance(wrapped[0], PixelFilter) and wrapped[0].inner is truecolor
    assert wrapped[1] is mono  # NO_COLOR still greys pixels out
    assert with_pixel_filter([truecolor])[0] is wrapped[0]  # Textual caches filtered strips by it


@pytest.mark.parametrize(
    ("color_system", "code"), [("truecolor", "38;2;"), ("256", "38;5;"), ("standard", "3")]
)
def test_warm_escape_codes_leaves_what_the_driver_would_build(color_system: str, code: str) -> None:
    # Colours no other test (or case) uses: a style keeps the codes it was first given.
    base = {"truecolor": 0, "256": 64, "standard": 128}[color_system]
    image = Image.new("RGB", (16, 16))
    image.putdata(
        [(base + (x * 16 + y) % 60, 8, 200 - x - y) for y in range(16) for x in range(16)]
    )
    cells = render_cells(image, 16, 8)
    console = Console(file=io.StringIO(), color_system=color_system, force_terminal=True)  # type: ignore[arg-type]
    styles = [s.style for strip in cells.strips for s in strip if s.style is not None]
    fresh = [Strip([Segment(HALF_BLOCK, s)], 1) for s in styles]

    memo = Strip.render_ansi.cache_info().currsize  # type: ignore[attr-defined]
    warm_escape_codes(cells, console)
    # Nothing added to Textual's memo of codes, which would keep old pixel styles alive.
    assert Strip.render_ansi.cache_info().currsize == memo  # type: ignore[attr-defined]

    # The styles now carry their codes (Textual reads them instead of building them), and
    # they are the codes Textual builds for this console's colour system.
    expected = [Strip.render_ansi(style.copy(), console._color_system) for style in styles]  # type: ignore[arg-type]
    assert [style._ansi for style in styles] == expected
    assert all(code in ansi for ansi in expected)
    assert [strip.render(console) for strip in fresh] == [
        f"\x1b[{ansi}m{HALF_BLOCK}\x1b[0m" for ansi in expected
    ]


# Colour modes: dithering to the 256 and 16 colour palettes --------------------------------------


def golden_image() -> Image.Image:
    image = Image.new("RGB", (120, 90))
    image.putdata(
        [
            ((x // 8) * 17 % 256, (y * 3) % 256, (x * y // 40) % 256)
            for y in range(90)
            for x in range(120)
        ]
    )
    return image


def test_truecolor_cells_are_what_they_were_before_colour_modes() -> None:
    """Segments and colours of a fixed image, as the renderer built them before it had colour
    modes (the digest was taken from that version): truecolor output must not move."""
    digest = "cf3399013655eac6d7c6f4870cfb5bbae60943a4bc0fcfbbdf61851a8415d402"
    for cells in (
        render_cells(golden_image(), 37, 14),
        render_cells(golden_image(), 37, 14, colors="truecolor"),
    ):
        assert cells.colors == "truecolor"
        lines = []
        for strip in cells.strips:
            runs = []
            for segment in strip:
                style = segment.style
                assert style is not None and style.color is not None and style.bgcolor is not None
                assert style.color.type is style.bgcolor.type is ColorType.TRUECOLOR
                runs.append(f"{len(segment.text)}:{style.color.name}/{style.bgcolor.name}")
            lines.append(" ".join(runs))
        assert hashlib.sha256("\n".join(lines).encode()).hexdigest() == digest


def smooth_gradient() -> Image.Image:
    """A sky-like gradient: saturated throughout, so no colour takes Rich's grey shortcut."""
    size = 256
    image = Image.new("RGB", (size, size))
    image.putdata(
        [(30 + x * 160 // size, 60 + y * 80 // size, 170) for y in range(size) for x in range(size)]
    )
    return image


def pixels_of(cells: CellImage, system: ColorSystem | None = None) -> Image.Image:
    """The cells as the ``cols x 2*rows`` pixels a terminal shows, through Rich's downgrade to
    ``system`` when given (what a 256-colour terminal gets from truecolor cells)."""
    image = Image.new("RGB", (cells.cols, cells.rows * 2))
    for row, line in enumerate(cell_colours_as(cells, system)):
        for col, (fg, bg) in enumerate(line):
            image.putpixel((col, 2 * row), fg)
            image.putpixel((col, 2 * row + 1), bg)
    return image


RGB = tuple[int, int, int]


def cell_colours_as(cells: CellImage, system: ColorSystem | None) -> list[list[tuple[RGB, RGB]]]:
    """(fg, bg) of every cell, as Rich would write them for ``system`` (as they are for None)."""
    rows = []
    for strip in cells.strips:
        row: list[tuple[RGB, RGB]] = []
        for segment in strip:
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            fg, bg = style.color, style.bgcolor
            if system is not None:
                fg, bg = fg.downgrade(system), bg.downgrade(system)
            (r1, g1, b1), (r2, g2, b2) = fg.get_truecolor(), bg.get_truecolor()
            row.extend([((r1, g1, b1), (r2, g2, b2))] * len(segment.text))
        rows.append(row)
    return rows


def palette_numbers(cells: CellImage, system: ColorSystem | None = None) -> set[int]:
    numbers = set()
    for strip in cells.strips:
        for segment in strip:
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            for color in (style.color, style.bgcolor):
                color = color.downgrade(system) if system is not None else color
                assert color.number is not None
                numbers.add(color.number)
    return numbers


def blurred_error(shown: Image.Image, reference: Image.Image) -> float:
    """Mean error per channel (of 255) after a small blur of both: what the eye sees."""
    blur = ImageFilter.GaussianBlur(1.5)
    diff = ImageChops.difference(shown.filter(blur), reference.filter(blur))
    return sum(ImageStat.Stat(diff).mean) / 3


def test_a_gradient_dithered_to_256_colours_keeps_its_shades() -> None:
    image = smooth_gradient()
    cols, rows = 64, 32
    reference = image.resize((cols, rows * 2), Image.Resampling.BOX)
    dithered = render_cells(image, cols, rows, colors="256")
    # What a 256-colour terminal showed before: Rich's nearest colour for every truecolor cell.
    truecolor = render_cells(image, cols, rows)

    used, nearest = palette_numbers(dithered), palette_numbers(truecolor, ColorSystem.EIGHT_BIT)
    assert len(used) >= 2 * len(nearest)  # shades in between, not a few flat bands

    dithered_error = blurred_error(pixels_of(dithered), reference)
    nearest_error = blurred_error(pixels_of(truecolor, ColorSystem.EIGHT_BIT), reference)
    assert dithered_error < nearest_error / 3
    assert dithered_error < 3.0


def test_16_colour_dithering_also_keeps_the_average() -> None:
    image = smooth_gradient()
    reference = image.resize((64, 64), Image.Resampling.BOX)
    dithered = render_cells(image, 64, 32, colors="standard")
    nearest = pixels_of(render_cells(image, 64, 32), ColorSystem.STANDARD)
    assert blurred_error(pixels_of(dithered), reference) < blurred_error(nearest, reference) / 2


@pytest.mark.parametrize(
    ("colors", "system", "numbers", "color_type"),
    [
        ("256", ColorSystem.EIGHT_BIT, range(16, 256), ColorType.EIGHT_BIT),
        ("standard", ColorSystem.STANDARD, range(16), ColorType.STANDARD),
    ],
)
def test_palette_cells_are_indexed_colours_rich_writes_as_they_are(
    colors: ColorMode, system: ColorSystem, numbers: range, color_type: ColorType
) -> None:
    cells = render_cells(smooth_gradient(), 48, 24, colors=colors)
    assert cells.colors == colors
    styles = [segment.style for strip in cells.strips for segment in strip]
    assert len(palette_numbers(cells)) > 4
    console = Console(file=io.StringIO(), color_system=colors, force_terminal=True)
    assert console._color_system is system
    inner = ANSIToTruecolor(MONOKAI)
    for style in styles:
        assert style is not None and is_pixel_style(style)
        for color in (style.color, style.bgcolor):
            assert color is not None and color.type is color_type
            assert color.number in numbers  # 256: never 0-15, whose RGB is the user's theme
            assert color.downgrade(system) is color  # no second, nearest-colour, downgrade
            assert color.downgrade(ColorSystem.TRUECOLOR) is color
        # Even through Textual's ANSI-to-truecolor filter (pixel styles skip it) they stay.
        assert inner.truecolor_style(style, Color(0, 0, 0).rich_color) is style
    for strip in cells.strips:
        for segment in strip:
            assert segment.style is not None and segment.style.color is not None
            assert segment.style.bgcolor is not None
            fg, bg = segment.style.color.number, segment.style.bgcolor.number
            assert fg is not None and bg is not None
            codes = (
                f"38;5;{fg};48;5;{bg}"
                if colors == "256"
                else f"{30 + fg if fg < 8 else 82 + fg};{40 + bg if bg < 8 else 92 + bg}"
            )
            assert Strip([segment], len(segment.text)).render(console) == (
                f"\x1b[{codes}m{segment.text}\x1b[0m"
            )


def test_warm_escape_codes_of_palette_cells_are_indexed() -> None:
    image = Image.new("RGB", (16, 16))
    image.putdata([(3 + x * 9, 250 - y * 7, 100 + x) for y in range(16) for x in range(16)])
    cells = render_cells(image, 16, 8, colors="256")
    console = Console(file=io.StringIO(), color_system="256", force_terminal=True)
    warm_escape_codes(cells, console)
    for strip in cells.strips:
        for segment in strip:
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            assert style._ansi == f"38;5;{style.color.number};48;5;{style.bgcolor.number}"


def test_palette_styles_are_reused_and_merged_into_runs() -> None:
    image = Image.new("RGB", (40, 40), (0, 95, 215))  # exactly palette colour 26: nothing to dither
    first, second = (
        render_cells(image, 20, 10, colors="256"),
        render_cells(image, 8, 4, colors="256"),
    )
    assert all(len(strip) == 1 for strip in first.strips)
    assert palette_numbers(first) == {26}
    assert next(iter(first.strips[0])).style is next(iter(second.strips[3])).style


@pytest.mark.parametrize("colors", COLOR_MODES)
def test_every_mode_gives_exact_sizes_and_tiny_images(colors: ColorMode) -> None:
    for image in (golden_image(), Image.new("LA", (3, 5), (200, 128)), Image.new("P", (1, 1))):
        for cols, rows in [(1, 1), (6, 3), (33, 17)]:
            cells = render_fitted(image, cols, rows, colors=colors)
            assert cells.colors == colors
            assert all(strip.cell_length == cells.cols for strip in cells.strips)
            assert len(cells.strips) == cells.rows


def test_unknown_colour_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="colors"):
        render_cells(golden_image(), 4, 2, colors="88")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("color_system", "mode"),
    [
        ("truecolor", "truecolor"),
        ("256", "256"),
        ("standard", "standard"),
        ("windows", "standard"),
        (None, "truecolor"),  # Textual writes 24-bit codes when Rich found no colours
    ],
)
def test_color_mode_follows_the_console(color_system: str | None, mode: str) -> None:
    assert color_mode(color_system) == mode


# truecolor_hint ------------------------------------------------------------------------------


def test_no_hint_when_images_are_drawn_in_full_colour() -> None:
    assert truecolor_hint("truecolor", {"COLORTERM": "truecolor"}) is None
    assert truecolor_hint(None, {"TERM": "dumb"}) is None


def test_hint_for_256_colours_in_tmux() -> None:
    hint = truecolor_hint("256", {"TERM": "screen-256color", "TMUX": "/tmp/tmux-1000/default,1,0"})
    assert hint is not None and "\n" not in hint
    assert "256 colours" in hint and "dithered" in hint
    assert "COLORTERM=truecolor" in hint
    assert "set -as terminal-features ',*:RGB'" in hint
    # tmux's TERM alone (over ssh the TMUX variable stays behind) is enough to mention it.
    assert "terminal-features" in (truecolor_hint("256", {"TERM": "tmux-256color"}) or "")


def test_hint_outside_tmux_does_not_mention_it() -> None:
    hint = truecolor_hint("256", {"TERM": "xterm-256color"})
    assert hint is not None and "COLORTERM=truecolor" in hint and "tmux" not in hint
    hint = truecolor_hint("standard", {"TERM": "xterm"})
    assert hint is not None and "16 colours" in hint and "COLORTERM=truecolor" in hint


def test_hint_names_a_forced_colour_system() -> None:
    hint = truecolor_hint("256", {"TEXTUAL_COLOR_SYSTEM": "256", "COLORTERM": "truecolor"})
    assert hint is not None and "TEXTUAL_COLOR_SYSTEM=256" in hint and "Unset" in hint
    assert "TEXTUAL_COLOR_SYSTEM" not in (
        truecolor_hint("256", {"TEXTUAL_COLOR_SYSTEM": "auto", "TERM": "xterm-256color"}) or ""
    )
