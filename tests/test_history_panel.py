"""The history panel in a small app, over a real index of real files: keys, messages, merging,
painting, laziness, and the work it owns (querying, thumbnails, rescans, starring, the trash).

The list's own behaviour (highlight, scrolling, inserts) is tested on a bare `HistoryList` with
made-up rows; the search syntax and the search box in tests/test_history_search.py."""

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
from sdtui.store import ImageStore
from sdtui.store.index import IndexRow
from sdtui.store.session import Session
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.choice import ChoiceDialog
from sdtui.ui.messages import HistoryReady, LeaveHistory, ReuseParameters, ShowEntry
from sdtui.ui.widgets import history_panel as history_module
from sdtui.ui.widgets.history_list import (
    ROW_HEIGHT,
    THUMB_ENTRIES,
    HistoryList,
    facts_line,
    settings_line,
    title_line,
)
from sdtui.ui.widgets.history_panel import HistoryPanel

BASE_TIME = 1_700_000_000.0
SIZE = (44, 20)  # the panel is 40 wide: 38 inside the border
LIST_SIZE = (40, 18)  # a bare list: 6 rows
COLOUR = (200, 80, 20)  # of the images saved to disk


def infotext(prompt: str, seed: int | None) -> str:
    seed_part = f", Seed: {seed}" if seed is not None else ""
    return f"{prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7{seed_part}, Size: 512x768"


def row(n: int, title: str | None = None, **changes: object) -> IndexRow:
    """Made-up row number `n`; a higher number is a newer image."""
    values: dict[str, object] = dict(
        id=n,
        path=Path(f"/pictures/{n:06}.png"),
        title=f"picture {n}" if title is None else title,
        seed=1000 + n,
        width=512,
        height=768,
        model="dreamshaper_8",
        steps=20,
        sampler="Euler a",
        cfg_scale=7.0,
        created=BASE_TIME + n,
        interrupted=False,
        favourite=False,
        imported=False,
    )
    values.update(changes)
    return IndexRow(**values)  # type: ignore[arg-type]


def newest_first(count: int) -> list[IndexRow]:
    return [row(n) for n in reversed(range(count))]


def png_bytes(text: str | None, size: tuple[int, int] = (96, 96)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, COLOUR).save(buffer, "PNG")
    return to_png_with_parameters(buffer.getvalue(), text)


def save_image(store: ImageStore, n: int, age: float | None = None, prompt: str = "") -> Path:
    """Image `n` saved in the store, `age` seconds old (a higher `n` is newer)."""
    prompt = prompt or f"saved {n}"
    path = store.save(png_bytes(infotext(prompt, n)), prompt=prompt, seed=n)
    if age is not None:
        when = time.time() - age
        os.utime(path, (when, when))
    return path


def save_images(store: ImageStore, count: int) -> list[Path]:
    """`count` images, oldest first, a second apart."""
    return [save_image(store, n, age=100.0 - n) for n in range(count)]


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


def line_text(history: HistoryList, y: int) -> str:
    return history.render_line(y).text


def shown_titles(history: HistoryList) -> list[str]:
    """The title line of every row on screen, as painted."""
    height = history.scrollable_content_region.height
    return [line_text(history, y)[7:].strip() for y in range(0, height, ROW_HEIGHT)]


# -- the list on its own ----------------------------------------------------------------------


class ListApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []
        self.wanted: list[list[str]] = []

    def compose(self) -> ComposeResult:
        yield HistoryList(id="history-list")

    @property
    def history(self) -> HistoryList:
        return self.query_one(HistoryList)

    @on(HistoryList.Highlighted)
    def _highlighted(self, event: HistoryList.Highlighted) -> None:
        self.events.append(("Highlight", event.row.path.name))

    @on(HistoryList.Selected)
    def _selected(self, event: HistoryList.Selected) -> None:
        self.events.append(("Open", event.row.path.name))

    @on(HistoryList.ThumbnailsWanted)
    def _wanted(self, event: HistoryList.ThumbnailsWanted) -> None:
        self.wanted.append([r.path.name for r in event.rows])

    def taken(self) -> list[tuple[str, str]]:
        out, self.events = self.events, []
        return out


