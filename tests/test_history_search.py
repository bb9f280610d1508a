"""The history's search: the syntax (a pure function) and the search box over a real index."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from sdtui.config import Settings
from sdtui.store.index import HistoryQuery
from sdtui.store.query_text import SEARCH_HELP, parse_query
from sdtui.store.session import Session
from sdtui.ui.context import AppContext
from sdtui.ui.widgets import history_filter
from sdtui.ui.widgets.history_filter import shorten_path
from tests.test_history_panel import SIZE, PanelApp, png_bytes, wait_for

# -- the syntax -------------------------------------------------------------------------------


def test_words_are_the_text_and_filters_are_read() -> None:
    parsed = parse_query(
        'red fox model:"dream shaper" since:2024-05-01 until:2024-05-31 size:512x768 '
        "is:fav is:interrupted sort:oldest"
    )
    assert parsed.problems == ()
    assert parsed.query == HistoryQuery(
        text="red fox",
        model="dream shaper",
        since=datetime(2024, 5, 1),
        until=datetime(2024, 6, 1),  # the whole last day counts: the index's until is exclusive
        width=512,
        height=768,
        favourites=True,
        interrupted=True,
        newest_first=False,
    )
    assert parsed.filtered


def test_each_filter_alone() -> None:
    assert parse_query("").query == HistoryQuery()
    assert not parse_query("").filtered
    assert not parse_query("sort:oldest").filtered  # the order leaves nothing out
    assert parse_query("sort:oldest").query.newest_first is False
    assert parse_query("sort:newest").query.newest_first is True
    assert parse_query("*").query == HistoryQuery(favourites=True)
    assert parse_query("is:FAV").query == HistoryQuery(favourites=True)
    assert parse_query("is:complete").query == HistoryQuery(interrupted=False)
    assert parse_query("MODEL:sdxl").query == HistoryQuery(model="sdxl")
    assert parse_query("size:512x").query == HistoryQuery(width=512)
    assert parse_query("size:x768").query == HistoryQuery(height=768)
    assert parse_query("size:512×768").query == HistoryQuery(width=512, height=768)
    assert parse_query("  cat   sitt ").query == HistoryQuery(text="cat sitt")
    assert parse_query("cat", limit=5).query == HistoryQuery(text="cat", limit=5)


def test_unknown_keys_are_words_and_bad_values_are_named() -> None:
    # A prompt may hold "a:b" (LoRA tags, weights): only known keys filter.
    assert parse_query("<lora:detail:0.5> (cat:1.2)").query.text == "<lora:detail:0.5> (cat:1.2)"
    parsed = parse_query("cat since:yesterday size:big is:nothing sort:up model:")
    assert parsed.query == HistoryQuery(text="cat")
    assert parsed.problems == (
        "since: wants a date like 2026-01-31, not 'yesterday'",
        "size: wants WxH like 512x768, not 'big'",
        "is: knows fav, interrupted and complete, not 'nothing'",
        "sort: knows newest and oldest, not 'up'",
        "model: wants a name, e.g. model:sdxl",
    )
    assert all("\n" not in p for p in parsed.problems)


def test_the_placeholder_names_the_syntax() -> None:
    for word in ("model:", "since:", "size:WxH", "is:fav", "sort:oldest"):
        assert word in SEARCH_HELP


def test_paths_are_shortened_with_home_and_a_middle_ellipsis() -> None:
    home = Path("/home/ann")
    assert shorten_path(Path("/home/ann/outputs"), 40, home) == "~/outputs"
    assert shorten_path(home, 40, home) == "~"
    assert shorten_path(Path("/srv/out"), 40, home) == "/srv/out"
    long = Path("/home/ann/stable-diffusion-webui/outputs/txt2img-images/2024-05-01")
    short = shorten_path(long, 30, home)
    assert len(short) == 30 and short.startswith("~/st") and short.endswith("2024-05-01")
    assert "…" in short
    assert shorten_path(long, 0, home) == ""


# -- the search box over a real index ---------------------------------------------------------


def write_image(
    folder: Path, name: str, prompt: str, *, model: str, size: tuple[int, int], day: str
) -> Path:
    """A web-UI-shaped image in a date folder, made on `day`."""
    folder = folder / day
    folder.mkdir(parents=True, exist_ok=True)
    text = f"{prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Model: {model}"
    path = folder / name
    path.write_bytes(png_bytes(text, size))
    when = datetime.fromisoformat(f"{day}T12:00:00").timestamp()
    os.utime(path, (when, when))
    return path


@pytest.fixture
def gallery(tmp_path: Path) -> AppContext:
    out = tmp_path / "out"
    write_image(out, "1.png", "a red fox", model="dreamshaper_8", size=(64, 96), day="2024-05-01")
    write_image(out, "2.png", "a fox cub", model="sdxl_base", size=(96, 64), day="2024-05-10")
    write_image(out, "3.png", "a lighthouse", model="sdxl_base", size=(64, 96), day="2024-06-02")
    write_image(out, "4.png", "foxgloves", model="Dreamshaper_8", size=(64, 64), day="2024-06-20")
    return AppContext(Settings(out=out), Session(tmp_path / "form.json"))


async def search(app: PanelApp, pilot: Pilot[None], text: str) -> list[str]:
    """Type `text` into the search (replacing what was there); the titles shown then."""
    panel = app.panel
    app.search.value = text
    app.search.flush()  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: not panel.workers or all(w.is_finished for w in panel.workers))
    await pilot.pause()
    return [row.title for row in panel.entries]


async def test_each_filter_narrows_the_list_and_the_count_says_so(gallery: AppContext) -> None:
    app = PanelApp(gallery)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.start()
        await wait_for(pilot, lambda: panel.loaded)
        assert [r.title for r in panel.entries] == [
            "foxgloves",
            "a lighthouse",
            "a fox cub",
            "a red fox",
        ]
        assert await search(app, pilot, "fox") == ["foxgloves", "a fox cub", "a red fox"]
        assert panel.border_title == "History · 3 of 4"
        assert await search(app, pilot, "fox cu") == ["a fox cub"]  # words are prefixes
        assert await search(app, pilot, "model:dreamshaper") == ["foxgloves", "a red fox"]
        assert await search(app, pilot, "since:2024-06-01") == ["foxgloves", "a lighthouse"]
        assert await search(app, pilot, "until:2024-05-10") == ["a fox cub", "a red fox"]
        assert await search(app, pilot, "since:2024-05-05 until:2024-06-10") == [
            "a lighthouse",
            "a fox cub",
        ]
        assert await search(app, pilot, "size:64x96") == ["a lighthouse", "a red fox"]
        assert await search(app, pilot, "fox sort:oldest") == [
            "a red fox",
            "a fox cub",
            "foxgloves",
        ]
        assert panel.border_title == "History · 3 of 4"
        assert await search(app, pilot, "sort:oldest") == [
            "a red fox",
            "a fox cub",
            "a lighthouse",
            "foxgloves",
        ]
        assert panel.border_title == "History · 4"  # nothing left out: no "of"
        assert await search(app, pilot, "is:interrupted") == []
        assert panel.border_title == "History · 0 of 4"
        assert await search(app, pilot, "") == [
            "foxgloves",
            "a lighthouse",
            "a fox cub",
            "a red fox",
        ]
        assert panel.border_title == "History · 4"


async def test_a_bad_term_is_named_in_one_line_and_the_rest_still_searches(
    gallery: AppContext,
) -> None:
    app = PanelApp(gallery)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.start()
        await wait_for(pilot, lambda: panel.loaded)
        assert await search(app, pilot, "fox since:may") == ["foxgloves", "a fox cub", "a red fox"]
        status = panel.query_one("#history-status")
        assert status.display
        assert str(status.render()) == "since: wants a date like 2026-01-31, not 'may'"
        await search(app, pilot, "fox")
        assert not status.display


async def test_typing_fast_queries_once_after_a_pause(
    gallery: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_filter, "DEBOUNCE_SECONDS", 0.15)
    app = PanelApp(gallery)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.start()
        await wait_for(pilot, lambda: panel.loaded)
        asked: list[str] = []
        original = panel._ask

        def spy(highlight: Path | None = None) -> None:
            asked.append(panel.parsed.query.text)
            original(highlight)

        monkeypatch.setattr(panel, "_ask", spy)
        panel.focus_list()
        await pilot.press("slash", *"lighth")
        await wait_for(pilot, lambda: panel.border_title == "History · 1 of 4")
        assert asked == ["lighth"]
        assert [r.title for r in panel.entries] == ["a lighthouse"]
