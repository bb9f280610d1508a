"""Helpers for the bench scripts: statistics, and tools that find out what stalls an event loop.

- `LoopTicker` measures: a task that sleeps 2 ms at a time and records how late each wake-up is,
  with the CPU time the loop thread and the whole process used meanwhile (late but idle means
  the loop thread waited for the GIL or for a core; late and busy means it computed).
- `GcWatch` records every cyclic garbage collection and the thread that ran it. A collection
  holds the GIL, so a long one stalls the loop whichever thread triggered it.
- `CallbackProfiler` attributes: it times each callback the loop runs and, inside it, each
  Textual message handler, timer callback, widget ``render_lines`` and strip filter, so a stall
  can be pinned on a handler or a widget. It patches asyncio and Textual internals while
  installed, so it runs only in diagnostic passes, never in the measured one.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import contextlib
import gc
import inspect
import itertools
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICK_S = 0.002


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: the value reported was really observed)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# -- measuring: the ticker ------------------------------------------------------------------------


@dataclass
class Tick:
    expected: float
    actual: float
    cpu: float = 0.0  # CPU time the loop thread used between going to sleep and waking
    process_cpu: float = 0.0  # ... and the whole process, all threads

    @property
    def late(self) -> float:
        return self.actual - self.expected


@dataclass
class WindowStats:
    ticks: int
    max_ms: float
    p99_ms: float
    p50_ms: float
    over_budget: int
    worst: list[Tick]


class LoopTicker:
    """Sleeps `interval` on the loop it is started on and records each wake-up's lateness.

    A wake-up X ms late means the loop could run nothing else for about X ms: no key press, no
    repaint, no progress update.
    """

    def __init__(self, interval: float = TICK_S) -> None:
        self.interval = interval
        self.ticks: list[Tick] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="bench-ticker")

    async def _run(self) -> None:
        while True:
            cpu, process_cpu = time.thread_time(), time.process_time()
            expected = time.perf_counter() + self.interval
            await asyncio.sleep(self.interval)
            actual = time.perf_counter()
            self.ticks.append(
                Tick(
                    expected,
                    actual,
                    time.thread_time() - cpu,
                    time.process_time() - process_cpu,
                )
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def window(self, start: float, end: float, budget_ms: float) -> WindowStats:
        """Ticks due between `start` and `end` (a stall that began inside counts in full)."""
        ticks = [t for t in self.ticks if t.expected < end and t.actual > start]
        late_ms = [t.late * 1000 for t in ticks]
        return WindowStats(
            ticks=len(ticks),
            max_ms=max(late_ms, default=0.0),
            p99_ms=percentile(late_ms, 99),
            p50_ms=percentile(late_ms, 50),
            over_budget=sum(1 for ms in late_ms if ms > budget_ms),
            worst=sorted(ticks, key=lambda t: t.late, reverse=True)[:5],
        )


# -- attributing: garbage collections -------------------------------------------------------------


@dataclass(frozen=True)
class GcPause:
    start: float
    end: float
    generation: int
    thread: str

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


def overlap(pauses: list[GcPause], start: float, end: float) -> float:
    """Seconds of garbage collection inside [start, end]."""
    return sum(max(0.0, min(p.end, end) - max(p.start, start)) for p in pauses)


def explain_tick(tick: Tick, pauses: list[GcPause]) -> str:
    """One late wake-up: how late, the CPU the loop thread and the other threads used meanwhile,
    and the garbage collections inside it."""
    inside = [p for p in pauses if p.end > tick.expected and p.start < tick.actual and p.ms >= 1]
    gc_text = ", ".join(f"gen {p.generation} {p.ms:.0f} ms in '{p.thread}'" for p in inside)
    return (
        f"{tick.late * 1000:6.1f} ms late: loop thread CPU {tick.cpu * 1000:4.0f} ms, other "
        f"threads {(tick.process_cpu - tick.cpu) * 1000:4.0f} ms; GC: {gc_text or 'none'}"
    )


class GcWatch:
    """Records every cyclic garbage collection while installed (a context manager)."""

    def __init__(self) -> None:
        self.pauses: list[GcPause] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
        else:
            name = threading.current_thread().name
            self.pauses.append(GcPause(self._started, now, info["generation"], name))

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self)

    def report(self, ticks: list[Tick], start: float, end: float, budget_ms: float) -> list[str]:
        """Collections per generation in [start, end], and how much of the stalls over
        `budget_ms` they account for."""
        pauses = [p for p in self.pauses if start <= p.start <= end]
        lines = []
        for generation in (0, 1, 2):
            chosen = [p for p in pauses if p.generation == generation]
            if not chosen:
                continue
            worst = max(chosen, key=lambda p: p.ms)
            lines.append(
                f"    gen {generation}: {len(chosen):4d} collections, total "
                f"{sum(p.ms for p in chosen):6.1f} ms, max {worst.ms:6.1f} ms "
                f"(in thread '{worst.thread}')"
            )
        stalls = [t for t in ticks if t.late * 1000 > budget_ms and start <= t.expected <= end]
        if stalls:
            covered = [overlap(pauses, t.expected, t.actual) for t in stalls]
            lines.append(
                f"    {sum(c > 0 for c in covered)} of {len(stalls)} stalls over "
                f"{budget_ms:.0f} ms overlap a collection; collections fill "
                f"{sum(covered) / sum(t.late for t in stalls):.0%} of those stalls' time"
            )
        return lines


# -- attributing: which callback, handler and widget ----------------------------------------------


@dataclass
class SlowCallback:
    start: float
    seconds: float
    cpu: float  # of the loop thread: the rest it waited for the GIL or a core
    what: str  # the task (or plain callback) the loop ran
    parts: dict[str, float]  # seconds in each handler / widget / filter timed inside it


class CallbackProfiler:
    """Times every callback the event loop runs (asyncio's ``Handle._run``) and, inside each, the
    synchronous part of every Textual handler and timer callback (``textual._callback._invoke``),
    every widget's ``render_lines`` and every ``Strip.apply_filter``. Only callbacks of at least
    `threshold` seconds are kept. Install from the loop's thread; uninstall when done."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.slow: list[SlowCallback] = []
        self._parts: dict[str, float] | None = None
        self._restore: list[Callable[[], None]] = []

    def add(self, name: str, seconds: float) -> None:
        """Count `seconds` against `name` in the callback running now (if one is)."""
        if self._parts is not None:
            self._parts[name] = self._parts.get(name, 0.0) + seconds

    def install(self) -> None:
        import textual._callback as textual_callback
        from textual.strip import Strip
        from textual.widget import Widget

        profiler = self
        loop_thread = threading.get_ident()
        original_run = asyncio.events.Handle._run
        original_invoke = textual_callback._invoke

        def _run(handle: asyncio.events.Handle) -> None:
            if threading.get_ident() != loop_thread:
                return original_run(handle)
            parts: dict[str, float] = {}
            profiler._parts = parts
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return original_run(handle)
            finally:
                seconds = time.perf_counter() - started
                if seconds >= profiler.threshold and profiler._restore:
                    cpu = time.thread_time() - cpu
                    profiler.slow.append(
                        SlowCallback(started, seconds, cpu, _describe(handle), parts)
                    )
                profiler._parts = None

        async def _invoke(callback: Callable[..., Any], *params: object) -> Any:
            # Textual's own _invoke, with the synchronous call timed.
            count = textual_callback.count_parameters(callback)
            started = time.perf_counter()
            result = callback(*params[:count])
            profiler.add(_callable_name(callback), time.perf_counter() - started)
            if inspect.isawaitable(result):
                result = await result
            return result

        setattr(asyncio.events.Handle, "_run", _run)  # noqa: B010 - a method swap mypy refuses
        textual_callback._invoke = _invoke
        self._restore = [
            lambda: setattr(asyncio.events.Handle, "_run", original_run),
            lambda: setattr(textual_callback, "_invoke", original_invoke),
        ]
        self._time_method(
            Widget,
            "render_lines",
            lambda widget: (
                f"  render_lines {type(widget).__name__}" + (f"#{widget.id}" if widget.id else "")
            ),
        )
        self._time_method(Strip, "apply_filter", lambda _strip: "  Strip.apply_filter, all")

    def _time_method(self, owner: type, attr: str, name: Callable[[Any], str]) -> None:
        original = owner.__dict__[attr]
        profiler = self

        def timed(this: Any, *args: Any, **kwargs: Any) -> Any:
            if profiler._parts is None:
                return original(this, *args, **kwargs)
            started = time.perf_counter()
            try:
                return original(this, *args, **kwargs)
            finally:
                profiler.add(name(this), time.perf_counter() - started)

        setattr(owner, attr, timed)
        self._restore.append(lambda: setattr(owner, attr, original))

    def uninstall(self) -> None:
        for restore in self._restore:
            restore()
        self._restore = []

    def report(
        self, gc_pauses: list[GcPause], budget_ms: float, start: float, end: float, limit: int = 8
    ) -> list[str]:
        """The slowest callbacks with what ran inside them, then totals over those over budget.
        Names indented by two spaces ran inside a handler listed without indent (inclusive).
        Long collections in [start, end] outside every slow callback (in the loop's own
        machinery, or in another thread) are listed first: they stall the loop as much."""
        over = [c for c in self.slow if c.seconds * 1000 > budget_ms]
        lines = []
        outside = [
            p
            for p in gc_pauses
            if p.ms > budget_ms / 2
            and start <= p.start <= end
            and not any(c.start <= p.start <= c.start + c.seconds for c in self.slow)
        ]
        if outside:
            lines.append(
                "  collections over half the budget outside every slow callback: "
                + ", ".join(f"gen {p.generation} {p.ms:.0f} ms in '{p.thread}'" for p in outside)
            )
        lines += [
            f"  loop callbacks over {budget_ms:.0f} ms: {len(over)}, and "
            f"{len(self.slow) - len(over)} of {self.threshold * 1000:.0f}-{budget_ms:.0f} ms. "
            "Worst first, ms: total / loop-thread CPU / cyclic GC, when, then what ran inside (ms):"
        ]
        for call in sorted(self.slow, key=lambda c: c.seconds, reverse=True)[:limit]:
            parts = sorted(call.parts.items(), key=lambda kv: kv[1], reverse=True)[:6]
            inside = ", ".join(
                f"{name.strip()} {sec * 1000:.0f}" for name, sec in parts if sec >= 0.0005
            )
            gc_ms = overlap(gc_pauses, call.start, call.start + call.seconds) * 1000
            lines.append(
                f"    {call.seconds * 1000:6.1f} / {call.cpu * 1000:5.1f} / {gc_ms:5.1f}  "
                f"at +{call.start - start:5.2f} s  "
                f"{call.what}: {inside or '(no Textual handler: loop internals or awaits)'}"
            )
        totals: dict[str, list[float]] = {}
        for call in over:
            for name, sec in call.parts.items():
                totals.setdefault(name, []).append(sec)
        if totals:
            lines.append("  summed over the callbacks over budget (count, total ms, max ms):")
            ranked = sorted(totals.items(), key=lambda kv: sum(kv[1]), reverse=True)[:10]
            lines.extend(
                f"    {len(v):3d} {sum(v) * 1000:7.1f} {max(v) * 1000:6.1f}  {name}"
                for name, v in ranked
            )
        return lines


def _callable_name(callback: Callable[..., Any]) -> str:
    func = getattr(callback, "__func__", callback)
    return str(getattr(func, "__qualname__", None) or repr(func))


def _suspended_at(task: asyncio.Task[Any]) -> str:
    """For an unnamed task: where its coroutine chain is suspended now, which (just after a
    step) is where the step ended."""
    if not task.get_name().startswith("Task-"):
        return ""
    coro: Any = task.get_coro()
    where = ""
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        where = coro.cr_code.co_qualname
        coro = coro.cr_await
    return f" (suspended in {where})" if where else ""


def _describe(handle: asyncio.events.Handle) -> str:
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        return f"task '{task.get_name()[:60]}'{_suspended_at(task)}"
    return "?" if callback is None else _callable_name(callback)[:80]


# -- attributing: what every thread was doing during a stall --------------------------------------


@dataclass(frozen=True)
class StackSample:
    at: float
    stacks: dict[str, tuple[str, ...]]  # thread name -> innermost frames first ("module.func")


class StackSampler:
    """A thread that snapshots every thread's Python stack every `interval` seconds.

    It needs the GIL to take a sample, so while one thread holds the GIL in a long C call the
    samples stop, and the gap itself is the evidence: the first sample after it shows who held
    on. Samples cost the loop a little (another thread asks for the GIL each millisecond), so
    this runs only in diagnostic passes.
    """

    def __init__(self, interval: float = 0.001, depth: int = 6) -> None:
        self.interval = interval
        self.depth = depth
        self.samples: list[StackSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _run(self) -> None:
        import sys

        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            names = {t.ident: t.name for t in threading.enumerate()}
            stacks: dict[str, tuple[str, ...]] = {}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                names_in_stack: list[str] = []
                current: Any = frame
                while current is not None and len(names_in_stack) < self.depth:
                    code = current.f_code
                    module = current.f_globals.get("__name__", "?")
                    names_in_stack.append(f"{module}.{code.co_qualname}:{current.f_lineno}")
                    current = current.f_back
                stacks[names.get(ident, str(ident))] = tuple(names_in_stack)
            self.samples.append(StackSample(time.perf_counter(), stacks))

    def __enter__(self) -> StackSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def explain(self, start: float, end: float, limit: int = 3) -> list[str]:
        """What each thread was doing in [start, end]: the most frequent innermost frames, and
        the longest gap between samples (someone held the GIL without letting go)."""
        inside = [s for s in self.samples if start <= s.at <= end + 0.003]
        lines: list[str] = []
        times = [start] + [s.at for s in inside] + [end]
        gap = max((b - a for a, b in itertools.pairwise(times)), default=0.0)
        lines.append(f"{len(inside)} samples; longest gap between samples {gap * 1000:.1f} ms")
        per_thread: dict[str, dict[tuple[str, ...], int]] = {}
        for sample in inside:
            for thread, stack in sample.stacks.items():
                counts = per_thread.setdefault(thread, {})
                counts[stack[:3]] = counts.get(stack[:3], 0) + 1
        for thread, counts in sorted(per_thread.items()):
            ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)[:limit]
            for stack, count in ranked:
                if "wait" in stack[0] or "select" in stack[0]:
                    continue
                lines.append(f"  {thread} x{count}: " + " < ".join(stack))
        return lines


def measure_sizes(
    sizes_text: str,
    keep: Path | None,
    prefix: str,
    measure: Callable[[int, Path], dict[str, float]],
) -> dict[int, dict[str, float]]:
    """`measure(size, work)` for each of the comma-separated sizes, in one work folder (a
    temporary one, removed afterwards, unless `keep` names it)."""
    sizes = [int(s) for s in sizes_text.split(",") if s]
    work = keep or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, float]] = {}
    try:
        for size in sizes:
            print(f"measuring {size:,} images…", file=sys.stderr, flush=True)
            results[size] = measure(size, work)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return results
