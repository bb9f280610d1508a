"""The services every part of the TUI shares, made once by the app and handed down."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sdtui.api import GenerationRequest
from sdtui.config import Settings
from sdtui.engine import JobEvent, JobQueue
from sdtui.engine.links import ServerLink, make_runner
from sdtui.engine.server import ServerFacts
from sdtui.engine.sweep_jobs import SweepJobs
from sdtui.render import RenderCache
from sdtui.store import ImageStore
from sdtui.store.index import HistoryIndex
from sdtui.store.session import Session
from sdtui.ui.actions import KeyMap

if TYPE_CHECKING:
    from sdtui.api.client import SDClient
    from sdtui.render.thumb_cache import ThumbCache
    from sdtui.store.trash import Trash


@dataclass
class AppContext:
    settings: Settings
    session: Session
    demo: bool = False
    poll_interval: float = 0.5
    keys: KeyMap = field(default_factory=KeyMap)
    store: ImageStore = field(init=False)
    cache: RenderCache = field(init=False)
    queue: JobQueue = field(init=False)
    #: Every server of the session, in the order the settings name them.
    servers: list[ServerLink] = field(init=False)
    listener: Callable[[JobEvent], None] = lambda event: None
    on_change: Callable[[], None] = lambda: None
    #: The sweeps in flight: their grids are drawn once their last job ends.
    sweeps: SweepJobs = field(default_factory=SweepJobs)
    #: The form offers a server's lists (set once the screen has handled ServerConnected).
    lists_shown: bool = False
    #: Jobs kept from the last run and not yet run again or dropped (the user is asked).
    kept: list[GenerationRequest] = field(default_factory=list)
    _index: HistoryIndex | None = None
    _trash: Trash | None = None
    _thumbs: ThumbCache | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.store = ImageStore(self.settings.output_dir)
        self.cache = RenderCache(max_entries=64)
        self.servers = [ServerLink(profile) for profile in self.settings.server_profiles()]
        runners = [
            make_runner(link, self.store, poll_interval=self.poll_interval) for link in self.servers
        ]
        self.queue = JobQueue(
            runners, listener=lambda event: self.listener(event), on_change=lambda: self.on_change()
        )

    @property
    def lead(self) -> ServerLink:
        """The server whose lists the form offers: the first that answers (else the first)."""
        return next((link for link in self.servers if link.connected), self.servers[0])

    @property
    def url(self) -> str:
        """The lead server's URL without credentials (fit to show)."""
        return self.lead.url

    @property
    def client(self) -> SDClient:
        """The lead server's client (history actions: upscaling, PNG Info), made on first use."""
        return self.lead.client

    @property
    def facts(self) -> ServerFacts:
        return self.lead.facts

    @facts.setter
    def facts(self, facts: ServerFacts) -> None:
        self.lead.facts = facts

    @property
    def connected(self) -> bool:
        """Whether a server answers and the form offers its lists (the screen has shown them)."""
        return self.lead.connected and self.lists_shown

    @property
    def index(self) -> HistoryIndex:
        """The history index over the output folder and the imported ones, opened on first use
        (opening may rebuild it: call this from a thread worker)."""
        with self._lock:
            if self._index is None:
                settings = self.settings
                imported = tuple(settings.history_dirs)
                self._index = HistoryIndex([settings.output_dir], imported=imported)
            return self._index

    @property
    def trash(self) -> Trash:
        """Deleting moves files into a trash folder inside their own root (made on first use)."""
        index = self.index
        with self._lock:
            if self._trash is None:
                from sdtui.store.trash import Trash

                writable = self.settings.history_dirs_writable
                self._trash = Trash(index, writable_imports=writable)
            return self._trash

    @property
    def thumbs(self) -> ThumbCache:
        """The history's thumbnails, kept on disk in the user's cache folder."""
        with self._lock:
            if self._thumbs is None:
                from sdtui.render.thumb_cache import ThumbCache

                self._thumbs = ThumbCache()
            return self._thumbs

    def persist_queue(self, *, now: bool = False) -> None:
        """Write the jobs not done yet (kept, running, waiting) for the next start: on every
        change of the queue, so even a killed process loses none."""
        requests = [*self.kept, *self.queue.unfinished()]
        if now:
            self.session.save_pending(requests)
        else:
            self.session.save_pending_soon(requests)

    async def aclose(self) -> None:
        for link in self.servers:
            await link.aclose()
        if self._index is not None:
            self._index.close()
