"""The TUI's responsiveness: event-loop stalls during a big job, and time to the first paint.

Run: ``python bench/bench_app.py [--only stall|paint] [--diagnose]`` (``--help`` for the rest).
Prints a report with PASS/FAIL for each budget and exits with status 1 on FAIL:

(b) stall: while the TUI generates a batch of 4 1024x1024 images against the demo server with a
    live preview every step, the longest event-loop stall stays under 25 ms. A ticker task on the
    app's own loop sleeps 2 ms at a time and records how late each wake-up is; the app is driven
    headless through ``run_test`` and Pilot like a user: type a prompt, fill the form, ctrl+g,
    wait until the images are saved, in the history and on screen. For contrast, the same
    harness then runs the naive way of handling the very same server answer on the loop (JSON,
    base64, Pillow decode, re-encode and save), so the ratio is visible.
(c) first paint: ``python -m sdtui`` in a pseudo terminal paints its main screen (the footer's
    "Generate") under 0.7 s after the process starts (median of several runs; the max is printed
    beside it), with ``python -c "import sdtui.cli"`` timed in the same run as a baseline.

Measurement notes:

- Headless Textual skips turning screen updates into escape sequences; the real driver does that
  on the loop (only the write happens in a thread). The stall run therefore renders each update
  to a truecolor string on the loop, as the real driver would (``--no-emulate-output`` turns this
  off), and reports how many bytes a terminal would have received.
- The demo server runs in a child process, so its painting and PNG encoding do not compete with
  the app for this process's GIL (``--server-in-process`` runs it in a thread, as ``sdtui --demo``
  does). It needs about 0.25-0.45 s per 1024x1024 preview on a 2-core machine, so steps default to
  0.5 s: with shorter ones the server cannot make a preview every step.
- The app polls progress every 50 ms here (``--poll``), so it fetches every step's preview.
- Waits poll with plain sleeps, not ``Pilot.pause``, which sends a callback to every widget and
  forces a screen refresh each time: load the real app never has.
- When the longest stall is over budget (or with ``--diagnose``), one more job runs with a
  callback profiler (see ``_util.py``) and the report says which callbacks, handlers and widgets
  the time went to, and how much of it was cyclic garbage collection. ``--gc-freeze`` calls
  ``gc.freeze()`` before the job, to show what that would change.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import fcntl
import gc
import inspect
import io
import json
import multiprocessing
import os
import re
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path, PurePath
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _util import (
    CallbackProfiler,
    GcWatch,
    LoopTicker,
    StackSampler,
    Tick,
    WindowStats,
    explain_tick,
    verdict,
)

ROOT = Path(__file__).resolve().parent.parent
BUDGET_STALL_MS = 25.0
BUDGET_FIRST_PAINT_S = 0.7
SIZE = (140, 45)
PAINT_MARKER = "Generate"
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|.)")


# -- (b) the demo server, preferably in its own process -------------------------------------------


def _serve_demo_child(conn: Connection, step_delay: float) -> None:
    from sdtui.demo import DemoServer

    server = DemoServer("127.0.0.1", 0, step_delay=step_delay).start()
    try:
        conn.send(server.url)
        conn.recv()  # anything (or EOF) means stop
    except (EOFError, OSError):
        pass
    finally:
        server.stop()


@contextlib.contextmanager
def demo_server(step_delay: float, in_process: bool) -> Iterator[str]:
    if in_process:
        from sdtui.demo import DemoServer

        server = DemoServer("127.0.0.1", 0, step_delay=step_delay).start()
        try:
            yield server.url
        finally:
            server.stop()
        return
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve_demo_child, args=(child, step_delay), daemon=True)
    proc.start()
    child.close()
    try:
        try:
            if not parent.poll(30):
                raise RuntimeError("the demo server process did not start in 30 s")
            url = parent.recv()
        except EOFError:
            raise RuntimeError("the demo server process exited (its error is above)") from None
        if not isinstance(url, str):
            raise RuntimeError(f"the demo server process sent {url!r}")
        yield url
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        parent.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()


# -- (b) the app under test -----------------------------------------------------------------------


def make_bench_app(settings: Any, state_path: Path, poll_interval: float, emulate: bool) -> Any:
    """The real app plus counters; with `emulate`, each screen update is rendered to escape
    sequences on the loop, as the real terminal driver does and the headless one does not."""
    from rich.console import Console
    from textual import on
    from textual._compositor import CompositorUpdate

    from sdtui.ui.app import SdtuiApp
    from sdtui.ui.messages import JobMessage
    from sdtui.ui.widgets.image_view import ImageView

    app_css = SdtuiApp.CSS_PATH
    if isinstance(app_css, str | PurePath):
        app_css = str(Path(inspect.getfile(SdtuiApp)).parent / app_css)

    class BenchApp(SdtuiApp):
        # A relative CSS_PATH is resolved beside the module defining the class: point it home.
        CSS_PATH = app_css

        def __init__(self) -> None:
            super().__init__(settings, state_path=state_path, poll_interval=poll_interval)
            self.previews_received = 0
            self.preview_frames: set[tuple[int, int]] = set()
            self.previews_shown = 0
            self.updates = 0
            self.output_bytes = 0
            self.output_seconds = 0.0
            self.ticker = LoopTicker()
            self.profiler: CallbackProfiler | None = None
            self._terminal = Console(
                file=io.StringIO(),
                color_system="truecolor",
                force_terminal=True,
                width=SIZE[0],
                height=SIZE[1],
                legacy_windows=False,
            )

        def on_mount(self) -> None:
            self.ticker.start()  # on the app's own event loop

        @on(JobMessage)
        def _count_previews(self, message: JobMessage) -> None:
            update = message.event.progress
            if update is not None and update.current_image is not None:
                self.previews_received += 1
                data = update.current_image  # a cheap fingerprint: length and a middle slice
                middle = len(data) // 2
                self.preview_frames.add((len(data), zlib.crc32(data[middle : middle + 4096])))

        @on(ImageView.Rendered)
        def _count_shown(self, message: ImageView.Rendered) -> None:
            key = message.key
            if isinstance(key, tuple) and key and key[0] == "live":
                self.previews_shown += 1

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if emulate and isinstance(renderable, CompositorUpdate) and not self._batch_count:
                started = time.perf_counter()
                sequence = renderable.render_segments(self._terminal)
                elapsed = time.perf_counter() - started
                self.output_seconds += elapsed
                if self.profiler is not None:
                    self.profiler.add("(bench) escape codes, as a real driver makes them", elapsed)
                self.output_bytes += len(sequence.encode("utf-8"))
                self.updates += 1

    return BenchApp()


async def settle_workers(app: Any) -> None:
    """Wait for the app's workers, except the queue's dispatcher, which runs for the app's life
    (waiting for it would never return)."""
    finite = [w for w in app.workers if w.group != "queue"]
    if finite:  # an empty list would mean "all of them" to wait_for_complete
        await app.workers.wait_for_complete(finite)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll with plain sleeps: Pilot.pause would fan a callback out to every widget and force a
    screen refresh each time, load the real app never has, which the ticker would count."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class JobRun:
    window: WindowStats
    seconds: float
    previews_received: int
    previews_distinct: int
    previews_shown: int
    images: list[bytes]
    infotexts: list[str]
    saved: list[Path]
    updates: int
    output_bytes: int
    output_seconds: float
    start: float = 0.0
    end: float = 0.0
    profiler: CallbackProfiler | None = None
    objects: tuple[int, int] = (0, 0)  # objects the GC tracks, before and after the job
    cache_entries: int = 0  # in the app's RenderCache after the job
    ticks: list[Tick] = field(default_factory=list)


async def run_job(app: Any, pilot: Any, timeout: float, diagnose: bool = False) -> JobRun:
    """Press ctrl+g and wait until the batch is saved, in the history and on screen. With
    `diagnose`, a callback profiler watches the loop meanwhile."""
    before = (app.previews_received, app.previews_shown, app.updates, app.output_bytes)
    frames_before = set(app.preview_frames)
    output_seconds = app.output_seconds
    history_before = len(app.main.history.entries)
    objects_before = len(gc.get_objects())  # outside the measured window: it costs ms
    profiler: CallbackProfiler | None = None
    if diagnose:
        profiler = CallbackProfiler(threshold=0.010)
        app.profiler = profiler
        profiler.install()
    start = time.perf_counter()
    await pilot.press("ctrl+g")
    await wait_until(lambda: app.context.queue.current is not None, 10, "the job to start")
    job = app.context.queue.current
    await wait_until(lambda: not app.context.queue.busy, timeout, "the job to finish")
    await settle_workers(app)
    if job.error is not None:
        raise RuntimeError(f"the job failed: {job.error.message}")
    if job.outcome is None:
        raise RuntimeError("the job finished without an outcome")
    await wait_until(
        lambda: (
            bool(app.main.preview.in_view.images)
            and app.main.preview.view.shown_key == app.main.preview.in_view.images[0].key
        ),
        timeout,
        "the first image of the batch on screen",
    )
    count = len(job.outcome.images)
    await wait_until(
        lambda: len(app.main.history.entries) >= history_before + count,
        timeout,
        "the saved images in the history",
    )
    await settle_workers(app)
    await asyncio.sleep(0.1)  # let a last stall, if any, finish and be recorded
    end = time.perf_counter()
    if profiler is not None:
        profiler.uninstall()
        app.profiler = None
    outcome = job.outcome
    objects_after = len(gc.get_objects())
    return JobRun(
        window=app.ticker.window(start, end, BUDGET_STALL_MS),
        seconds=end - start,
        previews_received=app.previews_received - before[0],
        previews_distinct=len(app.preview_frames - frames_before),
        previews_shown=app.previews_shown - before[1],
        images=list(outcome.result.images),
        infotexts=[i.infotext for i in outcome.images],
        saved=[i.path for i in outcome.images if i.path is not None],
        updates=app.updates - before[2],
        output_bytes=app.output_bytes - before[3],
        output_seconds=app.output_seconds - output_seconds,
        profiler=profiler,
        objects=(objects_before, objects_after),
        cache_entries=len(app.context.cache),
        ticks=list(app.ticker.ticks),
        start=start,
        end=end,
    )


def naive_handling(body: bytes, out_dir: Path) -> None:
    """What a naive client does with a txt2img answer, all on the event loop: parse the JSON,
    decode each image's base64, decode the PNG with Pillow, and re-encode it to save it with its
    infotext."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    data = json.loads(body)
    info = json.loads(data["info"])
    for n, encoded in enumerate(data["images"]):
        raw = base64.b64decode(encoded)
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            meta = PngInfo()
            meta.add_text("parameters", info["infotexts"][n])
            image.save(out_dir / f"naive-{n}.png", pnginfo=meta)


