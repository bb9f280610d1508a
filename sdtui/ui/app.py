"""The sdtui application: services, theme, keys, the worker funnel and quitting.

Everything on screen lives in `MainScreen` and its widgets; the app makes the shared services
(`AppContext`), checks the keymap and the theme, reports every worker failure in one place, and
makes sure that quitting, a dropped terminal (SIGHUP) or SIGTERM never loses an image, a queued
job or the form.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from sdtui.api import ApiError
from sdtui.config import Settings, state_dir
from sdtui.render import truecolor_hint
from sdtui.store.session import Session
from sdtui.text import one_line, strip_control
from sdtui.ui.actions import KeyMap, bindings
from sdtui.ui.commands import ActionCommands
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.choice import ChoiceDialog
from sdtui.ui.lifecycle import Lifecycle
from sdtui.ui.screens.main import MainScreen

FULL_GC_EVERY = 100  # young collections between automatic full ones (Python's default: 10)
GIL_SWITCH_SECONDS = 0.001  # how long a thread may hold the GIL when another waits (default 5 ms)


class SdtuiApp(App[int]):
    TITLE = "sdtui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide"), (170, "-huge")]
    COMMANDS = App.COMMANDS | {ActionCommands}
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")

    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool = False,
        state_path: Path | None = None,
        poll_interval: float | None = None,
    ) -> None:
        super().__init__()
        session = Session(state_path if state_path is not None else state_dir() / "form.json")
        interval = poll_interval if poll_interval is not None else settings.poll_interval
        keys = KeyMap(settings.keys)
        self.context = AppContext(settings, session, demo, interval, keys)
        self._main: MainScreen | None = None
        self.lifecycle = Lifecycle(self, self.context, lambda: self.main.save_form())
        self._queue_task: asyncio.Task[None] | None = None

    @property
    def main(self) -> MainScreen:
        """The main screen (made once; it outlives its widgets, so its form state survives)."""
        if self._main is None:
            self._main = MainScreen(self.context)
        return self._main

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:  # fmt: skip
        """Always plain text (widgets' `notify` asks for markup by default): messages carry server
        or file text (errors, model names, paths), never to be read as markup or reach the
        terminal raw."""
        message, title = strip_control(message), strip_control(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def get_default_screen(self) -> Screen[Any]:
        return self.main

    def on_mount(self) -> None:
        settings, keys, session = self.context.settings, self.context.keys, self.context.session
        # The theme last picked in the palette, unless the config or --theme changed since.
        picked = session.load_ui()
        theme = picked.get("theme") if picked.get("over") == settings.theme else settings.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            names = ", ".join(sorted(self.available_themes))
            self.notify(f"Unknown theme '{theme}'; themes: {names}", severity="warning", timeout=10)
        keep = lambda name: session.save_ui(theme=name, over=settings.theme)  # noqa: E731
        self.watch(self, "theme", keep, init=False)
        self.set_keymap(dict(keys.overrides))
        for problem in keys.problems:
            self.notify(problem, title="Keys", severity="warning", timeout=12)
        # The dispatcher lives as long as the app: a plain task, not a worker, so that waiting
        # for workers to complete (tests, benchmarks) is not waiting for the app to end.
        self._queue_task = asyncio.create_task(self.context.queue.run_forever(), name="job-queue")
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self.lifecycle.hang_up)
            loop.add_signal_handler(signal.SIGTERM, self.lifecycle.finish_and_exit, True, 143)
        self.lifecycle.offer_kept()

    def on_ready(self) -> None:
        """The first frame is on screen: now start the work that is not needed to paint it."""
        # A full collection walks every object that survived the young ones: with the default
        # thresholds one lands mid-job every few seconds and stalls the loop for tens of ms.
        # Full collections run while idle instead (the main screen asks for them).
        gc.set_threshold(700, 10, FULL_GC_EVERY)
        gc.enable()  # the CLI turns collections off while the app is imported and composed
        # Worker threads (decoding, rendering cells, saving) take turns with the event loop's
        # thread for the GIL; the default 5 ms turn shows up as input and paint latency.
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        self.main.start()
        if hint := truecolor_hint(self.console.color_system, os.environ):
            self.notify(hint, title="Colours", timeout=12)

    async def on_unmount(self) -> None:
        self.lifecycle.save()
        queue = self.context.queue
        queue.close()
        if self._queue_task is not None:
            self._queue_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._queue_task
        await self.context.aclose()

    # -- quitting: nothing lost -----------------------------------------------------------------

    async def action_quit(self) -> None:
        if self.context.queue.current is None:
            self.exit(0)
            return

        def answer(choice: str | None) -> None:
            if choice in ("interrupt", "finish"):
                self.lifecycle.finish_and_exit(choice == "interrupt", 0)
            self.context.queue.hold(False)

        self.context.queue.hold()  # the queued jobs wait for the answer, not the next slot
        await self.push_screen(ChoiceDialog(*self.lifecycle.quit_question()), answer)

    def action_help_quit(self) -> None:
        """Textual's copy-or-quit key outside an editor: say how to quit (plain text, the key
        from the keymap)."""
        self.notify(f"Press {self.context.keys.name('quit')} to quit", title="Do you want to quit?")

    # -- worker failures in one place -----------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker failure ends here: one notification naming what failed, never a crash
        (workers are made with exit_on_error=False)."""
        if not self.is_running or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        if error is not None:
            what = event.worker.description or event.worker.name or "a background task"
            message = error.message if isinstance(error, ApiError) else one_line(repr(error))
            self.notify(message, title=f"Failed while {what}", severity="error", timeout=10)

    # -- the command palette and screenshots ----------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Quit"):  # ours are in the actions' list
                yield command

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:  # fmt: skip
        """Save an SVG of the screen into the output folder's screenshots/ and say where."""
        folder = Path(path) if path else self.context.settings.output_dir / "screenshots"
        name = filename or f"sdtui-{datetime.now():%Y%m%d-%H%M%S}.svg"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(self.export_screenshot(), encoding="utf-8")
        except OSError as exc:
            self.notify(
                f"Cannot save the screenshot in {folder}: {exc.strerror or exc}", severity="error"
            )
            return None
        self.notify(f"Screenshot saved: {folder / name}", timeout=6)
        return None


def run_app(settings: Settings, *, demo: bool = False) -> int:
    app = SdtuiApp(settings, demo=demo)
    result = app.run()
    return result if isinstance(result, int) else 0
