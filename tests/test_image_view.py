"""Behaviour tests for the ImageView preview widget, driven through a real Textual app."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Hashable

import pytest
from PIL import Image
from rich.color import ColorType
from textual import on
from textual.app import App, ComposeResult
from textual.filter import ANSIToTruecolor
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.worker import WorkerFailed

from sdtui.render import (
    CellImage,
    ColorMode,
    PixelFilter,
    RenderCache,
    is_pixel_style,
    render_cells,
)
from sdtui.ui.widgets.image_view import ImageView

RED = (255, 0, 0)
BLUE = (0, 0, 255)
SIZE = (40, 20)
RENDER_CELLS = "sdtui.ui.widgets.image_view.render_cells"  # the name the widget calls


@pytest.fixture(autouse=True)
def truecolor_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A truecolor terminal, whatever TERM the tests run under (apps read it when created)."""
    monkeypatch.setenv("COLORTERM", "truecolor")


class ViewApp(App[None]):
    def __init__(self, cache: RenderCache | None = None) -> None:
        super().__init__()
        self.cache = cache
        self.rendered: list[tuple[int, int, Hashable]] = []

    def compose(self) -> ComposeResult:
        yield ImageView(cache=self.cache, id="preview")

    @on(ImageView.Rendered, "#preview")
    def record(self, message: ImageView.Rendered) -> None:
        self.rendered.append((message.cols, message.rows, message.key))


def two_tone(width: int, height: int) -> Image.Image:
    """Top half red, bottom half blue."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(BLUE, (0, height // 2, width, height))
    return image


def screen_lines(view: ImageView) -> list[Strip]:
    """The widget's lines as the compositor gets them (styles, padding and all)."""
    width, height = view.size
    return view.render_lines(Region(0, 0, width, height))


def cell_colours(strip: Strip) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """(character, fg, bg) of every half-block cell in a line."""
    cells = []
    for segment in strip:
        if segment.style is None or segment.style.color is None:
            continue
        for character in segment.text:
            if character == "▀":
                assert segment.style.bgcolor is not None
                cells.append(
                    (
                        character,
                        tuple(segment.style.color.get_truecolor()),
                        tuple(segment.style.bgcolor.get_truecolor()),
                    )
                )
    return cells


async def settle(app: App[None], pilot: Pilot[None]) -> None:
    """Let render workers finish and their results reach the widget."""
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_image_is_shown_centred_with_its_colours() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        # 10x40 pixels is tall: in 40x20 cells it becomes 10 cols x 20 rows, centred.
        view.set_image(two_tone(10, 40), "tall")
        await settle(app, pilot)

        assert app.rendered == [(10, 20, "tall")]
        lines = screen_lines(view)
        assert len(lines) == 20
        for y, line in enumerate(lines):
            assert line.cell_length == 40
            assert line.text == " " * 15 + "▀" * 10 + " " * 15
            colour = RED if y < 10 else BLUE
            assert cell_colours(line) == [("▀", colour, colour)] * 10


async def test_wide_image_is_centred_vertically_and_split_rows_show_both_colours() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        # 80x18 pixels → 40 cols x 4.5 rows, rounded to 4 rows (8 pixel rows), at y = 8..11.
        view.set_image(two_tone(80, 18), "wide")
        await settle(app, pilot)

        lines = screen_lines(view)
        filled = [y for y, line in enumerate(lines) if "▀" in line.text]
        assert filled == [8, 9, 10, 11]
        assert cell_colours(lines[8]) == [("▀", RED, RED)] * 40
        assert cell_colours(lines[11]) == [("▀", BLUE, BLUE)] * 40
        assert lines[0].text == " " * 40


async def test_resize_refits_and_keeps_centring() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        view.set_image(two_tone(64, 64), "square")
        await settle(app, pilot)
        assert app.rendered[-1] == (40, 20, "square")

        await pilot.resize_terminal(30, 10)
        await settle(app, pilot)
        assert app.rendered[-1] == (20, 10, "square")
        assert view.cell_image is not None
        assert (view.cell_image.cols, view.cell_image.rows) == (20, 10)
        lines = screen_lines(view)
        assert [line.text for line in lines] == [" " * 5 + "▀" * 20 + " " * 5] * 10
        assert cell_colours(lines[0])[0] == ("▀", RED, RED)
        assert cell_colours(lines[9])[0] == ("▀", BLUE, BLUE)


