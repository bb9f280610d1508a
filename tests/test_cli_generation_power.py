"""`sdtui generate`'s txt2img-tab flags, img2img from files and --from, against the demo."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from sdtui.api.client import SDClient
from sdtui.api.types import GenerationRequest
from sdtui.cli import main
from sdtui.engine.reuse import request_from_infotext
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.images.png import set_text_chunk


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDTUI_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("SDTUI_URL", "SDTUI_USER", "SDTUI_PASSWORD", "SDTUI_OUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The bodies of the generation requests the CLI sends (it still sends them)."""
    bodies: list[dict[str, Any]] = []
    original = SDClient.generate

    async def recording(self: SDClient, request: GenerationRequest) -> Any:
        body = request.to_payload()
        body.pop("force_task_id", None)  # a fresh one each job
        bodies.append({"kind": type(request).__name__, **body})
        return await original(self, request)

    monkeypatch.setattr(SDClient, "generate", recording)
    return bodies


def run(
    capsys: pytest.CaptureFixture[str], server: Any, out: Path, *argv: str
) -> tuple[int, list[Path], str]:
    code = main(["generate", *argv, "--url", server.url, "--out", str(out)])
    captured = capsys.readouterr()
    paths = [Path(line) for line in captured.out.splitlines() if line.strip()]
    return code, paths, captured.err


def infotext(path: Path) -> str:
    return read_parameters(path.read_bytes()) or ""


def image_file(path: Path, size: tuple[int, int], text: str | None = None) -> Path:
    out = io.BytesIO()
    Image.new("RGB", size, (180, 60, 40)).save(out, "PNG")
    data = out.getvalue()
    if text is not None:
        data = set_text_chunk(data, "parameters", text)
    path.write_bytes(data)
    return path


ALL_TXT2IMG_FLAGS = [
    "a castle <lora:add_detail:0.8>", "--negative", "blurry", "--style", "cinematic",
    "--style", "Oil painting", "--steps", "3", "--seed", "7", "--sampler", "DPM++ 2M",
    "--scheduler", "karras", "--cfg", "6.5", "--width", "64", "--height", "96", "--hires",
    "--hr-scale", "1.5", "--hr-upscaler", "lanczos", "--hr-steps", "2", "--denoise", "0.4",
    "--hr-sampler", "euler a", "--hr-prompt", "a castle, detailed", "--subseed", "9",
    "--subseed-strength", "0.25", "--clip-skip", "2", "--restore-faces", "--tiling",
    "--refiner", "aurora", "--refiner-switch-at", "0.7", "--vae", "vae-ft-mse", "--model", "dusk",
]  # fmt: skip


def test_every_txt2img_flag_reaches_the_server_in_a_real_process(
    demo_server: Any, tmp_path: Path
) -> None:
    env = {**os.environ, "SDTUI_CONFIG": str(tmp_path / "none.toml")}
    argv = ["generate", *ALL_TXT2IMG_FLAGS, "--url", demo_server.url, "--out", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "sdtui", *argv], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    [path] = [Path(line) for line in result.stdout.splitlines()]
    text = infotext(path)
    info = parse_infotext(text)
    assert info.prompt == (
        "cinematic still of a castle <lora:add_detail:0.8>, shallow depth of field, film grain, "
        "oil painting, impasto, visible brush strokes"
    )
    assert info.negative_prompt.startswith("blurry, cartoon")
    expected = {
        "Steps": "3",
        "Sampler": "DPM++ 2M",
        "Schedule type": "Karras",
        "CFG scale": "6.5",
        "Seed": "7",
        "Size": "64x96",
        "Model": "demo-dusk",
        "Face restoration": "CodeFormer",
        "VAE": "vae-ft-mse-840000-ema-pruned.safetensors",
        "Variation seed": "9",
        "Variation seed strength": "0.25",
        "Denoising strength": "0.4",
        "Clip skip": "2",
        "Tiling": "True",
        "Hires upscale": "1.5",
        "Hires steps": "2",
        "Hires upscaler": "Lanczos",
        "Hires sampler": "Euler a",
        "Refiner": "demo-aurora [12c7841cc0]",
        "Refiner switch at": "0.7",
    }
    assert {k: info.params.get(k) for k in expected} == expected
    assert "Lora hashes" in info.params
    assert info.params["Hires prompt"].startswith("cinematic still of a castle, detailed")
    assert Image.open(path).size == (96, 144)  # hires: the first pass's size x 1.5