async def measure_naive(app: Any, body: bytes, out_dir: Path) -> WindowStats:
    """Run `naive_handling` as one callback on the app's loop while the ticker watches."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def callback() -> None:
        try:
            naive_handling(body, out_dir)
        finally:
            done.set()

    await asyncio.sleep(0.2)
    start = time.perf_counter()
    loop.call_soon(callback)
    await done.wait()
    await asyncio.sleep(0.1)
    window: WindowStats = app.ticker.window(start, time.perf_counter(), BUDGET_STALL_MS)
    return window


@dataclass
class StallReport:
    ok: bool
    lines: list[str]


@dataclass
class Drive:
    idle: WindowStats
    run: JobRun
    naive: WindowStats
    diagnosis: JobRun | None


async def drive(app: Any, args: argparse.Namespace, work: Path) -> Drive:
    """Use the app like a person would: fill the form, ctrl+g, wait for the saved images."""
    from textual.widgets import Input

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.context.connected, 20, "the app to connect")
        await pilot.pause(0.3)
        idle_start = time.perf_counter()
        await asyncio.sleep(1.0)
        idle = app.ticker.window(idle_start, time.perf_counter(), BUDGET_STALL_MS)

        await pilot.click("#prompt")
        await pilot.press(*"a lighthouse at dawn")
        for field_id, value in (
            ("width", "1024"),
            ("height", "1024"),
            ("batch-size", "4"),
            ("steps", str(args.steps)),
        ):
            app.query_one(f"#{field_id}", Input).value = value
        await pilot.pause(0.1)
        await pilot.click("#prompt")
        if args.gc_freeze:
            gc.freeze()  # an experiment: what moving startup objects out of the GC's way gives

        if args.sample:
            with StackSampler() as sampler:
                run = await run_job(app, pilot, args.timeout)
            for tick in run.window.worst[:3]:
                print(f"  stall {tick.late * 1000:.1f} ms at +{tick.expected - run.start:.2f} s:")
                for line in sampler.explain(tick.expected, tick.actual):
                    print(f"    {line}")
        else:
            run = await run_job(app, pilot, args.timeout)
        if len(run.images) != 4 or len(run.saved) != 4:
            raise RuntimeError(
                f"expected 4 saved images, got {len(run.images)} ({len(run.saved)} saved)"
            )

        body = json.dumps(
            {
                "images": [base64.b64encode(i).decode("ascii") for i in run.images],
                "parameters": {},
                "info": json.dumps({"infotexts": run.infotexts}),
            }
        ).encode()
        naive = await measure_naive(app, body, work)

        diagnosis: JobRun | None = None
        if args.diagnose or run.window.max_ms > BUDGET_STALL_MS:
            diagnosis = await run_job(app, pilot, args.timeout, diagnose=True)
        await app.ticker.stop()
    return Drive(idle, run, naive, diagnosis)


async def bench_stall(args: argparse.Namespace, work: Path) -> StallReport:
    import httpx

    from sdtui.config import Settings

    lines: list[str] = []
    work.mkdir(parents=True, exist_ok=True)
    with demo_server(args.step_delay, args.server_in_process) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            answer = await http.post("/sdapi/v1/options", json={"show_progress_every_n_steps": 1})
            answer.raise_for_status()
        settings = Settings(url=url, out=work / "out")
        app = make_bench_app(settings, work / "form.json", args.poll, not args.no_emulate_output)
        with GcWatch() as gc_watch:
            driven = await drive(app, args, work)
    idle, run, naive, diagnosis = driven.idle, driven.run, driven.naive, driven.diagnosis

    job = run.window
    image_kb = sum(len(i) for i in run.images) / 4 / 1024
    lines.append(
        f"4 x 1024x1024, {args.steps} steps x {args.step_delay * 1000:.0f} ms, "
        f"progress poll every {args.poll * 1000:.0f} ms, live preview every step; "
        f"demo server {'in this process' if args.server_in_process else 'in a child process'}; "
        f"terminal output {'emulated (truecolor)' if not args.no_emulate_output else 'skipped'}"
        + ("; gc.freeze() after startup (experiment)" if args.gc_freeze else "")
    )
    lines.append(
        f"  idle app (1 s):    max {idle.max_ms:6.1f} ms   p99 {idle.p99_ms:5.1f} ms   "
        f"({idle.ticks} ticks: the measurement's noise floor)"
    )
    lines.append(
        f"  job ({run.seconds:4.1f} s):      max {job.max_ms:6.1f} ms   p99 {job.p99_ms:5.1f} ms   "
        f"p50 {job.p50_ms:4.1f} ms   {job.over_budget} ticks over {BUDGET_STALL_MS:.0f} ms "
        f"of {job.ticks}"
    )
    lines.append(
        f"  live previews: {run.previews_received} received ({run.previews_distinct} distinct "
        f"frames), {run.previews_shown} rendered and shown; final images {image_kb:.0f} KiB each"
    )
    if not args.no_emulate_output:
        seconds = max(run.seconds, 1e-9)
        lines.append(
            f"  terminal output: {run.updates} updates, {run.output_bytes / 1024:.0f} KiB "
            f"({run.output_bytes / 1024 / seconds:.0f} KiB/s), "
            f"{run.output_seconds * 1000:.0f} ms on the loop turning updates into escape codes"
        )
    lines.append(
        f"  cyclic GC during the job: objects it tracks {run.objects[0]} before, "
        f"{run.objects[1]} after (render cache: {run.cache_entries} entries); "
        f"thresholds {gc.get_threshold()}"
        + (f", {gc.get_freeze_count()} frozen" if gc.get_freeze_count() else "")
    )
    lines.extend(gc_watch.report(run.ticks, run.start, run.end, BUDGET_STALL_MS))
    lines.append("  worst wake-ups:")
    lines.extend(f"    {explain_tick(t, gc_watch.pauses)}" for t in job.worst)
    ratio = naive.max_ms / job.max_ms if job.max_ms > 0 else float("inf")
    lines.append(
        f"  naive baseline (same 4 images, JSON + base64 + decode + re-encode on the loop): "
        f"max {naive.max_ms:.0f} ms  ({ratio:.0f}x the app's worst stall)"
    )
    ok = job.max_ms < BUDGET_STALL_MS
    lines.append(
        f"  {verdict(ok)}: longest stall {job.max_ms:.1f} ms (budget < {BUDGET_STALL_MS:.0f} ms)"
    )
    if diagnosis is not None:
        lines.append(
            f"  where the time goes: a second job, run with a callback profiler (its max stall "
            f"{diagnosis.window.max_ms:.1f} ms, p99 {diagnosis.window.p99_ms:.1f} ms)"
        )
        if diagnosis.profiler is not None:
            lines.extend(
                diagnosis.profiler.report(
                    gc_watch.pauses, BUDGET_STALL_MS, diagnosis.start, diagnosis.end
                )
            )
    return StallReport(ok, lines)


# -- (c) time to the first painted screen ---------------------------------------------------------


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def child_env(work: Path) -> dict[str, str]:
    """A clean environment: no user config or SDTUI_*/TEXTUAL* settings, a truecolor terminal,
    state and output in temp folders, and bytecode caching on (as for an installed package)."""
    skip = ("SDTUI_", "TEXTUAL", "PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(
        TERM="xterm-256color",
        COLORTERM="truecolor",
        SDTUI_STATE_DIR=str(work / "state"),
        SDTUI_OUT=str(work / "out"),
        SDTUI_CONFIG=str(work / "no-config.toml"),
    )
    return env


def _drain(fd: int, timeout: float) -> bytes | None:
    """Bytes from the pty master, b"" when nothing came in `timeout`, None at EOF."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return b""
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child closed its side
        return None
    return data or None