async def test_old_cells_stay_cropped_while_the_new_size_renders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = threading.Event()

    def gated_render(
        image: Image.Image, cols: int, rows: int, *, colors: ColorMode = "truecolor"
    ) -> CellImage:
        if cols < 40:
            gate.wait(5)
        return render_cells(image, cols, rows, colors=colors)

    monkeypatch.setattr(RENDER_CELLS, gated_render)
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        view.set_image(two_tone(64, 64), "square")
        await settle(app, pilot)

        await pilot.resize_terminal(16, 6)
        await pilot.pause()
        old = view.cell_image
        assert old is not None and (old.cols, old.rows) == (40, 20)
        lines = screen_lines(view)
        # The 40x20 cells, cropped evenly to the middle 16x6: rows 7..12 of the image.
        assert [line.text for line in lines] == ["▀" * 16] * 6
        assert cell_colours(lines[0])[0] == ("▀", RED, RED)
        assert cell_colours(lines[5])[0] == ("▀", BLUE, BLUE)

        gate.set()
        await settle(app, pilot)
        assert view.cell_image is not None
        assert (view.cell_image.cols, view.cell_image.rows) == (12, 6)


async def test_new_cells_reach_the_screen_with_their_escape_codes_built() -> None:
    """What the terminal driver does per new colour (filter it, build its escape codes) was
    done in the render worker: the UI thread only looks the codes up."""
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        image = Image.new("RGB", (40, 40))
        image.putdata([(x * 6, 200 - y * 5, 77) for y in range(40) for x in range(40)])
        view.set_image(image, "gradient")
        await settle(app, pilot)

        [pixel_filter] = [f for f in view.get_line_filters() if isinstance(f, PixelFilter)]
        assert isinstance(pixel_filter.inner, ANSIToTruecolor)
        pixels = [s.style for line in screen_lines(view) for s in line if s.style is not None]
        assert pixels and all(style._ansi for style in pixels if is_pixel_style(style))


async def test_no_image_shows_the_placeholder() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        lines = screen_lines(view)
        assert lines[10].text.strip() == "No image yet"
        assert lines[10].text == f"{'No image yet':^40}"
        assert all("▀" not in line.text for line in lines)

        view.set_image(two_tone(8, 8), "x")
        await settle(app, pilot)
        assert "▀" in screen_lines(view)[10].text

        view.set_image(None, None)
        view.placeholder = "Nothing generated"
        await pilot.pause()
        lines = screen_lines(view)
        assert lines[10].text.strip() == "Nothing generated"
        assert all("▀" not in line.text for line in lines)
        assert view.cell_image is None


async def test_a_newer_image_is_never_replaced_by_an_older_slow_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow_for_red(
        image: Image.Image, cols: int, rows: int, *, colors: ColorMode = "truecolor"
    ) -> CellImage:
        if image.getpixel((0, 0)) == RED:
            started.set()
            release.wait(5)
        return render_cells(image, cols, rows, colors=colors)

    monkeypatch.setattr(RENDER_CELLS, slow_for_red)
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        view.set_image(Image.new("RGB", (8, 8), RED), "old")
        assert await asyncio.to_thread(started.wait, 5)
        view.set_image(Image.new("RGB", (8, 8), BLUE), "new")
        await pilot.pause()
        release.set()
        await settle(app, pilot)
        await pilot.pause()

        assert app.rendered == [(40, 20, "new")]
        assert view.shown_key == "new"
        assert cell_colours(screen_lines(view)[0])[0] == ("▀", BLUE, BLUE)


async def test_shared_cache_is_used_before_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = RenderCache()
    calls: list[tuple[int, int]] = []

    def counting_render(
        image: Image.Image, cols: int, rows: int, *, colors: ColorMode = "truecolor"
    ) -> CellImage:
        calls.append((cols, rows))
        return render_cells(image, cols, rows, colors=colors)

    monkeypatch.setattr(RENDER_CELLS, counting_render)
    app = ViewApp(cache)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        image = two_tone(16, 16)
        view.set_image(image, "entry-1")
        await settle(app, pilot)
        assert calls == [(40, 20)]
        assert cache.get("entry-1", 40, 20) is view.cell_image

        view.set_image(None, None)
        view.set_image(image, "entry-1")  # back to a cached image: shown without a render
        await settle(app, pilot)
        assert calls == [(40, 20)]
        assert app.rendered == [(40, 20, "entry-1")] * 2


