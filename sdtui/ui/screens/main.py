"""The main screen: form, preview and history side by side; it composes them and routes.

Widgets post what the user asked for; this screen hands it to the widget that does it (a job
event to the preview and the history, a history "reuse" to the form, the server's lists to the
form). No widget reaches into another.
"""

from __future__ import annotations

import gc
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Checkbox, Input, Select, TextArea

from sdtui.engine import JobEvent
from sdtui.ui.actions import bindings
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.keys import KeysDialog
from sdtui.ui.messages import (
    FullView,
    HistoryReady,
    JobMessage,
    LeaveHistory,
    ModelLoaded,
    QueueChanged,
    ReuseParameters,
    ServerConnected,
    ServerOffline,
    ShowEntry,
)
from sdtui.ui.screens.full_image import FullImageScreen
from sdtui.ui.screens.main_jobs import JobsScreen
from sdtui.ui.widgets.connection_bar import ConnectionBar
from sdtui.ui.widgets.footer import Footer
from sdtui.ui.widgets.generation_form import GenerationForm
from sdtui.ui.widgets.history_panel import HistoryPanel
from sdtui.ui.widgets.preview_pane import PreviewPane
from sdtui.ui.widgets.prompt_editor import PromptEditor
from sdtui.ui.widgets.queue_panel import QueuePanel
from sdtui.ui.widgets.server_banner import ServerBanner
from sdtui.ui.widgets.style_preview import StylePreview

SAVE_FORM_DELAY = 1.0  # seconds after the last edit before the form is written to disk


class MainScreen(JobsScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("main")

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.form_state: dict[str, str] = {}
        self._save_timer: Timer | None = None
        self.bar = ConnectionBar(context, id="connection")
        self.banner = ServerBanner(id="banner")
        self.form = GenerationForm(context.keys, id="form")
        self.preview = PreviewPane(context, id="preview-pane")
        self.history = HistoryPanel(context, id="history")
        self.queue_panel = QueuePanel(context, id="queue")

    def compose(self) -> ComposeResult:
        yield self.bar
        yield self.banner
        with Horizontal(id="main"):
            yield self.form
            yield self.preview
            yield self.history
            yield self.queue_panel
        # Compact: with the history's own keys beside the app's, 140 columns fit them all.
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.context.listener = self._queue_event
        self.context.on_change = self._queue_changed_soon
        self.form.restore(self.context.session.load_form())
        self.form_state = self.form.state()
        self.query_one("#prompt").focus()

    def _queue_event(self, event: JobEvent) -> None:
        self.post_message(JobMessage(event))

    def _queue_changed_soon(self) -> None:
        self.post_message(QueueChanged())

    def start(self) -> None:
        """The first frame is on screen: now the work that is not needed to paint it."""
        self.bar.connect()
        self.history.start()

    # -- the form across restarts ---------------------------------------------------------------

    @on(TextArea.Changed, "#form TextArea")
    @on(Input.Changed, "#form Input")
    @on(Select.Changed, "#form Select")
    @on(Checkbox.Changed, "#form Checkbox")
    def _form_changed(self) -> None:
        self.form_state = state = self.form.state()
        self.query_one("#styles", StylePreview).set_prompts(state["prompt"], state["negative"])
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_FORM_DELAY, self.save_form)

    def save_form(self) -> None:
        """Write the form as it is now (as kept, once its widgets are gone)."""
        if self.form.is_attached:
            self.form_state = self.form.state()
        self.context.session.save_form(self.form_state)

    # -- the server -----------------------------------------------------------------------------

    @on(ServerConnected)
    def _connected(self, message: ServerConnected) -> None:
        facts = message.facts
        self.banner.reason = ""
        self.form.set_facts(facts)
        self.context.lists_shown = True

    @on(ServerOffline)
    def _offline(self, message: ServerOffline) -> None:
        banner = self.banner
        banner.hint = f"{self.context.keys.name('command_palette')} → Reconnect retries now"
        banner.reason = message.reason

    @on(GenerationForm.ModelChanged)
    def _model_picked(self, message: GenerationForm.ModelChanged) -> None:
        if self.context.queue.busy:
            self.notify(
                "A job is running: the server loads the new model once it ends "
                "(the running job keeps its model)",
                severity="warning",
                timeout=6,
            )
        self.bar.switch_model(message.title)

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        self.form.set_current_model(message.title)

    # -- the image in view, seeds, sizes --------------------------------------------------------

    def action_random_seed(self) -> None:
        self.form.set_seed(-1)
        self.notify("Seed: random (-1)", timeout=2)

    def action_last_seed(self) -> None:
        seed = self.preview.in_view.seed
        if seed is None:
            self.notify("No image in view to take a seed from", severity="warning", timeout=3)
            return
        self.form.set_seed(seed)
        self.notify(f"Seed: {seed}", timeout=2)

    def action_swap_size(self) -> None:
        self.form.swap_size()

    def action_step_image(self, delta: int) -> None:
        self.preview.step(delta)

    def action_full_view(self) -> None:
        self.preview.full_view()

    def action_save_as(self) -> None:
        self.preview.save_as()

    @on(FullView)
    def _full_view(self, message: FullView) -> None:
        images = self.preview.in_view.images
        self.app.push_screen(FullImageScreen(images, message.index, self.context.cache))

    def action_reuse(self) -> None:
        """The parameters of the image in view (the highlighted entry when the history has
        focus) into the form."""
        entry = self.history.selected_entry if self.history.list_view.has_focus else None
        shown = self.preview.in_view.current
        infotext = entry.infotext if entry is not None else shown.infotext if shown else None
        if infotext is None:
            self.notify("No image to take parameters from", severity="warning", timeout=3)
        else:
            self._reuse(ReuseParameters(infotext))

    # -- the history ----------------------------------------------------------------------------

    @on(ShowEntry)
    def _show_entry(self, message: ShowEntry) -> None:
        self.preview.show_entry(message.entry, message.png)
        if message.full:
            self.preview.full_view()

    @on(HistoryReady)
    def _history_ready(self, message: HistoryReady) -> None:
        if message.newest is not None and self.preview.in_view.current is None:
            self.preview.show_entry(message.newest)  # start-up: the newest image, not a blank
        # Objects that live as long as the app (widgets, styles, modules, the first history
        # rows) move out of the collector's way, once: each full collection would walk them.
        self.call_after_refresh(_freeze_long_lived)

    def action_focus_history(self) -> None:
        self.history.focus_list()

    @on(LeaveHistory)
    def action_focus_prompt(self) -> None:
        self.query_one("#prompt").focus()

    def action_reload_history(self) -> None:
        self.notify("Scanning the history's folders again…", timeout=2)
        self.history.reload()

    def action_reconnect(self) -> None:
        self.notify(f"Connecting to {self.context.url}…", timeout=2)
        self.bar.connect()

    def action_show_keys(self) -> None:
        self.app.push_screen(KeysDialog(self.context.keys))

    def action_complete_prompt(self) -> None:
        editor = self.focused if isinstance(self.focused, PromptEditor) else None
        (editor or self.query_one("#prompt", PromptEditor)).action_complete()

    def action_pick_styles(self) -> None:
        self.query_one("#styles", StylePreview).pick(self.context.keys, self._form_changed)

    def action_png_info(self) -> None:
        self.history.png_info()


def _freeze_long_lived() -> None:
    gc.collect()
    gc.freeze()
