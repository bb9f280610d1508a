"""The history panel in a small app: keys, messages, merging, search, painting, laziness."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from textual import on
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Input

from sdtui.render import render_cells
from sdtui.store import HistoryEntry
from sdtui.ui.widgets.history_list import ROW_HEIGHT, HistoryList
from sdtui.ui.widgets.history_panel import HistoryPanel

BASE_TIME = 1_700_000_000.0
SIZE = (44, 20)  # the panel is 40 wide: 38 inside the border, 18 lines high (6 rows)


def entry(n: int, prompt: str | None = None, seed: int | None = None) -> HistoryEntry:
    """Entry number `n`; a higher number is a newer image."""
    return HistoryEntry(
        path=Path(f"/pictures/{n:06}.png"),
        mtime=BASE_TIME + n,
        width=512,
        height=768,
        infotext="",
        prompt=f"picture {n}" if prompt is None else prompt,
        seed=1000 + n if seed is None else seed,
    )


def newest_first(count: int) -> list[HistoryEntry]:
    return [entry(n) for n in reversed(range(count))]


class PanelApp(App[None]):
    CSS = "HistoryPanel { width: 40; height: 1fr; border: round white; }"

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield HistoryPanel(id="history")

    @property
    def panel(self) -> HistoryPanel:
        return self.query_one(HistoryPanel)

    @on(HistoryPanel.EntryMessage)
    @on(HistoryPanel.Copy)
    def _record(self, message: Message) -> None:
        self.messages.append(message)

    def taken(self) -> list[tuple[str, str]]:
        """Messages received since the last call, as (kind, entry path or copied text)."""
        out = []
        for message in self.messages:
            if isinstance(message, HistoryPanel.EntryMessage):
                out.append((type(message).__name__, message.entry.path.name))
            elif isinstance(message, HistoryPanel.Copy):
                out.append((f"Copy {message.what}", message.text))
        self.messages.clear()
        return out


def line_text(history: HistoryList, y: int) -> str:
    return history.render_line(y).text


def shown_titles(history: HistoryList) -> list[str]:
    """The title line of every row on screen, as painted."""
    height = history.scrollable_content_region.height
    return [line_text(history, y)[7:].strip() for y in range(0, height, ROW_HEIGHT)]


async def test_keys_move_the_highlight_and_enter_opens() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        app.panel.set_entries(newest_first(20))
        app.panel.list_view.focus()
        await pilot.pause()
        app.taken()
        assert app.panel.selected_entry == entry(19)

        await pilot.press("down", "down")
        assert app.panel.selected_entry == entry(17)
        assert app.taken() == [("Highlighted", "000018.png"), ("Highlighted", "000017.png")]

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
        assert app.taken() == [("Opened", "000019.png")]


async def test_action_keys_post_messages_for_the_highlighted_entry() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        app.panel.set_entries(newest_first(5))
        app.panel.list_view.focus()
        await pilot.press("down")
        app.taken()
        await pilot.press("l", "r", "c", "y", "d", "delete")
        assert app.taken() == [
            ("Reuse", "000003.png"),
            ("Rerun", "000003.png"),
            ("Copy seed", "1003"),
            ("Copy path", str(entry(3).path)),
            ("Delete", "000003.png"),
            ("Delete", "000003.png"),
        ]


async def test_clicks_highlight_and_a_second_click_opens() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        app.panel.set_entries(newest_first(5))
        await pilot.pause()
        app.taken()
        history = app.panel.list_view
        await pilot.click(history, offset=(10, 2 * ROW_HEIGHT + 1))
        assert app.panel.selected_entry == entry(2)
        assert app.taken() == [("Highlighted", "000002.png")]
        await pilot.click(history, offset=(10, 2 * ROW_HEIGHT))
        assert app.taken() == [("Opened", "000002.png")]


async def test_add_entries_puts_newer_on_top_and_can_keep_the_highlight() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.set_entries(newest_first(20))
        panel.list_view.focus()
        await pilot.press("down", "down")  # on entry 17
        app.taken()

        # Out of order and with one already known: sorted by time, duplicates ignored.
        panel.add_entries([entry(21), entry(19), entry(22)], highlight=False)
        await pilot.pause()
        assert [e.path.name for e in panel.entries[:4]] == [
            "000022.png",
            "000021.png",
            "000019.png",
            "000018.png",
        ]
        assert len(panel.entries) == 22
        assert panel.selected_entry == entry(17)
        assert panel.list_view.highlighted == 4
        assert app.taken() == []  # the highlighted entry did not change
        assert panel.border_title == "History · 22"

        panel.add_entries([entry(30), entry(25)])
        await pilot.pause()
        assert panel.entries[0] == entry(30)
        assert panel.selected_entry == entry(30)
        assert app.taken() == [("Highlighted", "000030.png")]
        assert shown_titles(panel.list_view)[0] == "picture 30"


async def test_a_scrolled_view_stays_put_when_entries_arrive() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.set_entries(newest_first(40))
        panel.list_view.focus()
        await pilot.pause()
        await pilot.press("pagedown", "pagedown", "down", "down", "down")  # on entry 24
        panel.list_view.scroll_to(y=12 * ROW_HEIGHT, animate=False)  # now in the middle
        await pilot.pause()
        before = shown_titles(panel.list_view)
        assert before[0] == "picture 27"
        panel.add_entries([entry(41), entry(40)], highlight=False)
        await pilot.pause()
        assert shown_titles(panel.list_view) == before
        assert panel.selected_entry == entry(24)


async def test_remove_path_moves_the_highlight_to_the_next_entry() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.set_entries(newest_first(5))
        panel.list_view.focus()
        await pilot.press("down")
        app.taken()
        panel.remove_path(entry(3).path)
        await pilot.pause()
        assert [e.path.name for e in panel.entries] == [
            "000004.png",
            "000002.png",
            "000001.png",
            "000000.png",
        ]
        assert panel.selected_entry == entry(2)
        assert app.taken() == [("Highlighted", "000002.png")]
        assert panel.border_title == "History · 4"
        panel.remove_path(entry(4).path)  # above the highlight: it stays on the same entry
        panel.remove_path(Path("/elsewhere.png"))
        assert panel.selected_entry == entry(2)
        assert app.taken() == []


async def test_search_filters_by_prompt_and_seed() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        entries = [
            entry(5, "A red Fox at dusk", seed=77),
            entry(4, "lighthouse in a storm", seed=123456),
            entry(3, "a fox in the snow\nsecond line", seed=9),
            entry(2, "mountain lake", seed=8),
        ]
        panel.set_entries(entries)
        search = panel.query_one("#history-search", Input)
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
        assert app.taken()[-1] == ("Opened", "000003.png")

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


async def test_entries_arriving_during_a_search_are_filtered() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.set_entries([entry(1, "a cat"), entry(0, "a dog")])
        panel.list_view.set_filter("cat")
        panel.add_entries([entry(3, "another cat"), entry(2, "a bird")], highlight=False)
        await pilot.pause()
        assert [e.prompt for e in panel.list_view.rows] == ["another cat", "a cat"]
        assert len(panel.entries) == 4
        panel.remove_path(entry(1).path)
        assert [e.prompt for e in panel.list_view.rows] == ["another cat"]


async def test_thumbnails_are_painted_beside_the_text() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.set_entries(newest_first(3))
        await pilot.pause()
        history = panel.list_view
        assert history.render_line(1).text.startswith("░" * 6)  # placeholder meanwhile
        cells = render_cells(Image.new("RGB", (48, 48), (255, 0, 0)), 6, 3)
        panel.set_thumbnails({entry(2).path: cells, Path("/unknown.png"): cells})
        await pilot.pause()
        assert [e.path for e in panel.entries_missing_thumbnails()] == [
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


async def test_prompts_render_literally_without_escapes() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.set_entries([entry(1, "[bold]x[/] \x1b]0;t\x07tail \x1b[31mred")])
        await pilot.pause()
        text = line_text(panel.list_view, 0)
        assert "[bold]x[/] tail red" in text
        assert "\x1b" not in text and "0;t" not in text and "\x07" not in text


async def test_long_titles_are_cut_with_an_ellipsis_and_facts_are_dim() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.set_entries([entry(1, "word " * 40, seed=42)])
        await pilot.pause()
        history = panel.list_view
        width = history.scrollable_content_region.width
        title = line_text(history, 0)
        assert len(title) == width and title.endswith("…")
        facts = line_text(history, 1)
        assert "42 · 512×768 · " in facts
        assert "Nov 1" in facts  # an old image shows its date, not its time


async def test_empty_state() -> None:
    app = PanelApp()
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
        await pilot.press("down", "enter", "l", "d")
        assert app.taken() == []
        panel.add_entries([entry(1)])
        await pilot.pause()
        assert "No images yet." not in [line_text(history, y).strip() for y in range(6)]
        assert panel.selected_entry == entry(1)

        history.set_filter("nothing like this")
        await pilot.pause()
        assert line_text(history, 1).strip() == "No image matches this search."
        history.set_filter("")
        panel.remove_path(entry(1).path)
        await pilot.pause()
        assert line_text(history, 1).strip() == "No images yet."
        assert panel.selected_entry is None


async def test_only_visible_rows_are_rendered() -> None:
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        history = panel.list_view
        panel.set_entries(newest_first(10_000))
        await pilot.pause()
        visible_rows = history.scrollable_content_region.height // ROW_HEIGHT
        assert visible_rows == 6
        assert history.virtual_size.height == 10_000 * ROW_HEIGHT
        assert visible_rows <= history.rows_rendered < 50
        assert "picture 9999" in line_text(history, 0)

        before = history.rows_rendered
        panel.add_entries([entry(10_000)], highlight=False)  # appears on top, shifts the rest
        await pilot.pause()
        assert "picture 10000" in line_text(history, 0)
        assert 1 <= history.rows_rendered - before <= visible_rows

        history.focus()
        await pilot.press("end")
        await pilot.pause()
        assert "picture 0" in line_text(history, history.size.height - ROW_HEIGHT)
        assert history.rows_rendered < 50 + 2 * visible_rows
        assert history.cached_entries < 50 + 2 * visible_rows