def _stop_child(proc: subprocess.Popen[bytes], master: int) -> str:
    """Quit like a user (ctrl+q), then SIGTERM, then SIGKILL; keep reading so it never blocks."""
    with contextlib.suppress(OSError):
        os.write(master, b"\x11")
    for how, action in (
        ("ctrl+q", None),
        ("SIGTERM", signal.SIGTERM),
        ("SIGKILL", signal.SIGKILL),
    ):
        if action is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, action)
        deadline = time.perf_counter() + 3
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                return how
            if _drain(master, 0.02) is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=max(0.0, deadline - time.perf_counter()))
        if proc.poll() is not None:
            return how
    proc.wait()
    return "SIGKILL"


def first_paint_once(url: str, env: dict[str, str], timeout: float) -> tuple[float, str]:
    """Seconds from starting `python -m sdtui` until the main screen's footer is on the pty."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    proc: subprocess.Popen[bytes] | None = None
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sdtui", "--url", url],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        slave = -1
        received = b""
        while True:
            elapsed = time.perf_counter() - started
            if elapsed > timeout:
                raise TimeoutError(f"no '{PAINT_MARKER}' on the terminal after {timeout:g} s")
            data = _drain(master, 0.05)
            if data is None:
                text = ANSI.sub("", received.decode("utf-8", "replace"))
                raise RuntimeError(f"sdtui exited before painting: {text[-400:]!r}")
            if not data:
                continue
            received += data
            if PAINT_MARKER in ANSI.sub("", received.decode("utf-8", "replace")):
                painted = time.perf_counter() - started
                break
        return painted, _stop_child(proc, master)
    finally:
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if slave >= 0:
            os.close(slave)
        os.close(master)


def time_command(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        timeout=60,
    )
    return time.perf_counter() - started


def bench_first_paint(args: argparse.Namespace, work: Path) -> tuple[bool, list[str]]:
    env = child_env(work)
    url = f"http://127.0.0.1:{closed_port()}"
    # One untimed run of each first, so bytecode caches exist and the disk cache is warm.
    first_paint_once(url, env, args.timeout)
    time_command("import sdtui.cli", env)
    paints: list[float] = []
    quits: Counter[str] = Counter()
    codes = {
        "python -c pass": "pass",
        "import sdtui.cli": "import sdtui.cli",
        "import sdtui.ui.app": "import sdtui.ui.app",
    }
    costs: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(args.paint_runs):  # interleaved, so machine drift hits all alike
        painted, how = first_paint_once(url, env, args.timeout)
        paints.append(painted)
        quits[how] += 1
        for name, code in codes.items():
            costs[name].append(time_command(code, env))
    median = statistics.median(paints)
    lines = [
        f"python -m sdtui --url {url} (nothing listens there) in a {SIZE[0]}x{SIZE[1]} pty, "
        f"{args.paint_runs} runs, until '{PAINT_MARKER}' is painted",
        f"  first paint:          median {median * 1000:4.0f} ms   max {max(paints) * 1000:4.0f} ms"
        f"   min {min(paints) * 1000:4.0f} ms",
    ]
    for name, values in costs.items():
        lines.append(
            f"  {name + ':':21s} median {statistics.median(values) * 1000:4.0f} ms   "
            f"max {max(values) * 1000:4.0f} ms   (baseline)"
        )
    lines.append(
        "  children stopped by: " + ", ".join(f"{how} x{n}" for how, n in quits.most_common())
    )
    ok = median < BUDGET_FIRST_PAINT_S
    lines.append(
        f"  {verdict(ok)}: median first paint {median * 1000:.0f} ms "
        f"(budget < {BUDGET_FIRST_PAINT_S * 1000:.0f} ms)"
    )
    return ok, lines


# -- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="sampling steps (default 20)")
    parser.add_argument("--step-delay", type=float, default=0.5, help="demo seconds per step")
    parser.add_argument("--poll", type=float, default=0.05, help="app progress poll interval")
    parser.add_argument("--paint-runs", type=int, default=7, help="timed first-paint runs")
    parser.add_argument("--timeout", type=float, default=60.0, help="per wait, seconds")
    parser.add_argument(
        "--diagnose", action="store_true", help="run the profiled job even when within budget"
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="experiment: gc.freeze() once the app is up, before the job",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="diagnose: sample every thread's stack during the job and explain the worst stalls",
    )
    parser.add_argument("--server-in-process", action="store_true")
    parser.add_argument("--no-emulate-output", action="store_true")
    parser.add_argument("--only", choices=("stall", "paint"), help="run one benchmark")
    args = parser.parse_args()

    results: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="sdtui-bench-app-") as tmp:
        work = Path(tmp)
        if args.only in (None, "stall"):
            print("(b) event-loop stalls while generating", flush=True)
            try:
                stall = asyncio.run(bench_stall(args, work / "stall"))
            except (OSError, RuntimeError, TimeoutError) as exc:
                print(f"  FAIL: the benchmark could not run: {exc}")
                results.append(False)
            else:
                print("\n".join(stall.lines), flush=True)
                results.append(stall.ok)
        if args.only in (None, "paint"):
            print("(c) time to the first painted screen", flush=True)
            try:
                ok, lines = bench_first_paint(args, work / "paint")
            except (OSError, RuntimeError, TimeoutError, subprocess.SubprocessError) as exc:
                print(f"  FAIL: the benchmark could not run: {exc}")
                results.append(False)
            else:
                print("\n".join(lines), flush=True)
                results.append(ok)
    print("overall:", verdict(all(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
