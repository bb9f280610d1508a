"""The history index at scale: build, rescan, search and `sdtui history`, 1,000 to 100,000 images.

Run: ``python bench/bench_history.py [--sizes 1000,10000,100000] [--keep DIR]``. Prints a report
with PASS/FAIL per budget and exits with status 1 on FAIL. ``--sizes 1000`` takes seconds.

For each size, a folder shaped like the web UI's ``outputs`` is generated: ``txt2img-images``
(85 %), ``img2img-images`` (10 %) and ``txt2img-grids`` (the rest) in ``YYYY-MM-DD`` folders of
about 1,000 images, each an 8x8 PNG whose ``parameters`` chunk carries a realistic infotext
(~20-word prompt, negative prompt, the usual parameter line); one image in 200 is a JPEG or WebP
with the infotext in its EXIF UserComment. PNGs are made fast by splicing a text chunk into one
encoded PNG. Folder mtimes are then moved a minute into the past, as for folders written earlier.

Figures (wall clock, median of repeats where cheap):

- ``baseline read``: what the history did before the index, at every start: walk the folders and
  read every file's header chunks and infotext (``entry_from_file``). The index build and the
  rescans are compared with it.
- ``first build``: a new index, ``scan()`` reading every file. Budget at 10,000: < 10 s.
- ``rescan, nothing new``: ``scan()`` again: one stat per folder. ``full pass``: the periodic
  scan that re-lists every folder and compares every file's size and mtime.
- ``search``: prompt words (``"fox sail"``, a prefix search matching ~10 %): every match's id
  in order (what a virtual list holds; its length is the count) and the first 500 rows, as the
  history panel asks for them. Budget: < 50 ms, and for the ids alone. ``query(limit=500)`` and
  ``count()`` alone, and a two-letter prefix that half the prompts match, for information.
- ``all rows``: ``query()`` of every image as light rows, and their memory (tracemalloc), per row.
- ``sdtui history --limit 50``: the whole command as a child process (interpreter start, imports,
  an incremental scan, the query, the table), wall time (median of 5) and the child's peak RSS
  (``wait4`` rusage). Budgets: < 300 ms, < 150 MB. ``python -c "import sdtui.cli"`` is measured
  beside it: the part no index can make faster.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from bench._util import measure_sizes, verdict
from sdtui.images.infotext import build_infotext
from sdtui.images.png import make_chunk
from sdtui.store.history import UnreadableImage, entry_from_file
from sdtui.store.index import HistoryIndex, HistoryQuery
from sdtui.store.metadata import is_image_name

BUDGET_BUILD_10K_S = 10.0
BUDGET_CLI_MS = 300.0
BUDGET_CLI_MB = 150.0
BUDGET_SEARCH_MS = 50.0
PER_DAY = 1000
SEARCH = "fox sail"
_PHRASE = (
    "a red fox at dusk oil painting lighthouse in a storm dramatic light highly detailed "
    "mountain lake morning mist portrait of an old sailor watercolor city at night neon rain "
    "cinematic 35mm bokeh masterpiece best quality trending on artstation forest cabin snow "
    "castle dragon knight armour golden hour studio photo"
)
_WORDS = _PHRASE.split()
_MODELS = ("sd15-base", "sdxl-turbo", "juggernautXL_v9", "dreamshaper_8", "realisticVision_v51")


def _tiny_png() -> tuple[bytes, bytes]:
    """An 8x8 PNG split after its IHDR chunk, so a text chunk can be spliced in between."""
    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 80, 40)).save(buffer, "PNG")
    data = buffer.getvalue()
    cut = 8 + 25  # signature + IHDR
    return data[:cut], data[cut:]


def _infotext(rng: random.Random, n: int) -> str:
    prompt = " ".join(rng.choices(_WORDS, k=20))
    return build_infotext(
        prompt,
        "blurry, lowres, bad anatomy, watermark",
        {
            "Steps": rng.choice((20, 25, 30)),
            "Sampler": rng.choice(("Euler a", "DPM++ 2M", "DPM++ SDE")),
            "Schedule type": rng.choice((None, "Karras")),
            "CFG scale": rng.choice((5, 6.5, 7)),
            "Seed": rng.randrange(2**32),
            "Size": "8x8",
            "Model hash": f"{n * 2654435761 % 2**32:08x}"[:10],
            "Model": rng.choice(_MODELS),
            "Version": "v1.10.1",
        },
    )


def generate(root: Path, count: int, seed: int = 1) -> None:
    """`count` images in the web UI's layout under `root` (see the module's notes)."""
    rng = random.Random(seed)
    head, tail = _tiny_png()
    start = datetime(2026, 1, 1, 9, 0)
    days = max(1, count // PER_DAY)
    folders: set[Path] = set()
    for n in range(count):
        day = start + timedelta(days=n * days // count)
        kind = n % 20
        folder = root / (
            "img2img-images" if kind < 2 else "txt2img-grids" if kind == 2 else "txt2img-images"
        )
        folder = folder / f"{day:%Y-%m-%d}"
        if folder not in folders:
            folder.mkdir(parents=True, exist_ok=True)
            folders.add(folder)
        text = _infotext(rng, n)
        seed_value = n * 7919 % 100_000
        if n % 200 == 199:
            fmt = "JPEG" if n % 400 == 199 else "WEBP"
            exif = Image.Exif()
            exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + text.encode("utf-16-be")
            buffer = BytesIO()
            Image.new("RGB", (8, 8), (40, 80, 200)).save(buffer, fmt, exif=exif.tobytes())
            data, suffix = buffer.getvalue(), ".jpg" if fmt == "JPEG" else ".webp"
        else:
            chunk = make_chunk(b"tEXt", b"parameters\x00" + text.encode("latin-1"))
            data, suffix = head + chunk + tail, ".png"
        path = folder / f"{n % PER_DAY:05d}-{seed_value}{suffix}"
        path.write_bytes(data)
        made = (day + timedelta(seconds=(n % PER_DAY) * 20)).timestamp()
        os.utime(path, (made, made))
    past = time.time() - 60
    for dirpath, _dirs, _files in os.walk(root):
        os.utime(dirpath, (past, past))


def baseline_read(root: Path) -> int:
    """The history before the index: every file's header chunks and infotext, at every start."""
    read = 0
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not is_image_name(name) or not name.endswith(".png"):
                continue
            try:
                entry_from_file(Path(dirpath) / name)
            except UnreadableImage:
                continue
            read += 1
    return read


