"""Snapshot tests for the screens whose look matters, with tiny demo images.

Regenerate after a deliberate UI change with `pytest tests/test_snapshots.py --snapshot-update`
and look at the report before committing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import TextArea

from sdtui.api import GenerationRequest, SDClient
from sdtui.config import Settings
from sdtui.engine import generate
from sdtui.store import ImageStore
from sdtui.ui.app import SdtuiApp
from sdtui.ui.widgets.connection_bar import ConnectionBar

FIXED_TIME = 1_700_000_000  # 2023-11-14: shown as a date, the same every day


async def _steady(pilot: Any, app: SdtuiApp, *, connected: bool) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while app.context.connected != connected or (
        not connected and not app.query_one("#banner").has_class("-shown")
    ):
        if loop.time() > deadline:
            raise AssertionError("the app did not settle")
        await pilot.pause(0.05)
    for editor in app.query(TextArea):
        editor.cursor_blink = False  # a blinking cursor is caught on or off at random
    bar = app.query_one(ConnectionBar)
    bar.show_clock = False
    bar.url = "http://127.0.0.1:7860"
    await app.workers.wait_for_complete() if connected else None
    await pilot.pause(0.3)


def _make_history(url: str, out: Path) -> None:
    async def run() -> None:
        async with SDClient(url) as client:
            store = ImageStore(out)
            for n, prompt in enumerate(("lighthouse in a storm", "a red fox at dusk")):
                request = GenerationRequest(
                    prompt=prompt, seed=100 + n, steps=4, width=96, height=64
                )
                outcome = await generate(client, request, store)
                path = outcome.images[0].path
                assert path is not None
                fixed = path.with_name(f"image-{n}.png")
                path.rename(fixed)
                os.utime(fixed, (FIXED_TIME + n, FIXED_TIME + n))

    asyncio.run(run())


def test_offline_start_screen(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    app = SdtuiApp(
        Settings(url="http://127.0.0.1:9", out=tmp_path / "out"), state_path=tmp_path / "s.json"
    )

    async def before(pilot: Any) -> None:
        await _steady(pilot, app, connected=False)

    assert snap_compare(app, terminal_size=(100, 30), run_before=before)


def test_history_and_preview(
    snap_compare: Callable[..., bool], demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.0)
    _make_history(server.url, tmp_path / "out")
    app = SdtuiApp(Settings(url=server.url, out=tmp_path / "out"), state_path=tmp_path / "s.json")

    async def before(pilot: Any) -> None:
        await _steady(pilot, app, connected=True)
        await pilot.press("ctrl+f", "down")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(120, 36), run_before=before)


def test_form_with_hires_fix_and_an_init_image_at_80x24(
    snap_compare: Callable[..., bool], demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    from PIL import Image
    from textual.widgets import Checkbox

    server = demo_factory(step_delay=0.0)
    init = tmp_path / "init.png"
    Image.new("RGB", (600, 900), "teal").save(init)
    app = SdtuiApp(Settings(url=server.url, out=tmp_path / "out"), state_path=tmp_path / "s.json")

    async def before(pilot: Any) -> None:
        await _steady(pilot, app, connected=True)
        app.query_one("#hr-enable", Checkbox).value = True
        await pilot.pause(0.1)
        form = app.main.form
        form.set_init_image(init)
        while not form.img2img.active:
            await pilot.pause(0.05)
        app.query_one("#i2i-denoise").focus()
        await pilot.pause(0.1)
        app.clear_notifications()  # a toast's timing is not the layout's
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)
