"""The main screen's jobs: sending the form (a sweep, a batch spread over the servers),
interrupting and skipping, and what each queue event changes on screen.

MainScreen builds on this screen class (which builds on the queue panel's and the image actions').
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

from textual import on, work

from sdtui.api import ApiError
from sdtui.engine import JobState
from sdtui.engine.dispatch import split_batch
from sdtui.engine.sweep import expand, grid_infotext, resolve_axis, save_grid
from sdtui.engine.sweep_jobs import SweepRun
from sdtui.text import one_line
from sdtui.ui.context import AppContext
from sdtui.ui.messages import JobMessage, JobSelected, QueueChanged
from sdtui.ui.screens.main_queue import QueueScreen
from sdtui.ui.widgets.connection_bar import ConnectionBar
from sdtui.ui.widgets.generation_form import FormError, GenerationForm
from sdtui.ui.widgets.history_panel import HistoryPanel
from sdtui.ui.widgets.in_order import after_typed_keys
from sdtui.ui.widgets.preview_pane import PreviewPane

IDLE_GC_DELAY = 1.0  # seconds after a job before the idle full collection


class JobsScreen(QueueScreen):
    """What MainScreen does with jobs (see the module's docstring)."""

    context: AppContext
    bar: ConnectionBar
    form: GenerationForm
    preview: PreviewPane
    history: HistoryPanel

    def save_form(self) -> None:
        raise NotImplementedError

    # -- jobs -----------------------------------------------------------------------------------

    def action_generate(self) -> None:
        """Send the form once the keys typed before this one have reached it."""
        after_typed_keys(self, self._generate)

    def _generate(self) -> None:
        try:
            request = self.form.to_request()
            axes = self.form.sweep_axes()
        except FormError as error:
            self.notify(error.message, title="Not sent", severity="error")
            with contextlib.suppress(Exception):
                self.form.reveal(error.field)
                self.query_one(f"#{error.field}").focus()
            return
        context = self.context
        queue = context.queue
        ahead = len(queue.pending) + len(queue.running)
        several = len(context.servers) > 1
        shown = context.facts.model_title
        loaded = {link.facts.model_title for link in context.servers if link.connected}
        if several and not request.model and shown and loaded != {shown}:
            # The boxes have other models loaded: each makes the job on the model the form
            # shows (and keeps it loaded), so every image of a batch is alike.
            request.model = shown
            request.override_settings_restore_afterwards = False
        if axes:
            try:
                sweep = expand(request, [resolve_axis(axis, context.facts) for axis in axes])
            except ValueError as exc:
                self.notify(one_line(str(exc)), title="Not sent", severity="error")
                return
            group = context.sweeps.new_group()
            jobs = [queue.submit(cell.request, group=group) for cell in sweep.cells]
            context.sweeps.add(group, sweep, jobs, grid=self.form.sweep_grid())
            self.notify(f"Sweep: {len(jobs)} jobs queued", timeout=3)
        else:
            # Over several servers a batch count becomes one job per batch, seeds as one
            # server would give them: a fast box takes more of them.
            for part in split_batch(request) if several else [request]:
                queue.submit(part)
        self.save_form()  # what was sent, as the widgets hold it now
        if not any(link.connected for link in context.servers):
            reconnect = self.context.keys.name("command_palette")
            self.notify(
                f"No server answers: the job waits in the queue until one does "
                f"({reconnect} → Reconnect retries now)",
                severity="warning",
                timeout=6,
            )
        elif ahead and not axes:
            self.notify(f"Queued behind {ahead} job(s)", timeout=2)

    async def action_interrupt(self) -> None:
        queue = self.context.queue
        waiting = queue.current is not None and queue.current.waiting
        try:
            if not await queue.interrupt():
                return
        except ApiError as exc:
            self.notify(exc.message, severity="error")
            return
        if waiting:
            message = (
                "The server is busy with another client's job: ours stops as soon as it starts"
            )
        else:
            message = "Interrupting: the images made so far will be saved"
        self.notify(message, timeout=4)

    async def action_skip(self) -> None:
        job = self.context.queue.current
        if job is not None and job.waiting:
            # The server's skip ends whatever batch runs: now, another client's.
            self.notify("Our job has not started yet: nothing of ours to skip", timeout=4)
            return
        try:
            await self.context.queue.skip()
        except ApiError as exc:
            self.notify(exc.message, severity="error")

    def action_cancel_queued(self) -> None:
        dropped = self.context.queue.cancel_pending()
        self.preview.progress.set_queued(0)
        self.notify(f"Cancelled {len(dropped)} queued job(s)", timeout=3)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        queue = self.context.queue
        job = queue.current
        # Interrupt and Skip are always in the footer, dimmed while they do nothing (as the web
        # UI's buttons are): a key that comes and goes with every job would re-lay out the footer.
        if action in ("interrupt", "skip") and (
            job is None or (action == "skip" and job.request.n_iter < 2)
        ):
            return None
        if action == "step_image":
            return len(self.preview.in_view.images) > 1
        if action == "save_as":
            return bool(self.preview.in_view.unsaved) or None
        if action == "cancel_queued":
            return bool(queue.pending) or None
        return self.image_action_allowed(action)

    @on(JobMessage)
    def _job_event(self, message: JobMessage) -> None:
        event = message.event
        self.preview.job_event(event)
        self.bar.refresh()  # each server's progress, the queued count: one line
        if event.kind != "progress":
            self.context.persist_queue()
        if event.kind in ("started", "finished"):
            self.refresh_bindings()
        if event.kind in ("finished", "cancelled"):
            run = self.context.sweeps.job_ended(event.job)
            if run is not None and run.grid and run.made:
                self._save_grid(run)
        if event.kind != "finished":
            return
        self.set_timer(IDLE_GC_DELAY, self._collect_when_idle)
        job = event.job
        if job.state is JobState.FAILED and job.error is not None:
            return
        paths = [i.path for i in job.outcome.images if i.path] if job.outcome else []
        # The finished image and status first, the history (a layout pass, a repaint of its
        # rows) in the next frame: one frame with both would stall the loop twice as long.
        interrupted = bool(job.outcome and job.outcome.interrupted)
        self.call_after_refresh(self.history.add_paths, paths, interrupted)

    @work(group="grid", exit_on_error=False, description="drawing the sweep's grid")
    async def _save_grid(self, run: SweepRun) -> None:
        """The last job of a sweep ended: its labelled grid, saved beside its images."""
        context = self.context
        images = await asyncio.to_thread(run.read_images)
        infotext = grid_infotext(run.sweep, run.infotext)
        path = await save_grid(run.sweep, images, context.store, infotext)
        self.history.add_paths([path], False)
        missing = len(images) - run.made
        gaps = f" ({missing} cell(s) empty: their jobs made no image)" if missing else ""
        self.notify(f"Grid saved: {path.name}{gaps}", timeout=6)

    @on(QueueChanged)
    def _queue_changed(self) -> None:
        self.bar.refresh()
        self.context.persist_queue()
        self.refresh_bindings()

    @on(JobSelected)
    def _job_selected(self, message: JobSelected) -> None:
        queue = self.context.queue
        jobs = [*queue.running, *queue.pending, *queue.finished]
        self.preview.follow(next((j for j in jobs if j.id == message.job_id), None))

    def _collect_when_idle(self) -> None:
        """A full collection a moment after a job, when nothing runs: its pause (tens of ms)
        then delays nothing the user is waiting for."""
        if not self.context.queue.busy:
            gc.collect()
