"""Helpers for driving the TUI in tests: build the app on a test folder, wait for a condition."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import Input

from sdtui.config import Settings
from sdtui.ui.app import SdtuiApp

SIZE = (140, 45)


def make_app(url: str, tmp_path: Path, **settings: Any) -> SdtuiApp:
    """The app on `url`, saving under tmp_path/out, its form state in tmp_path, polling fast."""
    return SdtuiApp(
        Settings(url=url, out=tmp_path / "out", **settings),
        state_path=tmp_path / "state.json",
        poll_interval=0.05,
    )


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


def job_is_sampling(app: SdtuiApp) -> bool:
    """A job runs and the server has reported progress for it (so it can be interrupted)."""
    job = app.context.queue.current
    return job is not None and job.last_progress is not None and job.last_progress.active


def set_form(app: SdtuiApp, **values: str) -> None:
    """Type values into the form's inputs by id (batch_size → #batch-size)."""
    for field, value in values.items():
        app.query_one(f"#{field.replace('_', '-')}", Input).value = value


def notifications(app: SdtuiApp) -> list[str]:
    return [n.message for n in app._notifications]


def pngs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "out").rglob("*.png"))
