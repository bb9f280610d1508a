"""The services every part of the TUI shares, made once by the app and handed down."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sdtui.api import split_credentials
from sdtui.config import Settings
from sdtui.engine import Job, JobEvent, JobQueue, Runner, generate
from sdtui.engine.generate import GenerationOutcome
from sdtui.engine.server import ServerFacts
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
    facts: ServerFacts = field(default_factory=ServerFacts)
    connected: bool = False
    store: ImageStore = field(init=False)
    cache: RenderCache = field(init=False)
    queue: JobQueue = field(init=False)
    listener: Callable[[JobEvent], None] = lambda event: None
    _client: SDClient | None = None
    _index: HistoryIndex | None = None
    _trash: Trash | None = None
    _thumbs: ThumbCache | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.store = ImageStore(self.settings.output_dir)
        self.cache = RenderCache(max_entries=64)
        runner = Runner(
            run=self._run_job,
            interrupt=lambda: self.client.interrupt(),
            skip=lambda: self.client.skip(),
        )
        self.queue = JobQueue(runner, listener=lambda event: self.listener(event))

    @property
    def url(self) -> str:
        """The server's URL without credentials (fit to show)."""
        return split_credentials(self.settings.url)[0]

    @property
    def client(self) -> SDClient:
        """The server's client, made on first use: its HTTP library loads after the first paint."""
        if self._client is None:
            from sdtui.api.client import SDClient

            settings = self.settings
            self._client = SDClient(
                settings.url, user=settings.user or None, password=settings.password
            )
        return self._client

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

    async def _run_job(self, job: Job, on_progress: Any) -> GenerationOutcome:
        return await generate(
            self.client,
            job.request,
            self.store,
            on_progress=on_progress,
            poll_interval=self.poll_interval,
            previews=True,
            model=self.facts.model,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._index is not None:
            self._index.close()