def timed(call: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median seconds of `repeat` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


# Started from this (by then large) process, a child's peak RSS would include ours: Linux
# counts the memory a process had before its exec. A small launcher, started once with
# posix_spawn and re-used, starts each measured child and reports its wait4 figures.
_LAUNCHER = """
import json, os, sys, time
for line in sys.stdin:
    job = json.loads(line)
    started = time.perf_counter()
    devnull = os.open(os.devnull, os.O_WRONLY)
    pid = os.posix_spawn(job["args"][0], job["args"], job["env"],
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, devnull, 2)])
    os.close(devnull)
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    print(json.dumps([wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)]),
          flush=True)
"""
_launcher: subprocess.Popen[str] | None = None


def child(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit status of one child process."""
    global _launcher
    if _launcher is None:
        _launcher = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    assert _launcher.stdin is not None and _launcher.stdout is not None
    _launcher.stdin.write(json.dumps({"args": args, "env": env}) + "\n")
    _launcher.stdin.flush()
    wall, peak, status = json.loads(_launcher.stdout.readline())
    return float(wall), float(peak), int(status)


def measure(size: int, work: Path) -> dict[str, float]:
    root = work / f"outputs-{size}"
    data = work / f"data-{size}"
    figures: dict[str, float] = {}
    started = time.perf_counter()
    generate(root, size)
    figures["generate_s"] = time.perf_counter() - started

    figures["baseline_s"], _ = timed(lambda: baseline_read(root))

    db = data / "sdtui" / "history.sqlite3"
    index = HistoryIndex([root], db_path=db, full_every=10**9)
    figures["build_s"], result = timed(index.scan)
    assert result.added == size, (result, size)
    figures["rescan_ms"] = timed(index.scan, repeat=5)[0] * 1000
    figures["full_ms"] = timed(lambda: index.scan(full=True), repeat=3)[0] * 1000

    query = HistoryQuery(text=SEARCH)

    def search() -> int:
        ids = index.query_ids(query)  # the count is len(ids)
        return len(index.rows(ids[:500]))

    index.query(query)  # warm the page cache
    figures["search_ms"] = timed(search, repeat=7)[0] * 1000
    figures["matches"] = index.count(query)
    figures["search_ids_ms"] = timed(lambda: index.query_ids(query), repeat=7)[0] * 1000
    figures["search_rows_ms"] = (
        timed(lambda: index.query(replace(query, limit=500)), repeat=7)[0] * 1000
    )
    figures["count_ms"] = timed(lambda: index.count(query), repeat=7)[0] * 1000
    figures["short_ms"] = (
        timed(lambda: index.query_ids(HistoryQuery(text="ca")), repeat=3)[0] * 1000
    )
    figures["model_ms"] = (
        timed(lambda: index.query(HistoryQuery(model="xl", limit=500)), repeat=7)[0] * 1000
    )
    figures["all_rows_ms"] = timed(lambda: index.query(HistoryQuery()), repeat=3)[0] * 1000
    tracemalloc.start()
    rows = index.query(HistoryQuery())
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures["row_bytes"] = current / max(1, len(rows))
    figures["rows_mb"] = current / 2**20
    del rows
    index.close()

    env = {
        **os.environ,
        "XDG_DATA_HOME": str(data),
        "XDG_CACHE_HOME": str(work / "cache"),
        "SDTUI_CONFIG": str(work / "no-config.toml"),
    }
    command = [sys.executable, "-m", "sdtui", "history", "--out", str(root), "--limit", "50"]
    runs = [child(command, env) for _ in range(5)]
    assert all(status == 0 for _w, _m, status in runs), runs
    figures["cli_ms"] = statistics.median(w for w, _m, _s in runs) * 1000
    figures["cli_mb"] = max(m for _w, m, _s in runs)
    imports = [child([sys.executable, "-c", "import sdtui.cli"], env) for _ in range(5)]
    figures["import_ms"] = statistics.median(w for w, _m, _s in imports) * 1000
    figures["db_mb"] = (
        sum(p.stat().st_size for p in db.parent.iterdir() if p.name.startswith("history")) / 2**20
    )
    return figures


ROWS = [
    ("generate_s", "generating the folder", "{:.1f} s"),
    ("baseline_s", "baseline: read every header (old start-up)", "{:.2f} s"),
    ("build_s", "first index build", "{:.2f} s"),
    ("rescan_ms", "rescan, nothing new", "{:.2f} ms"),
    ("full_ms", "full pass (every file stat-ed)", "{:.0f} ms"),
    ("search_ms", f"search '{SEARCH}': ids + first 500 rows", "{:.1f} ms"),
    ("matches", "  its matches", "{:.0f}"),
    ("search_ids_ms", "  all matching ids alone", "{:.1f} ms"),
    ("search_rows_ms", "  query(limit=500) alone", "{:.1f} ms"),
    ("count_ms", "  count() alone", "{:.1f} ms"),
    ("short_ms", "search 'ca' (half the rows match), ids", "{:.1f} ms"),
    ("model_ms", "model filter 'xl', first 500", "{:.1f} ms"),
    ("all_rows_ms", "all rows as IndexRow", "{:.0f} ms"),
    ("rows_mb", "  their memory", "{:.1f} MB"),
    ("row_bytes", "  per row", "{:.0f} B"),
    ("cli_ms", "sdtui history --limit 50 (process)", "{:.0f} ms"),
    ("import_ms", "  of which: python -c 'import sdtui.cli'", "{:.0f} ms"),
    ("cli_mb", "  its peak RSS", "{:.0f} MB"),
    ("db_mb", "index file size", "{:.1f} MB"),
]


def report(results: dict[int, dict[str, float]]) -> bool:
    sizes = sorted(results)
    width = 44
    print(f"\n{'':{width}}" + "".join(f"{size:>12,}" for size in sizes))
    for key, label, fmt in ROWS:
        cells = "".join(f"{fmt.format(results[s][key]):>12}" for s in sizes)
        print(f"{label:{width}}{cells}")
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        print(f"\ngrowth {first:,} -> {last:,} ({last // first}x the images):")
        for key in ("build_s", "rescan_ms", "full_ms", "search_ms", "search_ids_ms", "cli_ms"):
            a, b = results[first][key], results[last][key]
            print(f"  {key:14} x{b / a if a else float('inf'):.1f}")
    print("\nagainst the baseline (reading every header at start-up):")
    for size in sizes:
        r = results[size]
        print(
            f"  {size:>7,}: first build {r['build_s'] / r['baseline_s']:.1f}x the baseline "
            f"(once); a rescan {r['baseline_s'] * 1000 / r['rescan_ms']:.0f}x faster than it"
        )
    ok = True
    print()
    for size in sizes:
        r = results[size]
        checks = [
            (f"search {size:,} < {BUDGET_SEARCH_MS:.0f} ms", r["search_ms"] < BUDGET_SEARCH_MS),
            (
                f"search all ids {size:,} < {BUDGET_SEARCH_MS:.0f} ms",
                r["search_ids_ms"] < BUDGET_SEARCH_MS,
            ),
            (f"sdtui history {size:,} < {BUDGET_CLI_MS:.0f} ms", r["cli_ms"] < BUDGET_CLI_MS),
            (
                f"sdtui history {size:,} peak < {BUDGET_CLI_MB:.0f} MB",
                r["cli_mb"] < BUDGET_CLI_MB,
            ),
        ]
        if size == 10_000:
            checks.append(
                (
                    f"first build 10,000 < {BUDGET_BUILD_10K_S:.0f} s",
                    r["build_s"] < BUDGET_BUILD_10K_S,
                )
            )
        for label, passed in checks:
            print(f"{verdict(passed)}  {label}")
            ok = ok and passed
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated counts")
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    args = parser.parse_args()
    results = measure_sizes(args.sizes, args.keep, "sdtui-bench-history-", measure)
    return 0 if report(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
