"""Leaving without losing anything: jobs kept for the next start, the running job finished (or
interrupted) and saved before the app exits, a terminal that went away replaced by nothing.

The app owns one `Lifecycle`; its quit action, its SIGHUP and SIGTERM handlers and its start-up
all come here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from textual.app import App

from sdtui.api import ApiError
from sdtui.text import one_line
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.choice import ChoiceDialog

_SPARE_STDIN: list[int] = []  # the write end of the pipe that replaces a terminal gone away
INPUT_THREAD = "textual-input"  # the name Textual gives the thread that reads the terminal
INPUT_THREADS_TIMEOUT = 2.0  # seconds to wait for those threads to end before exiting


def detach_terminal() -> None:
    """Point stdin at a pipe that delivers nothing until `release_input` closes it (the input
    thread waits on it, instead of spinning on a hung-up tty's endless end of file) and stdout
    and stderr at /dev/null (frames still drawn go nowhere, instead of failing on a dead tty).
    Only the first call does anything."""
    if _SPARE_STDIN:
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    read_end, write_end = os.pipe()
    _SPARE_STDIN.append(write_end)
    os.dup2(read_end, 0)
    os.close(read_end)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def release_input() -> None:
    """End of file on the pipe `detach_terminal` put on stdin: an input thread that was blocked
    reading it (it had seen the dead tty readable just before the swap) returns."""
    while _SPARE_STDIN:
        with contextlib.suppress(OSError):
            os.close(_SPARE_STDIN.pop())


def _drop_output(app: App[Any]) -> None:
    """The terminal is gone: whatever the app still draws is dropped, and a SIGCONT (the kernel
    sends one with the SIGHUP of a hang-up) never starts the terminal's threads again.

    Textual's output thread dies on the first write that fails on the dead tty (EIO); the app
    would then block for good once its 30 queued writes are full. It is replaced by a writer
    that drops everything."""
    driver = app._driver
    if driver is None:
        return
    driver._auto_restart = False
    try:
        from textual.drivers._writer_thread import WriterThread
        from textual.drivers.linux_driver import LinuxDriver
    except ImportError:  # no termios: no POSIX terminal to lose
        return

    class NoTerminal(WriterThread):
        def write(self, text: str) -> None:
            pass

        def stop(self) -> None:
            pass

    if isinstance(driver, LinuxDriver) and driver._writer_thread is not None:
        driver._writer_thread = NoTerminal(driver._writer_thread._file)


class Lifecycle:
    def __init__(self, app: App[Any], context: AppContext, save_form: Callable[[], None]) -> None:
        self.app = app
        self.context = context
        self.save_form = save_form
        context.kept = context.session.load_pending()
        self.leaving = False
        self.interrupting = False
        self.detached = False
        self.exit_code = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def offer_kept(self) -> None:
        """Jobs that were waiting when sdtui last closed: run them, drop them, or ask again."""
        kept = self.context.kept
        if not kept:
            return
        first = one_line(kept[0].prompt, 60) or "(empty prompt)"
        question = (
            f"{len(kept)} job(s) were waiting when sdtui last closed, "
            f"first: “{first}”. Run them now?"
        )

        def answer(choice: str | None) -> None:
            context = self.context
            kept, context.kept = context.kept, []
            if choice == "run":
                for request in kept:
                    context.queue.submit(request)
            elif choice != "discard":
                context.kept = kept  # asked again next time
            context.persist_queue(now=True)

        choices = [
            ("run", "Run them", "primary"),
            ("discard", "Discard them", "error"),
            ("later", "Ask next time", "default"),
        ]
        self.app.push_screen(ChoiceDialog(question, choices), answer)

    def save(self) -> None:
        """The form and every job not done yet, for the next start."""
        self.save_form()
        self.context.persist_queue(now=True)

    def quit_question(self) -> tuple[str, list[tuple[str, str, str]]]:
        waiting = len(self.context.queue.pending)
        kept = f" The {waiting} queued job(s) are kept for the next start." if waiting else ""
        running = self.context.queue.running
        if len(running) > 1:
            where = ", ".join(dict.fromkeys(job.server or "?" for job in running))
            question = (
                f"{len(running)} jobs are running ({one_line(where, 80)}). "
                f"Their images are saved either way.{kept}"
            )
            interrupt, finish = "Interrupt them, save what they made, quit", "Finish them, save"
        else:
            question = f"A job is running on the server. Its images are saved either way.{kept}"
            interrupt, finish = "Interrupt, save what it made, quit", "Finish it, save"
        return question, [
            ("cancel", "Keep working", "primary"),
            ("interrupt", interrupt, "warning"),
            ("finish", f"{finish}, then quit", "default"),
        ]

    def hang_up(self) -> None:
        """The terminal went away (a dropped SSH session): carry on without it until the running
        job is saved, keep the form and the queue for the next start, then exit."""
        if not self.detached:
            self.detached = True
            detach_terminal()
            _drop_output(self.app)
        self.finish_and_exit(False, 129)

    def finish_and_exit(self, interrupt: bool, code: int) -> None:
        """Keep the queued jobs and the form, let (or make) the running job end, save its
        images, then exit with `code`.

        Asked again while leaving (SIGTERM after a hang-up or after "finish"), the last code
        wins, and an interrupt still reaches the running job: a job of many minutes must not
        outlast the grace time before a SIGKILL, which would lose its images."""
        queue = self.context.queue
        self.context.kept += [job.request for job in queue.cancel_pending()]
        self.save()
        self.exit_code = code
        if interrupt and not self.interrupting:
            self.interrupting = True
            self._start(self._interrupt())
        if self.leaving:
            return
        self.leaving = True
        if queue.current is not None:
            self.app.notify("Quitting once the running job's images are saved…", timeout=30)
        self._start(self._exit_when_idle())

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the app's messages (`call_later` would hold them all until it
        ends: no key, no second signal, no other callback while a job finishes)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _interrupt(self) -> None:
        with contextlib.suppress(ApiError):
            await self.context.queue.interrupt()

    async def _exit_when_idle(self) -> None:
        await self.context.queue.wait_idle()
        self.context.persist_queue(now=True)  # the running jobs are done: kept ones only
        if self.detached:
            await self._end_input_threads()
        self.app.exit(self.exit_code)

    async def _end_input_threads(self) -> None:
        """Without a terminal, end every input thread before the app stops its own.

        One may be blocked reading the pipe on stdin, and after a hang-up's SIGCONT there are
        two (Textual started a second one and only knows that one): the app would wait on the
        first for ever at exit, and the interpreter again (it is not a daemon thread). They end
        on end of file once told to stop."""
        exit_event = getattr(self.app._driver, "exit_event", None)
        if not isinstance(exit_event, threading.Event):
            return
        threads = [t for t in threading.enumerate() if t.name == INPUT_THREAD]
        exit_event.set()
        release_input()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INPUT_THREADS_TIMEOUT
        while any(t.is_alive() for t in threads) and loop.time() < deadline:
            await asyncio.sleep(0.02)
        exit_event.clear()  # as the driver expects it when it stops input itself
