"""The queue panel: every job of this session, waiting, running and ended, and what to do with
them, by keyboard (what the web UI's agent-scheduler extension offers in a browser).

Running jobs come first, then the waiting ones in the order they will start, then the ended
ones, newest first. The keys act on the highlighted job: move it up, down or to the top, cancel
it (a running one is interrupted), duplicate it, retry it, take it back into the form, give it
a checkpoint of its own; and on the whole queue: pause and resume it, clear the ended rows.

The panel reads the queue (`JobQueue` knows nothing of it): the screen hands it each job event
(`job_event`) and each change of the queue's shape (`refresh_jobs`). A progress event repaints
one line; a change of shape rebuilds the list once per frame, however many arrive.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget

from sdtui.api import ApiError
from sdtui.engine import Job, JobEvent, JobState
from sdtui.engine.queue import RETRYABLE_STATES
from sdtui.text import one_line
from sdtui.ui.actions import bindings
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.pick_model import PickModelDialog
from sdtui.ui.messages import EditJob, JobSelected
from sdtui.ui.widgets.form_fields import model_label
from sdtui.ui.widgets.queue_list import CURSOR_ACTIONS, QueueList
from sdtui.ui.widgets.queue_row import detail_text, header_text, model_text


class DetailLine(Widget):
    """Two lines about the highlighted job; repainted, never laid out again, when it changes."""

    DEFAULT_CSS = "DetailLine { height: 2; color: $text-muted; padding: 0 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.refresh()

    def render(self) -> Text:
        return Text(self.text, overflow="ellipsis")


def _panel_bindings() -> list[BindingType]:
    return [
        b for b in bindings("queue") if isinstance(b, Binding) and b.action not in CURSOR_ACTIONS
    ]


class QueuePanel(Vertical):
    """The queue's jobs and their keys (hidden until opened: `show`, `hide`)."""

    BINDINGS: ClassVar[list[BindingType]] = _panel_bindings()

    def __init__(self, context: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self.list_view = QueueList(id="queue-list")
        self.detail = DetailLine(id="queue-detail")
        self._cleared: set[int] = set()  # ended jobs taken off the list
        self._scheduled = False
        self.rebuilds = 0
        """How many times the list was rebuilt (for tests and benchmarks)."""

    def compose(self) -> ComposeResult:
        yield self.list_view
        yield self.detail

    def on_mount(self) -> None:
        keys = self.context.keys
        self.list_view.empty_note = (
            f"No jobs yet: {keys.name('generate')} queues the form. "
            f"{keys.name('toggle_queue')} closes this panel."
        )
        self._update_title()

    # -- open and closed ------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def highlighted_job(self) -> Job | None:
        return self.list_view.highlighted_job

    def show(self) -> None:
        """Open the panel on the queue as it is now, and focus its list."""
        self.add_class("-open")
        self._rebuild()
        self.list_view.focus()
        job = self.highlighted_job
        self.post_message(JobSelected(job.id if job is not None else None))

    def hide(self) -> None:
        if self.is_open:
            self.remove_class("-open")
            self.post_message(JobSelected(None))  # the preview follows the newest job again

    # -- following the queue --------------------------------------------------------------------

    def job_event(self, event: JobEvent) -> None:
        """A queue event: progress repaints the job's line; anything else rebuilds the list."""
        if event.kind == "progress":
            if self.is_open:
                self.list_view.refresh_job(event.job)
            return
        self.refresh_jobs()

    def refresh_jobs(self) -> None:
        """The queue's shape changed: rebuild the list once, after the messages already queued
        (a sweep queues dozens of jobs at once)."""
        if not self._scheduled:
            self._scheduled = True
            self.call_after_refresh(self._rebuild)

    def _jobs(self) -> list[Job]:
        queue = self.context.queue
        finished = queue.finished
        self._cleared &= {job.id for job in finished}
        running = sorted(queue.running, key=lambda job: job.started or 0.0)
        ended = [job for job in reversed(finished) if job.id not in self._cleared]
        return [*running, *queue.pending, *ended]

    def _rebuild(self) -> None:
        self._scheduled = False
        self._update_title()
        if not self.is_open:
            return  # rebuilt when opened
        self.rebuilds += 1
        self.list_view.server_models = {
            link.name: link.facts.model_title for link in self.context.servers
        }
        self.list_view.set_jobs(self._jobs())
        self._show_detail()

    def _update_title(self) -> None:
        queue = self.context.queue
        failed = sum(job.state is JobState.FAILED for job in queue.finished)
        title = header_text(len(queue.running), len(queue.pending), failed, paused=queue.paused)
        if title != self.border_title:
            self.border_title = title

    def _show_detail(self) -> None:
        job = self.highlighted_job
        self.detail.set_text(detail_text(job) if job is not None else "")

    @on(QueueList.Highlighted)
    def _highlighted(self, message: QueueList.Highlighted) -> None:
        message.stop()
        self._show_detail()
        if self.is_open:
            job = message.job
            self.post_message(JobSelected(job.id if job is not None else None))

    # -- acting on the highlighted job ----------------------------------------------------------

    def _key(self, binding_id: str) -> str:
        return self.context.keys.name(binding_id)

    def _say(self, text: str, *, timeout: float = 3, warning: bool = False) -> None:
        self.notify(
            text, timeout=timeout, markup=False, severity="warning" if warning else "information"
        )

    def _job(self) -> Job | None:
        job = self.highlighted_job
        if job is None:
            self._say("No job in the queue", timeout=2)
        return job

    def _pending(self, job: Job, doing: str) -> bool:
        """Whether `job` still waits; else one line says it cannot be `doing`."""
        if job.state is JobState.QUEUED:
            return True
        when = "is running" if job.state is JobState.RUNNING else "has ended"
        self._say(f"Job #{job.id} {when}: only a waiting job can be {doing}", timeout=3)
        return False

    def action_move(self, delta: int) -> None:
        job = self._job()
        if job is None or not self._pending(job, "moved"):
            return
        if self.context.queue.move(job, delta):
            self._rebuild()

    def action_move_top(self) -> None:
        job = self._job()
        if job is None or not self._pending(job, "moved"):
            return
        if self.context.queue.move_to_top(job):
            self._rebuild()
            self._say(f"Job #{job.id} starts next", timeout=2)

    async def action_cancel(self) -> None:
        job = self._job()
        if job is None:
            return
        queue = self.context.queue
        if job.state is JobState.RUNNING:
            waiting = job.waiting
            try:
                await queue.interrupt(job)
            except ApiError as exc:
                self._say(one_line(exc.message), warning=True)
                return
            if waiting:
                self._say(
                    f"The server is busy with another client's job: #{job.id} stops as soon "
                    "as it starts",
                    timeout=4,
                )
            else:
                self._say(
                    f"Interrupting #{job.id}: the images made so far will be saved", timeout=4
                )
        elif job.state is JobState.QUEUED:
            if queue.cancel(job):
                self._rebuild()
                self._say(f"Job #{job.id} cancelled · {self._key('queue.retry')} queues it again")
        else:
            self._say(
                f"Job #{job.id} has ended · {self._key('queue.clear')} takes ended jobs off the list"
            )

    def action_duplicate(self) -> None:
        job = self._job()
        if job is None:
            return
        copy = self.context.queue.duplicate(job)
        self._rebuild()
        where = "right behind it" if job.state is JobState.QUEUED else "at the end of the queue"
        self._say(f"Job #{job.id} queued again as #{copy.id}, {where}", timeout=3)

    def action_retry(self) -> None:
        job = self._job()
        if job is None:
            return
        if job.state not in RETRYABLE_STATES:
            self._say(
                f"Job #{job.id} did not fail: {self._key('queue.duplicate')} queues it again",
                timeout=3,
            )
            return
        again = self.context.queue.retry(job)
        if again is not None:
            self._rebuild()
            self._say(f"Job #{job.id} queued again as #{again.id}", timeout=3)

    def action_edit(self) -> None:
        job = self._job()
        if job is None or not self._pending(job, "edited"):
            return
        request = self.context.queue.take_back(job)
        if request is None:
            self._say(f"Job #{job.id} has started meanwhile: it runs as it is", timeout=3)
            return
        self._rebuild()
        self.post_message(EditJob(request))

    def action_pause(self) -> None:
        queue = self.context.queue
        if queue.paused:
            queue.resume()
            self._say("Queue resumed", timeout=2)
        else:
            queue.pause()
            self._say(
                "Queue paused: running jobs finish, no new one starts · "
                f"{self._key('queue.pause')} resumes",
                timeout=4,
            )
        self._rebuild()

    def action_clear(self) -> None:
        ended = [job for job in self.context.queue.finished if job.id not in self._cleared]
        self._cleared.update(job.id for job in ended)
        self._rebuild()
        self._say(f"{len(ended)} ended job(s) taken off the list", timeout=2)

    # -- a job's own checkpoint -----------------------------------------------------------------

    def _models(self) -> list[tuple[str, str, str]]:
        """Every server's checkpoints, once each: (title, label, the servers that have it)."""
        servers = self.context.servers
        found: dict[str, tuple[str, list[str]]] = {}
        for link in servers:
            for model in link.facts.models:
                _, names = found.setdefault(model.title, (model_label(model), []))
                names.append(link.name)
        several = len(servers) > 1
        return [
            (title, label, ", ".join(names) if several else "")
            for title, (label, names) in found.items()
        ]

    def action_model(self) -> None:
        job = self._job()
        if job is None or not self._pending(job, "given a checkpoint"):
            return
        models = self._models()
        if not models:
            self._say("No server has listed its checkpoints yet", timeout=3, warning=True)
            return

        def chosen(title: str | None) -> None:
            if title is None:
                return
            if job.state is not JobState.QUEUED:
                self._say(f"Job #{job.id} has started meanwhile: its checkpoint stays", timeout=3)
                return
            job.request.model = title or None  # sent as override_settings when it starts
            self.context.queue.changed(job)  # wakes the servers; the screen keeps it on disk
            self.list_view.refresh_job(job)
            self._show_detail()
            short = model_text(job)
            self._say(
                f"Job #{job.id} runs on {short}" if short else
                f"Job #{job.id} runs on the server's loaded model",
                timeout=3,
            )  # fmt: skip

        prompt = one_line(job.request.prompt, 50)
        question = f"Checkpoint for job #{job.id} ({prompt})"
        self.app.push_screen(PickModelDialog(question, models, job.request.model), chosen)
