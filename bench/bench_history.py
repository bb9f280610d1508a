"""The history panel at scale: the virtual list against the OptionList of Rich Tables it replaced.

Run: ``python bench/bench_history.py [--adds N] [--sizes 2000,100000]``. Prints a report with
PASS/FAIL and exits with status 1 on FAIL. Budget: adding one entry to a 100,000-entry history
costs the UI thread under 16 ms (median), first paint included.

Both panels sit in the same small headless app (a 120x40 terminal, the panel 34 columns wide as
in sdtui), driven through ``run_test``. Two operations are timed:

- ``set_entries`` of N entries and the first paint after it;
- ``add_entries`` of one new (newest) entry and the repaint after it, repeated, with
  ``highlight=True`` (the app's own new image) and ``highlight=False`` (a file found on disk).

Each sample is the call followed by ``pilot.pause()``, which lets the app handle the resulting
messages, lay out and paint the screen. Two clocks are read around it: the CPU time of the UI
thread (``time.thread_time``; the work the user waits for, without the idle sleeps the pause
spends detecting that the app is idle) and the wall clock (for information). An empty sample (a
pause alone) is measured too and printed as ``overhead``: it is included in every figure, not
subtracted. ``call`` is the wall time of the method call alone, before any painting (for the
new panel, everything after it is Textual laying out and painting the screen, as after any key
press). No thumbnails are set, for either panel.

The baseline is the previous panel's approach, copied here: an ``OptionList`` whose options are
Rich ``Table.grid`` prompts (thumbnail cells + two text lines), rebuilt on every change. It runs
at 2,000 entries only (the app's old limit); at 100,000 it would take minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import OptionList
from textual.widgets.option_list import Option

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sdtui.store import HistoryEntry
from sdtui.text import one_line
from sdtui.ui.widgets.history_panel import THUMB_COLS, THUMB_ROWS, HistoryPanel

BUDGET_ADD_MS = 16.0
BUDGET_SIZE = 100_000
TERMINAL = (120, 40)
_PHRASES = (
    "a red fox at dusk, oil painting, lighthouse in a storm, dramatic light, highly detailed, "
    "mountain lake, morning mist, portrait of an old sailor, watercolor, city at night, neon, "
    "rain, cinematic, 35mm, bokeh, masterpiece, best quality, trending on artstation"
)
WORDS = _PHRASES.split()


def make_entries(count: int, *, start: int = 0, seed: int = 1) -> list[HistoryEntry]:
    """`count` entries, newest first, with prompts of realistic length (~20 words)."""
    rng = random.Random(seed)
    base = 1_700_000_000.0
    entries = []
    for n in range(start + count - 1, start - 1, -1):
        prompt = " ".join(rng.choices(WORDS, k=20))
        path = Path(f"/outputs/2024-01-01/{n:07}-{n * 7919 % 100_000}.png")
        os.fspath(path)  # as after the store opened the file to read its header
        entries.append(
            HistoryEntry(
                path=path,
                mtime=base + n,
                width=512,
                height=768,
                infotext=prompt + "\nSteps: 20, Sampler: Euler a, CFG scale: 7",
                prompt=prompt,
                seed=n * 7919,
                steps=20,
            )
        )
    return entries


# -- the baseline: the previous panel's approach ------------------------------------------------


class Cells:
    """A Rich renderable drawing thumbnail cells (only the placeholder here: no thumbnails)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for y in range(THUMB_ROWS):
            yield Segment(("░" if y == 1 else " ") * THUMB_COLS, None)
            yield Segment.line()


def entry_prompt(entry: HistoryEntry) -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=THUMB_COLS, no_wrap=True)
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    info = Text(no_wrap=True, overflow="ellipsis")
    info.append(one_line(entry.title, 200))
    info.append("\n")
    today = entry.created.date() == date.today()
    facts = [
        str(entry.seed) if entry.seed is not None else "no seed",
        f"{entry.width}×{entry.height}",
        entry.created.strftime("%H:%M" if today else "%b %d"),
    ]
    info.append(" · ".join(facts), style="dim")
    grid.add_row(Cells(), info)
    return grid


class BaselinePanel(OptionList):
    """The old panel's list handling: every change rebuilds every option."""

    def __init__(self) -> None:
        super().__init__(id="baseline")
        self._entries: dict[str, HistoryEntry] = {}
        self._order: list[str] = []

    def _rebuild(self) -> None:
        highlighted = self.highlighted
        key = self._order[highlighted] if highlighted is not None else None
        with self.prevent(OptionList.OptionHighlighted):
            self.clear_options()
            self.add_options([Option(entry_prompt(self._entries[k]), id=k) for k in self._order])
            if key is not None:
                self.highlighted = self.get_option_index(key)

    def set_entries(self, entries: list[HistoryEntry]) -> None:
        self._entries = {str(e.path): e for e in entries}
        self._order = [str(e.path) for e in entries]
        self._rebuild()

    def add_entries(self, entries: list[HistoryEntry], *, highlight: bool = True) -> None:
        new = [e for e in entries if str(e.path) not in self._entries]
        for entry in new:
            self._entries[str(entry.path)] = entry
        self._order = sorted(
            [str(e.path) for e in new] + self._order,
            key=lambda k: self._entries[k].mtime,
            reverse=True,
        )
        self._rebuild()
        if highlight and new:
            self.highlighted = self.get_option_index(str(new[0].path))


