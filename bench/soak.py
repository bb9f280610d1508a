"""Soak: many generations in a row through the TUI's own code path, against the demo backend.

    python bench/soak.py [--count 1000]

The demo server runs in a separate process so the resident memory measured is the client's alone.
The app runs headless (Textual's run_test); each job goes through the form, the queue, the engine,
the store and the history exactly as a key press would. Checks: no job fails, every image is on disk
with its infotext, and resident memory grows by less than 20 MB from job 100 to the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from textual.widgets import Input

from sdtui.config import Settings
from sdtui.engine import JobState
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.ui.app import SdtuiApp

BUDGET_MB = 20.0


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_demo(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdtui", "serve-demo", "--port", str(port), "--step-delay", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/sdapi/v1/options", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the demo server did not start")


async def soak(url: str, out: Path, count: int) -> int:
    app = SdtuiApp(Settings(url=url, out=out), state_path=out / "state.json", poll_interval=0.05)
    failures: list[str] = []
    rss_at: dict[int, float] = {}
    started = time.perf_counter()
    async with app.run_test(size=(140, 45)) as pilot:
        while not app.context.connected:
            await pilot.pause(0.05)
        app.query_one("#prompt").load_text("soak test, a lighthouse")  # type: ignore[attr-defined]
        for field, value in (("steps", "2"), ("width", "64"), ("height", "64")):
            app.query_one(f"#{field}", Input).value = value
        for n in range(1, count + 1):
            app.query_one("#seed", Input).value = str(n)
            # What the generate key does, minus the wait for keys typed before it.
            job = app.context.queue.submit(app.main.form.to_request())
            while app.context.queue.busy:
                await pilot.pause(0.005)
            if job is not None and job.state is not JobState.DONE:
                failures.append(f"job {n}: {job.state.value} {job.error}")
            if n in (100, count) or n % 100 == 0:
                await app.workers.wait_for_complete()
                gc.collect()
                rss_at[n] = rss_mb()
                elapsed = time.perf_counter() - started
                print(f"{n:5d} jobs  {elapsed:6.1f}s  rss {rss_at[n]:7.1f} MB", flush=True)
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        history_size = len(app.main.history.entries)
    files = sorted(out.rglob("*.png"))
    seeds = set()
    for path in files:
        text = read_parameters(path.read_bytes())
        if text is None:
            failures.append(f"{path.name}: no infotext")
            continue
        seeds.add(parse_infotext(text).seed)
    missing = set(range(1, count + 1)) - seeds
    growth = rss_at[count] - rss_at[min(100, count)]
    print(f"files: {len(files)} (expected {count}); history entries: {history_size}")
    print(f"missing seeds: {sorted(missing)[:10]}{'…' if len(missing) > 10 else ''}")
    print(f"failures: {len(failures)}")
    for failure in failures[:10]:
        print("  ", failure)
    print(f"rss growth after job 100: {growth:+.1f} MB (budget < {BUDGET_MB} MB)")
    ok = not failures and not missing and len(files) == count and growth < BUDGET_MB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    port = free_port()
    server = start_demo(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return asyncio.run(soak(f"http://127.0.0.1:{port}", Path(tmp), args.count))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    raise SystemExit(main())
