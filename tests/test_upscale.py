"""`sdtui upscale` and engine.upscale: extras through the demo, results saved as the web UI does."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from sdtui.api.client import SDClient
from sdtui.cli import main
from sdtui.engine.img2img import read_source_image
from sdtui.engine.upscale import UpscaleOptions, postprocessing_text, upscale_files
from sdtui.images.png import read_text_chunks
from sdtui.store import ImageStore
from sdtui.store.index import HistoryIndex, HistoryQuery
from tests.faulty import FaultyServer, Handler, Reply, Seen, json_reply
from tests.faulty_servers import jpeg_with_exif, png_bytes, png_with_parameters

PARAMS = "a lighthouse\nSteps: 2, Sampler: Euler, Seed: 5, Size: 64x48, Version: v1.10.1"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDTUI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("SDTUI_URL", "SDTUI_USER", "SDTUI_PASSWORD", "SDTUI_OUT"):
        monkeypatch.delenv(name, raising=False)


def generated(demo_server: Any, out: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code = main(["generate", "a red fox", "--steps", "2", "--seed", "3", "--width", "64",
                 "--height", "64", "--url", demo_server.url, "--out", str(out)])  # fmt: skip
    path = Path(capsys.readouterr().out.strip())
    assert code == 0 and path.is_file()
    return path


def upscale(
    capsys: pytest.CaptureFixture[str], server: Any, out: Path, *argv: str
) -> tuple[int, list[Path], str]:
    code = main(["upscale", *argv, "--url", server.url, "--out", str(out)])
    captured = capsys.readouterr()
    return code, [Path(p) for p in captured.out.splitlines() if p.strip()], captured.err


def test_one_file_keeps_its_parameters_and_lands_beside_its_source(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(demo_server, tmp_path, capsys)
    code, [path], err = upscale(capsys, demo_server, tmp_path, str(source), "--upscaler", "lanczos")
    assert code == 0, err
    assert path.parent == source.parent and path.name == f"{source.stem}-2x.png"
    assert Image.open(path).size == (128, 128)
    texts = read_text_chunks(path.read_bytes())
    assert texts["parameters"] == read_text_chunks(source.read_bytes())["parameters"]
    assert texts["postprocessing"].startswith("Postprocess upscale by: 2")
    assert "Postprocess upscaler: Lanczos" in texts["postprocessing"]
    # The history reads it as an image like its source: same prompt and seed, newest first.
    index = HistoryIndex([tmp_path])
    index.scan()
    upscaled, original = (index.get(r.path) for r in index.query(HistoryQuery()))
    index.close()
    assert upscaled is not None and original is not None
    assert (upscaled.path, original.path) == (path, source)
    assert (upscaled.prompt, upscaled.seed) == (original.prompt, original.seed) == ("a red fox", 3)
    assert (upscaled.width, upscaled.height) == (128, 128)


def test_several_files_go_in_one_batch_and_print_in_order(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first.png"
    first.write_bytes(png_with_parameters(PARAMS, (64, 48)))
    second = tmp_path / "second.jpg"
    second.write_bytes(jpeg_with_exif(PARAMS, (40, 32)))
    out = tmp_path / "out"
    code, paths, err = upscale(capsys, demo_server, out, str(first), str(second),
                               "--upscaler", "Nearest", "--scale", "1.5")  # fmt: skip
    assert code == 0, err
    assert [p.name for p in paths] == ["first-1.5x.png", "second-1.5x.png"]
    assert all(out in p.parents for p in paths)  # sources outside the store: today's folder
    # The web UI's upscalers round down to multiples of 8: 40x32 by 1.5 is 56x48.
    assert [Image.open(p).size for p in paths] == [(96, 72), (56, 48)]
    for p in paths:
        assert read_text_chunks(p.read_bytes())["parameters"] == PARAMS  # EXIF's too


def test_to_a_size_with_and_without_crop(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "wide.png"
    source.write_bytes(png_with_parameters(PARAMS, (64, 48)))
    code, [path], err = upscale(capsys, demo_server, tmp_path / "out", str(source), "--upscaler",
                                "Lanczos", "--width", "100", "--height", "100")  # fmt: skip
    assert code == 0, err
    assert path.name == "wide-100x100.png" and Image.open(path).size == (100, 100)
    assert (
        "Postprocess upscale to: 100x100" in read_text_chunks(path.read_bytes())["postprocessing"]
    )
    code, [loose], err = upscale(capsys, demo_server, tmp_path / "out", str(source), "--upscaler",
                                 "Lanczos", "--width", "100", "--height", "100", "--no-crop")  # fmt: skip
    assert code == 0, err
    assert loose.name == "wide-100x100-2.png"  # never overwrites
    assert "crop" not in read_text_chunks(loose.read_bytes())["postprocessing"]


def test_a_second_upscaler_is_blended_in(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    bodies: list[Any] = []
    original = SDClient.extra_single_image

    async def recording(self: SDClient, image: bytes, request: Any) -> Any:
        bodies.append(request)
        return await original(self, image, request)

    monkeypatch.setattr(SDClient, "extra_single_image", recording)
    source = tmp_path / "s.png"
    source.write_bytes(png_with_parameters(PARAMS))
    code, [path], err = upscale(capsys, demo_server, tmp_path / "out", str(source), "--upscaler",
                                "lanczos", "--upscaler-2", "nearest")  # fmt: skip
    assert code == 0, err
    [request] = bodies
    assert (request.upscaler_1, request.upscaler_2) == ("Lanczos", "Nearest")
    assert request.extras_upscaler_2_visibility == 0.5 and request.resize_mode == 0
    assert (
        "Postprocess upscaler 2: Nearest" in read_text_chunks(path.read_bytes())["postprocessing"]
    )


def test_unknown_upscaler_is_one_line_and_saves_nothing(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "s.png"
    source.write_bytes(png_with_parameters(PARAMS))
    code, paths, err = upscale(capsys, demo_server, tmp_path / "out", str(source),
                               "--upscaler", "4x-Nope")  # fmt: skip
    assert code == 1 and not paths
    assert err.count("\n") == 1 and "unknown upscaler '4x-Nope'" in err and "Lanczos" in err
    assert not (tmp_path / "out").exists()


def test_an_unreadable_file_fails_alone(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(png_with_parameters(PARAMS))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    code, paths, err = upscale(capsys, demo_server, tmp_path / "out", str(tmp_path / "gone.png"),
                               str(junk), str(good), "--upscaler", "Lanczos")  # fmt: skip
    assert code == 1
    assert [p.name for p in paths] == ["good-2x.png"]
    lines = err.splitlines()
    assert len(lines) == 2 and "cannot read" in lines[0] and "junk.png" in lines[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "512"], "give both --width and --height"),
        (["--scale", "2", "--width", "512", "--height", "512"], "give --scale or --width/--height"),
        (["--no-crop"], "--no-crop is for --width/--height"),
        (["--upscaler-2-visibility", "0.3"], "--upscaler-2-visibility needs --upscaler-2"),
    ],
)
def test_flags_that_do_not_go_together_exit_2(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
    message: str,
) -> None:  # fmt: skip
    source = tmp_path / "s.png"
    source.write_bytes(png_with_parameters(PARAMS))
    code, paths, err = upscale(capsys, demo_server, tmp_path / "out", str(source),
                               "--upscaler", "Lanczos", *argv)  # fmt: skip
    assert code == 2 and not paths and err.count("\n") == 1 and message in err


def test_scale_range_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["upscale", "x.png", "--upscaler", "Lanczos", "--scale", "9"])
    assert caught.value.code == 2
    assert "Upscale by must be a number from 1 to 8 (got 9)" in capsys.readouterr().err


def test_in_a_real_process(demo_server: Any, tmp_path: Path) -> None:
    source = tmp_path / "s.png"
    source.write_bytes(png_with_parameters(PARAMS))
    env = {**os.environ, "SDTUI_CONFIG": str(tmp_path / "none.toml")}
    result = subprocess.run(
        [sys.executable, "-m", "sdtui", "upscale", str(source), "--upscaler", "Lanczos",
         "--url", demo_server.url, "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_file() and result.stderr == ""


# -- servers that answer differently --------------------------------------------------------------


def _bare_extras(seen: Seen) -> Reply:
    """A server that upscales (nearest) but sends the PNG without any text chunk."""
    body = seen.json()
    raw = base64.b64decode(body["image"])
    with Image.open(io.BytesIO(raw)) as image:
        scale = body["upscaling_resize"]
        big = image.resize((int(image.width * scale), int(image.height * scale)))
        out = io.BytesIO()
        big.save(out, "JPEG" if body.get("upscaler_1") == "jpeg" else "PNG")
    return json_reply({"html_info": "", "image": base64.b64encode(out.getvalue()).decode()})


@pytest.mark.parametrize("answer", ["png", "jpeg"])
def test_texts_are_spliced_in_when_the_server_sends_none(tmp_path: Path, answer: str) -> None:
    source = tmp_path / "s.png"
    source.write_bytes(png_with_parameters(PARAMS))
    routes: dict[tuple[str, str], Reply | Handler] = {
        ("POST", "/sdapi/v1/extra-single-image"): _bare_extras
    }
    options = UpscaleOptions(upscaler=answer, scale=2)

    async def go(url: str) -> Any:
        async with SDClient(url) as client:
            return await upscale_files(client, [source], options, ImageStore(tmp_path / "out"))

    with FaultyServer(routes) as server:
        [result] = asyncio.run(go(server.url))
    assert result.error is None and result.path is not None
    data = result.path.read_bytes()
    assert data.startswith(b"\x89PNG")
    texts = read_text_chunks(data)
    assert texts["parameters"] == PARAMS
    assert texts["postprocessing"] == postprocessing_text(options)
    assert texts["postprocessing"] == f"Postprocess upscale by: 2, Postprocess upscaler: {answer}"
    assert Image.open(result.path).size == (128, 96)


def test_a_server_without_extras_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "s.png"
    source.write_bytes(png_bytes())
    routes: dict[tuple[str, str], Reply | Handler] = {
        ("GET", "/sdapi/v1/upscalers"): json_reply([{"name": "Lanczos"}])
    }
    with FaultyServer(routes) as server:
        code = main(["upscale", str(source), "--upscaler", "Lanczos", "--url", server.url,
                     "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "does not offer upscaling" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_source_image_reading(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes((30, 20)))
    source = read_source_image(path)
    assert (source.format, source.width, source.height, source.name) == ("png", 30, 20, "a.png")
    assert base64.b64decode(source.b64()) == source.data


def test_info_json_shows_the_postprocessing(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    source = tmp_path / "s.png"
    source.write_bytes(png_with_parameters(PARAMS))
    code, [path], err = upscale(capsys, demo_server, tmp_path / "out", str(source),
                                "--upscaler", "Lanczos")  # fmt: skip
    assert code == 0, err
    assert main(["info", str(path), str(source), "--json"]) == 0
    upscaled, original = json.loads(capsys.readouterr().out)
    assert upscaled["parameters"] == PARAMS and upscaled["params"]["Seed"] == "5"
    assert upscaled["postprocessing"].startswith("Postprocess upscale by: 2")
    assert "postprocessing" not in original
