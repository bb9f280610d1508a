"""The history panel in a small app: keys, messages, merging, search, painting, laziness, and the
work it owns (loading, thumbnails, rescans, deleting after asking)."""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from textual import on
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input

from sdtui.config import Settings
from sdtui.images.convert import to_png_with_parameters
from sdtui.render import render_cells
from sdtui.store import HistoryEntry, ImageStore
from sdtui.store.session import Session
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.choice import ChoiceDialog
from sdtui.ui.messages import HistoryReady, LeaveHistory, ReuseParameters, ShowEntry
from sdtui.ui.widgets import history_panel as history_module
from sdtui.ui.widgets.history_list import ROW_HEIGHT, HistoryList
from sdtui.ui.widgets.history_panel import HistoryPanel

BASE_TIME = 1_700_000_000.0
SIZE = (44, 20)  # the panel is 40 wide: 38 inside the border, 18 lines high (6 rows)
COLOUR = (200, 80, 20)  # of the images saved to disk


def infotext(prompt: str, seed: int | None) -> str:
    seed_part = f", Seed: {seed}" if seed is not None else ""
    return f"{prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7{seed_part}, Size: 512x768"


def entry(n: int, prompt: str | None = None, seed: int | None = None) -> HistoryEntry:
    """Entry number `n`; a higher number is a newer image."""
    prompt = f"picture {n}" if prompt is None else prompt
    seed = 1000 + n if seed is None else seed
    return HistoryEntry(
        path=Path(f"/pictures/{n:06}.png"),
        mtime=BASE_TIME + n,
        width=512,
        height=768,
        infotext=infotext(prompt, seed),
        prompt=prompt,
        seed=seed,
    )


def newest_first(count: int) -> list[HistoryEntry]:
    return [entry(n) for n in reversed(range(count))]


def png_bytes(text: str | None, size: tuple[int, int] = (96, 96)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, COLOUR).save(buffer, "PNG")
    return to_png_with_parameters(buffer.getvalue(), text)


def save_image(store: ImageStore, n: int, age: float | None = None) -> Path:
    """Image `n` saved in the store, `age` seconds old (a higher `n` is newer)."""
    path = store.save(png_bytes(infotext(f"saved {n}", n)), prompt=f"saved {n}", seed=n)
    if age is not None:
        when = time.time() - age
        os.utime(path, (when, when))
    return path


def save_images(store: ImageStore, count: int) -> list[Path]:
    """`count` images, oldest first, a second apart."""
    return [save_image(store, n, age=100.0 - n) for n in range(count)]


class PanelApp(App[None]):
    CSS = "HistoryPanel { width: 40; height: 1fr; border: round white; }"

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.messages: list[Message] = []
        self.copied: list[str] = []

    def compose(self) -> ComposeResult:
        yield HistoryPanel(self.context, id="history")

    @property
    def panel(self) -> HistoryPanel:
        return self.query_one(HistoryPanel)

    @property
    def search(self) -> Input:
        return self.panel.query_one("#history-search", Input)

    @on(ShowEntry)
    @on(ReuseParameters)
    @on(LeaveHistory)
    @on(HistoryReady)
    def _record(self, message: Message) -> None:
        self.messages.append(message)

    def taken(self) -> list[tuple[str, str]]:
        """Messages received since the last call, as (kind, entry file name or infotext)."""
        out: list[tuple[str, str]] = []
        for message in self.messages:
            if isinstance(message, ShowEntry):
                out.append(("Open" if message.full else "Show", message.entry.path.name))
            elif isinstance(message, ReuseParameters):
                out.append(("Rerun" if message.rerun else "Reuse", message.infotext))
            elif isinstance(message, LeaveHistory):
                out.append(("Leave", ""))
            elif isinstance(message, HistoryReady):
                newest = message.newest
                out.append(("Ready", newest.path.name if newest is not None else ""))
        self.messages.clear()
        return out

    def notes(self) -> list[str]:
        return [str(n.message) for n in self._notifications]

    def severities(self) -> list[str]:
        return [n.severity for n in self._notifications]


@pytest.fixture
def context(tmp_path: Path) -> AppContext:
    return AppContext(Settings(out=tmp_path / "out"), Session(tmp_path / "form.json"))