async def test_keys_move_the_highlight_and_enter_opens() -> None:
    app = ListApp()
    async with app.run_test(size=LIST_SIZE) as pilot:
        history = app.history
        history.set_rows(newest_first(20))
        history.focus()
        await pilot.pause()
        assert history.highlighted_row == row(19)
        app.taken()
        await pilot.press("down", "down")
        assert history.highlighted_row == row(17)
        assert app.taken() == [("Highlight", "000018.png"), ("Highlight", "000017.png")]
        await pilot.press("pagedown")  # 6 rows fit
        assert history.highlighted_row == row(11)
        await pilot.press("end")
        assert history.highlighted_row == row(0)
        assert history.scroll_y == history.max_scroll_y > 0  # scrolled to keep it visible
        assert "picture 0" in line_text(history, history.size.height - ROW_HEIGHT)
        await pilot.press("pageup", "up")
        assert history.highlighted_row == row(7)
        await pilot.press("home")
        assert history.highlighted_row == row(19) and history.scroll_y == 0
        app.taken()
        await pilot.press("enter")
        assert app.taken() == [("Open", "000019.png")]
        await pilot.click(history, offset=(10, 2 * ROW_HEIGHT + 1))
        assert history.highlighted_row == row(17)
        await pilot.click(history, offset=(10, 2 * ROW_HEIGHT))
        assert app.taken() == [("Highlight", "000017.png"), ("Open", "000017.png")]


async def test_add_rows_puts_newer_on_top_and_can_keep_the_highlight() -> None:
    app = ListApp()
    async with app.run_test(size=LIST_SIZE) as pilot:
        history = app.history
        history.set_rows(newest_first(20))
        history.focus()
        await pilot.press("down", "down")  # on row 17
        app.taken()
        # Out of order and with one already known: sorted by time, duplicates ignored.
        history.add_rows([row(21), row(19), row(22)], highlight=False)
        await pilot.pause()
        assert [r.path.name for r in history.rows[:4]] == [
            "000022.png",
            "000021.png",
            "000019.png",
            "000018.png",
        ]
        assert len(history.rows) == 22
        assert history.highlighted_row == row(17) and history.highlighted == 4
        assert app.taken() == []
        history.add_rows([row(30), row(25)])
        await pilot.pause()
        assert history.rows[0] == row(30) == history.highlighted_row
        assert app.taken() == [("Highlight", "000030.png")]
        assert shown_titles(history)[0] == "picture 30"


async def test_a_scrolled_view_stays_put_when_rows_arrive_or_are_replaced() -> None:
    app = ListApp()
    async with app.run_test(size=LIST_SIZE) as pilot:
        history = app.history
        history.set_rows(newest_first(40))
        history.focus()
        await pilot.press("pagedown", "pagedown", "down", "down", "down")  # on row 24
        history.scroll_to(y=12 * ROW_HEIGHT, animate=False)
        await pilot.pause()
        before = shown_titles(history)
        assert before[0] == "picture 27"
        history.add_rows([row(41), row(40)], highlight=False)
        await pilot.pause()
        assert shown_titles(history) == before
        assert history.highlighted_row == row(24)
        # A rescan's answer: the same images plus newer ones, swapped in whole.
        history.set_rows([row(n) for n in reversed(range(45))])
        await pilot.pause()
        assert shown_titles(history) == before
        assert history.highlighted_row == row(24)


async def test_remove_and_replace_rows() -> None:
    app = ListApp()
    async with app.run_test(size=LIST_SIZE) as pilot:
        history = app.history
        history.set_rows(newest_first(5))
        history.focus()
        await pilot.press("down")
        app.taken()
        history.remove_path(row(3).path)
        await pilot.pause()
        assert [r.id for r in history.rows] == [4, 2, 1, 0]
        assert history.highlighted_row == row(2)
        assert app.taken() == [("Highlight", "000002.png")]
        history.remove_path(row(4).path)  # above the highlight: it stays on the same row
        history.remove_path(Path("/elsewhere.png"))
        await pilot.pause()
        assert history.highlighted_row == row(2) and app.taken() == []
        assert history.replace_row(row(2, favourite=True))
        await pilot.pause()
        assert line_text(history, 0)[7:].startswith("★ picture 2")
        assert not history.replace_row(row(99))


