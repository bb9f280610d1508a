"""Shared fixtures: real demo servers on loopback ports, stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sdtui.demo import DemoServer

#: Seconds per sampling step in tests: jobs are real but quick.
FAST_STEP_DELAY = 0.002
#: Seconds per step for jobs a test interrupts or signals mid-way: long enough to catch sampling.
SLOW_STEP_DELAY = 0.05


@pytest.fixture(autouse=True)
def truecolor_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps build their cells for the terminal's colours: test in truecolor, whatever TERM is."""
    monkeypatch.setenv("COLORTERM", "truecolor")


@pytest.fixture(autouse=True)
def private_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's data or cache folders (history index, thumbnails)."""
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))


@pytest.fixture
def demo_server() -> Iterator[DemoServer]:
    """A started demo server with very short sampling steps."""
    server = DemoServer(step_delay=FAST_STEP_DELAY).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slow_demo() -> Iterator[DemoServer]:
    """A started demo server whose jobs take a while (SLOW_STEP_DELAY a step)."""
    server = DemoServer(step_delay=SLOW_STEP_DELAY).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def demo_factory() -> Iterator[Callable[..., DemoServer]]:
    """Start demo servers with custom ``DemoServer`` arguments; all are stopped at teardown."""
    servers: list[DemoServer] = []

    def make(**kwargs: Any) -> DemoServer:
        kwargs.setdefault("step_delay", FAST_STEP_DELAY)
        server = DemoServer(**kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
