"""The top line: each server, whether it answers, its model or its job's progress, and the time.

The bar keeps every server's link alive: it connects (retrying calmly while a server cannot be
reached), keeps checking that it still answers, reconnects at once when a job finds it gone,
and switches models. What concerns the form goes up as messages (the lead server's lists, the
banner's reason); server text is shown as plain text.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from rich.text import Text
from textual import work
from textual.reactive import reactive
from textual.widget import Widget

from sdtui.api import ApiError, ErrorKind
from sdtui.engine.links import LinkState, ServerLink
from sdtui.engine.names import model_short_name
from sdtui.engine.server import fetch_server_facts
from sdtui.text import one_line
from sdtui.ui.context import AppContext
from sdtui.ui.messages import ModelLoaded, QueueChanged, ServerConnected, ServerOffline

RETRY_DELAYS = (2.0, 5.0, 10.0, 20.0, 30.0)
HEARTBEAT_SECONDS = 4.0  # a server that died is noticed within about this plus a connect timeout
GONE = (ErrorKind.UNREACHABLE, ErrorKind.DROPPED, ErrorKind.TIMEOUT)

ConnState = LinkState  # the name the bar's state had before there were several servers


class ConnectionBar(Widget):
    DEFAULT_CSS = """
    ConnectionBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    url: reactive[str] = reactive("")  # the lead server's, shown without credentials
    state: reactive[LinkState] = reactive(LinkState.CONNECTING)  # the lead server's
    model: reactive[str] = reactive("")
    show_clock: reactive[bool] = reactive(True)

    def __init__(self, context: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self.set_reactive(ConnectionBar.url, context.url)
        self._keepers: dict[str, asyncio.Task[None]] = {}

    def on_mount(self) -> None:
        self.set_interval(30, self.refresh)

    # -- the links ------------------------------------------------------------------------------

    def connect(self, link: ServerLink | None = None) -> None:
        """(Re)connect one server, or every one. Each link is kept by a task of its own that
        lives as long as the bar: not a worker, which the app would count as work to finish."""
        links = self.context.servers if link is None else [link]
        for one in links:
            task = self._keepers.pop(one.name, None)
            if task is not None:
                task.cancel()
            self._keepers[one.name] = asyncio.get_running_loop().create_task(
                self._keep_quietly(one), name=f"link to {one.name}"
            )

    def on_unmount(self) -> None:
        for task in self._keepers.values():
            task.cancel()
        self._keepers.clear()

    async def _keep_quietly(self, link: ServerLink) -> None:
        try:
            await self._keep(link)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not end the link silently: say it, as workers do
            self.notify(f"The link to {link.name} stopped: {exc!r}", severity="error")

    async def _keep(self, link: ServerLink) -> None:
        """Connect, then check the server still answers (every few seconds, or at once when a
        job found it gone); when it does not, connect again. Runs until the app closes."""
        while True:
            await self._connect(link)
            while link.connected:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(link.wait_lost(), HEARTBEAT_SECONDS)
                if not link.connected:  # a job found it gone
                    self._changed(link)
                    break
                if link.state is not LinkState.CONNECTED:  # loading a model: it is busy
                    continue
                try:
                    await link.client.samplers()
                except ApiError as exc:
                    if link.state is LinkState.CONNECTED and exc.kind in GONE:
                        link.set_offline(exc.message)
                        self._changed(link)

    async def _connect(self, link: ServerLink) -> None:
        """Learn the server's lists (models, samplers, styles, LoRAs, upscalers, VAEs...) and
        model; retry calmly while it cannot be reached."""
        attempt = 0
        while True:
            link.state = LinkState.CONNECTING
            self._changed(link)
            try:
                facts = await fetch_server_facts(link.client)
            except ApiError as exc:
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                link.set_offline(f"{exc.message} · retrying in {delay:.0f}s")
                self._changed(link)
                await asyncio.sleep(delay)
                continue
            link.set_connected(facts)
            self._changed(link, connected=True)
            return

    def _changed(self, link: ServerLink, *, connected: bool = False) -> None:
        """A link's state moved: redraw, tell the queue's views, and tell the form and banner
        when it concerns the server that feeds the form."""
        if link.runner is not None and link.state is not LinkState.CONNECTING:
            self.context.queue.set_online(link.runner, link.connected)
        lead = self.context.lead
        self.state = lead.state
        self.model = lead.facts.model_title or "" if lead.connected else self.model
        self.url = lead.url
        self.refresh()
        self.post_message(QueueChanged())
        if connected and link is lead:
            self.post_message(ServerConnected(link.facts))
        elif link.state is LinkState.OFFLINE and not any(
            one.connected for one in self.context.servers
        ):
            several = len(self.context.servers) > 1
            reason = f"{link.name}: {link.reason}" if several else link.reason
            self.post_message(ServerOffline(reason))

    @work(exclusive=True, group="model", exit_on_error=False, description="switching model")
    async def switch_model(self, title: str) -> None:
        link = self.context.lead
        previous = self.model or None
        link.state = LinkState.LOADING
        self.state = link.state
        self.notify(f"Loading {one_line(title, 60)}…", timeout=3)
        try:
            await link.client.set_model(title)
        except ApiError as exc:
            if link.state is LinkState.LOADING:
                link.state = LinkState.CONNECTED
            self.state = link.state
            self.notify(exc.message, severity="error", timeout=8)
            self.post_message(ModelLoaded(previous))  # the form shows the one kept
            return
        link.facts = link.facts.with_model(title)
        link.state = LinkState.CONNECTED
        self.model = title
        self.state = link.state
        self.notify(f"Model loaded: {one_line(title, 60)}", timeout=3)
        self.post_message(ModelLoaded(title))

    # -- drawing --------------------------------------------------------------------------------

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("sdtui", style="bold")
        if self.context.demo:
            text.append(" demo", style="italic")
        links = self.context.servers
        if len(links) == 1:  # the queue before the model: it matters more when room runs out
            self._one_server(text)
            self._queue_part(text)
            if self.model:
                text.append(" · model ")
                text.append(one_line(self.model, 80), style="bold")
        else:
            width = self.size.width - 2
            for link in links:
                text.append(" · ")
                _link_part(text, link, roomy=width >= 60 * len(links) // 2 + 40)
            self._queue_part(text)
        clock = datetime.now().strftime("%H:%M") if self.show_clock else ""
        width = self.size.width - 2
        pad = width - text.cell_len - len(clock)
        if pad >= 2:
            text.append(" " * pad + clock, style="dim")
        return text

    def _one_server(self, text: Text) -> None:
        state = self.state
        text.append(" · ")
        text.append(one_line(self.url, 80))
        text.append(" ")
        text.append("●", style=state.dot_style)
        text.append(f" {state.label}")

    def _queue_part(self, text: Text) -> None:
        """ "· 3 queued paused": what waits, and whether the queue holds it."""
        queue = self.context.queue
        waiting = len(queue.pending)
        if waiting or queue.paused:
            text.append(" · ")
            text.append(f"{waiting} queued" if waiting else "queue", style="bold")
            if queue.paused:
                text.append(" paused", style="bold yellow")


def _link_part(text: Text, link: ServerLink, *, roomy: bool) -> None:
    """ "gpu1 ● 45%", "gpu2 ● sdxl_base", "gpu3 ● offline"."""
    text.append(one_line(link.name, 24), style="bold")
    text.append(" ")
    text.append("●", style=link.state.dot_style)
    job = link.job
    progress = job.last_progress if job is not None else None
    if job is not None:
        if progress is not None and progress.active and not job.waiting:
            text.append(f" #{job.id} {progress.progress:.0%}")
        else:
            text.append(f" #{job.id} {'waiting' if job.waiting else 'starting'}")
    elif link.state is not LinkState.CONNECTED:
        text.append(f" {link.state.label}")
    elif roomy and link.facts.model_title:
        text.append(" " + one_line(model_short_name(link.facts.model_title), 28))
    else:
        text.append(" idle", style="dim")
