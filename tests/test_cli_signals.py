"""`sdtui generate` under SIGTERM and Ctrl-C, as a real process against a slow demo server.

The first signal interrupts the server's job and still saves what it made (exit 143 for SIGTERM,
130 for SIGINT); a second one quits at once, leaving no half-written file behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdtui.demo import DemoServer
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.store.files import TEMP_SUFFIX
from tests.faulty import FaultyServer, Reply

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

INTERRUPTING = "interrupting: the images made so far will be saved (Ctrl-C again to quit)"


def _start(url: str, out: Path, *extra: str) -> subprocess.Popen[str]:
    """`sdtui generate` of 150 steps: 7.5 s on the slow demo unless interrupted."""
    env = {**os.environ, "SDTUI_CONFIG": str(out / "no-config.toml")}
    for name in ("SDTUI_URL", "SDTUI_USER", "SDTUI_PASSWORD", "SDTUI_OUT"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "sdtui", "generate", "a lighthouse", "--url", url,
         "--out", str(out), "--steps", "150", "--width", "64", "--height", "64", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_until_sampling(
    url: str, proc: subprocess.Popen[str] | None, timeout: float = 8.0
) -> None:
    """Until the demo reports a few sampling steps of a job (its progress endpoint)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc is None or proc.poll() is None, proc and proc.communicate()
        state: dict[str, Any] = httpx.get(f"{url}/sdapi/v1/progress").json()["state"]
        if state["sampling_step"] >= 3:
            return
        time.sleep(0.02)
    raise AssertionError("the job never started sampling")


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=10)
    return proc.returncode, out, err


def _saved(out: Path) -> list[Path]:
    return sorted(out.rglob("*.png"))