async def test_rows_tell_images_apart() -> None:
    today = time.localtime(BASE_TIME)
    day = __import__("datetime").date(today.tm_year, today.tm_mon, today.tm_mday)
    plain = row(1, "a cat\nsecond line", seed=42)
    assert title_line(plain) == "a cat second line"
    assert facts_line(plain, day).startswith("42 · ") and facts_line(plain, day).endswith(
        " · 512×768"
    )
    assert settings_line(plain) == "dreamshaper_8 · 20 steps · Euler a · CFG 7"
    marked = row(2, "a dog", favourite=True, interrupted=True, imported=True, seed=None)
    assert title_line(marked) == "★⏹⇣ a dog"
    assert settings_line(marked).startswith("⏹ interrupted · dreamshaper_8")
    assert settings_line(marked).endswith(" · imported")
    assert facts_line(marked, day).startswith("no seed")
    unknown = row(3, width=None, height=None, created=0.0)
    assert "?×?" in facts_line(unknown, day) and "1970-01-01" in facts_line(unknown, day)


async def test_thumbnails_are_asked_for_the_rows_in_view_only_and_painted() -> None:
    app = ListApp()
    async with app.run_test(size=LIST_SIZE) as pilot:
        history = app.history
        history.set_rows(newest_first(1000))
        await wait_for(pilot, lambda: bool(app.wanted))
        assert history.render_line(1).text.startswith("░" * 6)  # placeholder meanwhile
        asked = [name for batch in app.wanted for name in batch]
        # The 6 rows on screen (and the one cut at the bottom), then a few below: not 1,000.
        assert asked[:6] == [f"{n:06}.png" for n in range(999, 993, -1)]
        assert len(asked) < 20 and len(set(asked)) == len(asked)
        app.wanted.clear()
        history.refresh()
        await pilot.pause()
        assert app.wanted == []  # asked once each
        cells = render_cells(Image.new("RGB", (48, 48), (255, 0, 0)), 6, 3)
        history.set_thumbnails({row(999).path: cells, Path("/unknown.png"): cells})
        await pilot.pause()
        for y in range(ROW_HEIGHT):
            segments = list(history.render_line(y))
            colours = {s.style.color.triplet for s in segments[:1] if s.style and s.style.color}
            assert colours == {(255, 0, 0)}, y
        assert next(iter(history.render_line(ROW_HEIGHT))).text == " " * 6

        history.focus()
        await pilot.press("end")
        await pilot.pause()
        assert "000000.png" in [name for batch in app.wanted for name in batch]
        # The LRU stays bounded however many arrive.
        history.set_thumbnails({r.path: cells for r in history.rows})
        assert history.thumbnails_held == THUMB_ENTRIES


async def test_only_visible_rows_are_rendered() -> None:
    app = ListApp()
    async with app.run_test(size=LIST_SIZE) as pilot:
        history = app.history
        history.set_rows(newest_first(10_000))
        await pilot.pause()
        visible_rows = history.scrollable_content_region.height // ROW_HEIGHT
        assert visible_rows == 6
        assert history.virtual_size.height == 10_000 * ROW_HEIGHT
        assert visible_rows <= history.rows_rendered < 50
        before = history.rows_rendered
        history.add_rows([row(10_000)], highlight=False)
        await pilot.pause()
        assert "picture 10000" in line_text(history, 0)
        assert 1 <= history.rows_rendered - before <= visible_rows
        history.focus()
        await pilot.press("end")
        await pilot.pause()
        assert "picture 0" in line_text(history, history.size.height - ROW_HEIGHT)
        assert history.cached_entries < 50 + 2 * visible_rows