async def test_shrinking_to_one_cell_and_back_does_not_crash() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        view.set_image(two_tone(64, 32), "img")
        await settle(app, pilot)
        await pilot.resize_terminal(1, 1)
        await settle(app, pilot)
        assert [line.text for line in screen_lines(view)] == ["▀"]
        view.styles.width = 0
        await settle(app, pilot)
        assert view.size.width == 0
        view.set_image(two_tone(10, 10), "other")  # nothing to fit into: no render, no crash
        await settle(app, pilot)
        view.styles.width = "1fr"
        await pilot.resize_terminal(*SIZE)
        await settle(app, pilot)
        assert view.shown_key == "other"
        assert app.rendered[-1] == (40, 20, "other")


async def test_a_broken_image_shows_a_note_instead_of_crashing() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), RED).save(buffer, format="PNG")
    truncated = Image.open(io.BytesIO(buffer.getvalue()[:60]))  # decoding fails on load
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        view.set_image(truncated, "broken")
        with pytest.raises(WorkerFailed):  # the error still reaches the app's worker handling
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert view.cell_image is None
        assert screen_lines(view)[10].text.strip() == "Could not show this image"

        view.set_image(two_tone(8, 8), "fine")
        await settle(app, pilot)
        assert view.shown_key == "fine"


async def test_an_image_set_before_mounting_is_shown_once_laid_out() -> None:
    class EarlyApp(ViewApp):
        def compose(self) -> ComposeResult:
            view = ImageView(id="preview")
            view.set_image(two_tone(20, 20), "early")
            yield view

    app = EarlyApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.rendered == [(40, 20, "early")]
        assert "▀" in screen_lines(app.query_one(ImageView))[0].text


def sky(width: int, height: int) -> Image.Image:
    """A smooth gradient: on a 256-colour terminal, Rich's nearest colours make a few bands."""
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            (30 + x * 160 // width, 60 + y * 80 // height, 170)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def palette_numbers(lines: list[Strip]) -> set[int]:
    """The palette entries of the pixel cells in these lines (asserting they are indexed)."""
    numbers = set()
    for line in lines:
        for segment in line:
            if not is_pixel_style(segment.style):
                continue
            assert segment.style is not None
            for color in (segment.style.color, segment.style.bgcolor):
                assert color is not None and color.type is ColorType.EIGHT_BIT
                assert color.number is not None and 16 <= color.number <= 255
                numbers.add(color.number)
    return numbers


def use_256_colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """tmux over ssh: a 256-colour TERM and no COLORTERM."""
    monkeypatch.setenv("TERM", "screen-256color")
    monkeypatch.delenv("COLORTERM", raising=False)


async def test_a_256_colour_terminal_gets_dithered_palette_cells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_256_colour_terminal(monkeypatch)
    app = ViewApp()
    assert app.console.color_system == "256"
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        view.set_image(sky(80, 80), "sky")
        await settle(app, pilot)

        assert view.cell_image is not None and view.cell_image.colors == "256"
        lines = screen_lines(view)
        assert all(line.text == "▀" * 40 for line in lines)
        # Dithered: far more shades than the handful of bands Rich's nearest colours give.
        truecolor = render_cells(sky(80, 80), 40, 20)
        nearest = {
            color.downgrade(app.console._color_system).number  # type: ignore[arg-type]
            for strip in truecolor.strips
            for segment in strip
            if segment.style is not None
            for color in (segment.style.color, segment.style.bgcolor)
            if color is not None
        }
        assert len(palette_numbers(lines)) >= 2 * len(nearest)
        # What the driver writes: the indexed codes built in the worker, no truecolor at all.
        written = "".join(line.render(app.console) for line in lines)
        assert "38;5;" in written and "48;5;" in written and ";2;" not in written


async def test_cached_cells_of_one_colour_mode_are_not_shown_in_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = RenderCache()
    image = sky(32, 32)
    use_256_colour_terminal(monkeypatch)
    app = ViewApp(cache)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(ImageView).set_image(image, "entry-1")
        await settle(app, pilot)
    assert cache.get("entry-1", 40, 20, colors="256") is not None

    monkeypatch.setenv("COLORTERM", "truecolor")
    app = ViewApp(cache)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ImageView)
        view.set_image(image, "entry-1")
        await settle(app, pilot)
        assert view.cell_image is not None and view.cell_image.colors == "truecolor"
        assert view.cell_image is cache.get("entry-1", 40, 20, colors="truecolor")
        pixels = [s.style for line in screen_lines(view) for s in line if is_pixel_style(s.style)]
        assert pixels and all(
            style is not None
            and style.color is not None
            and style.color.triplet is not None
            and style.color.type is ColorType.TRUECOLOR
            for style in pixels
        )
    assert len(cache) == 2
