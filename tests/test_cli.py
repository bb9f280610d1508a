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


# -- numeric flags: the form's ranges and words ---------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--width", "13", "Width must be 64 to 2048 pixels (got 13)"),
        ("--width", "100", "Width must be a multiple of 8 (got 100)"),
        ("--height", "4096", "Height must be 64 to 2048 pixels (got 4096)"),
        ("--cfg", "-1", "CFG must be a number from 1 to 30 (got -1)"),
        ("--cfg", "nan", "CFG must be a number from 1 to 30 (got nan)"),
        ("--seed", "-5", "Seed must be -1 (random) or 0 to 4294967295 (got -5)"),
        ("--seed", "4294967296", "Seed must be -1 (random) or 0 to 4294967295"),
        ("--steps", "500", "Steps must be a whole number from 1 to 150 (got 500)"),
        ("--steps", "abc", "Steps must be a whole number from 1 to 150 (got 'abc')"),
        ("--steps", "2.5", "Steps must be a whole number from 1 to 150"),
        ("--batch-size", "9", "Batch size must be 1 to 8 images (got 9)"),
        ("--batch-count", "0", "Batch count must be 1 to 100 (got 0)"),
    ],
)
def test_numeric_flags_use_the_forms_ranges(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str,
    message: str,
) -> None:  # fmt: skip
    with pytest.raises(SystemExit) as caught:
        main(["generate", "x", flag, value, "--url", demo_server.url, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    [line] = [line for line in err.splitlines() if "error:" in line]
    assert line.startswith(f"sdtui generate: error: argument {flag}: {message}")
    assert "invalid" not in err and "_positive" not in err and "Traceback" not in err
    assert not list(tmp_path.rglob("*.png"))


def test_numeric_flags_at_their_edges_are_accepted(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["generate", "x", "--steps", "1", "--cfg", "30", "--seed", "4294967295",
                 "--width", "2048", "--height", "64", "--json", "--url", demo_server.url,
                 "--out", str(tmp_path)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    [image] = json.loads(captured.out)["images"]
    info = parse_infotext(image["infotext"])
    assert (info.seed, info.width, info.height, info.steps) == (4294967295, 2048, 64, 1)
    assert Path(image["path"]).name.split("-")[2] == "4294967295"


def test_generate_help_shows_defaults_and_ranges() -> None:
    env = {**os.environ, "SDTUI_CONFIG": "/nonexistent/config.toml", "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "sdtui", "generate", "--help"], capture_output=True, text=True,
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for expected in (
        "sampling steps (1-150, default 20)",
        "(1-30, default 7.0)",
        "(else 0-4294967295, default -1)",
        "(64-2048, a multiple of 8, default 512)",
        "(1-8, default 1)",
        "(1-100, default 1)",
        "default: the loaded model",
        "130 (SIGINT) or 143 (SIGTERM)",
        "examples:\n  sdtui --demo",  # the epilog keeps its lines
    ):
        assert expected in text, expected
    assert "default: None" not in text and "default: False" not in text


# -- output into a closed pipe --------------------------------------------------------------------


def _made_image(server_url: str, folder: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    main(["generate", "x", "--steps", "2", "--width", "64", "--height", "64",
          "--url", server_url, "--out", str(folder)])  # fmt: skip
    return Path(capsys.readouterr().out.strip())


def test_info_into_a_closed_pipe_exits_quietly(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _made_image(demo_server.url, tmp_path, capsys)
    (tmp_path / "a.png").write_bytes(image.read_bytes())
    env = {**os.environ, "SDTUI_CONFIG": "/nonexistent/config.toml"}
    # Far more output than a pipe holds, so a write meets the closed pipe (as `| head -1` does).
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdtui", "info", *["a.png"] * 3000],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"== a.png")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) in (0, 141)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_generate_into_a_closed_pipe_exits_quietly(demo_server: Any, tmp_path: Path) -> None:
    env = {**os.environ, "SDTUI_CONFIG": "/nonexistent/config.toml"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdtui", "generate", "x", "--steps", "2", "--width", "64",
         "--height", "64", "--url", demo_server.url, "--out", str(tmp_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the paths are printed
    _, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, 141), err
    assert b"Traceback" not in err and b"BrokenPipe" not in err and b"Exception ignored" not in err
    assert len(list(tmp_path.rglob("*.png"))) == 1  # the image was saved all the same


def test_info_json_is_always_an_array(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _made_image(demo_server.url, tmp_path, capsys)
    assert main(["info", str(image), "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["path"] == str(image) and record["params"]["Steps"] == "2"
    assert main(["info", str(tmp_path / "missing.png"), "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == []


# -- names: case-insensitive, file names, hashes, titles, unique prefixes ---------------------------


@pytest.mark.parametrize("which", ["file name", "part", "upper case", "title", "hash", "sha256"])
def test_model_names_resolve(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    from sdtui.demo import catalog

    aurora = catalog.find_model("demo-aurora")
    assert aurora is not None
    wanted = {
        "file name": "demo-aurora.safetensors",
        "part": "aurora",
        "upper case": "AURORA",
        "title": aurora.title,
        "hash": aurora.shorthash,
        "sha256": aurora.sha256[:16],
    }[which]
    code = main(["generate", "x", "--steps", "2", "--width", "64", "--height", "64",
                 "--model", wanted, "--json", "--url", demo_server.url, "--out", str(tmp_path)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    [image] = json.loads(captured.out)["images"]
    assert "Model: demo-aurora," in image["infotext"]


def test_ambiguous_names_say_so(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["generate", "x", "--url", demo_server.url, "--out", str(tmp_path)]
    assert main([*base, "--model", "demo"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sdtui: model 'demo' matches several: demo-dusk.safetensors [")
    assert err.rstrip().endswith("(give more of the name)") and err.count("\n") == 1
    assert main([*base, "--sampler", "dpm++ 2m s"]) == 1
    assert "matches several: DPM++ 2M SDE, DPM++ 2M SDE Heun" in capsys.readouterr().err
    assert main([*base, "--model", "nope"]) == 1
    err = capsys.readouterr().err
    assert "unknown model 'nope'; the server has: demo-dusk.safetensors [" in err
    assert not list(tmp_path.rglob("*.png"))


def test_sampler_and_scheduler_prefixes_and_aliases(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["generate", "x", "--steps", "2", "--width", "64", "--height", "64",
                 "--sampler", "k_euler_a", "--scheduler", "expo", "--json",
                 "--url", demo_server.url, "--out", str(tmp_path)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    [image] = json.loads(captured.out)["images"]
    info = parse_infotext(image["infotext"])
    assert (info.sampler, info.scheduler) == ("Euler a", "Exponential")


def test_the_tui_paints_before_the_http_library_loads() -> None:
    """httpx takes ~70 ms to import: the TUI imports it only when it first talks to the server,
    after its first frame (the progress poller had started importing it with the engine)."""
    code = (
        "import sys, sdtui.cli, sdtui.ui.app\n"
        "assert 'httpx' not in sys.modules, 'httpx was imported with the TUI'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
