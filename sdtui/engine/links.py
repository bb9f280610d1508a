"""One link per server a session talks to: its profile, client, what it offers and whether it
answers; and the queue `Runner` that runs jobs on it.

UI-free: the TUI keeps each link alive (connecting, checking it still answers) and draws it; the
queue asks a link whether it can run a job and, after it dropped out, waits for it to come back.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sdtui.api import ApiError, ErrorKind, ProgressUpdate
from sdtui.config import ServerProfile
from sdtui.engine.generate import GenerationOutcome, generate
from sdtui.engine.names import UnknownName, match_model
from sdtui.engine.queue import Job, Runner
from sdtui.engine.server import ServerFacts
from sdtui.store import ImageStore

if TYPE_CHECKING:
    from sdtui.api.client import SDClient


class LinkState(enum.Enum):
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


@dataclass(eq=False)
class ServerLink:
    """A server: how to reach it, what it offers, whether it answers now."""

    profile: ServerProfile
    facts: ServerFacts = field(default_factory=ServerFacts)
    state: LinkState = LinkState.CONNECTING
    reason: str = ""  # why it is offline, one line
    runner: Runner | None = None  # set by `make_runner`
    _client: SDClient | None = None
    _back: asyncio.Event | None = None
    _lost: asyncio.Event | None = None

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def url(self) -> str:
        return self.profile.url

    @property
    def connected(self) -> bool:
        return self.state in (LinkState.CONNECTED, LinkState.LOADING)

    @property
    def client(self) -> SDClient:
        """Made on first use: the HTTP library loads after the TUI's first paint."""
        if self._client is None:
            from sdtui.api.client import SDClient

            profile = self.profile
            self._client = SDClient(profile.url, user=profile.user, password=profile.password)
        return self._client

    @property
    def job(self) -> Job | None:
        """The job running on this server now."""
        return self.runner.job if self.runner is not None else None

    def _events(self) -> tuple[asyncio.Event, asyncio.Event]:
        if self._back is None or self._lost is None:
            self._back, self._lost = asyncio.Event(), asyncio.Event()
        return self._back, self._lost

    def set_connected(self, facts: ServerFacts) -> None:
        back, lost = self._events()
        self.facts = facts
        self.state = LinkState.CONNECTED
        self.reason = ""
        lost.clear()
        back.set()

    def set_offline(self, reason: str) -> None:
        back, _ = self._events()
        self.state = LinkState.OFFLINE
        self.reason = reason
        back.clear()

    def lost(self, reason: str) -> None:
        """Something (a job) found the server gone: whoever keeps the link reconnects now."""
        self.set_offline(reason)
        self._events()[1].set()

    async def wait_lost(self) -> None:
        await self._events()[1].wait()

    async def wait_back(self) -> bool:
        """Until the server answers again (the queue's `recover`): the TUI never gives one up."""
        await self._events()[0].wait()
        return True

    def can_run(self, job: Job) -> bool:
        """Whether this server offers the checkpoint the job asks for (any, while unknown)."""
        wanted = job.request.model
        if not wanted or not self.facts.models:
            return True
        try:
            match_model(wanted, self.facts.models)
        except UnknownName:
            return False
        return True

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def make_runner(
    link: ServerLink,
    store: ImageStore,
    *,
    poll_interval: float = 0.5,
    previews: bool = True,
    recover: bool = True,
) -> Runner:
    """The queue's runner for one link: it generates there and saves into `store`, each image
    naming the server. With `recover`, a server that dropped out is waited for (TUI); without,
    it is given up at once (scripts: another server takes its jobs)."""

    async def run(job: Job, on_progress: Callable[[ProgressUpdate], None]) -> GenerationOutcome:
        try:
            return await generate(
                link.client,
                job.request,
                store,
                on_progress=on_progress,
                poll_interval=poll_interval,
                previews=previews,
                model=link.facts.model,
                server=link.name,
            )
        except ApiError as exc:
            if exc.kind in (ErrorKind.UNREACHABLE, ErrorKind.DROPPED):
                link.lost(exc.message)
            raise

    runner = Runner(
        run=run,
        interrupt=lambda: link.client.interrupt(),
        skip=lambda: link.client.skip(),
        name=link.name,
        can_run=link.can_run,
        recover=link.wait_back if recover else None,
    )
    link.runner = runner
    return runner
