"""The demo's styles, hires fix, img2img and infotext keys against the facts file and v1.10.

Each answer is also compared with the client's own infotext builder
(`engine.generate.infotext_from_request`), which servers that send no infotext rely on: both must
write the same keys the same way.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat

from sdtui.api import GenerationRequest, Img2ImgRequest, PromptStyle
from sdtui.demo import DemoServer
from sdtui.engine.generate import ServerModel, apply_styles, infotext_from_request, schedule_type
from sdtui.images.infotext import parse_infotext

API = "/sdapi/v1"
SMALL: dict[str, Any] = {"width": 64, "height": 64, "steps": 3}


@pytest.fixture
def client(demo_server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, timeout=30) as http:
        yield http


def generate(http: httpx.Client, path: str = "txt2img", **fields: Any) -> dict[str, Any]:
    response = http.post(f"{API}/{path}", json=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body["info"] = json.loads(body["info"])
    body["files"] = [base64.b64decode(image) for image in body["images"]]
    return body


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(BytesIO(data)) as image:
        return image.size


def rgb(data: bytes) -> Image.Image:
    with Image.open(BytesIO(data)) as image:
        return image.convert("RGB")


def png_b64(image: Image.Image) -> str:
    out = BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    r, g, b = image.convert("RGB").getpixel(xy)  # type: ignore[misc]
    return r, g, b


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b.resize(a.size))).mean) / 3


def server_styles(http: httpx.Client) -> list[PromptStyle]:
    return [PromptStyle(**s) for s in http.get(f"{API}/prompt-styles").json()]


# --- styles ---------------------------------------------------------------------------------------


def test_the_style_list_has_a_placeholder_style_and_negatives(client: httpx.Client) -> None:
    styles = server_styles(client)
    assert len(styles) >= 3
    assert any("{prompt}" in s.prompt for s in styles)
    assert any("{prompt}" not in s.prompt and s.prompt for s in styles)
    assert any(s.negative_prompt for s in styles)


@pytest.mark.parametrize(
    ("prompt", "negative", "names"),
    [
        ("a fox", "ugly", ["Cinematic"]),  # {prompt} placeholder in the prompt
        ("a fox", "", ["Quality tags"]),  # appended after ", "; an empty negative gains it
        ("a fox", "ugly", ["Night sky", "Cinematic", "Quality tags"]),  # in order, nested
        ("", "", ["Oil painting"]),  # empty parts are dropped, not joined
        ("a fox", "ugly", ["Cinematic", "No such style"]),  # unknown names change nothing
    ],
)
def test_styles_merge_as_the_facts_file_says(
    client: httpx.Client, prompt: str, negative: str, names: list[str]
) -> None:
    body = generate(client, **SMALL, prompt=prompt, negative_prompt=negative, styles=names)
    info = body["info"]
    merged = apply_styles(prompt, negative, names, server_styles(client))
    assert (info["prompt"], info["negative_prompt"]) == merged
    assert info["styles"] == names
    text = parse_infotext(info["infotexts"][0])
    assert (text.prompt, text.negative_prompt) == merged  # the infotext has the merged prompt
    if names[0] == "Cinematic":
        assert merged[0].startswith("cinematic still of ")  # the placeholder took the prompt


def test_the_client_builder_writes_the_merged_prompt_too(client: httpx.Client) -> None:
    request = GenerationRequest(prompt="a fox", negative_prompt="ugly", styles=["Cinematic"])
    built = parse_infotext(infotext_from_request(request, 1, styles=server_styles(client)))
    served = parse_infotext(
        generate(client, **SMALL, prompt="a fox", negative_prompt="ugly", styles=["Cinematic"])[
            "info"
        ]["infotexts"][0]
    )
    assert (built.prompt, built.negative_prompt) == (served.prompt, served.negative_prompt)


# --- hires fix ------------------------------------------------------------------------------------


def test_hires_returns_the_scaled_size_and_the_facts_keys(client: httpx.Client) -> None:
    body = generate(
        client,
        **SMALL,
        enable_hr=True,
        hr_scale=1.5,
        hr_upscaler="Latent",
        hr_second_pass_steps=2,
        denoising_strength=0.45,
    )
    assert size_of(body["files"][0]) == (96, 96)
    text = parse_infotext(body["info"]["infotexts"][0])
    assert text.get("Size") == "64x64"  # the first pass's size
    assert text.get("Denoising strength") == "0.45"
    assert text.get("Hires upscale") == "1.5"
    assert text.get("Hires steps") == "2"
    assert text.get("Hires upscaler") == "Latent"
    assert text.get("Hires resize") is None
    keys = list(text.params)
    # v1.10's order: hires keys as processing adds them, after the fixed keys.
    assert keys.index("Denoising strength") < keys.index("Hires upscale")
    assert keys.index("Hires upscale") < keys.index("Hires steps") < keys.index("Hires upscaler")


def test_hires_without_second_pass_steps_leaves_them_out(client: httpx.Client) -> None:
    body = generate(client, **SMALL, enable_hr=True, hr_scale=2, denoising_strength=0.5)
    text = parse_infotext(body["info"]["infotexts"][0])
    assert size_of(body["files"][0]) == (128, 128)
    assert text.get("Hires steps") is None and text.get("Hires upscaler") is None


def test_hires_resize_to_a_size(client: httpx.Client) -> None:
    body = generate(
        client, **SMALL, enable_hr=True, hr_resize_x=160, hr_resize_y=96, denoising_strength=0.5
    )
    assert size_of(body["files"][0]) == (160, 96)
    text = parse_infotext(body["info"]["infotexts"][0])
    assert text.get("Hires resize") == "160x96" and text.get("Hires upscale") is None


def test_hires_sampler_prompt_and_schedule_are_written_when_they_differ(
    client: httpx.Client,
) -> None:
    body = generate(
        client,
        **SMALL,
        prompt="a fox",
        sampler_name="Euler a",
        enable_hr=True,
        denoising_strength=0.5,
        hr_sampler_name="DPM++ 2M",
        hr_prompt="a fox, sharp fur",
    )
    text = parse_infotext(body["info"]["infotexts"][0])
    assert text.get("Hires sampler") == "DPM++ 2M"
    assert text.get("Hires prompt") == "a fox, sharp fur"
    assert text.get("Hires schedule type") == "Karras"  # DPM++ 2M's own, unlike Euler a's
    same = generate(
        client, **SMALL, prompt="a fox", enable_hr=True, denoising_strength=0.5,
        hr_sampler_name="Euler", sampler_name="Euler", hr_prompt="a fox",
    )  # fmt: skip
    same_text = parse_infotext(same["info"]["infotexts"][0])
    for key in ("Hires sampler", "Hires prompt", "Hires schedule type"):
        assert same_text.get(key) is None, key


def test_a_hires_checkpoint_is_named_as_the_web_ui_names_it(client: httpx.Client) -> None:
    model = client.get(f"{API}/sd-models").json()[2]
    body = generate(
        client, **SMALL, enable_hr=True, denoising_strength=0.5, hr_checkpoint_name=model["title"]
    )
    text = parse_infotext(body["info"]["infotexts"][0])
    assert text.get("Hires checkpoint") == f"{model['model_name']} [{model['hash']}]"
    built = infotext_from_request(
        GenerationRequest(
            **SMALL, enable_hr=True, denoising_strength=0.5, hr_checkpoint_name=model["title"]
        ),
        1,
    )
    assert parse_infotext(built).get("Hires checkpoint") == text.get("Hires checkpoint")
    unknown = client.post(
        f"{API}/txt2img",
        json={**SMALL, "enable_hr": True, "denoising_strength": 0.5, "hr_checkpoint_name": "x"},
    )
    assert unknown.status_code == 500
    assert unknown.json()["errors"] == "Could not find checkpoint with name x"


def test_hires_keys_match_the_client_builder(client: httpx.Client) -> None:
    fields: dict[str, Any] = {
        **SMALL,
        "prompt": "a fox",
        "sampler_name": "Euler a",
        "enable_hr": True,
        "hr_scale": 1.5,
        "hr_upscaler": "Lanczos",
        "hr_second_pass_steps": 2,
        "denoising_strength": 0.4,
        "hr_sampler_name": "DPM++ 2M",
        "hr_prompt": "a fox, detailed",
    }
    served = parse_infotext(generate(client, **fields)["info"]["infotexts"][0])
    built = parse_infotext(infotext_from_request(GenerationRequest(**fields), served.seed or 0))
    hires = [k for k in served.params if k.startswith("Hires") or k == "Denoising strength"]
    assert hires == [k for k in built.params if k.startswith("Hires") or k == "Denoising strength"]
    for key in hires:
        assert built.get(key) == served.get(key), key


# --- img2img --------------------------------------------------------------------------------------


def stripes(width: int = 128, height: int = 64) -> Image.Image:
    """Red on the left third, green in the middle, blue on the right."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 3, height))
    image.paste((0, 255, 0), (width // 3, 0, 2 * width // 3, height))
    return image


def test_img2img_changes_more_with_more_denoising(client: httpx.Client) -> None:
    init = stripes(64, 64)
    changes = []
    for strength in (0.1, 0.5, 0.9):
        body = generate(
            client, "img2img", **SMALL, init_images=[png_b64(init)], denoising_strength=strength
        )
        changes.append(mean_difference(init, rgb(body["files"][0])))
        text = parse_infotext(body["info"]["infotexts"][0])
        assert text.get("Denoising strength") == str(strength)
    assert changes[0] < changes[1] < changes[2]


def test_img2img_uses_the_requests_size_not_the_init_images(client: httpx.Client) -> None:
    body = generate(
        client, "img2img", steps=2, init_images=[png_b64(stripes(96, 64))], image_cfg_scale=1.5
    )
    assert size_of(body["files"][0]) == (512, 512)  # the server's default, as the real one
    text = parse_infotext(body["info"]["infotexts"][0])
    assert text.get("Denoising strength") == "0.75"  # img2img's default, always written
    assert text.get("Image CFG scale") is None  # kept only for instruct-pix2pix models
    built = infotext_from_request(Img2ImgRequest(init_images=["x"], image_cfg_scale=1.5), 1)
    assert parse_infotext(built).get("Image CFG scale") is None


def test_img2img_resize_modes(client: httpx.Client) -> None:
    """Crop and resize keeps the middle of a wide picture; just resize squeezes all of it in."""
    init = png_b64(stripes(192, 64))
    results = {}
    for mode in (0, 1, 2):
        body = generate(
            client,
            "img2img",
            **SMALL,
            init_images=[init],
            denoising_strength=0.0,
            resize_mode=mode,
        )
        results[mode] = rgb(body["files"][0])
    left = (4, 32)
    assert pixel(results[0], left)[0] > 200  # red still on the left
    assert pixel(results[1], left)[1] > 200  # cropped: the green middle fills the square
    fitted = [pixel(results[2], (x, 32)) for x in (4, 32, 60)]  # all three stripes, smaller
    assert [max(range(3), key=p.__getitem__) for p in fitted] == [0, 1, 2]


def test_inpainting_writes_the_mask_keys_and_keeps_the_unmasked_part(
    client: httpx.Client,
) -> None:
    init = stripes(64, 64)
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (32, 0, 64, 64))  # repaint the right half only
    body = generate(
        client,
        "img2img",
        **SMALL,
        init_images=[png_b64(init)],
        mask=png_b64(mask),
        mask_blur=6,
        inpainting_fill=2,
        inpaint_full_res_padding=16,
        denoising_strength=0.9,
    )
    text = parse_infotext(body["info"]["infotexts"][0])
    assert text.get("Mask blur") == "6"
    assert text.get("Inpaint area") == "Only masked"
    assert text.get("Masked area padding") == "16"
    assert text.get("Masked content") == "latent noise"
    result = rgb(body["files"][0])
    assert pixel(result, (4, 32)) == pixel(init, (4, 32))
    built = parse_infotext(
        infotext_from_request(
            Img2ImgRequest(
                **SMALL,
                init_images=["x"],
                mask="x",
                mask_blur=6,
                inpainting_fill=2,
                inpaint_full_res_padding=16,
                denoising_strength=0.9,
            ),
            1,
        )
    )
    for key in ("Denoising strength", "Mask blur", "Inpaint area", "Masked area padding"):
        assert built.get(key) == text.get(key), key
    assert built.get("Masked content") == text.get("Masked content")


# --- Schedule type and the txt2img tab's other keys -----------------------------------------------


@pytest.mark.parametrize(
    ("sampler", "scheduler", "expected", "extra"),
    [
        ("Euler a", None, "Automatic", None),
        ("DPM++ 2M", None, "Karras", "Karras"),
        ("DPM++ 2M SDE", None, "Exponential", "Exponential"),
        ("Euler", "Karras", "Karras", "Karras"),
        ("Euler", "karras", "Karras", "Karras"),
        ("DPM++ 2M", "Karras", "Karras", "Karras"),
        ("DPM++ 2M", "Uniform", "Uniform", "Uniform"),
        ("DDIM", None, "Automatic", None),
        ("DPM++ 2M Karras", None, "Karras", "Karras"),
    ],
)
def test_schedule_type_is_always_written(
    client: httpx.Client, sampler: str, scheduler: str | None, expected: str, extra: str | None
) -> None:
    fields: dict[str, Any] = {**SMALL, "sampler_name": sampler}
    if scheduler is not None:
        fields["scheduler"] = scheduler
    info = generate(client, **fields)["info"]
    text = parse_infotext(info["infotexts"][0])
    assert text.get("Schedule type") == expected
    assert info["extra_generation_params"].get("Schedule type") == extra
    assert list(text.params)[:3] == ["Steps", "Sampler", "Schedule type"]
    # The client's builder (servers that send no infotext) follows the same rule.
    assert schedule_type(sampler, scheduler) == expected
    built = parse_infotext(infotext_from_request(GenerationRequest(**fields), 1))
    assert built.get("Schedule type") == expected
    assert built.sampler == text.sampler


def test_the_txt2img_tabs_keys_as_the_web_ui_writes_them(client: httpx.Client) -> None:
    models = client.get(f"{API}/sd-models").json()
    vae = client.get(f"{API}/sd-vae").json()[0]["model_name"]
    refiner = models[1]
    fields: dict[str, Any] = {
        **SMALL,
        "prompt": "a fox",
        "sampler_name": "Euler a",
        "seed": 10,
        "subseed": 77,
        "subseed_strength": 0.3,
        "restore_faces": True,
        "tiling": True,
        "refiner_checkpoint": refiner["title"],
        "refiner_switch_at": 0.8,
        "seed_resize_from_w": 32,
        "seed_resize_from_h": 48,
        "override_settings": {"CLIP_stop_at_last_layers": 2, "sd_vae": vae},
    }
    info = generate(client, **fields)["info"]
    served = parse_infotext(info["infotexts"][0])
    assert served.get("Variation seed") == "77"
    assert served.get("Variation seed strength") == "0.3"
    assert served.get("Clip skip") == "2"
    assert served.get("Face restoration") == "CodeFormer"
    assert served.get("Tiling") == "True"
    assert served.get("VAE") == vae and served.get("VAE hash")
    assert served.get("Refiner") == f"{refiner['model_name']} [{refiner['hash']}]"
    assert served.get("Refiner switch at") == "0.8"
    assert served.get("Seed resize from") == "32x48"
    request = GenerationRequest(**fields)  # clip skip and VAE as override settings
    built = parse_infotext(
        infotext_from_request(request, 10, ServerModel(models[0]["model_name"], models[0]["hash"]))
    )
    for key in (
        "Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Face restoration", "Size",
        "Model hash", "Model", "VAE", "Variation seed", "Variation seed strength",
        "Seed resize from", "Clip skip", "Tiling", "Refiner", "Refiner switch at",
    ):  # fmt: skip
        assert built.get(key) == served.get(key), key
    # Keys in the same order, less the VAE hash the client cannot know.
    assert list(built.params) == [k for k in served.params if k not in ("VAE hash", "Version")]


def test_a_one_off_model_is_named_with_its_own_hash(client: httpx.Client) -> None:
    models = client.get(f"{API}/sd-models").json()
    other = models[3]
    fields = {**SMALL, "override_settings": {"sd_model_checkpoint": other["title"]}}
    served = parse_infotext(generate(client, **fields)["info"]["infotexts"][0])
    loaded = ServerModel(models[0]["model_name"], models[0]["hash"])
    for request in (GenerationRequest(**fields), GenerationRequest(**SMALL, model=other["title"])):
        built = parse_infotext(infotext_from_request(request, 1, loaded))
        assert (built.model, built.model_hash) == (served.model, served.model_hash)
        assert built.model_hash == other["hash"]


def test_clip_skip_1_and_no_variation_are_left_out(client: httpx.Client) -> None:
    info = generate(client, **SMALL, override_settings={"CLIP_stop_at_last_layers": 1})["info"]
    text = parse_infotext(info["infotexts"][0])
    for key in ("Clip skip", "Variation seed", "Tiling", "Face restoration", "Refiner"):
        assert text.get(key) is None, key


def test_a_refiner_that_is_the_loaded_model_or_never_switches_is_not_written(
    client: httpx.Client,
) -> None:
    models = client.get(f"{API}/sd-models").json()
    for title, switch in ((models[0]["title"], 0.5), (models[1]["title"], 1.0)):
        body = generate(client, **SMALL, refiner_checkpoint=title, refiner_switch_at=switch)
        assert parse_infotext(body["info"]["infotexts"][0]).get("Refiner") is None


def test_an_unknown_refiner_is_the_real_error(client: httpx.Client) -> None:
    response = client.post(
        f"{API}/txt2img", json={**SMALL, "refiner_checkpoint": "nope", "refiner_switch_at": 0.5}
    )
    assert response.status_code == 500
    assert response.json()["errors"] == "Could not find checkpoint with name nope"


# --- LoRA and embeddings --------------------------------------------------------------------------


def test_lora_hashes_name_only_the_known_loras(client: httpx.Client) -> None:
    loras = client.get(f"{API}/loras").json()
    known = loras[0]
    body = generate(
        client, **SMALL, prompt=f"a fox <lora:{known['name']}:0.8> <lora:not_installed:1>"
    )
    text = parse_infotext(body["info"]["infotexts"][0])
    hashes = text.get("Lora hashes")
    assert hashes is not None
    name, _, value = hashes.partition(": ")
    assert name == known["alias"] and len(value) == 12
    assert "not_installed" not in hashes
    assert set(known) == {"name", "alias", "path", "metadata"}


def test_embeddings_are_shaped_as_the_real_list(client: httpx.Client) -> None:
    body = client.get(f"{API}/embeddings").json()
    assert set(body) == {"loaded", "skipped"}
    assert body["loaded"]
    for item in [*body["loaded"].values(), *body["skipped"].values()]:
        assert set(item) == {"step", "sd_checkpoint", "sd_checkpoint_name", "shape", "vectors"}
        assert isinstance(item["shape"], int) and isinstance(item["vectors"], int)