async def test_prompts_render_literally_and_long_titles_are_cut() -> None:
    app = ListApp()
    async with app.run_test(size=LIST_SIZE) as pilot:
        history = app.history
        history.set_rows([row(2, "[bold]x[/] \x1b]0;t\x07tail \x1b[31mred"), row(1, "word " * 40)])
        await pilot.pause()
        text = line_text(history, 0)
        assert "[bold]x[/] tail red" in text
        assert "\x1b" not in text and "0;t" not in text and "\x07" not in text
        width = history.scrollable_content_region.width
        title = line_text(history, ROW_HEIGHT)
        assert len(title) == width and title.endswith("…")
        title_style = next(s.style for s in history.render_line(0) if "tail" in s.text)
        facts_style = next(s.style for s in history.render_line(1) if "1002 ·" in s.text)
        assert title_style is not None and facts_style is not None
        assert facts_style.color != title_style.color
        assert facts_style.bgcolor == title_style.bgcolor


async def test_the_empty_list_says_so() -> None:
    app = ListApp()
    async with app.run_test(size=LIST_SIZE) as pilot:
        history = app.history
        await pilot.pause()
        lines = [line_text(history, y) for y in range(6)]
        assert [line.strip() for line in lines[:3]] == ["", "No images yet.", ""]
        assert lines[1].startswith(" No")
        history.set_rows([], empty_note="No image matches this search.")
        await pilot.pause()
        assert line_text(history, 1).strip() == "No image matches this search."


# -- the panel over a real index --------------------------------------------------------------


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


async def load(app: PanelApp, pilot: Pilot[None]) -> None:
    """Start the panel on the store's folder and wait until the index has scanned all of it."""
    app.panel.start()
    await wait_for(pilot, lambda: app.panel.loaded)
    await pilot.pause()


async def test_start_lists_the_folder_newest_first_with_thumbnails(
    app: PanelApp, context: AppContext
) -> None:
    paths = save_images(context.store, 3)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        assert not panel.loaded
        await load(app, pilot)
        assert [e.path for e in panel.entries] == paths[::-1]
        assert [(e.title, e.seed, e.width, e.height) for e in panel.entries] == [
            (f"saved {n}", n, 96, 96) for n in (2, 1, 0)
        ]
        assert panel.selected_row is not None and panel.selected_row.path == paths[2]
        assert panel.border_title == "History · 3"
        assert app.taken() == [("Ready", paths[2].name)]
        history = panel.list_view
        await wait_for(pilot, lambda: history.thumbnails_held == 3)
        await pilot.pause()
        solid = render_cells(Image.new("RGB", (6, 6), COLOUR), 6, 3).strips[0]
        expected = next(iter(solid)).style
        assert expected is not None and expected.color is not None
        for y in range(ROW_HEIGHT):
            line = history.render_line(y)
            assert line.text.startswith("▀" * 6), y
            first = next(iter(line)).style
            assert first is not None and first.color is not None
            assert first.color.triplet == expected.color.triplet, y
        # The thumbnails were kept on disk: a second app finds them there.
        assert any(context.thumbs.folder.rglob("*.png"))


async def test_an_empty_folder_loads_as_an_empty_history(app: PanelApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await load(app, pilot)
        assert app.panel.entries == []
        assert app.panel.border_title == "History · 0"
        assert app.taken() == [("Ready", "")]
        assert app.notes() == []
        history = app.panel.list_view
        history.focus()
        await pilot.press("down", "enter", "l", "r", "c", "y", "s", "d")
        await pilot.pause()
        assert app.taken() == [] and app.copied == []
        assert not isinstance(app.screen, ChoiceDialog)


async def test_highlighting_fetches_the_record_and_keys_act_on_it(
    app: PanelApp, context: AppContext
) -> None:
    paths = save_images(context.store, 3)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.press("down")
        await wait_for(pilot, lambda: panel.selected_entry is not None)
        assert app.taken()[-1] == ("Show", paths[1].name)
        assert panel.selected_entry is not None
        assert panel.selected_entry.infotext == infotext("saved 1", 1)
        await pilot.press("l", "r")
        await wait_for(pilot, lambda: len(app.messages) == 2)
        assert app.taken() == [("Reuse", infotext("saved 1", 1)), ("Rerun", infotext("saved 1", 1))]
        await pilot.press("c", "y", "o")
        await pilot.pause()
        assert app.copied == ["1", str(paths[1]), str(paths[1].parent)]
        assert app.notes()[-1].startswith("Copied folder: ")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.messages))
        assert app.taken() == [("Open", paths[1].name)]