@pytest.fixture
def app(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> PanelApp:
    panel_app = PanelApp(context)
    monkeypatch.setattr(panel_app, "copy_to_clipboard", panel_app.copied.append)
    return panel_app


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


async def load(app: PanelApp, pilot: Pilot[None]) -> None:
    """Start the panel on the store's folder and wait until it has read all of it."""
    app.panel.start()
    await wait_for(pilot, lambda: app.panel.loaded)
    await pilot.pause()


def line_text(history: HistoryList, y: int) -> str:
    return history.render_line(y).text


def shown_titles(history: HistoryList) -> list[str]:
    """The title line of every row on screen, as painted."""
    height = history.scrollable_content_region.height
    return [line_text(history, y)[7:].strip() for y in range(0, height, ROW_HEIGHT)]


# -- the list's behaviour ---------------------------------------------------------------------


async def test_keys_move_the_highlight_and_enter_opens(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        app.panel.list_view.set_entries(newest_first(20))
        app.panel.list_view.focus()
        await pilot.pause()
        app.taken()
        assert app.panel.selected_entry == entry(19)

        await pilot.press("down", "down")
        assert app.panel.selected_entry == entry(17)
        assert app.taken() == [("Show", "000018.png"), ("Show", "000017.png")]

        await pilot.press("pagedown")  # 6 rows fit
        assert app.panel.selected_entry == entry(11)
        await pilot.press("end")
        assert app.panel.selected_entry == entry(0)
        history = app.panel.list_view
        assert history.scroll_y == history.max_scroll_y > 0  # scrolled to keep it visible
        assert "picture 0" in line_text(history, history.size.height - ROW_HEIGHT)
        await pilot.press("pageup", "up")
        assert app.panel.selected_entry == entry(7)
        await pilot.press("home")
        assert app.panel.selected_entry == entry(19)
        assert history.scroll_y == 0
        app.taken()

        await pilot.press("enter")
        assert app.taken() == [("Open", "000019.png")]


async def test_the_highlight_moving_without_focus_shows_nothing(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        history = app.panel.list_view
        history.set_entries(newest_first(5))
        await pilot.pause()
        history.select_path(entry(2).path)  # the list moves by itself: the preview stays
        await pilot.pause()
        assert app.panel.selected_entry == entry(2)
        assert not history.has_focus
        assert app.taken() == []
        assert history.select_path(Path("/elsewhere.png")) is False


async def test_action_keys_reuse_rerun_and_copy_the_highlighted_entry(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        app.panel.list_view.set_entries(newest_first(5))
        app.panel.list_view.focus()
        await pilot.press("down")
        app.taken()
        await pilot.press("l", "r", "c", "y")
        await pilot.pause()
        assert app.taken() == [("Reuse", entry(3).infotext), ("Rerun", entry(3).infotext)]
        assert app.copied == ["1003", str(entry(3).path)]
        assert app.notes() == ["Copied seed: 1003", f"Copied path: {entry(3).path}"]


async def test_an_entry_without_parameters_or_seed_warns_and_copies_only_its_path(
    app: PanelApp,
) -> None:
    bare = HistoryEntry(
        path=Path("/pictures/bare.png"), mtime=BASE_TIME, width=64, height=64, infotext=""
    )
    async with app.run_test(size=SIZE) as pilot:
        app.panel.list_view.set_entries([bare])
        app.panel.list_view.focus()
        await pilot.pause()
        app.taken()
        await pilot.press("l", "r", "c", "y")
        await pilot.pause()
        assert app.taken() == []  # nothing to load into the form
        assert app.notes() == [
            "This image carries no parameters",
            "This image carries no parameters",
            f"Copied path: {bare.path}",
        ]
        assert app.severities()[:2] == ["warning", "warning"]
        assert app.copied == [str(bare.path)]  # no seed to copy


async def test_clicks_highlight_and_a_second_click_opens(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        app.panel.list_view.set_entries(newest_first(5))
        await pilot.pause()
        app.taken()
        history = app.panel.list_view
        await pilot.click(history, offset=(10, 2 * ROW_HEIGHT + 1))
        assert app.panel.selected_entry == entry(2)
        assert app.taken() == [("Show", "000002.png")]
        await pilot.click(history, offset=(10, 2 * ROW_HEIGHT))
        assert app.taken() == [("Open", "000002.png")]


async def test_add_entries_puts_newer_on_top_and_can_keep_the_highlight(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        history = panel.list_view
        history.set_entries(newest_first(20))
        history.focus()
        await pilot.press("down", "down")  # on entry 17
        app.taken()

        # Out of order and with one already known: sorted by time, duplicates ignored.
        history.add_entries([entry(21), entry(19), entry(22)], highlight=False)
        await pilot.pause()
        assert [e.path.name for e in panel.entries[:4]] == [
            "000022.png",
            "000021.png",
            "000019.png",
            "000018.png",
        ]
        assert len(panel.entries) == 22
        assert panel.selected_entry == entry(17)
        assert history.highlighted == 4
        assert app.taken() == []  # the highlighted entry did not change

        history.add_entries([entry(30), entry(25)])
        await pilot.pause()
        assert panel.entries[0] == entry(30)
        assert panel.selected_entry == entry(30)
        assert app.taken() == [("Show", "000030.png")]
        assert shown_titles(history)[0] == "picture 30"


async def test_a_scrolled_view_stays_put_when_entries_arrive(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        history = panel.list_view
        history.set_entries(newest_first(40))
        history.focus()
        await pilot.pause()
        await pilot.press("pagedown", "pagedown", "down", "down", "down")  # on entry 24
        history.scroll_to(y=12 * ROW_HEIGHT, animate=False)  # now in the middle
        await pilot.pause()
        before = shown_titles(history)
        assert before[0] == "picture 27"
        history.add_entries([entry(41), entry(40)], highlight=False)
        await pilot.pause()
        assert shown_titles(history) == before
        assert panel.selected_entry == entry(24)


async def test_remove_path_moves_the_highlight_to_the_next_entry(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        history = panel.list_view
        history.set_entries(newest_first(5))
        history.focus()
        await pilot.press("down")
        app.taken()
        history.remove_path(entry(3).path)
        await pilot.pause()
        assert [e.path.name for e in panel.entries] == [
            "000004.png",
            "000002.png",
            "000001.png",
            "000000.png",
        ]
        assert panel.selected_entry == entry(2)
        assert app.taken() == [("Show", "000002.png")]
        history.remove_path(entry(4).path)  # above the highlight: it stays on the same entry
        history.remove_path(Path("/elsewhere.png"))
        await pilot.pause()
        assert panel.selected_entry == entry(2)
        assert app.taken() == []


async def test_search_filters_by_prompt_and_seed(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        entries = [
            entry(5, "A red Fox at dusk", seed=77),
            entry(4, "lighthouse in a storm", seed=123456),
            entry(3, "a fox in the snow\nsecond line", seed=9),
            entry(2, "mountain lake", seed=8),
        ]
        panel.list_view.set_entries(entries)
        search = app.search
        assert not search.display
        panel.list_view.focus()
        await pilot.press("slash")
        assert search.display and search.has_focus
        await pilot.press(*"FOX")
        await pilot.pause()
        assert panel.list_view.rows == [entries[0], entries[2]]
        assert panel.border_title == "History · 2/4"
        assert shown_titles(panel.list_view)[:2] == ["A red Fox at dusk", "a fox in the snow"]
        await pilot.press("enter")
        assert panel.list_view.has_focus
        await pilot.press("down", "enter")
        assert app.taken()[-1] == ("Open", "000003.png")

        search.value = "345"
        await pilot.pause()
        assert panel.list_view.rows == [entries[1]]
        assert panel.border_title == "History · 1/4"
        search.value = "x"
        await pilot.pause()
        assert panel.list_view.rows == [entries[0], entries[2]]  # wider again, not narrowed
        search.value = ""
        await pilot.pause()
        assert panel.list_view.rows == entries
        assert panel.border_title == "History · 4"


async def test_entries_arriving_during_a_search_are_filtered(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        history = panel.list_view
        history.set_entries([entry(1, "a cat"), entry(0, "a dog")])
        history.set_filter("cat")
        history.add_entries([entry(3, "another cat"), entry(2, "a bird")], highlight=False)
        await pilot.pause()
        assert [e.prompt for e in history.rows] == ["another cat", "a cat"]
        assert len(panel.entries) == 4
        history.remove_path(entry(1).path)
        assert [e.prompt for e in history.rows] == ["another cat"]


async def test_thumbnails_are_painted_beside_the_text(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        history = app.panel.list_view
        history.set_entries(newest_first(3))
        await pilot.pause()
        assert history.render_line(1).text.startswith("░" * 6)  # placeholder meanwhile
        cells = render_cells(Image.new("RGB", (48, 48), (255, 0, 0)), 6, 3)
        history.set_thumbnails({entry(2).path: cells, Path("/unknown.png"): cells})
        await pilot.pause()
        assert [e.path for e in history.entries_missing_thumbnails()] == [
            entry(1).path,
            entry(0).path,
        ]
        for y in range(ROW_HEIGHT):
            segments = list(history.render_line(y))
            colours = {s.style.color.triplet for s in segments[:1] if s.style and s.style.color}
            assert colours == {(255, 0, 0)}, y
            assert history.render_line(y).text.startswith("▀" * 6)
        next_row = list(history.render_line(ROW_HEIGHT))
        assert next_row[0].text == " " * 6


async def test_prompts_render_literally_without_escapes(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        history = app.panel.list_view
        history.set_entries([entry(1, "[bold]x[/] \x1b]0;t\x07tail \x1b[31mred")])
        await pilot.pause()
        text = line_text(history, 0)
        assert "[bold]x[/] tail red" in text
        assert "\x1b" not in text and "0;t" not in text and "\x07" not in text


async def test_long_titles_are_cut_with_an_ellipsis_and_facts_are_dim(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        history = app.panel.list_view
        history.set_entries([entry(1, "word " * 40, seed=42)])
        await pilot.pause()
        width = history.scrollable_content_region.width
        title = line_text(history, 0)
        assert len(title) == width and title.endswith("…")
        facts = line_text(history, 1)
        assert "42 · 512×768 · " in facts
        assert "Nov 1" in facts  # an old image shows its date, not its time
        # The facts are muted beside the title, on the same (highlight's) background.
        title_style = next(s.style for s in history.render_line(0) if "word" in s.text)
        facts_style = next(s.style for s in history.render_line(1) if "42 ·" in s.text)
        assert title_style is not None and facts_style is not None
        assert facts_style.color != title_style.color
        assert facts_style.bgcolor == title_style.bgcolor
        assert not facts_style.bold


async def test_empty_state(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        history = panel.list_view
        await pilot.pause()
        width = history.scrollable_content_region.width
        lines = [line_text(history, y) for y in range(6)]
        assert all(len(line) == width for line in lines)
        text = " ".join(line.strip() for line in lines[3:]).split()
        assert [line.strip() for line in lines[:3]] == ["", "No images yet.", ""]
        assert " ".join(text) == "Everything you generate is saved and listed here."
        assert lines[1].startswith(" No")  # a margin of one cell
        assert history.display  # the list itself says it is empty: no widget swapped in
        assert panel.border_title == "History · 0"
        assert panel.selected_entry is None
        history.focus()
        await pilot.press("down", "enter", "l", "r", "c", "y", "d")
        await pilot.pause()
        assert app.taken() == []
        assert not isinstance(app.screen, ChoiceDialog)  # nothing to delete: nothing asked
        assert app.copied == [] and app.notes() == []
        history.add_entries([entry(1)])
        await pilot.pause()
        assert "No images yet." not in [line_text(history, y).strip() for y in range(6)]
        assert panel.selected_entry == entry(1)

        history.set_filter("nothing like this")
        await pilot.pause()
        assert line_text(history, 1).strip() == "No image matches this search."
        history.set_filter("")
        history.remove_path(entry(1).path)
        await pilot.pause()
        assert line_text(history, 1).strip() == "No images yet."
        assert panel.selected_entry is None


async def test_only_visible_rows_are_rendered(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        history = app.panel.list_view
        history.set_entries(newest_first(10_000))
        await pilot.pause()
        visible_rows = history.scrollable_content_region.height // ROW_HEIGHT
        assert visible_rows == 6
        assert history.virtual_size.height == 10_000 * ROW_HEIGHT
        assert visible_rows <= history.rows_rendered < 50
        assert "picture 9999" in line_text(history, 0)

        before = history.rows_rendered
        history.add_entries([entry(10_000)], highlight=False)  # appears on top, shifts the rest
        await pilot.pause()
        assert "picture 10000" in line_text(history, 0)
        assert 1 <= history.rows_rendered - before <= visible_rows

        history.focus()
        await pilot.press("end")
        await pilot.pause()
        assert "picture 0" in line_text(history, history.size.height - ROW_HEIGHT)
        assert history.rows_rendered < 50 + 2 * visible_rows
        assert history.cached_entries < 50 + 2 * visible_rows


# -- search and escape ------------------------------------------------------------------------


FOXES = [
    entry(5, "A red Fox at dusk"),
    entry(4, "lighthouse in a storm"),
    entry(3, "a fox in the snow"),
    entry(2, "mountain lake"),
]


async def test_escape_in_the_search_clears_it_and_goes_back_to_the_list(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        history = panel.list_view
        history.set_entries(FOXES)
        history.focus()
        await pilot.pause()
        await pilot.press("slash", *"fox")
        await pilot.pause()
        assert history.rows == [FOXES[0], FOXES[2]]
        assert app.search.has_focus
        app.taken()

        await pilot.press("escape")
        await pilot.pause()
        assert app.search.value == ""
        assert not app.search.display
        assert history.has_focus
        assert history.rows == FOXES
        assert panel.border_title == "History · 4"
        # Still in the history, and the preview is told what the list highlights now.
        assert app.taken() == [("Show", history.highlighted_entry.path.name)]

        await pilot.press("escape")  # no search left: back to the prompt
        await pilot.pause()
        assert app.taken() == [("Leave", "")]


async def test_escape_in_the_list_clears_a_search_left_open(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        history = panel.list_view
        history.set_entries(FOXES)
        history.focus()
        await pilot.press("slash", *"lake", "enter")  # search kept, focus in the list
        await pilot.pause()
        assert history.has_focus and app.search.display
        assert history.rows == [FOXES[3]]
        app.taken()

        await pilot.press("escape")
        await pilot.pause()
        assert app.search.value == "" and not app.search.display
        assert history.has_focus
        assert history.rows == FOXES
        assert app.taken() == [("Show", history.highlighted_entry.path.name)]

        await pilot.press("escape")
        await pilot.pause()
        assert app.taken() == [("Leave", "")]


async def test_escape_in_an_empty_search_hides_it(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        history = app.panel.list_view
        history.set_entries(FOXES)
        history.focus()
        await pilot.pause()
        app.taken()
        await pilot.press("slash")
        assert app.search.display and app.search.has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert not app.search.display
        assert history.has_focus
        assert app.taken() == [("Show", history.highlighted_entry.path.name)]


async def test_escape_in_the_list_without_a_search_leaves_the_history(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        app.panel.list_view.set_entries(FOXES)
        app.panel.list_view.focus()
        await pilot.pause()
        app.taken()
        await pilot.press("escape")
        await pilot.pause()
        assert app.taken() == [("Leave", "")]
        assert not app.search.display


async def test_letters_typed_in_the_search_are_text_not_history_keys(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        history = app.panel.list_view
        history.set_entries(FOXES)
        history.focus()
        await pilot.pause()
        app.taken()
        await pilot.press("slash", *"dry lcy/")
        await pilot.pause()
        assert app.search.value == "dry lcy/"
        assert app.search.has_focus
        assert not isinstance(app.screen, ChoiceDialog)
        assert app.copied == []
        assert app.taken() == []
        assert history.rows == []
        assert line_text(history, 1).strip() == "No image matches this search."


# -- the panel's own work: loading, thumbnails, rescans, deleting -----------------------------


async def test_start_reads_the_folder_newest_first_with_thumbnails(
    app: PanelApp, context: AppContext
) -> None:
    paths = save_images(context.store, 3)
    broken = paths[0].parent / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        assert not panel.loaded
        await load(app, pilot)
        assert [e.path for e in panel.entries] == paths[::-1]
        assert [(e.prompt, e.seed, e.width, e.height) for e in panel.entries] == [
            (f"saved {n}", n, 96, 96) for n in (2, 1, 0)
        ]
        assert panel.selected_entry is not None and panel.selected_entry.path == paths[2]
        assert panel.border_title == "History · 3"
        # The newest entry goes up once all is read; the highlight moved without focus.
        assert app.taken() == [("Ready", paths[2].name)]
        skipped = [n for n in app.notes() if n.startswith("Skipped unreadable files: ")]
        assert len(skipped) == 1 and "broken.png" in skipped[0]

        history = panel.list_view
        await wait_for(pilot, lambda: not history.entries_missing_thumbnails())
        await pilot.pause()
        # Cells of the image's own colour, as the renderer makes them for a thumbnail.
        solid = render_cells(Image.new("RGB", (6, 6), COLOUR), 6, 3).strips[0]
        expected = next(iter(solid)).style
        assert expected is not None and expected.color is not None
        for y in range(ROW_HEIGHT):
            line = history.render_line(y)
            assert line.text.startswith("▀" * 6), y  # drawn pixels, not the placeholder
            first = next(iter(line)).style
            assert first is not None and first.color is not None
            assert first.color.triplet == expected.color.triplet, y


async def test_an_empty_folder_loads_as_an_empty_history(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await load(app, pilot)
        assert app.panel.entries == []
        assert app.panel.border_title == "History · 0"
        assert app.taken() == [("Ready", "")]
        assert app.notes() == []


async def test_images_saved_here_join_on_top_highlighted(
    app: PanelApp, context: AppContext
) -> None:
    save_images(context.store, 3)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.pause()
        app.taken()

        new = save_image(context.store, 7)
        panel.add_paths([new])
        panel.add_paths([])  # nothing saved: nothing to do
        await wait_for(pilot, lambda: len(panel.entries) == 4)
        await pilot.pause()
        assert panel.entries[0].path == new
        assert panel.selected_entry is not None and panel.selected_entry.path == new
        assert app.taken() == [("Show", new.name)]
        assert panel.border_title == "History · 4"
        assert shown_titles(panel.list_view)[0] == "saved 7"
        history = panel.list_view
        await wait_for(
            pilot, lambda: new not in {e.path for e in history.entries_missing_thumbnails()}
        )


async def test_rescans_pick_up_images_saved_and_deleted_elsewhere(
    app: PanelApp, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "RESCAN_SECONDS", 0.1)
    paths = save_images(context.store, 3)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.pause()
        app.taken()

        other = save_image(context.store, 8)  # another sdtui saved it: no highlight for it
        await wait_for(pilot, lambda: len(panel.entries) == 4)
        await pilot.pause()
        assert panel.entries[0].path == other
        assert panel.selected_entry is not None and panel.selected_entry.path == paths[2]
        assert panel.border_title == "History · 4"
        assert app.taken() == []

        paths[1].unlink()  # deleted behind our back
        await wait_for(pilot, lambda: len(panel.entries) == 3)
        await pilot.pause()
        assert [e.path for e in panel.entries] == [other, paths[2], paths[0]]
        assert panel.border_title == "History · 3"


async def test_delete_asks_first_and_keeps_the_file_on_keep_or_escape(
    app: PanelApp, context: AppContext
) -> None:
    paths = save_images(context.store, 3)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.press("down")  # on image 1
        await pilot.pause()

        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert dialog.question == f"Delete {paths[1].name}?\nsaved 1"
        assert [label for _, label, _ in dialog.choices] == ["Keep", "Delete"]
        assert dialog.focused is not None and dialog.focused.id == "choice-cancel"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceDialog))

        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("enter")  # Keep, the answer focused first
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceDialog))
        await pilot.pause(0.2)

        assert all(path.exists() for path in paths)
        assert len(panel.entries) == 3
        assert panel.selected_entry is not None and panel.selected_entry.path == paths[1]
        assert panel.border_title == "History · 3"
        assert not any(n.startswith("Deleted") for n in app.notes())


async def test_delete_removes_the_file_and_its_row(app: PanelApp, context: AppContext) -> None:
    paths = save_images(context.store, 3)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.press("down")  # on image 1
        await pilot.pause()
        app.taken()

        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("tab", "enter")  # Delete
        await wait_for(pilot, lambda: len(panel.entries) == 2)
        await pilot.pause()

        assert not paths[1].exists()
        assert paths[0].exists() and paths[2].exists()
        assert [e.path for e in panel.entries] == [paths[2], paths[0]]
        assert panel.selected_entry is not None and panel.selected_entry.path == paths[0]
        assert panel.border_title == "History · 2"
        assert f"Deleted {paths[1].name}" in app.notes()
        assert panel.list_view.has_focus
        assert app.taken() == [("Show", paths[0].name)]  # the next entry is in view


async def test_a_delete_that_fails_says_why_and_keeps_the_row(app: PanelApp) -> None:
    outside = entry(1)  # not in the output folder: the store refuses it
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.list_view.set_entries([outside])
        panel.focus_list()
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.click("#choice-delete")
        await wait_for(pilot, lambda: any(n.startswith("Cannot delete") for n in app.notes()))
        await pilot.pause()
        failed = next(n for n in app._notifications if str(n.message).startswith("Cannot delete"))
        assert failed.severity == "error"
        assert "not inside the output folder" in str(failed.message)
        assert panel.entries == [outside]
        assert not isinstance(app.screen, ChoiceDialog)
