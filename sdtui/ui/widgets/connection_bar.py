"""The top line: which server, whether it answers, which model is loaded, and the time.

The bar owns the link to the server: it connects (retrying calmly while the server cannot be
reached), keeps checking that the server still answers while nothing else talks to it, and
switches models. What it learns goes up as messages; server text is shown as plain text.
"""

from __future__ import annotations

import asyncio
import enum
from datetime import datetime

from rich.text import Text
from textual import work
from textual.reactive import reactive
from textual.widget import Widget

from sdtui.api import ApiError, ErrorKind
from sdtui.engine.server import fetch_server_facts
from sdtui.text import one_line
from sdtui.ui.context import AppContext
from sdtui.ui.messages import ModelLoaded, ServerConnected, ServerOffline

RETRY_DELAYS = (2.0, 5.0, 10.0, 20.0, 30.0)
HEARTBEAT_SECONDS = 4.0  # a server that died is noticed within about this plus a connect timeout


class ConnState(enum.Enum):
    CONNECTING = ("connecting…", "bold yellow")
    CONNECTED = ("connected", "bold green")
    OFFLINE = ("offline", "bold red")
    LOADING = ("loading model…", "bold yellow")

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def dot_style(self) -> str:
        return self.value[1]


class ConnectionBar(Widget):
    DEFAULT_CSS = """
    ConnectionBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    url: reactive[str] = reactive("")  # shown without credentials
    state: reactive[ConnState] = reactive(ConnState.CONNECTING)
    model: reactive[str] = reactive("")
    show_clock: reactive[bool] = reactive(True)

    def __init__(self, context: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self.set_reactive(ConnectionBar.url, context.url)

    def on_mount(self) -> None:
        self.set_interval(30, self.refresh)
        self.set_interval(HEARTBEAT_SECONDS, self._heartbeat)

    # -- the link -------------------------------------------------------------------------------

    @work(exclusive=True, group="connect", exit_on_error=False, description="connecting")
    async def connect(self) -> None:
        """Learn the server's lists (models, samplers, styles, LoRAs, upscalers, VAEs...) and
        model; retry calmly while it cannot be reached."""
        client = self.context.client
        attempt = 0
        while True:
            self.state = ConnState.CONNECTING
            try:
                facts = await fetch_server_facts(client)
            except ApiError as exc:
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                self._offline(f"{exc.message} · retrying in {delay:.0f}s")
                await asyncio.sleep(delay)
                continue
            self.context.facts = facts
            self.context.connected = True
            self.model = facts.model_title or ""
            self.state = ConnState.CONNECTED
            self.post_message(ServerConnected(facts))
            return

    def _heartbeat(self) -> None:
        if self.state is ConnState.CONNECTED:  # not while connecting or loading a model
            self._check()

    @work(exclusive=True, group="heartbeat", exit_on_error=False, description="checking the server")
    async def _check(self) -> None:
        """A cheap call with no key pressed: a server that died is noticed within seconds."""
        try:
            await self.context.client.samplers()
        except ApiError as exc:
            if self.state is ConnState.CONNECTED and exc.kind in (
                ErrorKind.UNREACHABLE,
                ErrorKind.DROPPED,
                ErrorKind.TIMEOUT,
            ):
                self._offline(exc.message)
                self.connect()

    def _offline(self, reason: str) -> None:
        self.context.connected = False
        self.state = ConnState.OFFLINE
        self.post_message(ServerOffline(reason))

    @work(exclusive=True, group="model", exit_on_error=False, description="switching model")
    async def switch_model(self, title: str) -> None:
        previous = self.model or None
        self.state = ConnState.LOADING
        self.notify(f"Loading {one_line(title, 60)}…", timeout=3)
        try:
            await self.context.client.set_model(title)
        except ApiError as exc:
            self.state = ConnState.CONNECTED if self.context.connected else ConnState.OFFLINE
            self.notify(exc.message, severity="error", timeout=8)
            self.post_message(ModelLoaded(previous))  # the form shows the one kept
            return
        self.context.facts = self.context.facts.with_model(title)
        self.model = title
        self.state = ConnState.CONNECTED
        self.notify(f"Model loaded: {one_line(title, 60)}", timeout=3)
        self.post_message(ModelLoaded(title))

    # -- drawing --------------------------------------------------------------------------------

    def render(self) -> Text:
        state = self.state
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("sdtui", style="bold")
        if self.context.demo:
            text.append(" demo", style="italic")
        text.append(" · ")
        text.append(one_line(self.url, 80))
        text.append(" ")
        text.append("●", style=state.dot_style)
        text.append(f" {state.label}")
        if self.model:
            text.append(" · model ")
            text.append(one_line(self.model, 80), style="bold")
        clock = datetime.now().strftime("%H:%M") if self.show_clock else ""
        width = self.size.width - 2
        pad = width - text.cell_len - len(clock)
        if pad >= 2:
            text.append(" " * pad + clock, style="dim")
        return text