async def test_star_marks_the_row_and_is_kept_in_the_index(
    app: PanelApp, context: AppContext
) -> None:
    paths = save_images(context.store, 2)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.press("s")
        await wait_for(pilot, lambda: panel.entries[0].favourite)
        assert "★ saved 1" in line_text(panel.list_view, 0)
        record = context.index.get(paths[1])
        assert record is not None and record.favourite
        await pilot.press("slash", *"is:fav")
        await wait_for(pilot, lambda: panel.border_title == "History · 1 of 2")
        await pilot.press("escape")
        await wait_for(pilot, lambda: panel.border_title == "History · 2")
        await pilot.press("s")
        await wait_for(pilot, lambda: not panel.entries[0].favourite)
        record = context.index.get(paths[1])
        assert record is not None and not record.favourite


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
        panel.add_paths([new], interrupted=True)
        panel.add_paths([])
        await wait_for(pilot, lambda: len(panel.entries) == 4)
        await wait_for(pilot, lambda: bool(app.messages))
        assert panel.entries[0].path == new and panel.entries[0].interrupted
        assert panel.selected_row is not None and panel.selected_row.path == new
        assert app.taken() == [("Show", new.name)]
        assert panel.border_title == "History · 4"
        assert shown_titles(panel.list_view)[0] == "⏹ saved 7"


async def test_an_image_saved_during_a_search_shows_only_if_it_matches(
    app: PanelApp, context: AppContext
) -> None:
    save_image(context.store, 1, age=50, prompt="a cat")
    save_image(context.store, 2, age=40, prompt="a dog")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        await pilot.click("#history-search")
        await pilot.press(*"cat")
        await wait_for(pilot, lambda: panel.border_title == "History · 1 of 2")
        panel.add_paths([save_image(context.store, 3, prompt="another cat")])
        await wait_for(pilot, lambda: panel.border_title == "History · 2 of 3")
        assert [e.title for e in panel.entries] == ["another cat", "a cat"]
        panel.add_paths([save_image(context.store, 4, prompt="a bird")])
        await wait_for(pilot, lambda: panel.border_title == "History · 2 of 4")
        assert [e.title for e in panel.entries] == ["another cat", "a cat"]


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
        requeries: list[int] = []
        query_rows = panel._query_rows

        def counted(*args: object, **kwargs: object) -> None:
            requeries.append(1)
            query_rows(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(panel, "_query_rows", counted)
        other = save_image(context.store, 8)  # another sdtui saved it: no highlight for it
        await wait_for(pilot, lambda: len(panel.entries) == 4)
        await pilot.pause()
        assert requeries == []  # new images alone: only they were asked for
        assert panel.entries[0].path == other
        assert panel.selected_row is not None and panel.selected_row.path == paths[2]
        assert panel.border_title == "History · 4"
        assert app.taken() == []
        paths[1].unlink()  # deleted behind our back: the list is asked for again
        await wait_for(pilot, lambda: len(panel.entries) == 3)
        assert requeries
        assert [e.path for e in panel.entries] == [other, paths[2], paths[0]]
        assert panel.border_title == "History · 3"
        rescans = panel.rescans
        await wait_for(pilot, lambda: panel.rescans >= rescans + 2)  # keeps going


async def test_delete_asks_first_and_keeps_the_file_on_keep_or_escape(
    app: PanelApp, context: AppContext
) -> None:
    paths = save_images(context.store, 3)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.press("down")
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert dialog.question == f"Move {paths[1].name} to the trash?\nsaved 1"
        assert [label for _, label, _ in dialog.choices] == ["Keep", "Delete"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceDialog))
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("enter")  # Keep, the answer focused first
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceDialog))
        await pilot.pause(0.2)
        assert all(path.exists() for path in paths)
        assert len(panel.entries) == 3 and panel.border_title == "History · 3"


