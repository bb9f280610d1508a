"""PNG Info: open an image by path, see its parameters, load them into the form."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PIL import Image
from textual.app import App
from textual.widgets import Button, Input, Static

from sdtui.images.convert import encode_exif_user_comment
from sdtui.ui.actions import KeyMap
from sdtui.ui.dialogs.png_info import PathSuggester, PngInfoDialog, describe, read_info
from tests.test_history_panel import png_bytes, wait_for

TEXT = (
    "a lighthouse at dusk\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 96x96, Model: sdxl_base"
)


class DialogApp(App[None]):
    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.path = path
        self.results: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(PngInfoDialog(KeyMap(), self.path), self.results.append)


def dialog_text(app: App[None], selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def test_read_info_reads_png_jpeg_and_webp(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    png.write_bytes(png_bytes(TEXT))
    info = read_info(str(png))
    assert (info.infotext, info.width, info.height, info.problem) == (TEXT, 96, 96, "")
    for fmt in ("JPEG", "WEBP"):
        path = tmp_path / f"b.{fmt.lower()}"
        Image.new("RGB", (64, 32), (1, 2, 3)).save(path, fmt, exif=encode_exif_user_comment(TEXT))
        info = read_info(str(path))
        assert (info.infotext, info.width, info.height) == (TEXT, 64, 32), fmt
    shown = describe(read_info(str(png))).plain
    assert "a lighthouse at dusk" in shown and "blurry" in shown
    assert "Steps: 20, Sampler: Euler a" in shown and "96×96" in shown


def test_bad_paths_say_what_happened_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "plain.png").write_bytes(png_bytes(None))
    (tmp_path / "evil.png").write_bytes(
        png_bytes("\x1b[31mred\x1b[0m prompt\nSteps: 2, Seed: 1, Size: 9x9")
    )
    cases = {
        "": "Type the path of an image file (PNG, JPEG or WebP)",
        "~/missing.png": f"No file at {tmp_path / 'missing.png'}",
        "~": f"{tmp_path} is a folder, not an image",
        "~/plain.png": "plain.png carries no generation parameters",
    }
    for text, problem in cases.items():
        assert read_info(text).problem == problem, text
    bad = read_info("~/notes.txt").problem
    assert bad.startswith("Not an image sdtui can read") and "\n" not in bad
    evil = read_info("~/evil.png")
    assert "\x1b" not in evil.infotext and evil.infotext.startswith("red prompt")


async def test_the_dialog_reads_in_a_thread_and_loads_into_the_form(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    png.write_bytes(png_bytes(TEXT))
    app = DialogApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PngInfoDialog)
        load = app.screen.query_one("#png-info-load", Button)
        assert load.disabled
        app.screen.query_one("#png-info-path", Input).value = str(png)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not load.disabled)
        shown = dialog_text(app, "#png-info-text")
        assert "a lighthouse at dusk" in shown and "Seed: 42" in shown
        assert dialog_text(app, "#png-info-problem") == ""
        assert app.focused is load
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.results))
        assert app.results == [TEXT]


async def test_a_bad_path_keeps_the_dialog_and_what_was_typed(tmp_path: Path) -> None:
    app = DialogApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#png-info-path", Input)
        field.value = str(tmp_path / "nope.png")
        await pilot.press("enter")
        await wait_for(pilot, lambda: dialog_text(app, "#png-info-problem") != "")
        assert dialog_text(app, "#png-info-problem") == f"No file at {tmp_path / 'nope.png'}"
        assert isinstance(app.screen, PngInfoDialog)
        assert field.value == str(tmp_path / "nope.png")
        assert app.screen.query_one("#png-info-load", Button).disabled
        await pilot.press("escape")
        await wait_for(pilot, lambda: bool(app.results))
        assert app.results == [None]


async def test_a_path_given_is_read_at_once_and_close_closes(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    png.write_bytes(png_bytes(TEXT))
    app = DialogApp(str(png))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: "lighthouse" in dialog_text(app, "#png-info-text"))
        await pilot.click("#png-info-close")
        await wait_for(pilot, lambda: bool(app.results))
        assert app.results == [None]


def test_paths_complete_from_the_folder(tmp_path: Path) -> None:
    (tmp_path / "lighthouse.png").write_bytes(b"")
    (tmp_path / ".hidden.png").write_bytes(b"")
    suggester = PathSuggester()

    def suggest(value: str) -> str | None:
        return asyncio.run(suggester.get_suggestion(value))

    assert suggest(str(tmp_path / "ligh")) == str(tmp_path / "lighthouse.png")
    assert suggest(str(tmp_path / ".hid")) is None
    assert suggest(str(tmp_path / "zzz")) is None
    assert suggest(str(tmp_path / "nowhere" / "x")) is None
    assert suggest("") is None


async def test_f4_in_the_app_loads_an_image_into_the_form(tmp_path: Path) -> None:
    from tests.tui import make_app

    png = tmp_path / "a.png"
    png.write_bytes(png_bytes(TEXT))
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, PngInfoDialog))
        app.screen.query_one("#png-info-path", Input).value = str(png)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.screen.query_one("#png-info-load", Button).disabled)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PngInfoDialog))
        prompt = app.query_one("#prompt")
        await wait_for(pilot, lambda: "a lighthouse at dusk" in prompt.text)  # type: ignore[attr-defined]