# -- harness ------------------------------------------------------------------------------------


class BenchApp(App[None]):
    CSS = """
    Screen { layout: horizontal; }
    #filler { width: 1fr; }
    HistoryPanel, #baseline { width: 34; height: 1fr; border: round $primary; padding: 0; }
    """

    def __init__(self, baseline: bool) -> None:
        super().__init__()
        self.baseline = baseline

    def compose(self) -> ComposeResult:
        from textual.widgets import Static

        yield Static("", id="filler")
        yield BaselinePanel() if self.baseline else HistoryPanel(id="history")

    @property
    def panel(self) -> Any:
        return self.query_one(BaselinePanel) if self.baseline else self.query_one(HistoryPanel)


Sample = tuple[float, float, float]


async def sample(pilot: Any, action: Callable[[], object]) -> Sample:
    """(UI thread CPU ms, wall ms, ms in the call alone) of `action()` and the repaint after it."""
    await pilot.pause()
    gc.collect()
    wall = time.perf_counter()
    cpu = time.thread_time()
    action()
    call = time.perf_counter() - wall
    await pilot.pause()
    return (time.thread_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000, call * 1000


def summary(samples: list[Sample]) -> dict[str, float]:
    cpu = [s[0] for s in samples]
    return {
        "cpu": statistics.median(cpu),
        "cpu_max": max(cpu),
        "wall": statistics.median(s[1] for s in samples),
        "call": statistics.median(s[2] for s in samples),
    }


async def run_case(baseline: bool, size: int, adds: int, sets: int) -> dict[str, dict[str, float]]:
    app = BenchApp(baseline)
    results: dict[str, dict[str, float]] = {}
    async with app.run_test(size=TERMINAL) as pilot:
        await pilot.pause()
        results["overhead"] = summary([await sample(pilot, lambda: None) for _ in range(5)])
        panel = app.panel
        set_samples = []
        for n in range(sets):
            entries = make_entries(size, seed=n)
            set_samples.append(await sample(pilot, partial(panel.set_entries, entries)))
        results["set_entries"] = summary(set_samples)
        if not baseline:
            # The paint really happened, and lazily: only rows on screen were built.
            history = panel.list_view
            assert 0 < history.cached_entries < 50, history.cached_entries
        next_number = size
        for highlight in (True, False):
            add_samples = []
            for _ in range(adds):
                new = make_entries(1, start=next_number)
                next_number += 1
                add = partial(panel.add_entries, new, highlight=highlight)
                add_samples.append(await sample(pilot, add))
            results[f"add (highlight={highlight})"] = summary(add_samples)
    return results


def fmt(stats: dict[str, float]) -> str:
    return (
        f"{stats['cpu']:8.2f} ms cpu (max {stats['cpu_max']:7.2f}) "
        f"{stats['wall']:8.2f} ms wall {stats['call']:8.2f} ms call"
    )


async def main_async(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"terminal {TERMINAL[0]}x{TERMINAL[1]}, panel 34 columns; medians of the samples")
    print(f"(add: {args.adds} samples each; set_entries: {args.sets} samples)\n")
    ok = True
    new_results: dict[int, dict[str, dict[str, float]]] = {}
    base_results: dict[int, dict[str, dict[str, float]]] = {}
    for size in sizes:
        new_results[size] = await run_case(False, size, args.adds, args.sets)
        if size <= 2000:
            base_results[size] = await run_case(
                True, size, max(3, args.adds // 4), max(1, args.sets // 2)
            )
    for size in sizes:
        print(f"== {size:,} entries")
        for name, stats in new_results[size].items():
            print(f"  virtual list  {name:<24}{fmt(stats)}")
            base = base_results.get(size, {}).get(name)
            if base is not None:
                print(f"  OptionList    {name:<24}{fmt(base)}")
                if name != "overhead":
                    ratio = base["cpu"] / max(stats["cpu"], 1e-6)
                    print(f"  {'':14}{'ratio (OptionList / new)':<24}{ratio:9.1f}x")
        print()
    if BUDGET_SIZE in new_results:
        for highlight in (True, False):
            stats = new_results[BUDGET_SIZE][f"add (highlight={highlight})"]
            passed = stats["cpu"] < BUDGET_ADD_MS
            ok &= passed
            verdict = "PASS" if passed else "FAIL"
            print(
                f"{verdict}: add one entry to {BUDGET_SIZE:,} (highlight={highlight}): "
                f"{stats['cpu']:.2f} ms < {BUDGET_ADD_MS:.0f} ms (max {stats['cpu_max']:.2f} ms)"
            )
    else:
        print(f"(no budget check: {BUDGET_SIZE:,} entries not among --sizes)")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=20, help="samples of adding one entry")
    parser.add_argument("--sets", type=int, default=3, help="samples of set_entries")
    parser.add_argument("--sizes", default=f"2000,{BUDGET_SIZE}", help="history sizes")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