async def test_delete_moves_to_the_trash_and_undo_puts_it_back(
    app: PanelApp, context: AppContext
) -> None:
    paths = save_images(context.store, 3)
    root = context.settings.output_dir
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.press("down")
        await pilot.pause()
        assert panel.check_action("undo_delete", ()) is None  # nothing to undo yet
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("tab", "enter")  # Delete
        await wait_for(pilot, lambda: len(panel.entries) == 2)
        assert not paths[1].exists()
        trashed = [p for p in (root / ".trash").rglob("*.png")]
        assert [p.name for p in trashed] == [paths[1].name]
        assert [e.path for e in panel.entries] == [paths[2], paths[0]]
        assert panel.border_title == "History · 2"
        assert f"Moved {paths[1].name} to the trash · u undoes" in app.notes()
        assert panel.check_action("undo_delete", ()) is True
        await pilot.press("u")
        await wait_for(pilot, lambda: len(panel.entries) == 3)
        assert paths[1].exists() and not any((root / ".trash").rglob("*.png"))
        assert panel.selected_row is not None and panel.selected_row.path == paths[1]
        assert panel.border_title == "History · 3"
        assert panel.check_action("undo_delete", ()) is None  # nothing left: dimmed, a no-op
        notes = len(app.notes())
        await pilot.press("u")
        await pilot.pause()
        assert len(app.notes()) == notes


async def test_empty_trash_asks_with_the_count_then_deletes_for_good(
    app: PanelApp, context: AppContext
) -> None:
    paths = save_images(context.store, 3)
    root = context.settings.output_dir
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.action_empty_trash()
        await wait_for(pilot, lambda: "The trash is empty" in app.notes())
        panel.focus_list()
        for _ in range(2):
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            await pilot.press("tab", "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceDialog))
        await wait_for(pilot, lambda: len(panel.entries) == 1)
        panel.action_empty_trash()
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert dialog.question.startswith("Empty the trash: delete 2 files for good?")
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: any(n.startswith("Emptied the trash") for n in app.notes()))
        assert "Emptied the trash: 2 files deleted for good" in app.notes()
        assert not any((root / ".trash").rglob("*.png"))
        assert paths[0].exists()
        assert panel.undo_stack == []


async def test_an_imported_folder_refuses_delete_with_one_line(tmp_path: Path) -> None:
    imported = tmp_path / "webui"
    (imported / "txt2img-images" / "2024-05-01").mkdir(parents=True)
    image = imported / "txt2img-images" / "2024-05-01" / "00001-5.png"
    image.write_bytes(png_bytes(infotext("from the web ui", 5)))
    settings = Settings(out=tmp_path / "out", history_dirs=(imported,))
    app = PanelApp(AppContext(settings, Session(tmp_path / "form.json")))
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        assert [e.imported for e in panel.entries] == [True]
        assert "⇣ from the web ui" in line_text(panel.list_view, 0)
        panel.focus_list()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: "error" in app.severities())
        assert image.exists() and len(panel.entries) == 1
        [error] = [n for n in app._notifications if n.severity == "error"]
        assert "\n" not in str(error.message)


async def test_escape_clears_the_search_then_leaves(app: PanelApp, context: AppContext) -> None:
    save_image(context.store, 1, age=50, prompt="a red fox")
    save_image(context.store, 2, age=40, prompt="a lake")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.press("slash", *"fox")
        await wait_for(pilot, lambda: panel.border_title == "History · 1 of 2")
        assert app.search.has_focus
        app.taken()
        await pilot.press("escape")
        await wait_for(pilot, lambda: panel.border_title == "History · 2")
        assert app.search.value == "" and panel.list_view.has_focus
        await wait_for(pilot, lambda: bool(app.messages))
        await pilot.pause(0.2)  # a preview that follows the highlight once keys pause
        assert app.taken()[-1][0] == "Show"
        await pilot.press("escape")
        await pilot.pause()
        assert app.taken() == [("Leave", "")]
        # Enter keeps the search and goes to the list; escape there clears it first.
        await pilot.press("slash", *"lake", "enter")
        await wait_for(pilot, lambda: panel.border_title == "History · 1 of 2")
        assert panel.list_view.has_focus
        await pilot.press("escape")
        await wait_for(pilot, lambda: panel.border_title == "History · 2")
        await pilot.pause(0.2)
        app.taken()
        await pilot.press("escape")
        await pilot.pause()
        assert app.taken() == [("Leave", "")]


