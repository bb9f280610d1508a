"""The preview pane: the image in view, its caption, and the running job's progress.

It owns the batch in view (a finished job's images or one history entry), the live frames of
the running job (each drawn once), stepping through a batch, and saving images that could not
be saved where they were meant to go.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from sdtui.api import ProgressUpdate
from sdtui.engine import Job, JobEvent, JobState
from sdtui.engine.batch import Batch, ShownImage, open_image
from sdtui.images.infotext import parse_infotext
from sdtui.store import HistoryEntry, ImageStore, SaveError
from sdtui.text import one_line
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.save_as import SaveAsDialog
from sdtui.ui.messages import FullView
from sdtui.ui.widgets.image_view import ImageView
from sdtui.ui.widgets.job_progress import JobProgress

BAD_IMAGE = (OSError, ValueError, Image.DecompressionBombError)


class PreviewPane(Vertical):
    def __init__(self, context: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self.in_view = Batch()
        self.live_frames = 0
        self.live_job: int | None = None  # the job whose frames and progress are drawn
        self.following: int | None = None  # picked in the queue panel (None: the newest)
        generate = context.keys.name("generate")
        self.view = ImageView(
            cache=context.cache,
            id="preview",
            placeholder=f"Type a prompt, then {generate} to generate",
        )
        self.caption = Static("", id="caption", markup=False)
        self.progress = JobProgress(id="progress")

    def compose(self) -> ComposeResult:
        yield self.view
        yield self.caption
        yield self.progress

    def on_mount(self) -> None:
        self.border_title = "Preview"

    # -- the running job ------------------------------------------------------------------------

    def job_event(self, event: JobEvent) -> None:
        """Follow one job: the one picked in the queue panel, else the newest started. Several
        servers run jobs at once; the others' frames are not drawn (their images still reach
        the history), and a failure of any job is told."""
        job = event.job
        progress = self.progress
        progress.set_queued(event.queued)
        if event.kind == "started":
            if self.following in (None, job.id):
                self._go_live(job)
        elif event.kind == "progress" and event.progress is not None:
            if job.id == self.live_job:
                progress.update_progress(event.progress)
                self._show_live(job, event.progress)
        elif event.kind == "finished":
            if job.id == self.live_job or self.live_job is None:
                self.live_job = None
                self._finished(job)
                self._follow_another()
            elif job.state is JobState.FAILED:
                self._failed(job)
        elif event.kind == "requeued" and job.id == self.live_job:
            self.live_job = None
            progress.finished(one_line(job.note) or "re-queued", complete=False)
            self._follow_another()

    def follow(self, job: Job | None) -> None:
        """The preview follows `job` (None: the newest started): its live frames while it runs,
        its images once it is done."""
        self.following = job.id if job is not None else None
        if job is None:
            self._follow_another()
        elif job.state is JobState.RUNNING:
            self._go_live(job)
        elif job.outcome is not None and job.id != self.live_job:
            saved = [i for i in job.outcome.images if i.png]
            if saved:
                self.live_job = None
                self.in_view = Batch.of([ShownImage.of_saved(job.id, i) for i in saved])
                self.show_current()
                self.progress.show_outcome(job.outcome)

    def _go_live(self, job: Job) -> None:
        self.live_job = job.id
        self.live_frames = 0
        self.progress.started()
        if job.last_progress is not None:
            self.progress.update_progress(job.last_progress)

    def _follow_another(self) -> None:
        """The followed job ended: go on with another that runs, if any (the newest)."""
        running = self.context.queue.running
        if self.following is None and running and self.live_job is None:
            self._go_live(max(running, key=lambda j: j.started or 0.0))

    def _show_live(self, job: Job, update: ProgressUpdate) -> None:
        if update.current_image is None:
            return  # no new frame: the engine's progress watcher passes each one on once
        self.live_frames += 1
        try:
            image = open_image(update.current_image)
        except BAD_IMAGE:
            return  # a bad preview frame is skipped; the finished images still come
        self.view.set_image(image, ("live", job.id, self.live_frames), cache=False)
        step = (
            f"step {update.sampling_step}/{update.sampling_steps}" if update.sampling_steps else ""
        )
        # The caption is a fixed 1-line box: repaint it, no layout pass (once per step).
        self.caption.update(f"live preview {step}".strip(), layout=False)

    def _finished(self, job: Job) -> None:
        progress = self.progress
        if job.state is JobState.FAILED and job.error is not None:
            progress.finished("failed · the form is as it was", complete=False)
            self._failed(job)
            return
        outcome = job.outcome
        if outcome is None:
            return
        for image in outcome.images:
            if image.error:
                self.notify(image.error, severity="error", timeout=10)
        saved = [i for i in outcome.images if i.png]
        unsaved = [i for i in saved if i.path is None]
        if unsaved:
            self.notify(
                f"{len(unsaved)} image(s) kept in memory only: "
                f"{self.context.keys.name('save_as')} saves them elsewhere",
                severity="warning",
                timeout=15,
            )
        if saved:
            self.in_view = Batch.of([ShownImage.of_saved(job.id, i) for i in saved])
            self.show_current()
        progress.show_outcome(outcome)

    def _failed(self, job: Job) -> None:
        if job.error is None:
            return
        hint = f" · {self.context.keys.name('generate')} tries again" if job.error.retryable else ""
        several = len(self.context.servers) > 1
        title = f"Job #{job.id} failed on {job.server}" if several else "Generation failed"
        self.notify(
            one_line(job.error.message) + hint,
            title=title,
            severity="error",
            timeout=10,
        )

    # -- the batch in view ----------------------------------------------------------------------

    def show_entry(self, entry: HistoryEntry, png: bytes | None = None) -> None:
        """Show a history image; `png`, its file's bytes when already read (in a thread)."""
        shown = ShownImage.of_entry(entry)
        if png is not None:
            shown.png = png
        self.in_view = Batch.of([shown])
        self.show_current()

    def show_current(self) -> None:
        shown = self.in_view.current
        if shown is None:
            return
        try:
            self.view.set_image(shown.open(), shown.key)
        except BAD_IMAGE as exc:
            self.notify(f"Cannot show the image: {one_line(str(exc))}", severity="error")
            return
        parts = []
        if self.in_view.position():
            keys = self.context.keys
            stepping = f"{keys.name('previous_image')}/{keys.name('next_image')}"
            parts.append(f"{self.in_view.position()} ({stepping})")
        if self.in_view.seed is not None:
            parts.append(f"seed {self.in_view.seed}")
        if shown.path is not None:
            parts.append(shown.path.name)
        self.caption.update(
            Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"), layout=False
        )

    def step(self, delta: int) -> None:
        if self.in_view.step(delta):
            self.show_current()

    def full_view(self) -> None:
        if self.in_view.current is None:
            self.notify("No image to show yet", severity="warning", timeout=3)
            return
        self.post_message(FullView(self.in_view.index))

    # -- saving elsewhere -----------------------------------------------------------------------

    def save_as(self) -> None:
        """Save the images of the batch in view that could not be saved, into another folder."""
        pending = self.in_view.unsaved
        if not pending:
            self.notify("Every image in view is already saved", timeout=3)
            return

        def chosen(folder: Path | None) -> None:
            if folder is not None:
                self._save_into(folder, pending)

        self.app.push_screen(SaveAsDialog(len(pending), Path.home(), self.context.keys), chosen)

    @work(thread=True, group="save-as", exit_on_error=False, description="saving elsewhere")
    def _save_into(self, folder: Path, images: list[ShownImage]) -> None:
        store = ImageStore(folder)
        for n, shown in enumerate(images):
            assert shown.png is not None
            prompt = parse_infotext(shown.infotext).prompt if shown.infotext else ""
            try:
                shown.path = store.save(shown.png, prompt=prompt, seed=shown.seed or -1)
            except SaveError as exc:
                message = (
                    f"Saved {n} of {len(images)}; the rest still not saved: {exc.strerror or exc}"
                )
                self.app.call_from_thread(self.notify, message, severity="error", timeout=10)
                return
        self.app.call_from_thread(
            self.notify, f"Saved {len(images)} image(s) into {folder}", timeout=5
        )
        self.app.call_from_thread(self.screen.refresh_bindings)
