"""The TUI under SIGHUP, SIGTERM and its quit dialog: the running job's image, the form and the
queued jobs all survive.

The signal tests run the real TUI in a real terminal (a tmux pane on a private tmux server) against
a slow demo server. Killing the tmux session is what a dropped SSH session does: the pty goes away
and the app gets SIGHUP (and SIGCONT). Each wait is bounded; processes and tmux servers are always
cleaned up.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Button

from sdtui.demo import DemoServer
from sdtui.engine import JobEvent, JobState
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.ui.dialogs.choice import ChoiceDialog
from tests.tui import SIZE, make_app, pngs, set_form, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and terminals")

PROMPT = "a lighthouse"
QUEUED = "a lighthouse at night"  # the second job's prompt, queued behind the first
DRAFT = "a lighthouse at night (draft)"  # typed last and never sent: the form must keep it
CPU_LIMIT = 0.5  # seconds of CPU per second while finishing without a terminal (a spin is ~1)

# Runs `sdtui` as `python -m sdtui` does, and also writes down what a test cannot see once the
# terminal is gone: the pid, any exception in a thread, and the status main() returned.
WRAPPER = """\
import os, sys, threading, traceback
log = open(os.environ["SDTUI_TEST_LOG"], "a", buffering=1)
def hook(args):
    name = args.thread.name if args.thread is not None else "?"
    log.write(f"thread {name}:\\n" + "".join(traceback.format_exception(args.exc_value)))
threading.excepthook = hook
log.write(f"pid {os.getpid()}\\n")
from sdtui.cli import main
try:
    status = main(sys.argv[1:])
except BaseException:
    log.write("main raised:\\n" + traceback.format_exc())
    raise
log.write(f"exit {status}\\n")
raise SystemExit(status)
"""


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _progress(url: str) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{url}/sdapi/v1/progress", timeout=5).json()["state"]
    return state


def _alive(pid: int) -> bool:
    """Running (a zombie has ended: its parent just has not collected it yet)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not re.search(r"^State:\s+Z", status, re.MULTILINE)


