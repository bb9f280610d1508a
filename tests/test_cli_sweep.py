"""`sdtui generate --sweep ... --grid`: the web UI's X/Y/Z plot from the command line, its cells
run as ordinary jobs over every server, and the labelled grid saved beside them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from sdtui.cli import SWEEP_HELP, build_parser, main
from sdtui.demo import DemoServer
from sdtui.engine.sweep import MAX_CELLS, SWEEP_FIELDS
from sdtui.images.convert import read_parameters
from sdtui.images.grid import grid_layout
from sdtui.images.infotext import parse_infotext
from sdtui.images.png import read_text_chunks

SMALL = ("--width", "64", "--height", "64")


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDTUI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("SDTUI_URL", "SDTUI_USER", "SDTUI_PASSWORD", "SDTUI_OUT"):
        monkeypatch.delenv(name, raising=False)


def _sdtui(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDTUI_CONFIG": str(tmp_path / "no-config.toml")}
    for name in ("SDTUI_URL", "SDTUI_USER", "SDTUI_PASSWORD", "SDTUI_OUT"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "sdtui", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_a_two_by_two_sweep_over_two_servers_and_its_grid(
    demo_factory: Callable[..., DemoServer], tmp_path: Path
) -> None:
    one, two = demo_factory(step_delay=0.02), demo_factory(step_delay=0.02)
    out = tmp_path / "out"
    result = _sdtui(tmp_path, "generate", "a lighthouse", *SMALL, "--sweep", "cfg=5,7",
                    "--sweep", "steps=2,3", "--grid", "--url", one.url, "--url", two.url,
                    "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    *cells, grid = [Path(line) for line in result.stdout.splitlines()]
    assert len(cells) == 4 and all(p.is_file() and out in p.parents for p in cells)
    infos = [parse_infotext(read_parameters(p.read_bytes()) or "") for p in cells]
    assert sorted((i.cfg_scale, i.steps) for i in infos) == [(5, 2), (5, 3), (7, 2), (7, 3)]
    assert len({i.seed for i in infos}) == 1  # one fixed seed: only the swept fields change
    servers = {read_text_chunks(p.read_bytes())["sdtui-server"] for p in cells}
    assert servers == {one.url.removeprefix("http://"), two.url.removeprefix("http://")}

    # The grid: last, beside the images, 2x2 cells of 64 px under and beside their labels.
    assert grid.parent == cells[0].parent and grid.name.startswith("xyz_grid-0000-")
    data = grid.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        size = image.size
    layout = grid_layout(
        [(64, 64)] * 4, 2, 2, ["CFG Scale: 5", "CFG Scale: 7"], ["Steps: 2", "Steps: 3"]
    )
    assert size == (layout.width, layout.height)
    assert size[0] == 64 * 3 // 4 + 2 * 64 and size[1] > 2 * 64  # row labels' margin, column labels
    text = read_parameters(data) or ""
    assert "Script: X/Y/Z plot" in text and "X Type: CFG Scale" in text
    assert 'X Values: "5,7"' in text and "Y Type: Steps" in text


def test_a_sweep_on_one_server_with_json(demo_server: DemoServer, tmp_path: Path) -> None:
    code_out = _sdtui(tmp_path, "generate", "a red fox", *SMALL, "--steps", "2", "--seed", "9",
                      "--sweep", "sampler=euler a,euler,dpm++ 2m", "--grid", "--json",
                      "--url", demo_server.url, "--out", str(tmp_path / "out"))  # fmt: skip
    assert code_out.returncode == 0, code_out.stderr
    data = json.loads(code_out.stdout)
    assert data["jobs"] == 3 and data["failed"] == [] and data["interrupted"] is False
    samplers = [parse_infotext(i["infotext"]).sampler or "" for i in data["images"]]
    assert sorted(samplers) == ["DPM++ 2M", "Euler", "Euler a"]  # the server's own names
    assert {i["seed"] for i in data["images"]} == {9}
    assert Path(data["grid"]).is_file() and Path(data["grid"]).name.startswith("xyz_grid-")


def test_prompt_search_and_replace(demo_server: DemoServer, tmp_path: Path) -> None:
    result = _sdtui(tmp_path, "generate", "a red fox", *SMALL, "--steps", "2", "--sweep",
                    "prompt=fox,cat", "--url", demo_server.url, "--out", str(tmp_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    prompts = sorted(parse_infotext(read_parameters(p.read_bytes()) or "").prompt for p in paths)
    assert prompts == ["a red cat", "a red fox"]  # no --grid: no grid


@pytest.mark.parametrize(
    ("sweeps", "message"),
    [
        (["cfgg=5,7"], "unknown sweep field 'cfgg'; use one of: seed,"),
        (["cfg"], "a sweep is FIELD=V1,V2,..."),
        (["cfg=a,b"], "CFG Scale: 'a' is not a number or a range"),
        (["steps=0,5"], "Steps"),
        (["prompt=cat,dog"], "Prompt S/R did not find cat in prompt or negative prompt"),
        (["steps=1-30", "cfg=1-30"], f"the sweep makes 900 jobs; at most {MAX_CELLS}"),
        (["sampler=euler,nope"], "unknown sampler 'nope'"),
        (["cfg=5", "steps=2", "seed=1", "width=64"], "--sweep at most 3 times"),
        (["size=64x64", "width=64,128"], "Width and Size both set the width"),
    ],
)
def test_a_bad_sweep_is_one_line_exit_2_and_nothing_made(
    demo_server: DemoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sweeps: list[str],
    message: str,
) -> None:
    flags = [part for text in sweeps for part in ("--sweep", text)]
    code = main(["generate", "a red fox", *flags, "--url", demo_server.url, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.err.startswith("sdtui: ") and captured.err.count("\n") == 1
    assert message in captured.err
    assert captured.out == "" and not list(tmp_path.rglob("*.png"))


def test_grid_without_a_sweep_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "x", "--grid", "--url", "http://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err == (
        "sdtui: --grid draws a sweep: give --sweep FIELD=V1,V2,... too\n"
    )


def test_help_explains_the_syntax_and_names_every_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--sweep FIELD=V1,V2,..." in text and "--grid" in text
    assert "example: --sweep cfg=5,7,9 --sweep steps=20,30 --grid" in text
    assert "prompt=fox,cat,dog is Prompt S/R" in text
    listed = {name.split(" ")[0] for name in SWEEP_HELP.split(", ")}
    assert listed == set(SWEEP_FIELDS)
