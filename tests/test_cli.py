"""Headless commands: generate and info, as scripts call them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdtui.cli import main
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDTUI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("SDTUI_URL", "SDTUI_USER", "SDTUI_PASSWORD", "SDTUI_OUT"):
        monkeypatch.delenv(name, raising=False)


def test_generate_prints_saved_paths(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main([
        "generate", "a red fox, oil painting", "--negative", "blurry", "--steps", "4",
        "--seed", "42", "--sampler", "euler a", "--scheduler", "karras", "--cfg", "5.5",
        "--width", "64", "--height", "96", "--batch-size", "2", "--batch-count", "2",
        "--url", demo_server.url, "--out", str(out),
    ])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    paths = [Path(line) for line in captured.out.splitlines()]
    assert len(paths) == 4 and all(p.is_file() and out in p.parents for p in paths)
    infos = [parse_infotext(read_parameters(p.read_bytes()) or "") for p in paths]
    assert sorted(i.seed or 0 for i in infos) == [42, 43, 44, 45]
    first = infos[0]
    assert first.prompt == "a red fox, oil painting" and first.negative_prompt == "blurry"
    assert (first.steps, first.cfg_scale, first.sampler, first.scheduler) == (
        4,
        5.5,
        "Euler a",
        "Karras",
    )
    assert (first.width, first.height) == (64, 96)


def test_generate_json_and_model(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    model = httpx.get(f"{demo_server.url}/sdapi/v1/sd-models").json()[-1]
    code = main(["generate", "x", "--steps", "2", "--width", "64", "--height", "64",
                 "--model", model["model_name"], "--json", "--url", demo_server.url,
                 "--out", str(tmp_path)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    [image] = data["images"]
    assert Path(image["path"]).is_file()
    assert f"Model: {model['model_name']}" in image["infotext"]
    assert data["interrupted"] is False


def test_unknown_sampler_lists_the_choices(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["generate", "x", "--sampler", "Nope", "--url", demo_server.url, "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "unknown sampler 'Nope'" in err and "Euler a" in err
    assert not list(tmp_path.rglob("*.png"))


def test_no_server_is_one_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["generate", "x", "--url", f"http://127.0.0.1:{port}", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("sdtui: Cannot reach") and err.count("\n") == 1
    assert "Traceback" not in err


def test_info_prints_parameters(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["generate", "lighthouse\nin a storm", "--steps", "3", "--seed", "5", "--width", "64",
          "--height", "64", "--url", demo_server.url, "--out", str(tmp_path)])  # fmt: skip
    path = capsys.readouterr().out.strip()
    assert main(["info", path]) == 0
    text = capsys.readouterr().out
    assert text.startswith("lighthouse\nin a storm\n") and "Seed: 5" in text
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    assert main(["info", path, str(junk), "--json"]) == 1
    captured = capsys.readouterr()
    [record] = json.loads(captured.out)
    assert record["prompt"] == "lighthouse\nin a storm" and record["params"]["Seed"] == "5"
    assert "junk.png" in captured.err


def test_headless_commands_import_no_textual() -> None:
    code = (
        "import sys, sdtui.cli\n"
        "sys.argv = ['sdtui', 'generate', '--help']\n"
        "try:\n    sdtui.cli.main()\nexcept SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules, 'textual was imported'\n"
        "import sdtui.engine, sdtui.store, sdtui.demo\n"
        "assert 'textual' not in sys.modules, 'textual was imported by the engine'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "examples:" in result.stdout


def test_version_and_help_via_module() -> None:
    env = {**os.environ, "SDTUI_CONFIG": "/nonexistent/config.toml"}
    version = subprocess.run(
        [sys.executable, "-m", "sdtui", "--version"], capture_output=True, text=True, env=env
    )
    assert version.returncode == 0 and version.stdout.startswith("sdtui ")
    help_text = subprocess.run(
        [sys.executable, "-m", "sdtui", "--help"], capture_output=True, text=True, env=env
    )
    assert "sdtui --demo" in help_text.stdout and "config file:" in help_text.stdout


def test_generate_with_embedded_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "x", "--steps", "2", "--width", "64", "--height", "64", "--demo",
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    assert Path(capsys.readouterr().out.strip()).is_file()


def test_serve_demo_bad_auth_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve-demo", "--port", "0", "--api-auth", "nocolon"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "USER:PASS" in err and "Traceback" not in err
