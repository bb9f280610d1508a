"""The history panel at scale in the TUI: scrolling, rescans, searching and memory, 1k to 100k.

Run: ``python bench/bench_history_tui.py [--sizes 1000,10000,100000] [--keep DIR]``. Prints a
report with PASS/FAIL per budget and exits with status 1 on FAIL. ``--sizes 1000`` takes seconds.

For each size, a web-UI-shaped folder of tiny PNGs with realistic infotexts is generated (the
generator of bench/bench_history.py) and indexed; then a child process runs the whole app
headless at 200x60 (offline server, so nothing but the history works), waits until the history
has loaded, and measures, all as CPU time of the UI (event loop) thread (``time.thread_time``:
what a thread worker or another process does is not counted, waiting for the GIL is not either):

- ``scroll frame``: the history list focused, page-down sent at key-repeat pace (20 a second)
  until the last row; per key, the UI thread's CPU less what the same time costs idle (the
  offline banner's timers): the highlight, the scroll, the rows built, the thumbnails asked for
  and arriving, the preview showing the highlighted image. Budget: < 16 ms (p99; max shown).
- ``rescan, nothing new``: the periodic rescan's timer callback, its thread worker's lifecycle on
  the UI thread, and anything posted back, in a 0.5 s window, minus the same window idle.
  Budget: < 2 ms at every size. Beside it, ``old rescan copy``: what the history did every 5 s
  before the index, a set of every entry's path built on the UI thread.
- ``search``: a prompt search typed (``fox sail``, ~10 % match) until its rows are shown, minus
  idle, as UI time: the parsing, the swap of the rows queried in a thread, the repaint.
  Budget: one frame (< 16 ms).
- ``peak RSS``: the child's peak resident memory after all of the above. Budget: < 300 MB at
  100,000. ``list rows``: the rows the list holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._util import measure_sizes, percentile, verdict

BUDGET_FRAME_MS = 16.0
BUDGET_RESCAN_MS = 2.0
BUDGET_SEARCH_MS = 16.0
BUDGET_RSS_MB = 300.0
SEARCH = "fox sail"
SIZE = (200, 60)
WINDOW_S = 0.5
KEY_REPEAT_S = 0.05  # a held key repeats about 20 times a second


def _env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_DATA_HOME"] = str(work / "data")
    env["XDG_CACHE_HOME"] = str(work / "cache")
    env["SDTUI_CONFIG"] = str(work / "none.toml")
    env["COLORTERM"] = "truecolor"
    return env


def prepare(size: int, work: Path) -> Path:
    """The generated folder, indexed (the index lives in `work`'s XDG data folder)."""
    from bench.bench_history import generate

    root = work / f"out-{size}"
    if not root.exists():
        generate(root, size)
    os.environ.update(_env(work))
    from sdtui.store.index import HistoryIndex

    index = HistoryIndex([root])
    index.scan()
    index.close()
    return root


# -- the child: the app, headless ---------------------------------------------------------------


async def _idle_cpu(pilot: Any, seconds: float) -> float:
    """UI-thread CPU per second of doing nothing."""
    start = time.thread_time()
    await asyncio.sleep(seconds)
    return (time.thread_time() - start) / seconds


def _searched(app: Any, panel: Any) -> bool:
    running = any(w.group == "history-query" and not w.is_finished for w in app.workers)
    return panel.parsed.query.text == SEARCH and " of " in str(panel.border_title) and not running


async def _measure_app(root: Path, work: Path) -> dict[str, float]:
    from textual import events

    from sdtui.config import Settings
    from sdtui.ui.app import SdtuiApp

    app = SdtuiApp(Settings(url="http://127.0.0.1:9", out=root), state_path=work / "state.json")
    out: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        panel = app.main.history  # type: ignore[attr-defined]
        deadline = time.monotonic() + 600
        while not panel.loaded and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        history = panel.list_view
        out["rows"] = len(history.rows)
        panel.focus_list()
        await pilot.pause(0.2)

        # Scrolling the whole list, a page at a time, at key-repeat pace: each key's CPU on the
        # UI thread, less what the same time costs idle (timers, the offline banner).
        idle_rate = await _idle_cpu(pilot, 1.0)
        frames: list[float] = []
        last = len(history.rows) - 1
        while history.highlighted is not None and history.highlighted < last:
            wall = time.perf_counter()
            start = time.thread_time()
            app.post_message(events.Key("pagedown", None))
            await asyncio.sleep(KEY_REPEAT_S)
            cpu = time.thread_time() - start
            frames.append(max(0.0, cpu - idle_rate * (time.perf_counter() - wall)))
        await pilot.pause(0.3)
        out["idle_ms_per_s"] = idle_rate * 1000
        out["frames"] = len(frames)
        out["frame_p50_ms"] = percentile(frames, 50) * 1000
        out["frame_p99_ms"] = percentile(frames, 99) * 1000
        out["frame_max_ms"] = max(frames, default=0.0) * 1000
        # A rescan that finds nothing new, against the same window idle.
        idle, costs = [], []
        for _ in range(5):
            idle.append(await _idle_cpu(pilot, WINDOW_S) * WINDOW_S)
            before = panel.rescans
            start = time.thread_time()
            panel._rescan()  # what the 5 s timer calls
            await asyncio.sleep(WINDOW_S)
            costs.append(time.thread_time() - start)
            assert panel.rescans > before, "the rescan did not run"
        idle_ms = sorted(idle)[len(idle) // 2] * 1000
        out["rescan_ms"] = max(0.0, sorted(costs)[len(costs) // 2] * 1000 - idle_ms)
        start = time.perf_counter()
        frozenset(str(row.path) for row in history.rows)  # the old rescan's copy
        out["old_rescan_copy_ms"] = (time.perf_counter() - start) * 1000

        # A search typed, until its rows are shown.
        search = panel.query_one("#history-search")
        search.focus()
        await pilot.pause(0.2)
        wall = time.perf_counter()
        start = time.thread_time()
        search.value = SEARCH
        search.flush()
        while not _searched(app, panel):
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.05)  # the repaint of the rows found
        cpu = time.thread_time() - start
        out["search_ms"] = max(0.0, (cpu - idle_rate * (time.perf_counter() - wall)) * 1000)
        out["search_rows"] = len(history.rows)
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _peak_rss_mb() -> float:
    """This process's peak resident memory. `ru_maxrss` would also count what the parent held
    when it forked this child (Linux keeps the pre-exec peak): VmHWM is this program's own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_main(root: Path, work: Path) -> None:
    result = asyncio.run(_measure_app(root, work))
    print(json.dumps(result))


# -- the parent ---------------------------------------------------------------------------------


def measure(size: int, work: Path) -> dict[str, float]:
    root = prepare(size, work)
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(root), "--work", str(work)],
        env=_env(work),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the app's run failed:\n{proc.stderr[-4000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def report(results: dict[int, dict[str, float]]) -> bool:
    ok = True
    first = min(results)
    print(f"history in the TUI at {SIZE[0]}x{SIZE[1]} (UI-thread CPU time)")
    header = f"{'images':>9} {'frames':>7} {'frame p50':>10} {'p99':>8} {'max':>8}"
    header += f" {'rescan':>8} {'old copy':>9} {'search':>8} {'peak RSS':>9}"
    print(header)
    for size, r in sorted(results.items()):
        print(
            f"{size:>9,} {r['frames']:>7.0f} {r['frame_p50_ms']:>8.2f}ms {r['frame_p99_ms']:>6.2f}ms"
            f" {r['frame_max_ms']:>6.2f}ms {r['rescan_ms']:>6.2f}ms {r['old_rescan_copy_ms']:>7.2f}ms"
            f" {r['search_ms']:>6.2f}ms {r['peak_rss_mb']:>7.1f}MB"
        )
    print()
    for size, r in sorted(results.items()):
        checks = [
            ("scroll frame p99", r["frame_p99_ms"], BUDGET_FRAME_MS, "ms"),
            ("rescan, nothing new", r["rescan_ms"], BUDGET_RESCAN_MS, "ms"),
            ("search", r["search_ms"], BUDGET_SEARCH_MS, "ms"),
        ]
        if size >= 100_000:
            checks.append(("peak RSS", r["peak_rss_mb"], BUDGET_RSS_MB, "MB"))
        for name, value, budget, unit in checks:
            passed = value < budget
            ok &= passed
            print(
                f"{verdict(passed)} {size:>7,}: {name} {value:.2f} {unit}"
                f" (budget {budget:g} {unit}, {value / budget:.0%} of it)"
            )
        if r["rows"] != size:
            ok = False
            print(f"FAIL {size:>7,}: the list holds {r['rows']:.0f} rows")
    if len(results) > 1:
        last = max(results)
        base, top = results[first], results[last]
        print(f"\ngrowth {first:,} -> {last:,} images ({last / first:.0f}x):")
        for key, label in (
            ("frame_p50_ms", "scroll frame p50"),
            ("rescan_ms", "rescan"),
            ("old_rescan_copy_ms", "old rescan copy"),
            ("search_ms", "search"),
            ("peak_rss_mb", "peak RSS"),
        ):
            ratio = top[key] / base[key] if base[key] > 0 else float("inf")
            print(f"  {label}: {base[key]:.2f} -> {top[key]:.2f} ({ratio:.1f}x)")
        rescan = max(top["rescan_ms"], 0.01)
        print(
            f"  old rescan copy / new rescan at {last:,}: {top['old_rescan_copy_ms'] / rescan:.0f}x"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated counts")
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child_main(args.child, args.work)
        return 0
    results = measure_sizes(args.sizes, args.keep, "sdtui-bench-history-tui-", measure)
    return 0 if report(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