def test_a_png_made_with_flags_comes_back_the_same_through_from(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    code, [first], err = run(capsys, demo_server, tmp_path, *ALL_TXT2IMG_FLAGS)
    assert code == 0, err
    code, [again], err = run(capsys, demo_server, tmp_path, "--from", str(first))
    assert code == 0, err
    assert err == ""  # nothing ignored, every name found
    assert sent[0] == sent[1]  # the same request went out
    assert infotext(again) == infotext(first)
    assert (
        sent[1]["styles"] == ["Cinematic", "Oil painting"]
        and sent[1]["prompt"] == "a castle <lora:add_detail:0.8>"
    )
    assert sent[1]["override_settings"]["sd_model_checkpoint"].startswith("demo-dusk")
    assert (sent[1]["batch_size"], sent[1]["n_iter"]) == (1, 1)


def test_flags_given_override_the_image(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    code, [first], err = run(
        capsys, demo_server, tmp_path, "a fox", "--steps", "4", "--seed", "11", "--cfg", "5",
        "--width", "64", "--height", "64", "--sampler", "Euler a", "--clip-skip", "2",
    )  # fmt: skip
    assert code == 0, err
    code, second, err = run(
        capsys, demo_server, tmp_path, "a wolf", "--from", str(first), "--seed", "12",
        "--steps", "20", "--batch-size", "2",
    )  # fmt: skip
    assert code == 0 and len(second) == 2, err
    body = sent[1]
    assert (body["prompt"], body["seed"], body["steps"], body["batch_size"]) == (
        "a wolf",
        12,
        20,
        2,
    )
    # Not given: the image's values, not the flags' defaults.
    assert (body["cfg_scale"], body["width"], body["sampler_name"]) == (5.0, 64, "Euler a")
    assert body["override_settings"]["CLIP_stop_at_last_layers"] == 2


def test_an_image_from_elsewhere_loads_with_warnings(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    text = (
        "portrait of a knight\n"
        "Steps: 3, Sampler: DPM++ 2M Karras, CFG scale: 8, Seed: 77, Size: 64x64, "
        "Model hash: 0123abcdef, Model: not-here-v2, VAE: gone.vae.pt, "
        'ControlNet 0: "Module: canny, Weight: 1", Hires upscale: 2, Hires upscaler: '
        "4x-UltraMix, Denoising strength: 0.5, Version: v1.6.0"
    )
    source = image_file(tmp_path / "old.png", (64, 64), text)
    code, [path], err = run(capsys, demo_server, tmp_path / "out", "--from", str(source))
    assert code == 0, err
    lines = err.splitlines()
    assert "sdtui: --from old.png: ignored: ControlNet 0" in lines
    assert any("model 'not-here-v2' is not on this server" in line for line in lines)
    assert any("VAE 'gone.vae.pt'" in line for line in lines)
    assert any("hires upscaler '4x-UltraMix'" in line for line in lines)
    body = sent[0]
    assert (body["sampler_name"], body["scheduler"]) == ("DPM++ 2M", "Karras")
    assert "override_settings" not in body  # no model, no VAE: the server's own
    assert body["enable_hr"] is True and "hr_upscaler" not in body
    info = parse_infotext(infotext(path))
    assert info.model != "not-here-v2" and info.seed == 77


def test_the_image_model_is_found_by_hash(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    text = "a lake\nSteps: 2, Sampler: Euler, Seed: 1, Size: 64x64, Model hash: 12c7841cc0, "
    text += "Model: renamed-elsewhere"
    source = image_file(tmp_path / "lake.png", (64, 64), text)
    code, [path], err = run(capsys, demo_server, tmp_path / "out", "--from", str(source))
    assert code == 0 and err == ""
    assert (
        sent[0]["override_settings"]["sd_model_checkpoint"]
        == "demo-aurora.safetensors [12c7841cc0]"
    )
    assert parse_infotext(infotext(path)).model == "demo-aurora"


def test_img2img_uses_the_init_images_own_size(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    init = image_file(tmp_path / "init.png", (100, 75))
    code, [path], err = run(
        capsys, demo_server, tmp_path / "out", "a red door", "--init-image", str(init),
        "--denoise", "0.6", "--resize-mode", "crop-and-resize", "--steps", "2",
    )  # fmt: skip
    assert code == 0, err
    body = sent[0]
    assert body["kind"] == "Img2ImgRequest" and len(body["init_images"]) == 1
    assert (body["width"], body["height"]) == (96, 72)  # 100x75 to multiples of 8
    assert body["denoising_strength"] == 0.6 and body["resize_mode"] == 1
    assert "mask" not in body and "enable_hr" not in body
    info = parse_infotext(infotext(path))
    assert (info.width, info.height) == (96, 72)
    assert info.get("Denoising strength") == "0.6"
    assert Image.open(path).size == (96, 72)


def test_img2img_one_side_given_keeps_the_shape(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    init = image_file(tmp_path / "init.png", (100, 75))
    code, _, err = run(capsys, demo_server, tmp_path / "out", "x", "--init-image", str(init),
                       "--width", "200", "--steps", "1")  # fmt: skip
    assert code == 0, err
    assert (sent[0]["width"], sent[0]["height"]) == (200, 152)


def test_inpainting_flags(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    init = image_file(tmp_path / "init.png", (64, 64))
    mask = image_file(tmp_path / "mask.png", (64, 64))
    code, [path], err = run(
        capsys, demo_server, tmp_path / "out", "a door", "--init-image", str(init), "--mask",
        str(mask), "--mask-blur", "8", "--inpaint-area", "whole", "--invert-mask", "--steps", "1",
        "--width", "64", "--height", "64",
    )  # fmt: skip
    assert code == 0, err
    body = sent[0]
    assert body["mask"] and body["mask_blur"] == 8
    assert body["inpaint_full_res"] is False and body["inpainting_mask_invert"] == 1
    assert body["denoising_strength"] == 0.75  # img2img's default when --denoise is not given
    assert parse_infotext(infotext(path)).get("Mask blur") == "8"


def test_from_an_img2img_image_with_an_init_image(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    init = image_file(tmp_path / "init.png", (100, 75))
    code, [first], err = run(capsys, demo_server, tmp_path / "out", "x", "--init-image",
                             str(init), "--denoise", "0.3", "--steps", "1")  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, demo_server, tmp_path / "out", "--from", str(first),
                       "--init-image", str(init))  # fmt: skip
    assert code == 0, err
    assert sent[1]["denoising_strength"] == 0.3 and (sent[1]["width"], sent[1]["height"]) == (
        96,
        72,
    )
    reread = request_from_infotext(infotext(first))
    assert reread.from_img2img and reread.img2img["denoising_strength"] == 0.3
    code, _, err = run(capsys, demo_server, tmp_path / "out", "--from", str(first))
    assert code == 0 and "made by img2img: without --init-image FILE" in err
    assert sent[2]["kind"] == "GenerationRequest" and "denoising_strength" not in sent[2]


def test_unknown_style_lists_close_matches(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, paths, err = run(capsys, demo_server, tmp_path, "x", "--style", "cinematc")
    assert code == 2 and not paths
    assert err.count("\n") == 1 and "unknown style 'cinematc'" in err and "Cinematic" in err
    assert not list(tmp_path.rglob("*.png"))


@pytest.mark.parametrize(
    ("flag", "value", "what"),
    [
        ("--hr-upscaler", "nope", "unknown hires upscaler 'nope'"),
        ("--vae", "nope", "unknown VAE 'nope'"),
        ("--refiner", "nope", "unknown model 'nope'"),
        ("--hr-sampler", "nope", "unknown sampler 'nope'"),
    ],
)
def test_unknown_names_list_the_servers(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str,
    what: str,
) -> None:  # fmt: skip
    code, paths, err = run(capsys, demo_server, tmp_path, "x", flag, value)
    assert code == 1 and not paths
    assert err.count("\n") == 1 and what in err and "the server has:" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give a prompt, or --from FILE"),
        (["x", "--mask", "m.png"], "--mask is for img2img: give --init-image FILE too"),
        (["x", "--resize-mode", "latent"], "--resize-mode is for img2img"),
        (["x", "--init-image", "INIT", "--mask-blur", "4"], "--mask-blur is for inpainting"),
        (["x", "--init-image", "INIT", "--hires"], "the hires fix is txt2img's"),
        (["x", "--init-image", "INIT", "--hr-scale", "2"], "the hires fix is txt2img's"),
        (["x", "--denoise", "0.5"], "--denoise is for the hires fix"),
        (["x", "--refiner-switch-at", "0.5"], "--refiner-switch-at needs --refiner"),
        (["--from", "missing.png"], "cannot read missing.png"),
        (["--from", "BARE"], "the image carries no generation parameters"),
        (["x", "--init-image", "JUNK"], "junk.png: not a PNG"),
        (["x", "--init-image", "."], "is a folder, not an image"),
    ],
)
def test_flags_that_cannot_work_are_one_line_and_exit_2(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any,
    argv: list[str], message: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    image_file(tmp_path / "init.png", (64, 64))
    image_file(tmp_path / "bare.png", (64, 64))
    (tmp_path / "junk.png").write_bytes(b"GIF89a not a png")
    names = {"INIT": "init.png", "BARE": "bare.png", "JUNK": "junk.png"}
    argv = [names.get(a, a) for a in argv]
    code, paths, err = run(capsys, demo_server, tmp_path / "out", *argv)
    assert code == 2 and not paths
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_denoise_with_from_a_hires_image_is_fine(
    demo_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    code, [first], err = run(capsys, demo_server, tmp_path, "x", "--steps", "1", "--width",
                             "64", "--height", "64", "--hr-upscaler", "Latent")  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, demo_server, tmp_path, "--from", str(first), "--denoise", "0.2")
    assert code == 0, err
    assert sent[1]["enable_hr"] is True and sent[1]["denoising_strength"] == 0.2
    assert sent[1]["hr_upscaler"] == "Latent"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--denoise", "1.5", "Denoising strength must be a number from 0 to 1 (got 1.5)"),
        ("--hr-scale", "5", "Hires upscale must be a number from 1 to 4 (got 5)"),
        ("--hr-steps", "-1", "Hires steps must be a whole number from 0 to 150 (got -1)"),
        ("--hr-width", "100", "Hires width must be a multiple of 8 (got 100)"),
        ("--subseed-strength", "2", "Variation strength must be a number from 0 to 1 (got 2)"),
        ("--subseed", "-2", "Variation seed must be -1 (random) or 0 to 4294967295 (got -2)"),
        ("--clip-skip", "13", "Clip skip must be a whole number from 1 to 12 (got 13)"),
        ("--refiner-switch-at", "0", "Refiner switch must be a number from 0.01 to 1 (got 0)"),
        ("--mask-blur", "65", "Mask blur must be a whole number from 0 to 64 (got 65)"),
        ("--resize-mode", "stretch", "invalid choice: 'stretch'"),
    ],
)
def test_new_numeric_flags_use_the_forms_ranges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["generate", "x", flag, value, "--url", "http://127.0.0.1:9", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    [line] = [line for line in err.splitlines() if "error:" in line]
    assert line.startswith(f"sdtui generate: error: argument {flag}: {message}")


def test_generate_help_lists_the_new_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    out = capsys.readouterr().out
    for flag in ("--style", "--from", "--hires", "--hr-upscaler", "--init-image", "--mask",
                 "--inpaint-area", "--vae", "--refiner", "--subseed-strength"):  # fmt: skip
        assert flag in out
    assert "hires fix" in out and "img2img" in out
