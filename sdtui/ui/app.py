"""The sdtui application: form, live preview, history, all a key away."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from sdtui.api import ApiError, ErrorKind, GenerationRequest, ProgressUpdate, split_credentials
from sdtui.config import Settings, state_dir
from sdtui.engine import (
    GenerationOutcome,
    Job,
    JobEvent,
    JobQueue,
    JobState,
    Runner,
    ServerModel,
    generate,
)
from sdtui.images.convert import check_pixel_limit, image_format, image_size
from sdtui.images.infotext import parse_infotext
from sdtui.render import RenderCache, fit_cells
from sdtui.store import HistoryEntry, ImageStore, SaveError
from sdtui.text import one_line, strip_control
from sdtui.ui.screens.confirm import ChoiceScreen
from sdtui.ui.screens.full_image import FullImageScreen, ImageSource
from sdtui.ui.screens.save_as import SaveAsScreen
from sdtui.ui.widgets.connection_bar import ConnectionBar
from sdtui.ui.widgets.footer import Footer
from sdtui.ui.widgets.generation_form import FormError, GenerationForm
from sdtui.ui.widgets.history_panel import THUMB_COLS, THUMB_ROWS, HistoryPanel
from sdtui.ui.widgets.image_view import ImageView
from sdtui.ui.widgets.job_progress import JobProgress

if TYPE_CHECKING:
    from sdtui.api.client import SDClient

RETRY_DELAYS = (2.0, 5.0, 10.0, 20.0, 30.0)
RESCAN_SECONDS = 5.0  # how often the output folder is checked for images saved by others
RESCAN_FOLDERS = 2  # today's and yesterday's folders: where other instances save now
FULL_GC_EVERY = 100  # young collections between automatic full ones (Python's default: 10)
IDLE_GC_DELAY = 1.0  # seconds after a job before the idle full collection
GIL_SWITCH_SECONDS = 0.001  # how long a thread may hold the GIL when another waits (default 5 ms)
HISTORY_LIMIT = 100_000  # entries listed; the history list draws only what is visible
FIRST_CHUNK = 200  # entries read before the history first shows
LATER_CHUNK = 5_000
THUMBNAIL_LIMIT = 200  # thumbnails made at start-up, newest first


@dataclass
class ShownImage:
    """An image of the current batch (or a history entry) as the preview shows it."""

    key: tuple[Any, ...]
    png: bytes | None
    path: Path | None
    seed: int | None
    infotext: str

    def open(self) -> Image.Image:
        if self.png is not None:
            return open_image(self.png)
        assert self.path is not None
        return open_image(self.path.read_bytes())


def open_image(data: bytes) -> Image.Image:
    """Open image bytes lazily (header only: decoding happens in the render thread), refusing
    sizes over the decode limit before Pillow sees them."""
    width, height = image_size(data)
    check_pixel_limit(image_format(data), width, height)
    return Image.open(io.BytesIO(data))


class JobMessage(Message):
    """A queue event, delivered on the UI thread."""

    def __init__(self, event: JobEvent) -> None:
        super().__init__()
        self.event = event


class HistoryLoaded(Message):
    def __init__(
        self, entries: list[HistoryEntry], notes: list[str], *, first: bool, last: bool = False
    ) -> None:
        super().__init__()
        self.entries = entries
        self.notes = notes
        self.first = first  # replaces what the panel shows (a reload starts over)
        self.last = last


class ThumbnailsReady(Message):
    def __init__(self, thumbs: dict[Path, Image.Image]) -> None:
        super().__init__()
        self.thumbs = thumbs


class NewEntries(Message):
    def __init__(
        self, entries: list[HistoryEntry], gone: list[Path] | None = None, *, ours: bool = True
    ) -> None:
        super().__init__()
        self.entries = entries
        self.gone = gone or []
        self.ours = ours  # images this app just made (highlighted) or found on disk


class SdtuiApp(App[int]):
    TITLE = "sdtui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+g", "generate", "Generate", id="generate", priority=True),
        Binding("ctrl+x", "interrupt", "Interrupt", id="interrupt", priority=True),
        Binding(
            "ctrl+n", "skip", "Skip", id="skip", priority=True, tooltip="Skip the current batch"
        ),
        Binding("ctrl+r", "reuse", "Reuse", id="reuse", priority=True),
        Binding("ctrl+s", "last_seed", "Last seed", id="last_seed", priority=True, show=False),
        Binding(
            "ctrl+l", "random_seed", "Random seed", id="random_seed", priority=True, show=False
        ),
        Binding("ctrl+t", "swap_size", "Swap W×H", id="swap_size", priority=True, show=False),
        Binding("ctrl+o", "full_view", "Full view", id="full_view", priority=True),
        Binding("ctrl+f", "focus_history", "History", id="focus_history", priority=True),
        Binding("ctrl+right", "step_image(1)", "Next image", id="next_image", show=False),
        Binding("ctrl+left", "step_image(-1)", "Previous image", id="previous_image", show=False),
        Binding("ctrl+w", "save_as", "Save as…", id="save_as", priority=True),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool = False,
        state_path: Path | None = None,
        poll_interval: float | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.demo = demo
        self.state_path = state_path if state_path is not None else state_dir() / "form.json"
        self.poll_interval = poll_interval if poll_interval is not None else settings.poll_interval
        self._client: SDClient | None = None
        self.store = ImageStore(settings.output_dir)
        self.cache = RenderCache(max_entries=64)
        self.server_model = ServerModel()
        self.connected = False
        self.batch: list[ShownImage] = []
        self.batch_index = 0
        self.last_seed: int | None = None
        self.queue = JobQueue(
            Runner(
                run=self._run_job,
                interrupt=lambda: self.client.interrupt(),
                skip=lambda: self.client.skip(),
            ),
            listener=self._queue_event,
        )
        self._live_frame = 0
        self._form_state: dict[str, str] = {}
        self._save_timer: Timer | None = None
        self._last_frame: bytes | None = None
        self._queue_task: asyncio.Task[None]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications show plain text by default: most carry server or file text (errors,
        model names, paths), which must never be read as markup or reach the terminal raw."""
        super().notify(
            strip_control(message),
            title=strip_control(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

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

    def _queue_event(self, event: JobEvent) -> None:
        self.post_message(JobMessage(event))

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        bar = ConnectionBar(id="connection")
        bar.url = split_credentials(self.settings.url)[0]
        bar.demo = self.demo
        yield bar
        yield Static("", id="banner", markup=False)
        with Horizontal(id="main"):
            yield GenerationForm(id="form")
            with Vertical(id="preview-pane"):
                yield ImageView(cache=self.cache, id="preview", placeholder="Ctrl+G to generate")
                yield Static("", id="caption", markup=False)
                yield JobProgress(id="progress")
            yield HistoryPanel(id="history")
        # Compact: with the history's own keys beside the app's, 140 columns fit them all.
        yield Footer(compact=True)

    @property
    def form(self) -> GenerationForm:
        return self.query_one(GenerationForm)

    @property
    def preview(self) -> ImageView:
        return self.query_one("#preview", ImageView)

    @property
    def progress(self) -> JobProgress:
        return self.query_one(JobProgress)

    @property
    def history(self) -> HistoryPanel:
        return self.query_one(HistoryPanel)

    def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        if self.settings.keys:
            self.set_keymap(dict(self.settings.keys))
        self.query_one("#preview-pane").border_title = "Preview"
        self._restore_form()
        self.query_one("#prompt").focus()
        # The dispatcher lives as long as the app: a plain task, not a worker, so that waiting
        # for workers to complete (tests, benchmarks) is not waiting for the app to end.
        self._queue_task = asyncio.create_task(self.queue.run_forever(), name="job-queue")

    def on_ready(self) -> None:
        """The first frame is on screen: now start the work that is not needed to paint it."""
        # A full collection walks every object that survived the young ones: with the default
        # thresholds one lands mid-job every few seconds and stalls the loop for tens of ms.
        # Full collections run while idle instead (see _collect_when_idle).
        gc.set_threshold(700, 10, FULL_GC_EVERY)
        gc.enable()  # the CLI turns collections off while the app is imported and composed
        # Worker threads (decoding, rendering cells, saving) take turns with the event loop's
        # thread for the GIL; the default 5 ms turn shows up as input and paint latency.
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        self.connect()
        self.load_history()
        self.set_interval(RESCAN_SECONDS, self._rescan)

    async def on_unmount(self) -> None:
        self._save_form()
        self.queue.close()
        self._queue_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._queue_task
        if self._client is not None:
            await self._client.aclose()

    # -- form state across restarts -------------------------------------------------------------

    def _restore_form(self) -> None:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict):
            self.form.restore(data)
        self._form_state = self.form.state()

    @on(TextArea.Changed, "#form TextArea")
    @on(Input.Changed, "#form Input")
    @on(Select.Changed, "#form Select")
    def _form_changed(self) -> None:
        """Keep a copy of the form as typed, written to disk a moment after typing stops (and on
        exit, when the widgets are already gone)."""
        self._form_state = self.form.state()
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(1.0, self._save_form)

    def _save_form(self) -> None:
        if not self._form_state:
            return
        with contextlib.suppress(OSError):
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps(self._form_state, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            tmp.replace(self.state_path)

    # -- connection -----------------------------------------------------------------------------

    def _banner(self, message: str | None) -> None:
        banner = self.query_one("#banner", Static)
        banner.update(message or "")
        banner.set_class(bool(message), "-shown")

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        """Learn the server's lists and model; retry calmly while it cannot be reached."""
        bar = self.query_one(ConnectionBar)
        attempt = 0
        while True:
            bar.state = "connecting"
            try:
                options = await self.client.get_options()
                models = await self.client.sd_models()
                samplers = await self.client.samplers()
                try:
                    schedulers = await self.client.schedulers()
                except ApiError as exc:
                    if exc.kind is not ErrorKind.NOT_FOUND:
                        raise
                    schedulers = []  # older servers have no schedulers list
            except ApiError as exc:
                if not self.is_running:
                    return  # the app is closing: its widgets are going
                self.connected = False
                bar.state = "offline"
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                self._banner(f"{exc.message} · retrying in {delay:.0f}s (ctrl+p → Reconnect)")
                await asyncio.sleep(delay)
                continue
            break
        if not self.is_running:
            return
        self.connected = True
        self._banner(None)
        current = options.get("sd_model_checkpoint")
        current_title = current if isinstance(current, str) else None
        self._set_model(current_title, models)
        bar.state = "connected"
        self.form.set_choices(samplers, schedulers, models, current_title)

    def _set_model(self, title: str | None, models: Iterable[Any] = ()) -> None:
        bar = self.query_one(ConnectionBar)
        bar.model = title or ""
        name, model_hash = title, None
        for model in models:
            if model.title == title:
                name, model_hash = model.model_name, model.hash
        if title and "[" in title and model_hash is None:
            model_hash = title.rsplit("[", 1)[1].rstrip("]").strip() or None
        self.server_model = ServerModel(name=name, hash=model_hash)

    @on(GenerationForm.ModelChanged)
    def _model_changed(self, event: GenerationForm.ModelChanged) -> None:
        self.switch_model(event.title)

    @work(exclusive=True, group="model", exit_on_error=False)
    async def switch_model(self, title: str) -> None:
        bar = self.query_one(ConnectionBar)
        previous = bar.model
        bar.state = "loading"
        self.notify(f"Loading {one_line(title, 60)}…", timeout=3)
        try:
            await self.client.set_model(title)
        except ApiError as exc:
            if not self.is_running:
                return
            bar.state = "connected" if self.connected else "offline"
            self.notify(exc.message, severity="error", timeout=8)
            self.form.set_current_model(previous or None)
            return
        bar.state = "connected"
        self._set_model(title)
        self.notify(f"Model loaded: {one_line(title, 60)}", timeout=3)

    # -- generation -----------------------------------------------------------------------------

    async def _run_job(self, job: Job, on_progress: Any) -> GenerationOutcome:
        return await generate(
            self.client,
            job.request,
            self.store,
            on_progress=on_progress,
            poll_interval=self.poll_interval,
            previews=True,
            model=self.server_model,
        )

    def action_generate(self) -> None:
        try:
            request = self.form.to_request()
        except FormError as error:
            self.notify(error.message, title="Not sent", severity="error")
            with contextlib.suppress(Exception):
                self.query_one(f"#{error.field}").focus()
            return
        self.submit(request)

    def submit(self, request: GenerationRequest) -> Job:
        job = self.queue.submit(request)
        self._save_form()
        if job is not self.queue.current and (self.queue.current or len(self.queue.pending) > 1):
            self.notify(
                f"Queued behind {len(self.queue.pending) - 1 + bool(self.queue.current)} job(s)",
                timeout=2,
            )
        return job

    async def action_interrupt(self) -> None:
        if self.queue.current is None:
            return
        try:
            await self.queue.interrupt()
        except ApiError as exc:
            self.notify(exc.message, severity="error")
            return
        self.notify("Interrupting: the images made so far will be saved", timeout=3)

    async def action_skip(self) -> None:
        try:
            await self.queue.skip()
        except ApiError as exc:
            self.notify(exc.message, severity="error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("interrupt", "skip"):
            # Always in the footer, dimmed while they do nothing (as the web UI's buttons are):
            # a key that comes and goes with every job would re-lay out the footer each time.
            job = self.queue.current
            if job is None:
                return None
            if action == "skip" and job.request.n_iter < 2:
                return None
        if action in ("step_image",):
            return len(self.batch) > 1
        if action == "save_as":
            return any(s.path is None and s.png for s in self.batch)
        return True

    @on(JobMessage)
    def _job_event(self, message: JobMessage) -> None:
        if not self.is_running:
            return  # late message while shutting down: the widgets are gone
        event = message.event
        progress = self.progress
        progress.set_queued(event.queued)
        if event.kind == "started":
            progress.started()
            self._live_frame = 0
            self._last_frame = None
            self.refresh_bindings()
        elif event.kind == "progress" and event.progress is not None:
            progress.update_progress(event.progress)
            self._show_live(event.job, event.progress)
        elif event.kind == "finished":
            self.refresh_bindings()
            self._job_finished(event.job)

    def _show_live(self, job: Job, update: ProgressUpdate) -> None:
        if update.current_image is None or update.current_image == self._last_frame:
            return  # servers resend the last preview until a new one exists: draw it once
        self._last_frame = update.current_image
        self._live_frame += 1
        try:
            image = open_image(update.current_image)
        except (OSError, ValueError, Image.DecompressionBombError):
            return  # a bad preview frame is skipped; the finished images still come
        self.preview.set_image(image, ("live", job.id, self._live_frame), cache=False)
        step = (
            f"step {update.sampling_step}/{update.sampling_steps}" if update.sampling_steps else ""
        )
        # The caption is a fixed 1-line box: repaint it, no layout pass (once per step).
        self.query_one("#caption", Static).update(f"live preview {step}".strip(), layout=False)

    def _freeze_startup_objects(self) -> None:
        """Move the objects that live as long as the app (widgets, styles, modules, the first
        history chunk) out of the garbage collector's way, once, after start-up: every full
        collection would otherwise walk them all again, stalling the loop."""
        gc.collect()
        gc.freeze()

    def _collect_when_idle(self) -> None:
        """A full collection a moment after a job, when nothing runs: its pause (tens of ms)
        then delays nothing the user is waiting for."""
        if not self.queue.busy:
            gc.collect()

    def _job_finished(self, job: Job) -> None:
        self.set_timer(IDLE_GC_DELAY, self._collect_when_idle)
        progress = self.progress
        if job.state is JobState.FAILED and job.error is not None:
            progress.finished("failed · the form is as it was", complete=False)
            hint = " · ctrl+g tries again" if job.error.retryable else ""
            self.notify(
                job.error.message + hint, title="Generation failed", severity="error", timeout=10
            )
            if job.error.kind in (ErrorKind.UNREACHABLE, ErrorKind.DROPPED):
                self.connect()
            return
        outcome = job.outcome
        if outcome is None:
            return
        saved = [i for i in outcome.images if i.png]
        unsaved = [i for i in outcome.images if i.png and i.path is None]
        for image in outcome.images:
            if image.error:
                self.notify(image.error, severity="error", timeout=10)
        if unsaved:
            self.notify(
                f"{len(unsaved)} image(s) kept in memory only: ctrl+w saves them elsewhere",
                severity="warning",
                timeout=15,
            )
        if not saved:
            progress.finished("the server returned no images", complete=False)
            return
        self.batch = [
            ShownImage(("job", job.id, i.index), i.png, i.path, i.seed, i.infotext) for i in saved
        ]
        self.last_seed = saved[0].seed
        self.batch_index = 0
        self._show_batch_image()
        word = "interrupted · " if job.state is JobState.INTERRUPTED else ""
        count = f"{len(saved)} image{'s' if len(saved) != 1 else ''}"
        progress.finished(
            f"{word}{count} saved" if all(i.path for i in saved) else f"{word}{count}"
        )
        self.refresh_bindings()
        # The finished image and status first, the history (a layout pass, a repaint of its
        # rows) in the next frame: one frame with both would stall the loop twice as long.
        self.call_after_refresh(self._add_to_history, [i.path for i in saved if i.path is not None])

    def _show_batch_image(self) -> None:
        if not self.batch:
            return
        shown = self.batch[self.batch_index]
        try:
            self.preview.set_image(shown.open(), shown.key)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            self.notify(f"Cannot show the image: {one_line(str(exc))}", severity="error")
            return
        self._caption(shown)

    def _caption(self, shown: ShownImage) -> None:
        parts = []
        if len(self.batch) > 1:
            parts.append(f"image {self.batch_index + 1}/{len(self.batch)} (ctrl+←/→)")
        if shown.seed is not None and shown.seed >= 0:
            parts.append(f"seed {shown.seed}")
        if shown.path is not None:
            parts.append(shown.path.name)
        self.query_one("#caption", Static).update(
            Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"), layout=False
        )

    def action_step_image(self, delta: int) -> None:
        if len(self.batch) > 1:
            self.batch_index = (self.batch_index + delta) % len(self.batch)
            self._show_batch_image()

    def action_save_as(self) -> None:
        """Save the images of the batch in view that could not be saved, into another folder."""
        pending = [s for s in self.batch if s.path is None and s.png]
        if not pending:
            self.notify("Every image in view is already saved", timeout=3)
            return

        def chosen(folder: Path | None) -> None:
            if folder is not None:
                self._save_into(folder, pending)

        self.push_screen(SaveAsScreen(len(pending), Path.home()), chosen)

    @work(thread=True, group="save-as", exit_on_error=False)
    def _save_into(self, folder: Path, images: list[ShownImage]) -> None:
        store = ImageStore(folder)
        saved = 0
        for shown in images:
            assert shown.png is not None
            prompt = parse_infotext(shown.infotext).prompt if shown.infotext else ""
            try:
                shown.path = store.save(shown.png, prompt=prompt, seed=shown.seed or -1)
            except SaveError as exc:
                self.call_from_thread(
                    self.notify,
                    f"Still not saved: {exc.strerror or exc}",
                    severity="error",
                    timeout=10,
                )
                return
            saved += 1
        self.call_from_thread(self.notify, f"Saved {saved} image(s) into {folder}", timeout=5)
        self.call_from_thread(self.refresh_bindings)

    # -- seeds and sizes ------------------------------------------------------------------------

    def action_random_seed(self) -> None:
        self.form.set_seed(-1)
        self.notify("Seed: random (-1)", timeout=2)

    def action_last_seed(self) -> None:
        seed = self._current_seed()
        if seed is None:
            self.notify("No image yet to take a seed from", severity="warning", timeout=3)
            return
        self.form.set_seed(seed)
        self.notify(f"Seed: {seed}", timeout=2)

    def _current_seed(self) -> int | None:
        if self.batch:
            seed = self.batch[self.batch_index].seed
            if seed is not None and seed >= 0:
                return seed
        return self.last_seed

    def action_swap_size(self) -> None:
        self.form.swap_size()

    # -- history --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_history(self) -> None:
        """Read the output folder newest first, handing entries over in chunks: the newest show
        at once, older ones join as they are read."""
        chunk: list[HistoryEntry] = []
        first = True
        for entry in self.store.iter_entries(limit=HISTORY_LIMIT):
            chunk.append(entry)
            if len(chunk) >= (FIRST_CHUNK if first else LATER_CHUNK):
                self.post_message(HistoryLoaded(chunk, [], first=first))
                chunk, first = [], False
        self.post_message(HistoryLoaded(chunk, list(self.store.notes), first=first, last=True))

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        if not self.is_running:
            return
        if message.first:
            self.history.set_entries(message.entries)
            self.make_thumbnails(message.entries[:THUMBNAIL_LIMIT])
        else:
            self.history.add_entries(message.entries, highlight=False)
        if message.last:
            self.call_after_refresh(self._freeze_startup_objects)
        if message.notes:
            shown = "; ".join(one_line(n, 120) for n in message.notes[:3])
            more = f" (and {len(message.notes) - 3} more)" if len(message.notes) > 3 else ""
            self.notify(f"Skipped unreadable files: {shown}{more}", severity="warning", timeout=8)

    @work(thread=True, group="thumbnails", exit_on_error=False)
    def make_thumbnails(self, entries: list[HistoryEntry]) -> None:
        """A few pixels per image (THUMB_COLS x 2*THUMB_ROWS at most, area-averaged): the
        history turns them into cells only for the rows on screen."""
        batch: dict[Path, Image.Image] = {}
        for entry in entries:
            try:
                with Image.open(entry.path) as image:
                    image.draft("RGB", (THUMB_COLS * 8, THUMB_ROWS * 16))
                    cols, rows = fit_cells(image.width, image.height, THUMB_COLS, THUMB_ROWS)
                    thumb = image.convert("RGB").resize((cols, rows * 2), Image.Resampling.BOX)
            except (OSError, ValueError, Image.DecompressionBombError):
                continue
            batch[entry.path] = thumb
            if len(batch) >= 8:
                self.post_message(ThumbnailsReady(batch))
                batch = {}
        if batch:
            self.post_message(ThumbnailsReady(batch))

    @on(ThumbnailsReady)
    def _thumbnails(self, message: ThumbnailsReady) -> None:
        if not self.is_running:
            return  # late message while shutting down: the widgets are gone
        self.history.set_thumbnails(message.thumbs)

    @work(thread=True, group="history-add", exit_on_error=False)
    def _add_to_history(self, paths: list[Path]) -> None:
        entries = []
        for path in paths:
            with contextlib.suppress(Exception):
                entries.append(self.store.entry(path))
        self.post_message(NewEntries(entries))

    @on(NewEntries)
    def _new_entries(self, message: NewEntries) -> None:
        if not self.is_running:
            return  # late message while shutting down: the widgets are gone
        for path in message.gone:
            self.history.remove_path(path)
        if message.entries:
            self.history.add_entries(message.entries, highlight=message.ours)
            # Decoding full images competes for the CPU: start once the new rows are painted.
            self.call_after_refresh(self.make_thumbnails, message.entries)

    def _rescan(self) -> None:
        known = frozenset(e.path for e in self.history.entries)
        self._rescan_folder(known)

    @work(thread=True, exclusive=True, group="rescan", exit_on_error=False)
    def _rescan_folder(self, known: frozenset[Path]) -> None:
        """Pick up images that another sdtui (or anything else) saved, and drop those deleted
        behind our back. New images land in the newest dated folders, so only those are listed
        (a few hundred files, not the whole history), and only new files are opened."""
        folders = set(self.store.recent_folders(RESCAN_FOLDERS)) | {self.store.root}
        on_disk = [path for _, path in self.store.paths(recent=RESCAN_FOLDERS)]
        present = set(on_disk)
        new = []
        for path in on_disk:
            if path not in known:
                with contextlib.suppress(Exception):
                    new.append(self.store.entry(path))
        gone = [path for path in known if path.parent in folders and path not in present]
        if new or gone:
            self.post_message(NewEntries(new, gone, ours=False))

    def _entry_shown(self, entry: HistoryEntry) -> ShownImage:
        return ShownImage(
            ("file", str(entry.path), entry.mtime), None, entry.path, entry.seed, entry.infotext
        )

    @on(HistoryPanel.Highlighted)
    def _history_highlighted(self, message: HistoryPanel.Highlighted) -> None:
        if not self.is_running:
            return  # late message while shutting down: the panel is gone
        if not self.history.list_view.has_focus:
            return  # the list moves by itself when new images arrive: keep the batch shown
        shown = self._entry_shown(message.entry)
        self.batch = [shown]
        self.batch_index = 0
        self._show_batch_image()

    @on(HistoryPanel.Opened)
    def _history_opened(self, message: HistoryPanel.Opened) -> None:
        shown = self._entry_shown(message.entry)
        self.batch, self.batch_index = [shown], 0
        self._show_batch_image()
        self.action_full_view()

    @on(HistoryPanel.Reuse)
    def _history_reuse(self, message: HistoryPanel.Reuse) -> None:
        self._reuse(message.entry.infotext)

    @on(HistoryPanel.Rerun)
    def _history_rerun(self, message: HistoryPanel.Rerun) -> None:
        if not message.entry.infotext:
            self.notify("This image carries no parameters to re-run", severity="warning")
            return
        self._reuse(message.entry.infotext, quiet=True)
        self.action_generate()

    @on(HistoryPanel.Copy)
    def _history_copy(self, message: HistoryPanel.Copy) -> None:
        self.copy_to_clipboard(message.text)
        self.notify(f"Copied {message.what}: {one_line(message.text, 80)}", timeout=3)

    @on(HistoryPanel.Delete)
    def _history_delete(self, message: HistoryPanel.Delete) -> None:
        entry = message.entry

        def answer(choice: str | None) -> None:
            if choice == "delete":
                self._delete_entry(entry)

        self.push_screen(
            ChoiceScreen(
                f"Delete {entry.path.name}?\n{one_line(entry.title, 70)}",
                [("cancel", "Keep", "default"), ("delete", "Delete", "error")],
            ),
            answer,
        )

    @work(thread=True, group="delete", exit_on_error=False)
    def _delete_entry(self, entry: HistoryEntry) -> None:
        try:
            self.store.delete(entry.path)
        except (OSError, ValueError) as exc:
            self.call_from_thread(
                self.notify, f"Cannot delete: {one_line(str(exc))}", severity="error"
            )
            return
        self.call_from_thread(self.history.remove_path, entry.path)
        self.call_from_thread(self.notify, f"Deleted {entry.path.name}", timeout=3)

    def _reuse(self, infotext: str, *, quiet: bool = False) -> None:
        if not infotext:
            self.notify("This image carries no parameters", severity="warning")
            return
        info = parse_infotext(infotext)
        self.form.load_infotext(info)
        if not quiet:
            self.notify("Parameters loaded into the form", timeout=2)

    def action_reuse(self) -> None:
        """Load the parameters of the image in view (the highlighted history entry when the
        history has focus) into the form."""
        if self.history.list_view.has_focus and self.history.selected_entry is not None:
            self._reuse(self.history.selected_entry.infotext)
        elif self.batch:
            self._reuse(self.batch[self.batch_index].infotext)
        else:
            self.notify("No image to take parameters from", severity="warning", timeout=3)

    def action_focus_history(self) -> None:
        self.history.list_view.focus()

    def action_full_view(self) -> None:
        if not self.batch:
            self.notify("No image to show yet", severity="warning", timeout=3)
            return
        sources: list[ImageSource] = [
            (s.open, s.key, one_line(s.infotext, 400) or (s.path.name if s.path else ""))
            for s in self.batch
        ]
        self.push_screen(FullImageScreen(sources, self.batch_index, self.cache))

    def action_reconnect(self) -> None:
        self.connect()

    # -- quitting -------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if self.queue.current is None:
            self.exit(0)
            return

        async def answer(choice: str | None) -> None:
            if choice == "interrupt":
                with contextlib.suppress(ApiError):
                    await self.client.interrupt()
                self.exit(0)
            elif choice == "leave":
                self.exit(0)

        waiting = len(self.queue.pending)
        more = f" ({waiting} more queued)" if waiting else ""
        await self.push_screen(
            ChoiceScreen(
                f"A job is running on the server{more}. Quit anyway?",
                [
                    ("cancel", "Keep working", "primary"),
                    ("interrupt", "Interrupt it and quit", "warning"),
                    ("leave", "Quit, let it finish", "default"),
                ],
            ),
            answer,
        )

    # -- worker failures in one place -----------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker failure ends here: one notification, never a crash (workers are made with
        exit_on_error=False)."""
        if not self.is_running:
            return
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            message = error.message if isinstance(error, ApiError) else one_line(repr(error))
            self.notify(message, title="Something went wrong", severity="error", timeout=10)

    # -- command palette ------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands: list[tuple[str, str, Callable[[], Any]]] = [
            ("Generate", "Send the form to the server (ctrl+g)", self.action_generate),
            (
                "Interrupt",
                "Stop the running job and keep its images (ctrl+x)",
                self.action_interrupt,
            ),
            ("Skip batch", "End the current batch, start the next (ctrl+n)", self.action_skip),
            (
                "Cancel queued jobs",
                "Drop every job waiting behind the running one",
                self._cancel_queued,
            ),
            ("Random seed", "Set the seed to -1 (ctrl+l)", self.action_random_seed),
            ("Last seed", "Use the seed of the image in view (ctrl+s)", self.action_last_seed),
            ("Swap width and height", "ctrl+t", self.action_swap_size),
            (
                "Reuse parameters",
                "Load the image's parameters into the form (ctrl+r)",
                self.action_reuse,
            ),
            ("Full view", "Show the image full-screen (ctrl+o)", self.action_full_view),
            (
                "Save as…",
                "Save images that could not be saved into another folder (ctrl+w)",
                self.action_save_as,
            ),
            ("History", "Focus the history list (ctrl+f)", self.action_focus_history),
            (
                "Reconnect",
                "Ask the server again for its models and samplers",
                self.action_reconnect,
            ),
            ("Reload history", "Read the output folder again", self.load_history),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)

    def _cancel_queued(self) -> None:
        dropped = self.queue.cancel_pending()
        self.progress.set_queued(0)
        self.notify(f"Cancelled {len(dropped)} queued job(s)", timeout=3)


def run_app(settings: Settings, *, demo: bool = False) -> int:
    app = SdtuiApp(settings, demo=demo)
    result = app.run()
    return result if isinstance(result, int) else 0
