"""Leaving without losing anything: jobs kept for the next start, the running job finished (or
interrupted) and saved before the app exits, a terminal that went away replaced by nothing.

The app owns one `Lifecycle`; its quit action, its SIGHUP and SIGTERM handlers and its start-up
all come here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from textual.app import App

from sdtui.api import ApiError, GenerationRequest
from sdtui.text import one_line
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.choice import ChoiceDialog

_SPARE_STDIN: list[int] = []  # the write end of a pipe that replaces a terminal gone away


def detach_terminal() -> None:
    """Point stdin at a pipe that never delivers (the input thread just waits) and stdout and
    stderr at /dev/null (frames still drawn go nowhere, instead of failing on a dead tty)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    read_end, write_end = os.pipe()
    _SPARE_STDIN.append(write_end)
    os.dup2(read_end, 0)
    for fd in (1, 2):
        os.dup2(devnull, fd)


class Lifecycle:
    def __init__(self, app: App[Any], context: AppContext, save_form: Callable[[], None]) -> None:
        self.app = app
        self.context = context
        self.save_form = save_form
        self.kept: list[GenerationRequest] = context.session.load_pending()
        self.leaving = False

    def offer_kept(self) -> None:
        """Jobs that were waiting when sdtui last closed: run them, drop them, or ask again."""
        if not self.kept:
            return
        first = one_line(self.kept[0].prompt, 60) or "(empty prompt)"
        question = (
            f"{len(self.kept)} job(s) were waiting when sdtui last closed, "
            f"first: “{first}”. Run them now?"
        )

        def answer(choice: str | None) -> None:
            kept, self.kept = self.kept, []
            if choice == "run":
                for request in kept:
                    self.context.queue.submit(request)
            elif choice != "discard":
                self.kept = kept  # asked again next time
            self.context.session.save_pending(self.kept)

        choices = [
            ("run", "Run them", "primary"),
            ("discard", "Discard them", "error"),
            ("later", "Ask next time", "default"),
        ]
        self.app.push_screen(ChoiceDialog(question, choices), answer)

    def save(self) -> None:
        """The form and every job not run yet, for the next start."""
        self.save_form()
        pending = [job.request for job in self.context.queue.pending]
        self.context.session.save_pending(self.kept + pending)

    def quit_question(self) -> tuple[str, list[tuple[str, str, str]]]:
        waiting = len(self.context.queue.pending)
        kept = f" The {waiting} queued job(s) are kept for the next start." if waiting else ""
        question = f"A job is running on the server. Its images are saved either way.{kept}"
        return question, [
            ("cancel", "Keep working", "primary"),
            ("interrupt", "Interrupt, save what it made, quit", "warning"),
            ("finish", "Finish it, save, then quit", "default"),
        ]

    def hang_up(self) -> None:
        """The terminal went away (a dropped SSH session): carry on without it until the running
        job is saved, keep the form and the queue for the next start, then exit."""
        detach_terminal()
        self.finish_and_exit(False, 129)

    def finish_and_exit(self, interrupt: bool, code: int) -> None:
        """Keep the queued jobs and the form, let (or make) the running job end, save its
        images, then exit with `code`."""
        queue = self.context.queue
        self.kept += [job.request for job in queue.cancel_pending()]
        self.save()
        if self.leaving:
            return
        self.leaving = True
        if queue.current is not None:
            self.app.notify("Quitting once the running job's images are saved…", timeout=30)
        self.app.call_later(self._exit_when_idle, interrupt, code)

    async def _exit_when_idle(self, interrupt: bool, code: int) -> None:
        queue = self.context.queue
        if interrupt:
            with contextlib.suppress(ApiError):
                await queue.interrupt()
        await queue.wait_idle()
        self.app.exit(code)
