"""The main screen's queue actions: the queue panel opened and closed, the queue paused from
anywhere, a job's own checkpoint, and a job taken back into the form.

The panel takes the history's column while it is open (the screen's `-queue` class hides the
history); under 120 columns, where the history opens over the preview, the panel takes the whole
preview's room, and closes when the focus leaves it, as the history does. MainScreen builds on
this screen class, which builds on ImageActionsScreen.
"""

from __future__ import annotations

from textual import events, on
from textual.widget import Widget
from textual.widgets import Input

from sdtui.api import Img2ImgRequest
from sdtui.engine import JobState, model_short_name
from sdtui.text import one_line
from sdtui.ui.messages import EditJob, JobMessage, QueueChanged
from sdtui.ui.screens.main_actions import ImageActionsScreen
from sdtui.ui.widgets.queue_panel import QueuePanel


class QueueScreen(ImageActionsScreen):
    """What MainScreen does with the queue panel (see the module's docstring)."""

    queue_panel: QueuePanel

    def _set_queue_open(self, shown: bool) -> None:
        panel = self.queue_panel
        if shown:
            self.set_class(True, "-queue")
            panel.show()
        else:
            panel.hide()
            self.set_class(False, "-queue")

    def action_toggle_queue(self) -> None:
        """Open the panel and focus it; from the panel, close it and go back to the prompt (a
        panel open beside a focused prompt is focused first)."""
        panel = self.queue_panel
        if not panel.is_open:
            self._set_queue_open(True)
        elif not panel.has_focus_within:
            panel.list_view.focus()
        else:
            self._set_queue_open(False)
            self.query_one("#prompt").focus()

    def action_pause_queue(self) -> None:
        self.queue_panel.action_pause()

    def action_queue_model(self) -> None:
        """From the palette: the highlighted job's checkpoint, or the next waiting job's."""
        panel = self.queue_panel
        if not panel.is_open:
            self._set_queue_open(True)
        job = panel.highlighted_job
        pending = self.context.queue.pending
        if (job is None or job.state is not JobState.QUEUED) and pending:
            panel.list_view.select(pending[0])
        panel.action_model()

    def queue_action_allowed(self, action: str) -> bool | None:
        """check_action's answer for this class's actions (None: not now; True: any other)."""
        if action == "queue_model":
            return bool(self.context.queue.pending) or None
        return True

    def image_action_allowed(self, action: str) -> bool | None:
        allowed = self.queue_action_allowed(action)
        return super().image_action_allowed(action) if allowed is True else allowed

    # -- the queue's events reach the panel -----------------------------------------------------

    @on(JobMessage)
    def _queue_panel_job_event(self, message: JobMessage) -> None:
        self.queue_panel.job_event(message.event)

    @on(QueueChanged)
    def _queue_panel_changed(self) -> None:
        self.queue_panel.refresh_jobs()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The panel closes when the focus goes to the history (whose column it holds), and
        under 120 columns wherever the focus goes (it covers the preview there)."""
        panel = self.queue_panel
        if not panel.is_open or _inside(event.widget, panel):
            return
        if self.has_class("-narrow") or _inside(event.widget, self.history):
            self._set_queue_open(False)

    # -- a job back into the form ---------------------------------------------------------------

    @on(EditJob)
    def _edit_job(self, message: EditJob) -> None:
        request = message.request
        form = self.form
        before = form.state()
        form.fill_request(request)
        # The batch is the job's, not the form's (an image's parameters do not say theirs).
        for field_id, value in (
            ("batch-size", request.batch_size),
            ("batch-count", request.n_iter),
        ):
            form.query_one(f"#{field_id}", Input).value = str(value)
        self.fill_undo = before
        self.refresh_bindings()
        self.query_one("#prompt").focus()
        lines = [
            f"The job is out of the queue and in the form · {self._key('generate')} queues it "
            f"again · {self._key('undo_fill')} puts the form back"
        ]
        model = request.model
        if model and model != self.context.facts.model_title:
            name = one_line(model_short_name(model), 60)
            lines.append(
                f"Its own checkpoint {name} is not a form field: "
                f"{self._key('queue.model')} in the queue sets it again"
            )
        if isinstance(request, Img2ImgRequest) and not form.img2img.active:
            lines.append("It was img2img: set the init image again to send it as img2img")
        self.notify("\n".join(lines), timeout=6 if len(lines) > 1 else 4, markup=False)


def _inside(widget: Widget, container: Widget) -> bool:
    return widget is container or container in widget.ancestors