def _cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class Terminal:
    """A private tmux server; each `start` runs the TUI in a new 100×30 session on it. A session
    that only sleeps keeps the server up after a test kills the TUI's: the server reaps the app."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.socket = f"sdtui-test-{os.getpid()}-{secrets.token_hex(4)}"
        self.url, self.tmp = url, tmp_path
        self.state, self.out = tmp_path / "state", tmp_path / "out"
        self.wrapper = tmp_path / "run_sdtui.py"
        self.runs = 0
        self.pids: list[int] = []

    def open(self) -> None:
        self.wrapper.write_text(WRAPPER)
        self.tmux("new-session", "-d", "-s", "keep", "sleep 120")
        self.tmux("set-option", "-g", "remain-on-exit", "on")  # what a TUI printed as it ended

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        if check and done.returncode:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, session: str, *, status: Path | None = None) -> Path:
        """The TUI in `session`; returns its log (pid, thread exceptions, what main() returned).

        The app is the session's leader, as a TUI that ssh or tmux starts is, unless `status` is
        given: then a shell runs it and writes its exit status there."""
        self.runs += 1
        log = self.tmp / f"run{self.runs}.log"
        env = {
            "SDTUI_STATE_DIR": str(self.state),
            "SDTUI_CONFIG": str(self.tmp / "no-config.toml"),
            "SDTUI_TEST_LOG": str(log),
            "COLORTERM": "truecolor",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        command = shlex.join([
            "env", "-u", "SDTUI_URL", "-u", "SDTUI_USER", "-u", "SDTUI_PASSWORD",
            "-u", "SDTUI_OUT", *(f"{k}={v}" for k, v in env.items()),
            sys.executable, str(self.wrapper), "--url", self.url, "--out", str(self.out),
        ])  # fmt: skip
        if status is None:
            command = f"exec {command}"
        else:
            command = f"{command}; echo $? > {shlex.quote(str(status))}"
        self.tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
        return log

    def screen(self, session: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", session, check=False)

    def wait_screen(self, session: str, text: str, timeout: float = 10.0) -> None:
        try:
            _until(lambda: text in self.screen(session), timeout, f"“{text}” on screen")
        except AssertionError:
            raise AssertionError(f"no “{text}” on screen:\n{self.screen(session)}") from None

    def keys(self, session: str, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", session, *(["-l"] if literal else []), *keys)

    def pid(self, log: Path) -> int:
        """The pid of the app that writes `log` (it is killed, if still running, at the end)."""
        _until(lambda: log.is_file() and "pid " in log.read_text(), 10, "the app's pid")
        pid = int(re.findall(r"^pid (\d+)$", log.read_text(), re.MULTILINE)[0])
        self.pids.append(pid)
        return pid

    def close(self) -> None:
        """No TUI left running by a failed test outlives it, nor the tmux server."""
        try:
            for pid in self.pids:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            _until(lambda: not any(_alive(pid) for pid in self.pids), 5, "the apps to end")
        finally:
            self.tmux("kill-server", check=False)


@pytest.fixture
def term(slow_demo: DemoServer, tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.skip("needs tmux")
    terminal = Terminal(tmp_path, slow_demo.url)
    try:
        terminal.open()
        yield terminal
    finally:
        terminal.close()


def _problems(log: Path) -> list[str]:
    """Exceptions the app logged, less the one expected after a hang-up: Textual's output thread
    dies on its first write to the dead tty (EIO) before the app replaces it."""
    text = log.read_text()
    blocks = re.split(r"^(?=thread |main raised:)", text, flags=re.MULTILINE)[1:]
    return [
        b for b in blocks
        if not (b.startswith("thread textual-output:") and "OSError: [Errno 5]" in b)
    ]  # fmt: skip


def _exit_status(log: Path) -> int | None:
    found = re.findall(r"^exit (\d+)$", log.read_text(), re.MULTILINE)
    return int(found[-1]) if found else None


def _start_two_jobs(term: Terminal, session: str, steps: int) -> None:
    """Type a prompt and send it, queue a second job behind it, then leave an edit unsent."""
    term.state.mkdir(parents=True, exist_ok=True)
    form = {"steps": str(steps), "width": "64", "height": "64"}
    (term.state / "form.json").write_text(json.dumps(form))  # the app restores it at start
    term.wait_screen(session, "● connected")
    term.keys(session, PROMPT, literal=True)
    term.keys(session, "C-g")
    _until(lambda: _progress(term.url)["job_count"] > 0, 10, "the demo to start the job")
    term.keys(session, QUEUED.removeprefix(PROMPT), literal=True)
    term.keys(session, "C-g")
    term.keys(session, DRAFT.removeprefix(QUEUED), literal=True)
    term.wait_screen(session, DRAFT)  # typed after ctrl+g: that one has been handled too
    assert _progress(term.url)["job_count"] > 0  # still running


def _check_kept(term: Terminal, steps: int) -> None:
    """The image saved with its parameters; the unsent form and the queued job kept."""
    [saved] = pngs(term.tmp)
    text = read_parameters(saved.read_bytes())
    assert text is not None
    info = parse_infotext(text)
    assert (info.prompt, info.steps) == (PROMPT, steps)
    form = json.loads((term.state / "form.json").read_text())
    assert form["prompt"] == DRAFT
    queue = json.loads((term.state / "queue.json").read_text())
    assert [(job["prompt"], job["steps"]) for job in queue] == [(QUEUED, steps)]


def test_a_dropped_terminal_finishes_and_saves_the_job_then_keeps_the_rest(
    slow_demo: DemoServer, term: Terminal
) -> None:
    """SIGHUP (tmux kill-session, as a dropped SSH session): the job runs to its end without a
    terminal and is saved, the form and the queue are kept, and the app exits 129 on its own;
    the next start offers the kept job."""
    steps = 80  # 4 s of sampling: still running well after the session is killed
    log = term.start("hup")
    pid = term.pid(log)
    _start_two_jobs(term, "hup", steps)
    step_at_hangup = _progress(slow_demo.url)["sampling_step"]
    killed = time.monotonic()
    term.tmux("kill-session", "-t", "hup")
    # While it finishes the job without a terminal: no thread spinning on the dead tty.
    before, started = _cpu_seconds(pid), time.monotonic()
    time.sleep(1.0)
    after, spent = _cpu_seconds(pid), time.monotonic() - started
    _until(lambda: not _alive(pid), 15, "the app to exit after SIGHUP")
    exited = time.monotonic() - killed
    print(f"SIGHUP at step {step_at_hangup}/{steps}: exited after {exited:.2f} s")
    if before is not None and after is not None:  # else it had exited already
        print(f"CPU while finishing without a terminal: {(after - before) / spent:.0%}")
        assert (after - before) / spent < CPU_LIMIT
    assert _exit_status(log) == 129, log.read_text()
    assert not _problems(log), log.read_text()
    state = _progress(slow_demo.url)
    assert state["job_count"] == 0 and not state["interrupted"]  # run to its end
    _check_kept(term, steps)

    # The next start offers the kept job, with the form as it was left.
    log = term.start("again")
    term.pid(log)
    term.wait_screen("again", "1 job(s) were waiting")
    term.keys("again", "Escape")  # ask next time
    term.wait_screen("again", DRAFT)
    term.keys("again", "C-q")
    _until(lambda: _exit_status(log) is not None, 10, "the app to quit")
    assert _exit_status(log) == 0 and not _problems(log), log.read_text()
    assert json.loads((term.state / "queue.json").read_text())[0]["prompt"] == QUEUED


def test_sigterm_interrupts_the_job_saves_it_and_keeps_the_rest(
    slow_demo: DemoServer, term: Terminal
) -> None:
    """SIGTERM (`kill`, `timeout`): the job is interrupted and what it made is saved, the form and
    the queue are kept, the terminal is given back, and the status is 143."""
    steps = 150  # 7.5 s of sampling unless interrupted
    status = term.tmp / "status"
    log = term.start("term", status=status)
    pid = term.pid(log)
    _start_two_jobs(term, "term", steps)
    signalled = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    _until(lambda: not _alive(pid), 10, "the app to exit after SIGTERM")
    exited = time.monotonic() - signalled
    print(f"SIGTERM: exited after {exited:.2f} s")
    assert exited < 5  # interrupted: the rest of the job takes longer than that
    _until(lambda: status.is_file() and status.read_text().strip() != "", 5, "its status")
    assert status.read_text().strip() == "143"  # the process's status, not just main()'s
    assert _exit_status(log) == 143 and not _problems(log), log.read_text()
    assert "Traceback" not in term.screen("term")
    state = _progress(slow_demo.url)
    assert state["job_count"] == 0 and state["interrupted"]
    _check_kept(term, steps)


def test_sigterm_after_a_hang_up_still_interrupts(slow_demo: DemoServer, term: Terminal) -> None:
    """Finishing a long job after a hang-up, then SIGTERM (a shutdown, whose SIGKILL follows):
    the job is interrupted and saved now, rather than lost to the SIGKILL later."""
    steps = 150  # 7.5 s of sampling unless interrupted
    log = term.start("hup-term")
    pid = term.pid(log)
    _start_two_jobs(term, "hup-term", steps)
    term.tmux("kill-session", "-t", "hup-term")
    time.sleep(0.5)  # carrying on without a terminal by now
    assert _alive(pid) and _progress(slow_demo.url)["job_count"] > 0
    signalled = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    _until(lambda: not _alive(pid), 10, "the app to exit after SIGTERM")
    exited = time.monotonic() - signalled
    print(f"SIGTERM after SIGHUP: exited after {exited:.2f} s")
    assert exited < 5
    assert _exit_status(log) == 143 and not _problems(log), log.read_text()
    state = _progress(slow_demo.url)
    assert state["job_count"] == 0 and state["interrupted"]
    _check_kept(term, steps)


@pytest.mark.parametrize("choices", [["interrupt"], ["finish"], ["finish", "interrupt"]])
async def test_the_quit_dialog_saves_the_job_and_keeps_the_queue(
    slow_demo: DemoServer, tmp_path: Path, choices: list[str]
) -> None:
    """ctrl+q mid-job: "interrupt" saves what the job made so far, "finish" waits for its end and
    saves the whole image; either way the queued job is kept and the status is 0. While it
    finishes, the app still answers keys: ctrl+q again can still interrupt."""
    interrupted = "interrupt" in choices
    steps = 150 if interrupted else 80  # 7.5 s, 4 s
    app = make_app(slow_demo.url, tmp_path)
    finished: list[JobEvent] = []
    queue = app.context.queue
    report = queue.listener

    def listen(event: JobEvent) -> None:
        if event.kind == "finished":
            finished.append(event)
        report(event)

    queue.listener = listen
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        set_form(app, steps=str(steps), width="64", height="64")
        await pilot.press(*PROMPT, "ctrl+g")
        await wait_for(pilot, lambda: _progress(slow_demo.url)["sampling_step"] >= 3)
        await pilot.press(*" two", "ctrl+g")
        await wait_for(pilot, lambda: len(queue.pending) == 1)
        for choice in choices:
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog), timeout=3)
            if choice == choices[0]:
                question = str(app.screen.query_one("#question").render())
                assert "The 1 queued job(s) are kept" in question
            current = queue.current
            assert current is not None and current.request.prompt == PROMPT
            app.screen.query_one(f"#choice-{choice}", Button).press()  # a click waits for idle
            await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceDialog), timeout=3)
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert app.return_value == 0
    [event] = finished
    expected = JobState.INTERRUPTED if interrupted else JobState.DONE
    assert event.job.state is expected
    assert event.job.outcome is not None
    [saved] = pngs(tmp_path)
    assert [image.path for image in event.job.outcome.images] == [saved]
    text = read_parameters(saved.read_bytes())
    assert text is not None and parse_infotext(text).prompt == PROMPT
    kept = json.loads((tmp_path / "queue.json").read_text())
    assert [job["prompt"] for job in kept] == [f"{PROMPT} two"]
    assert json.loads((tmp_path / "state.json").read_text())["prompt"] == f"{PROMPT} two"
    state = _progress(slow_demo.url)
    assert state["job_count"] == 0 and state["interrupted"] is interrupted
