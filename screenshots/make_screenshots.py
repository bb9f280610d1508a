"""Regenerate the README's screenshots from the app itself, against the demo backend.

    python screenshots/make_screenshots.py          # writes screenshots/*.svg

Each SVG can be turned into a PNG for a quick look: rsvg-convert shot.svg -o shot.png
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import httpx
from textual.widgets import Collapsible, Input

from sdtui.config import ServerProfile, Settings
from sdtui.demo import DemoServer
from sdtui.ui.app import SdtuiApp
from sdtui.ui.widgets.prompt_editor import PromptEditor

HERE = Path(__file__).parent
SIZE = (140, 45)
NARROW = (80, 24)


async def wait_for(pilot: object, condition: object, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.05)  # type: ignore[attr-defined]


async def fill(app: SdtuiApp, prompt: str, negative: str, **values: str) -> None:
    app.query_one("#prompt", PromptEditor).load_text(prompt)
    app.query_one("#negative", PromptEditor).load_text(negative)
    for field, value in values.items():
        app.query_one(f"#{field}", Input).value = value


async def main() -> None:
    # Screenshots are SVGs in 24-bit colour: build the cells for that, whatever this terminal is.
    os.environ["COLORTERM"] = "truecolor"
    with tempfile.TemporaryDirectory() as tmp, DemoServer(step_delay=0.08) as server:
        httpx.post(f"{server.url}/sdapi/v1/options", json={"show_progress_every_n_steps": 3})
        settings = Settings(url=server.url, out=Path(tmp) / "out")
        app = SdtuiApp(settings, demo=True, state_path=Path(tmp) / "state.json", poll_interval=0.2)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.context.connected)
            for prompt, seed in (
                ("lighthouse on a cliff in a storm, dramatic sky", "7"),
                ("snowy mountain village at night, warm windows", "2024"),
            ):
                await fill(
                    app, prompt, "blurry, lowres", steps="12", seed=seed, width="512", height="512"
                )
                await pilot.press("ctrl+g")
                await wait_for(pilot, lambda: not app.context.queue.busy)
                await app.workers.wait_for_complete()
            await fill(
                app,
                "a red fox at dusk in a birch forest, oil painting, golden light",
                "blurry, lowres, watermark",
                steps="40",
                seed="1234",
                width="768",
                height="512",
            )
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: app.main.preview.live_frames >= 6)
            await pilot.pause(0.3)
            app.save_screenshot(str(HERE / "generating.svg"))
            await wait_for(pilot, lambda: not app.context.queue.busy)
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "finished.svg"))
            await pilot.press("ctrl+f", "down")
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "history.svg"))
        # The same folder at 80x24: the preview takes the room, the history opens over it.
        app = SdtuiApp(settings, demo=True, state_path=Path(tmp) / "state.json", poll_interval=0.2)
        async with app.run_test(size=NARROW) as pilot:
            await wait_for(pilot, lambda: app.context.connected and app.main.history.loaded)
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "narrow.svg"))
            await pilot.press("ctrl+f")
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "narrow-history.svg"))
        await servers_and_sweep(Path(tmp))
    for name in (
        "generating", "finished", "history", "narrow", "narrow-history", "queue", "sweep"
    ):
        print(HERE / f"{name}.svg")


async def servers_and_sweep(tmp: Path) -> None:
    """Two GPU boxes, one three times slower: the queue panel while a batch spreads over
    them; then a sweep from the form and its grid."""
    with DemoServer(step_delay=0.05) as fast, DemoServer(step_delay=0.15) as slow:
        for server in (fast, slow):
            httpx.post(f"{server.url}/sdapi/v1/options", json={"show_progress_every_n_steps": 3})
        profiles = (ServerProfile("gpu1", fast.url), ServerProfile("gpu2", slow.url))
        settings = Settings(servers=profiles, out=tmp / "out2")
        app = SdtuiApp(settings, demo=True, state_path=tmp / "state2.json", poll_interval=0.2)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: all(link.connected for link in app.context.servers))
            await fill(
                app,
                "a paper boat on a rainy street, cinematic",
                "blurry",
                steps="20",
                seed="500",
                width="512",
                height="512",
            )
            app.query_one("#batch-count", Input).value = "6"
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: len(app.context.queue.finished) >= 2)
            await pilot.press("ctrl+j")
            await pilot.pause(0.6)
            app.save_screenshot(str(HERE / "queue.svg"))
            await wait_for(pilot, lambda: not app.context.queue.busy)
            await app.workers.wait_for_complete()
            await pilot.press("ctrl+j")
            form = app.main.form
            app.query_one("#batch-count", Input).value = "1"
            form.restore(
                form.state()
                | {
                    "sweep-x": "cfg",
                    "sweep-x-values": "4, 7, 10",
                    "sweep-y": "steps",
                    "sweep-y-values": "8, 16",
                    "width": "256",
                    "height": "256",
                }
            )
            app.query_one("#sweep-fold", Collapsible).collapsed = False
            await pilot.pause(0.3)
            await pilot.press("ctrl+g")
            grid = tmp / "out2"
            await wait_for(pilot, lambda: any(grid.rglob("xyz_grid-*.png")), timeout=120)
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            await pilot.press("ctrl+f", "down", "up")  # the newest entry, the grid, in view
            await app.workers.wait_for_complete()
            await pilot.pause(0.8)
            await app.workers.wait_for_complete()
            app.save_screenshot(str(HERE / "sweep.svg"))


if __name__ == "__main__":
    asyncio.run(main())
