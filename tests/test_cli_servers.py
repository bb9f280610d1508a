"""Several servers from the command line: profiles in the config, `sdtui servers`, and
`sdtui generate` spread over two demo backends (real processes, as scripts run sdtui)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sdtui.cli import main
from sdtui.demo import DemoServer
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.images.png import read_text_chunks

SERVER_CHUNK = "sdtui-server"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDTUI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("SDTUI_URL", "SDTUI_USER", "SDTUI_PASSWORD", "SDTUI_OUT"):
        monkeypatch.delenv(name, raising=False)


def _dead_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _name(url: str) -> str:
    return url.removeprefix("http://")


def _sdtui(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "SDTUI_CONFIG": str(tmp_path / "no-config.toml"), **(env or {})}
    for name in ("SDTUI_URL", "SDTUI_USER", "SDTUI_PASSWORD", "SDTUI_OUT"):
        full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "sdtui", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _made(paths: list[Path]) -> list[tuple[int, str]]:
    """(seed, server) of each image, by seed."""
    made = []
    for path in paths:
        data = path.read_bytes()
        info = parse_infotext(read_parameters(data) or "")
        made.append((info.seed or 0, read_text_chunks(data).get(SERVER_CHUNK, "")))
    return sorted(made)


# -- profiles from the config -------------------------------------------------------------------


def test_a_profile_named_by_url_takes_its_password_from_the_environment(
    demo_factory: Callable[..., DemoServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = demo_factory(api_auth="me:sesame")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[servers.box]\nurl = "{server.url}"\nuser = "me"\npassword_env = "BOX_PASSWORD"\n'
    )
    env = {"SDTUI_CONFIG": str(config), "BOX_PASSWORD": "sesame"}
    out = tmp_path / "out"
    args = ["generate", "x", "--steps", "2", "--width", "64", "--height", "64"]
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert main([*args, "--server", "box", "--out", str(out)]) == 0
        [path] = [Path(line) for line in capsys.readouterr().out.splitlines()]
        assert read_text_chunks(path.read_bytes())[SERVER_CHUNK] == "box"
        # Without --url, the config's servers are the servers.
        assert main([*args, "--out", str(out)]) == 0
        capsys.readouterr()
        patch.delenv("BOX_PASSWORD")
        assert main([*args, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err == (
            "sdtui: server 'box': its password_env BOX_PASSWORD is not set "
            "(export BOX_PASSWORD=..., or drop password_env)\n"
        )


def test_a_url_that_is_neither_a_url_nor_a_profile_lists_the_profiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[servers.gpu1]\nurl = "http://10.0.0.5:7860"\n[servers.gpu2]\nurl = "http://10.0.0.6:7860"\n'
    )
    monkeypatch.setenv("SDTUI_CONFIG", str(config))
    commands: list[list[str]] = [
        [],  # the TUI: refused before it starts
        ["generate", "x"],
        ["generate", "x", "--sweep", "cfg=5,7"],
        ["upscale", "a.png", "--upscaler", "Lanczos"],
        ["servers"],
    ]
    for command in commands:
        assert main([*command, "--url", "gpu3"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "'gpu3'" in err and "gpu1, gpu2" in err


def test_a_bad_servers_table_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[servers.gpu1]\nurl = "10.0.0.5"\n')
    monkeypatch.setenv("SDTUI_CONFIG", str(config))
    assert main(["servers"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[servers.gpu1]: url must be an http:// or https:// URL" in err


# -- sdtui servers ------------------------------------------------------------------------------


def test_servers_shows_each_server_and_says_which_do_not_answer(
    demo_factory: Callable[..., DemoServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two, dead = demo_factory(), demo_factory(), _dead_url()
    assert main(["servers", "--url", one.url, "--url", two.url]) == 0
    text = capsys.readouterr().out
    blocks = text.split("\n\n")
    assert [block.split()[0] for block in blocks] == [_name(one.url), _name(two.url)]
    model = httpx.get(f"{one.url}/sdapi/v1/options").json()["sd_model_checkpoint"]
    assert f"online\n  model: {model}\n" in blocks[0]
    assert "20 samplers" in blocks[0]

    assert main(["servers", "--url", one.url, "--url", dead, "--json"]) == 1
    records = json.loads(capsys.readouterr().out)
    assert [r["server"] for r in records] == [_name(one.url), _name(dead)]
    assert records[0]["online"] is True and records[0]["busy"] is False
    assert records[0]["model"] == model and "Euler a" in records[0]["samplers"]
    assert records[1]["online"] is False and "Cannot reach" in records[1]["error"]


def test_servers_says_a_server_is_busy(slow_demo: DemoServer, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdtui", "generate", "x", "--steps", "60", "--width", "64",
         "--height", "64", "--url", slow_demo.url, "--out", str(tmp_path)],
        env={**os.environ, "SDTUI_CONFIG": str(tmp_path / "none.toml")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while httpx.get(f"{slow_demo.url}/sdapi/v1/progress").json()["state"]["sampling_step"] < 2:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        result = _sdtui(tmp_path, "servers", "--url", slow_demo.url)
        assert result.returncode == 0, result.stderr
        assert "  busy (step " in result.stdout
    finally:
        proc.kill()
        proc.communicate()


# -- sdtui generate over several servers ----------------------------------------------------------

SMALL = ("--steps", "3", "--width", "64", "--height", "64")


def test_a_batch_count_is_spread_over_both_servers_with_one_servers_seeds(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    one, two = demo_factory(step_delay=0.02), demo_factory(step_delay=0.02)
    out = tmp_path / "out"
    result = _sdtui(tmp_path, "generate", "a red fox", *SMALL, "--batch-count", "4", "--seed",
                    "100", "--url", one.url, "--url", two.url, "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert len(paths) == 4 and all(p.is_file() and out in p.parents for p in paths)
    made = _made(paths)
    assert [seed for seed, _ in made] == [100, 101, 102, 103]
    assert {server for _, server in made} == {_name(one.url), _name(two.url)}


def test_a_fast_server_takes_more_of_the_jobs(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    slow, fast = demo_factory(step_delay=0.05), demo_factory(step_delay=0.002)
    # 20 steps: a second on the slow server, a few hundredths on the fast one.
    result = _sdtui(tmp_path, "generate", "x", "--steps", "20", "--width", "64", "--height", "64",
                    "--batch-count", "6", "--seed", "0", "--url", slow.url, "--url", fast.url,
                    "--out", str(tmp_path / "out"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    made = _made([Path(line) for line in result.stdout.splitlines()])
    assert [seed for seed, _ in made] == [0, 1, 2, 3, 4, 5]
    by_fast = sum(server == _name(fast.url) for _, server in made)
    assert by_fast >= 4, made  # the slow one ran one job (two at most) meanwhile


def test_json_names_each_images_server(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    one, two = demo_factory(step_delay=0.02), demo_factory(step_delay=0.02)
    dead = _dead_url()
    result = _sdtui(tmp_path, "generate", "x", *SMALL, "--batch-count", "2", "--batch-size", "2",
                    "--seed", "7", "--json", "--url", one.url, "--url", two.url, "--url", dead,
                    "--out", str(tmp_path / "out"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    images = sorted(data["images"], key=lambda i: i["seed"])
    assert [i["seed"] for i in images] == [7, 8, 9, 10]  # batch i starts at seed + i * size
    assert {i["server"] for i in images} <= {_name(one.url), _name(two.url)}
    assert all(Path(i["path"]).is_file() and i["error"] is None for i in images)
    assert data["interrupted"] is False and data["failed"] == [] and data["jobs"] == 2
    assert [s["server"] for s in data["servers"]] == [_name(u) for u in (one.url, two.url, dead)]
    assert data["servers"][2]["error"].startswith("Cannot reach")


def test_a_server_that_does_not_answer_is_left_out_with_one_warning(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    dead = _dead_url()
    result = _sdtui(tmp_path, "generate", "x", *SMALL, "--batch-count", "3", "--seed", "1",
                    "--url", dead, "--url", demo_server.url, "--out", str(tmp_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"sdtui: {_name(dead)} is left out: Cannot reach")
    assert result.stderr.count("\n") == 1
    made = _made([Path(line) for line in result.stdout.splitlines()])
    assert made == [(1, _name(demo_server.url)), (2, _name(demo_server.url)),
                    (3, _name(demo_server.url))]  # fmt: skip


def test_no_server_answering_is_one_line_and_exit_1(tmp_path: Path) -> None:
    first, second = _dead_url(), _dead_url()
    result = _sdtui(tmp_path, "generate", "x", "--url", first, "--url", second,
                    "--out", str(tmp_path))  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("sdtui: no server answers (")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert _name(first) in result.stderr and _name(second) in result.stderr
    assert result.stdout == "" and not list(tmp_path.rglob("*.png"))


def test_a_server_killed_mid_job_has_its_job_run_on_the_other(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    slow, fast = demo_factory(step_delay=0.05), demo_factory(step_delay=0.002)
    out = tmp_path / "out"
    # 60 steps: 3 s on the slow server, a fraction of a second on the fast one.
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdtui", "generate", "x", "--steps", "60", "--width", "64",
         "--height", "64", "--batch-count", "3", "--seed", "50", "--url", slow.url,
         "--url", fast.url, "--out", str(out)],
        env={**os.environ, "SDTUI_CONFIG": str(tmp_path / "none.toml")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while httpx.get(f"{slow.url}/sdapi/v1/progress").json()["state"]["sampling_step"] < 3:
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        slow.kill()
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert f"sdtui: {_name(slow.url)} dropped out mid-job" in stderr
    assert "its job goes to another server" in stderr and stderr.count("\n") == 1
    made = _made([Path(line) for line in stdout.splitlines()])
    assert made == [(50, _name(fast.url)), (51, _name(fast.url)), (52, _name(fast.url))]


def test_jobs_no_server_is_left_to_run_fail_with_exit_1(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    one, two = demo_factory(step_delay=0.05), demo_factory(step_delay=0.05)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdtui", "generate", "x", "--steps", "100", "--width", "64",
         "--height", "64", "--batch-count", "3", "--url", one.url, "--url", two.url,
         "--out", str(tmp_path / "out")],
        env={**os.environ, "SDTUI_CONFIG": str(tmp_path / "none.toml")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        for server in (one, two):
            while httpx.get(f"{server.url}/sdapi/v1/progress").json()["state"]["sampling_step"] < 2:
                assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
                time.sleep(0.02)
        one.kill()
        two.kill()
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert sum("dropped out mid-job" in line for line in lines) == 2
    assert lines[1].endswith(": no other server is left"), lines  # the second one to go
    assert sum("no server left to run it" in line for line in lines) == 3
    assert lines[-1] == "sdtui: 0 images saved · 0 of 3 jobs done · 3 failed"
    assert "Traceback" not in stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_interrupts_every_servers_job_and_saves_what_they_made(
    demo_factory: Callable[..., DemoServer], tmp_path: Path, signum: int, status: int
) -> None:
    one, two = demo_factory(step_delay=0.05), demo_factory(step_delay=0.05)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdtui", "generate", "x", "--steps", "150", "--width", "64",
         "--height", "64", "--batch-count", "4", "--seed", "10", "--url", one.url,
         "--url", two.url, "--out", str(out)],
        env={**os.environ, "SDTUI_CONFIG": str(tmp_path / "none.toml")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        for server in (one, two):
            while httpx.get(f"{server.url}/sdapi/v1/progress").json()["state"]["sampling_step"] < 3:
                assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
                time.sleep(0.02)
        started = time.monotonic()
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == status, stderr
    assert time.monotonic() - started < 5  # both jobs stopped early: 150 steps take 7.5 s
    assert stderr.splitlines() == [
        "interrupting: the images made so far will be saved (Ctrl-C again to quit)",
        "sdtui: interrupted · 2 images saved · 2 of 4 jobs done",
    ]
    made = _made([Path(line) for line in stdout.splitlines()])
    assert sorted(server for _, server in made) == sorted(
        [_name(one.url), _name(two.url)]
    )  # one image from each server; the two waiting jobs were dropped
    assert {seed for seed, _ in made} <= {10, 11, 12, 13}
    assert sorted(out.rglob("*.png")) == sorted(Path(line) for line in stdout.splitlines())