def _temps(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_interrupts_the_job_and_saves_its_image(
    slow_demo: DemoServer, tmp_path: Path, signum: int, status: int
) -> None:
    proc = _start(slow_demo.url, tmp_path)
    _wait_until_sampling(slow_demo.url, proc)
    started = time.monotonic()
    proc.send_signal(signum)
    code, out, err = _finish(proc)
    assert code == status, err
    assert time.monotonic() - started < 5  # the job stopped early: 150 steps take 7.5 s
    assert err.count(INTERRUPTING) == 1 and "Traceback" not in err
    [saved] = _saved(tmp_path)
    assert out.splitlines() == [str(saved)]
    text = read_parameters(saved.read_bytes())
    assert text is not None and parse_infotext(text).prompt == "a lighthouse"
    assert not _temps(tmp_path)
    # The server is idle again: the job was interrupted, not abandoned.
    assert httpx.get(f"{slow_demo.url}/sdapi/v1/progress").json()["state"]["job_count"] == 0


def test_ctrl_c_while_another_clients_job_runs_leaves_that_job_alone(
    slow_demo: DemoServer, tmp_path: Path
) -> None:
    """The server's interrupt stops whatever runs. Ctrl-C while our job waited behind another
    client's stopped that one; it is now held until ours starts, then ours is interrupted and
    what it made is saved."""
    import threading

    other: dict[str, Any] = {}

    def other_client() -> None:
        body = {"prompt": "someone else", "steps": 80, "width": 64, "height": 64}
        started = time.monotonic()
        httpx.post(f"{slow_demo.url}/sdapi/v1/txt2img", json=body, timeout=30)
        other["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=other_client, daemon=True)
    thread.start()
    _wait_until_sampling(slow_demo.url, proc=None)
    proc = _start(slow_demo.url, tmp_path)
    time.sleep(2.0)  # ours is sent (the process starts in well under 1 s) and waits behind it
    proc.send_signal(signal.SIGINT)
    thread.join(10)
    assert other["seconds"] >= 80 * 0.05 * 0.9  # it ran all its 80 steps: not interrupted
    code, out, err = _finish(proc)
    assert code == 130, err
    assert "interrupted as soon as it starts" in err and "Traceback" not in err
    [saved] = _saved(tmp_path)  # ours ran, was interrupted at once, and was saved
    assert out.splitlines() == [str(saved)]


def test_json_says_interrupted(slow_demo: DemoServer, tmp_path: Path) -> None:
    import json

    proc = _start(slow_demo.url, tmp_path, "--json")
    _wait_until_sampling(slow_demo.url, proc)
    proc.send_signal(signal.SIGTERM)
    code, out, err = _finish(proc)
    assert code == 143, err
    data = json.loads(out)
    assert data["interrupted"] is True and Path(data["images"][0]["path"]).is_file()


def test_ctrl_c_twice_quickly(slow_demo: DemoServer, tmp_path: Path) -> None:
    proc = _start(slow_demo.url, tmp_path)
    _wait_until_sampling(slow_demo.url, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.005)  # two signals sent back to back would arrive as one
    proc.send_signal(signal.SIGINT)
    code, _, err = _finish(proc)
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert not _temps(tmp_path)
    # Whatever made it to disk is whole and carries its parameters.
    for path in _saved(tmp_path):
        assert read_parameters(path.read_bytes())


@pytest.mark.parametrize(("second", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_second_signal_quits_without_waiting(tmp_path: Path, second: int, status: int) -> None:
    """A server that takes the interrupt but keeps the request open: the second signal ends it."""
    routes = {
        ("POST", "/sdapi/v1/txt2img"): Reply(body={"images": [], "info": ""}, delay=8),
        ("POST", "/sdapi/v1/interrupt"): Reply(body={}),
    }
    with FaultyServer(dict(routes)) as server:
        proc = _start(server.url, tmp_path)
        _wait_for_request(server, "/txt2img", proc)
        proc.send_signal(signal.SIGINT)
        assert proc.stderr is not None
        assert proc.stderr.readline().strip() == INTERRUPTING
        _wait_for_request(server, "/interrupt", proc)
        started = time.monotonic()
        proc.send_signal(second)
        code, out, err = _finish(proc)
        assert code == status, err
        assert time.monotonic() - started < 3
        assert out == "" and "Traceback" not in err
        assert not _temps(tmp_path) and not _saved(tmp_path)


def _wait_for_request(server: FaultyServer, path: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 8
    while not any(s.path.endswith(path) for s in server.seen):
        assert time.monotonic() < deadline and proc.poll() is None, f"no {path} request"
        time.sleep(0.02)


def test_a_signal_before_the_job_is_sent_quits_at_once(tmp_path: Path) -> None:
    """Still fetching the sampler list when the signal comes: nothing to interrupt or save."""
    with FaultyServer({("GET", "/sdapi/v1/samplers"): Reply(body=[], delay=5)}) as server:
        proc = _start(server.url, tmp_path, "--sampler", "Euler")
        _wait_for_request(server, "/samplers", proc)
        proc.send_signal(signal.SIGTERM)
        code, _, err = _finish(proc)
        assert code == 143, err
        assert not any(s.path.endswith("/txt2img") for s in server.seen)
        assert INTERRUPTING not in err and "Traceback" not in err


def test_a_server_without_interrupt_says_so_and_quits(tmp_path: Path) -> None:
    """KoboldCpp and sd.cpp have no /sdapi/v1/interrupt (404): say so in one line, exit at once."""
    routes = {("POST", "/sdapi/v1/txt2img"): Reply(body={"images": [], "info": ""}, delay=8)}
    with FaultyServer(dict(routes)) as server:
        proc = _start(server.url, tmp_path)
        _wait_for_request(server, "/txt2img", proc)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code, _, err = _finish(proc)
        assert code == 130, err
        assert time.monotonic() - started < 3
        assert err.splitlines() == [
            INTERRUPTING,
            "sdtui: this server cannot interrupt a job (it has no /sdapi/v1/interrupt); quitting",
        ]
        assert "Traceback" not in err


def test_quitting_mid_save_finishes_the_file_and_leaves_no_temp(
    demo_server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both Ctrl-Cs arrive while an image is being written: the write completes (in its thread)
    before the process ends, so the folder holds a whole PNG and no temporary file."""
    from sdtui.cli import main
    from sdtui.store import ImageStore

    monkeypatch.setenv("SDTUI_CONFIG", str(tmp_path / "no-config.toml"))
    real_save = ImageStore.save

    def slow_save(self: ImageStore, png: bytes, **kwargs: Any) -> Path:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # the command has given up on the job by now
        return real_save(self, png, **kwargs)

    monkeypatch.setattr(ImageStore, "save", slow_save)
    code = main(["generate", "x", "--steps", "2", "--width", "64", "--height", "64",
                 "--url", demo_server.url, "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 130
    [saved] = _saved(tmp_path / "out")
    assert read_parameters(saved.read_bytes()) and not _temps(tmp_path)