async def test_letters_typed_in_the_search_are_text_not_history_keys(
    app: PanelApp, context: AppContext
) -> None:
    save_images(context.store, 2)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await load(app, pilot)
        panel.focus_list()
        await pilot.press("slash", *"dry lcyso/u")
        await wait_for(pilot, lambda: panel.border_title == "History · 0 of 2")
        assert app.search.value == "dry lcyso/u"
        assert not isinstance(app.screen, ChoiceDialog)
        assert app.copied == []
        assert line_text(panel.list_view, 1).strip() == "No image matches this search."


async def test_the_output_folder_is_shown(app: PanelApp, context: AppContext) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        folder = app.panel.query_one("#history-folder")
        shown = str(folder.render())
        assert shown.endswith("out") and len(shown) <= 38


async def test_the_palette_offers_empty_trash_and_undo_only_once_there_is_one(
    tmp_path: Path,
) -> None:
    from sdtui.ui.commands import ActionCommands
    from tests.tui import make_app

    full = make_app("http://127.0.0.1:9", tmp_path)
    async with full.run_test(size=(140, 45)) as pilot:
        history = full.main.history  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: history.loaded)

        def offered() -> list[str]:
            provider = ActionCommands(full.screen)
            return [spec.id for spec, _ in provider._offered()]

        assert "history.empty_trash" in offered() and "png_info" in offered()
        assert "history.undo_delete" not in offered()
        history.add_paths([save_image(full.context.store, 1)])
        await wait_for(pilot, lambda: len(history.entries) == 1)
        history.focus_list()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(full.screen, ChoiceDialog))
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: not history.entries)
        assert "history.undo_delete" in offered()
        ActionCommands(full.screen)._run(
            next(
                s
                for s, _ in ActionCommands(full.screen)._offered()
                if s.id == "history.undo_delete"
            )
        )
        await wait_for(pilot, lambda: len(history.entries) == 1)


async def test_highlighting_never_reads_the_file_on_the_ui_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from tests.tui import make_app

    full = make_app("http://127.0.0.1:9", tmp_path)
    paths = save_images(full.context.store, 3)
    reads: list[tuple[str, bool]] = []
    original = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        reads.append((self.name, threading.current_thread() is threading.main_thread()))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    async with full.run_test(size=(140, 45)) as pilot:
        history = full.main.history  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: history.loaded and len(history.entries) == 3)
        history.focus_list()
        await pilot.press("down")
        preview = full.main.preview  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: getattr(preview.in_view.current, "path", None) == paths[1])
        assert (paths[1].name, False) in reads
        assert (paths[1].name, True) not in reads


async def test_a_long_scan_shows_its_progress_then_the_rows(
    app: PanelApp, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    save_images(context.store, 2)
    release = threading.Event()
    index = context.index
    real_scan = index.scan

    def slow_scan(progress: Callable[[int, int | None], None] | None = None) -> object:
        if progress is not None:
            progress(3400, 10_000)
        release.wait(10)
        return real_scan(progress)

    monkeypatch.setattr(index, "scan", slow_scan)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.start()
        status = panel.query_one("#history-status")
        await wait_for(pilot, lambda: status.display)
        assert str(status.render()) == "Indexing 3,400 / 10,000…"
        assert not panel.loaded and panel.entries == []  # what the new index holds: nothing
        release.set()
        await wait_for(pilot, lambda: panel.loaded and len(panel.entries) == 2)
        assert not status.display
        assert panel.border_title == "History · 2"
