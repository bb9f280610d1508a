"""The demo backend over real HTTP: request/response shapes, errors, jobs, progress, painter."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from io import BytesIO
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat

from sdtui.demo import DemoServer
from sdtui.demo.painter import make_grid, paint, preview
from sdtui.images.convert import image_format, read_parameters
from sdtui.images.infotext import parse_infotext

SMALL: dict[str, Any] = {"width": 64, "height": 64, "steps": 3}
API = "/sdapi/v1"

INFO_KEYS = {
    "prompt", "all_prompts", "negative_prompt", "all_negative_prompts", "seed", "all_seeds",
    "subseed", "all_subseeds", "subseed_strength", "width", "height", "sampler_name",
    "cfg_scale", "steps", "batch_size", "restore_faces", "face_restoration_model",
    "sd_model_name", "sd_model_hash", "sd_vae_name", "sd_vae_hash", "seed_resize_from_w",
    "seed_resize_from_h", "denoising_strength", "extra_generation_params",
    "index_of_first_image", "infotexts", "styles", "job_timestamp", "clip_skip", "version",
}  # fmt: skip


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def client(demo_server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, timeout=30) as http:
        yield http


def generate(http: httpx.Client, path: str = "txt2img", **fields: Any) -> dict[str, Any]:
    """POST a generation; returns the body with ``info`` decoded and ``files`` (image bytes)."""
    response = http.post(f"{API}/{path}", json=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body["info"] = json.loads(body["info"])
    body["files"] = [base64.b64decode(image) for image in body["images"]]
    return body


def pixels(data: bytes) -> Image.Image:
    with Image.open(BytesIO(data)) as image:
        return image.convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0-255."""
    if a.size != b.size:
        b = b.resize(a.size)
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def wait_for(condition: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    """Poll until ``condition`` holds (bounded, so a bug fails instead of hanging)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def progress(http: httpx.Client, skip: bool = True) -> dict[str, Any]:
    query = "true" if skip else "false"
    data: dict[str, Any] = http.get(f"{API}/progress?skip_current_image={query}").json()
    return data


def run_in_thread(http_url: str, path: str, fields: dict[str, Any]) -> Future[httpx.Response]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(httpx.post, f"{http_url}{API}/{path}", json=fields, timeout=30)
    pool.shutdown(wait=False)
    return future


# --- request bodies -----------------------------------------------------------------------------


def test_defaults_are_echoed_and_info_is_complete(client: httpx.Client) -> None:
    body = generate(client, **SMALL)
    params = body["parameters"]
    expected: dict[str, Any] = {
        "prompt": "", "negative_prompt": "", "styles": None, "seed": -1, "subseed": -1,
        "subseed_strength": 0, "sampler_name": None, "scheduler": None, "batch_size": 1,
        "n_iter": 1, "cfg_scale": 7.0, "restore_faces": None, "tiling": None,
        "override_settings": None, "override_settings_restore_afterwards": True,
        "enable_hr": False, "denoising_strength": None, "hr_scale": 2.0, "hr_upscaler": None,
        "hr_second_pass_steps": 0, "hr_resize_x": 0, "hr_resize_y": 0, "sampler_index": "Euler",
        "script_name": None, "script_args": [], "send_images": True, "save_images": False,
        "alwayson_scripts": {}, "force_task_id": None, "infotext": None,
    }  # fmt: skip
    assert {k: params[k] for k in expected} == expected
    info = body["info"]
    assert set(info) >= INFO_KEYS
    assert info["sampler_name"] == "Euler"  # sampler_index applies when sampler_name is null
    assert info["extra_generation_params"] == {}
    assert info["seed"] >= 0 and info["all_seeds"] == [info["seed"]]
    assert len(info["job_timestamp"]) == 14 and info["job_timestamp"].isdigit()
    assert info["version"] == "v1.10.1" and info["clip_skip"] == 1
    assert pixels(body["files"][0]).size == (64, 64)


def test_every_field_reaches_the_server(client: httpx.Client) -> None:
    models = client.get(f"{API}/sd-models").json()
    fields: dict[str, Any] = {
        "prompt": "a red fox, at dusk", "negative_prompt": "blurry", "seed": 1234,
        "subseed": 99, "subseed_strength": 0.25, "sampler_name": "Euler a",
        "scheduler": "Karras", "batch_size": 2, "n_iter": 2, "steps": 4, "cfg_scale": 6.5,
        "width": 64, "height": 96, "restore_faces": True, "tiling": True,
        "seed_resize_from_w": 32, "seed_resize_from_h": 48,
        "override_settings": {"sd_model_checkpoint": models[2]["title"],
                              "CLIP_stop_at_last_layers": 2},
        "unknown_key": "ignored",
    }  # fmt: skip
    body = generate(client, **fields)
    params, info = body["parameters"], body["info"]
    assert "unknown_key" not in params
    for key, value in fields.items():
        if key != "unknown_key":
            assert params[key] == value, key
    assert info["all_seeds"] == [1234] * 4  # a variation strength moves the subseed instead
    assert info["all_subseeds"] == [99, 100, 101, 102]
    assert (info["sampler_name"], info["cfg_scale"], info["steps"]) == ("Euler a", 6.5, 4)
    assert info["extra_generation_params"] == {"Schedule type": "Karras"}
    assert info["sd_model_name"] == models[2]["model_name"]
    assert info["sd_model_hash"] == models[2]["hash"]
    assert info["clip_skip"] == 2 and info["face_restoration_model"] == "CodeFormer"
    text = parse_infotext(info["infotexts"][3])
    assert (text.prompt, text.negative_prompt) == ("a red fox, at dusk", "blurry")
    assert (text.steps, text.sampler, text.scheduler, text.cfg_scale) == (
        4,
        "Euler a",
        "Karras",
        6.5,
    )
    assert (text.width, text.height, text.seed) == (64, 96, 1234)
    assert text.get("Variation seed") == "102" and text.get("Variation seed strength") == "0.25"
    assert text.get("Clip skip") == "2" and text.get("Seed resize from") == "32x48"
    assert text.get("Face restoration") == "CodeFormer" and text.get("Tiling") == "True"
    assert text.model == models[2]["model_name"] and text.model_hash == models[2]["hash"]
    assert text.get("Version") == "v1.10.1"
    # Overrides are restored afterwards.
    options = client.get(f"{API}/options").json()
    assert options["sd_model_checkpoint"] == models[0]["title"]
    assert options["CLIP_stop_at_last_layers"] == 1


def test_overrides_stay_when_restore_is_off(client: httpx.Client) -> None:
    generate(client, **SMALL, override_settings={"CLIP_stop_at_last_layers": 3},
             override_settings_restore_afterwards=False)  # fmt: skip
    assert client.get(f"{API}/options").json()["CLIP_stop_at_last_layers"] == 3


def test_seeds(client: httpx.Client) -> None:
    fixed = generate(client, **SMALL, seed=7, batch_size=2, n_iter=2)["info"]
    assert fixed["all_seeds"] == [7, 8, 9, 10] and fixed["seed"] == 7
    assert [parse_infotext(t).seed for t in fixed["infotexts"]] == [7, 8, 9, 10]
    random_a = generate(client, **SMALL, batch_size=2)
    random_b = generate(client, **SMALL, batch_size=2)
    seeds_a, seeds_b = random_a["info"]["all_seeds"], random_b["info"]["all_seeds"]
    assert random_a["parameters"]["seed"] == -1
    assert seeds_a[1] == seeds_a[0] + 1 and seeds_a != seeds_b


def test_each_png_carries_its_infotext(client: httpx.Client) -> None:
    body = generate(client, **SMALL, prompt="café ☕ at night", batch_size=3)
    assert len(body["files"]) == 3
    for data, infotext in zip(body["files"], body["info"]["infotexts"], strict=True):
        assert image_format(data) == "png"
        assert read_parameters(data) == infotext


def test_same_prompt_and_seed_give_the_same_pixels(client: httpx.Client) -> None:
    first = generate(client, **SMALL, prompt="lake", seed=5)["files"][0]
    again = generate(client, **SMALL, prompt="lake", seed=5)["files"][0]
    other = generate(client, **SMALL, prompt="lake", seed=6)["files"][0]
    assert pixels(first).tobytes() == pixels(again).tobytes()
    assert difference(pixels(first), pixels(other)) > 8


def test_styles_are_applied_to_the_prompt(client: httpx.Client) -> None:
    styles = {s["name"]: s for s in client.get(f"{API}/prompt-styles").json()}
    assert {"Night sky", "Quality tags"} <= set(styles)
    body = generate(client, **SMALL, prompt="a fox", negative_prompt="ugly",
                    styles=["Night sky", "Quality tags", "No such style"])  # fmt: skip
    info = body["info"]
    assert info["prompt"] == "a fox, night, starry sky, moonlight, masterpiece, best quality"
    assert info["negative_prompt"] == "ugly, daylight, lowres, blurry, jpeg artifacts"
    assert info["styles"] == ["Night sky", "Quality tags", "No such style"]
    assert parse_infotext(info["infotexts"][0]).prompt == info["prompt"]


def test_sampler_and_scheduler_quirks(client: httpx.Client) -> None:
    unknown = generate(client, **SMALL, sampler_name="Nope", scheduler="nope")["info"]
    assert unknown["sampler_name"] == "DPM++ 2M"
    # An unknown scheduler is "Automatic": DPM++ 2M then samples with its own Karras schedule.
    assert unknown["extra_generation_params"] == {"Schedule type": "Karras"}
    assert parse_infotext(unknown["infotexts"][0]).scheduler == "Karras"
    plain = generate(client, **SMALL, sampler_name="Euler a")["info"]
    assert "Schedule type" not in plain["extra_generation_params"]
    assert parse_infotext(plain["infotexts"][0]).get("Schedule type") == "Automatic"
    combined = generate(client, **SMALL, sampler_name="Euler a Exponential")["info"]
    assert combined["sampler_name"] == "Euler a"
    assert combined["extra_generation_params"] == {"Schedule type": "Exponential"}
    lowercase_name = generate(client, **SMALL, sampler_name="Euler", scheduler="karras")["info"]
    assert parse_infotext(lowercase_name["infotexts"][0]).scheduler == "Karras"


def test_infotext_fills_fields_the_request_left_out(client: httpx.Client) -> None:
    infotext = (
        "a castle\nNegative prompt: fog\nSteps: 4, Sampler: Heun, CFG scale: 5.0, "
        "Seed: 77, Size: 72x64, Clip skip: 2"
    )
    body = generate(client, infotext=infotext, width=64)
    params, info = body["parameters"], body["info"]
    assert (params["prompt"], params["negative_prompt"], params["steps"]) == ("a castle", "fog", 4)
    assert (params["seed"], params["cfg_scale"], params["sampler_name"]) == (77, 5.0, "Heun")
    assert (params["width"], params["height"]) == (64, 64)  # width was sent, height was not
    assert params["override_settings"] == {"CLIP_stop_at_last_layers": 2}
    assert info["clip_skip"] == 2


def test_hires_fix(client: httpx.Client) -> None:
    body = generate(client, **SMALL, enable_hr=True, denoising_strength=0.5, hr_scale=1.5,
                    hr_upscaler="Latent")  # fmt: skip
    assert pixels(body["files"][0]).size == (96, 96)
    text = parse_infotext(body["info"]["infotexts"][0])
    assert (text.width, text.height) == (64, 64)  # the infotext keeps the first-pass size
    assert text.get("Hires upscale") == "1.5" and text.get("Denoising strength") == "0.5"
    resized = generate(client, **SMALL, enable_hr=True, denoising_strength=0.5,
                       hr_resize_x=128, hr_resize_y=80)  # fmt: skip
    assert pixels(resized["files"][0]).size == (128, 80)


def test_hires_fix_without_denoising_strength_fails_like_the_web_ui(client: httpx.Client) -> None:
    response = client.post(f"{API}/txt2img", json={**SMALL, "enable_hr": True})
    assert response.status_code == 500
    error = response.json()
    assert error["error"] == "TypeError" and "NoneType" in error["errors"]
    unknown = client.post(
        f"{API}/txt2img",
        json={**SMALL, "enable_hr": True, "denoising_strength": 0.5, "hr_upscaler": "X"},
    )
    assert unknown.status_code == 500 and "could not find upscaler" in unknown.json()["errors"]


def test_img2img(client: httpx.Client) -> None:
    red = Image.new("RGB", (32, 32), (255, 0, 0))
    buffer = BytesIO()
    red.save(buffer, "PNG")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    missing = client.post(f"{API}/img2img", json=SMALL)
    assert missing.status_code == 404
    assert missing.json() == {"error": "HTTPException", "detail": "Init image not found",
                              "body": "", "errors": ""}  # fmt: skip
    keep = generate(client, "img2img", **SMALL, init_images=[encoded], denoising_strength=0.0)
    assert keep["parameters"]["init_images"] is None  # not echoed back
    assert keep["parameters"]["denoising_strength"] == 0.0
    assert pixels(keep["files"][0]).getpixel((32, 32)) == (255, 0, 0)
    data_url = f"data:image/png;base64,{encoded}"
    changed = generate(client, "img2img", **SMALL, init_images=[data_url], seed=3)
    assert difference(pixels(changed["files"][0]), Image.new("RGB", (64, 64), (255, 0, 0))) > 20
    assert parse_infotext(changed["info"]["infotexts"][0]).get("Denoising strength") == "0.75"
    bad = client.post(f"{API}/img2img", json={**SMALL, "init_images": ["bm90IGFuIGltYWdl"]})
    assert bad.status_code == 500 and bad.json()["detail"] == "Invalid encoded image"


def test_grid_with_save_images(client: httpx.Client) -> None:
    body = generate(client, **SMALL, batch_size=2, seed=11, save_images=True)
    info = body["info"]
    assert info["index_of_first_image"] == 1 and len(body["files"]) == 3
    assert pixels(body["files"][0]).size == (128, 64)
    assert len(info["infotexts"]) == 3
    assert parse_infotext(info["infotexts"][0]).seed == 11
    assert [parse_infotext(t).seed for t in info["infotexts"][1:]] == [11, 12]
    assert read_parameters(body["files"][0]) == info["infotexts"][0]
    single = generate(client, **SMALL, save_images=True)
    assert single["info"]["index_of_first_image"] == 0 and len(single["files"]) == 1


def test_send_images_false(client: httpx.Client) -> None:
    body = generate(client, **SMALL, send_images=False)
    assert body["images"] == [] and len(body["info"]["infotexts"]) == 1


@pytest.mark.parametrize(("fmt", "expected"), [("jpg", "jpeg"), ("jpeg", "jpeg"), ("webp", "webp")])
def test_samples_format_carries_exif_infotext(
    client: httpx.Client, fmt: str, expected: str
) -> None:
    assert client.post(f"{API}/options", json={"samples_format": fmt}).status_code == 200
    body = generate(client, **SMALL, prompt="snow, ünïcode")
    data = body["files"][0]
    assert image_format(data) == expected
    assert read_parameters(data) == body["info"]["infotexts"][0]


def test_out_of_memory(client: httpx.Client) -> None:
    response = client.post(
        f"{API}/txt2img", json={"width": 4096, "height": 4096, "batch_size": 2, "steps": 1}
    )
    assert response.status_code == 500
    error = response.json()
    assert error["error"] == "OutOfMemoryError" and error["detail"] == ""
    assert error["errors"].startswith("CUDA out of memory. Tried to allocate")
    memory = client.get(f"{API}/memory").json()
    assert memory["cuda"]["events"]["oom"] == 1 and memory["ram"]["total"] > 0


# --- validation and routing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "msg", "type_"),
    [
        ("steps", "many", "value is not a valid integer", "type_error.integer"),
        ("seed", [3], "value is not a valid integer", "type_error.integer"),
        ("cfg_scale", "high", "value is not a valid float", "type_error.float"),
        ("restore_faces", "maybe", "value could not be parsed to a boolean", "type_error.bool"),
        ("prompt", {"a": 1}, "str type expected", "type_error.str"),
        ("styles", "Cinematic", "value is not a valid list", "type_error.list"),
        ("override_settings", 5, "value is not a valid dict", "type_error.dict"),
        ("send_images", None, "none is not an allowed value", "type_error.none.not_allowed"),
    ],
)
def test_validation_errors_have_pydantic_v1_shape(
    client: httpx.Client, field: str, value: Any, msg: str, type_: str
) -> None:
    response = client.post(f"{API}/txt2img", json={**SMALL, field: value})
    assert response.status_code == 422
    assert response.json() == {"detail": [{"loc": ["body", field], "msg": msg, "type": type_}]}


def test_lenient_coercions_like_pydantic_v1(client: httpx.Client) -> None:
    body = generate(client, steps="2", width=64.0, height="64", seed=True, cfg_scale="6",
                    restore_faces="yes", prompt=12, styles=[1], n_iter=None)  # fmt: skip
    params = body["parameters"]
    assert (params["steps"], params["width"], params["height"], params["seed"]) == (2, 64, 64, 1)
    assert (params["cfg_scale"], params["restore_faces"], params["prompt"]) == (6.0, True, "12")
    assert params["styles"] == ["1"] and params["n_iter"] is None
    assert body["info"]["all_seeds"] == [1]


def test_bodies_that_are_not_objects(client: httpx.Client) -> None:
    broken = client.post(f"{API}/txt2img", content=b"not json",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert broken.status_code == 422
    (error,) = broken.json()["detail"]
    assert error["loc"] == ["body", 0] and error["type"] == "value_error.jsondecode"
    assert error["msg"].startswith("Expecting value")
    empty = client.post(f"{API}/txt2img")
    assert empty.json() == {"detail": [{"loc": ["body"], "msg": "field required",
                                        "type": "value_error.missing"}]}  # fmt: skip
    listed = client.post(f"{API}/txt2img", json=[1, 2])
    assert listed.json()["detail"][0]["msg"] == "value is not a valid dict"
    query = client.get(f"{API}/progress?skip_current_image=perhaps")
    assert query.status_code == 422
    assert query.json()["detail"][0]["loc"] == ["query", "skip_current_image"]
    script = client.post(f"{API}/txt2img", json={**SMALL, "script_name": "No script"})
    assert script.status_code == 422 and script.json()["detail"] == "Script 'No script' not found"


def test_not_found_and_wrong_method(client: httpx.Client) -> None:
    missing = client.get(f"{API}/nothing-here")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong = client.get(f"{API}/txt2img")
    assert (wrong.status_code, wrong.json()) == (405, {"detail": "Method Not Allowed"})
    assert client.post(f"{API}/progress").status_code == 405
    assert client.head(f"{API}/options").status_code == 200


def test_headers_and_gzip(client: httpx.Client) -> None:
    big = client.get(f"{API}/options")
    assert big.headers["content-encoding"] == "gzip" and big.json()["samples_format"] == "png"
    small = client.post(f"{API}/skip")
    assert small.json() is None and "content-encoding" not in small.headers
    for response in (big, small):
        assert response.headers["content-type"] == "application/json"
        assert float(response.headers["x-process-time"]) >= 0
    plain = httpx.get(f"{client.base_url}{API}/options", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json()
    assert client.post(f"{API}/interrupt").json() == {}


def test_keep_alive_serves_several_requests_on_one_connection(demo_server: DemoServer) -> None:
    port = int(demo_server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        reader = sock.makefile("rb")
        for path in (b"/sdapi/v1/skip", b"/sdapi/v1/interrupt", b"/sdapi/v1/skip"):
            sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" % path)
            assert reader.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert reader.read(length) in (b"null", b"{}")


def test_raw_protocol_edge_cases(demo_server: DemoServer) -> None:
    host, port = "127.0.0.1", int(demo_server.url.rsplit(":", 1)[1])
    redirect = httpx.get(f"{demo_server.url}{API}/options/")
    assert redirect.status_code == 307 and redirect.headers["location"] == f"{API}/options"
    with socket.create_connection((host, port), timeout=5) as sock:
        body = b'{"steps": 2, "width": 64, "height": 64}'
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        sock.sendall(b"POST /sdapi/v1/txt2img HTTP/1.1\r\nHost: x\r\n"
                     b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                     + chunked)  # fmt: skip
        head = sock.recv(64)
        assert head.startswith(b"HTTP/1.1 200")
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET /sdapi/v1/options HTTP/1.1\r\nContent-Length: nope\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 400")
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01garbage\r\n\r\n")
        sock.recv(64)
    assert httpx.get(f"{demo_server.url}{API}/sd-models").status_code == 200


# --- auth ---------------------------------------------------------------------------------------


def test_auth(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(api_auth="me:secret,you:pw")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        missing = http.get(f"{API}/options")
        assert missing.status_code == 401
        assert missing.json() == {"error": "HTTPException", "detail": "Not authenticated",
                                  "body": "", "errors": ""}  # fmt: skip
        assert "www-authenticate" not in missing.headers
        wrong = http.get(f"{API}/options", auth=("me", "nope"))
        assert (wrong.status_code, wrong.json()["detail"]) == (
            401,
            "Incorrect username or password",
        )
        assert http.get(f"{API}/options", auth=("me", "secret")).status_code == 200
        assert http.get(f"{API}/options", auth=("you", "pw")).status_code == 200
        garbled = http.get(f"{API}/options", headers={"Authorization": "Basic !!!"})
        assert garbled.status_code == 401
        # Routing comes first, and only /sdapi/v1 is protected.
        assert http.get(f"{API}/nope").status_code == 404
        assert http.post("/internal/progress", json={"id_task": "x"}).status_code == 200


# --- jobs: progress, previews, interrupt, skip, queue -------------------------------------------


def test_progress_rises_during_a_job(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(step_delay=0.01)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        idle = progress(http)
        assert (idle["progress"], idle["state"]["job_count"], idle["current_image"]) == (0, 0, None)
        job = run_in_thread(server.url, "txt2img", {**SMALL, "steps": 10, "n_iter": 2})
        seen: list[dict[str, Any]] = []

        def advanced() -> bool:
            seen.append(progress(http))
            state = seen[-1]["state"]
            return bool(state["job_no"] >= 1 and state["sampling_step"] >= 2)

        wait_for(advanced, "the second batch")
        response = job.result(timeout=30)
    running = [p for p in seen if p["state"]["job_count"] > 0]
    values = [p["progress"] for p in running]
    assert values == sorted(values) and values[-1] > values[0]
    last = running[-1]
    state = last["state"]
    expected = 0.01 + state["job_no"] / 2 + state["sampling_step"] / state["sampling_steps"] / 2
    assert last["progress"] == pytest.approx(expected)
    assert state["job"] == "scripts_txt2img" and state["job_count"] == 2
    assert last["eta_relative"] >= 0
    assert set(state) == {
        "skipped",
        "interrupted",
        "stopping_generation",
        "job",
        "job_count",
        "job_timestamp",
        "job_no",
        "sampling_step",
        "sampling_steps",
    }
    assert state["job_timestamp"] == json.loads(response.json()["info"])["job_timestamp"]


def _collect_previews(server: DemoServer, fields: dict[str, Any]) -> list[Image.Image]:
    previews: list[Image.Image] = []
    with httpx.Client(base_url=server.url, timeout=30) as http:
        job = run_in_thread(server.url, "txt2img", fields)
        while not job.done():
            image = progress(http, skip=False)["current_image"]
            if image:
                previews.append(pixels(base64.b64decode(image)))
        assert job.result().status_code == 200
    return previews


def test_live_previews_follow_the_options(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(step_delay=0.005)
    fields = {**SMALL, "steps": 12, "seed": 9, "prompt": "ocean"}
    httpx.post(f"{server.url}{API}/options", json={"show_progress_every_n_steps": 3})
    previews = _collect_previews(server, fields)
    assert len(previews) >= 2 and previews[0].size == (64, 64)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        final = pixels(generate(http, **{**fields, "steps": 1})["files"][0])
    # From noise towards the picture.
    assert difference(previews[0], final) > difference(previews[-1], final)
    httpx.post(f"{server.url}{API}/options", json={"live_previews_enable": False})
    assert _collect_previews(server, fields) == []


def test_skip_current_image_sends_no_preview(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(step_delay=0.01)
    httpx.post(f"{server.url}{API}/options", json={"show_progress_every_n_steps": 1})
    with httpx.Client(base_url=server.url, timeout=30) as http:
        job = run_in_thread(server.url, "txt2img", {**SMALL, "steps": 40})
        wait_for(lambda: progress(http, skip=False)["current_image"] is not None, "a preview")
        assert progress(http, skip=True)["current_image"] is None
        http.post(f"{API}/interrupt")
        assert job.result().status_code == 200


def test_interrupt_returns_partial_images_and_stops(
    demo_factory: Callable[..., DemoServer],
) -> None:
    server = demo_factory(step_delay=0.01)
    fields = {**SMALL, "steps": 300, "n_iter": 3, "seed": 21, "prompt": "forest"}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        job = run_in_thread(server.url, "txt2img", fields)
        wait_for(lambda: progress(http)["state"]["sampling_step"] >= 3, "sampling")
        assert http.post(f"{API}/interrupt").json() == {}
        response = job.result(timeout=10)
        assert response.status_code == 200
        body = response.json()
        info = json.loads(body["info"])
        assert len(body["images"]) == 1 and info["all_seeds"] == [21, 22, 23]
        assert progress(http)["state"]["interrupted"] is True
        final = generate(http, **{**fields, "steps": 1, "n_iter": 1})["files"][0]
        partial = pixels(base64.b64decode(body["images"][0]))
        assert difference(partial, pixels(final)) > 10  # partly denoised, not the final picture
        # The next job is not affected by the old interrupt.
        after = generate(http, **{**fields, "steps": 2, "n_iter": 2})
        assert len(after["files"]) == 2
        assert progress(http)["state"]["interrupted"] is False


def test_interrupt_when_idle_is_harmless(client: httpx.Client) -> None:
    assert client.post(f"{API}/interrupt").json() == {}
    assert client.post(f"{API}/skip").json() is None
    assert len(generate(client, **SMALL, n_iter=2)["files"]) == 2


def test_skip_ends_the_current_batch_only(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(step_delay=0.01)
    fields = {**SMALL, "steps": 300, "n_iter": 2, "seed": 30}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        job = run_in_thread(server.url, "txt2img", {**fields})
        wait_for(lambda: progress(http)["state"]["sampling_step"] >= 2, "sampling")
        http.post(f"{API}/skip")
        wait_for(lambda: progress(http)["state"]["job_no"] >= 1, "the second batch")
        wait_for(lambda: progress(http)["state"]["sampling_step"] >= 2, "the second batch's steps")
        http.post(f"{API}/skip")
        body = job.result(timeout=10).json()
        finals = generate(http, **{**fields, "steps": 1})["files"]
    assert len(body["images"]) == 2
    for partial, final in zip(body["images"], finals, strict=True):
        assert difference(pixels(base64.b64decode(partial)), pixels(final)) > 10


def test_jobs_run_one_at_a_time_in_order(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(step_delay=0.01)
    http = httpx.Client(base_url=server.url, timeout=30)

    def task_status(task: str) -> dict[str, Any]:
        data: dict[str, Any] = http.post("/internal/progress", json={"id_task": task}).json()
        return data

    long_job = {**SMALL, "steps": 100_000}  # runs until interrupted
    first = run_in_thread(server.url, "txt2img", {**long_job, "force_task_id": "a"})
    wait_for(lambda: task_status("a")["active"], "job a to start")
    second = run_in_thread(server.url, "txt2img", {**long_job, "force_task_id": "b"})
    wait_for(lambda: task_status("b")["queued"], "job b to queue")
    third = run_in_thread(server.url, "txt2img", {**SMALL, "steps": 2, "force_task_id": "c"})
    wait_for(lambda: task_status("c")["queued"], "job c to queue")
    status_b = task_status("b")
    assert not status_b["active"] and status_b["textinfo"] == "In queue: 1/2"
    assert task_status("c")["textinfo"] == "In queue: 2/2"
    assert task_status("a")["active"]  # a is still running while b and c wait
    http.post(f"{API}/interrupt")
    # First come, first served: b runs next while c keeps waiting.
    wait_for(lambda: task_status("b")["active"], "job b to start")
    assert task_status("a")["completed"] and task_status("c")["queued"]
    http.post(f"{API}/interrupt")
    responses = [f.result(timeout=30) for f in (first, second, third)]
    assert all(r.status_code == 200 for r in responses)
    stamps = [json.loads(r.json()["info"])["job_timestamp"] for r in responses]
    assert stamps == sorted(stamps)
    assert task_status("c")["completed"] and not task_status("c")["active"]
    http.close()


def test_internal_progress_for_a_forced_task(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(step_delay=0.01)
    httpx.post(f"{server.url}{API}/options", json={"show_progress_every_n_steps": 2})
    job = run_in_thread(server.url, "txt2img", {**SMALL, "steps": 60, "force_task_id": "mine"})

    def status() -> dict[str, Any]:
        data: dict[str, Any] = httpx.post(
            f"{server.url}/internal/progress", json={"id_task": "mine", "id_live_preview": -1}
        ).json()
        return data

    wait_for(lambda: status()["live_preview"] is not None, "a live preview")
    current = status()
    assert current["active"] and 0 < current["progress"] < 1
    assert current["live_preview"].startswith("data:image/png;base64,")
    assert current["id_live_preview"] >= 1
    httpx.post(f"{server.url}{API}/interrupt")
    job.result(timeout=10)
    done = status()
    assert (done["active"], done["completed"], done["progress"]) == (False, True, None)


def test_internal_progress_sends_a_preview_only_when_a_newer_one_exists(
    demo_factory: Callable[..., DemoServer],
) -> None:
    server = demo_factory(step_delay=0.01)
    httpx.post(f"{server.url}{API}/options", json={"show_progress_every_n_steps": 5})
    job = run_in_thread(server.url, "txt2img", {**SMALL, "steps": 400, "force_task_id": "t"})
    with httpx.Client(base_url=server.url, timeout=30) as http:

        def status(last: int) -> dict[str, Any]:
            body = {"id_task": "t", "id_live_preview": last, "live_preview": True}
            data: dict[str, Any] = http.post("/internal/progress", json=body).json()
            return data

        wait_for(lambda: status(-1)["live_preview"] is not None, "a first preview")
        first = status(-1)
        seen = first["id_live_preview"]
        same = status(seen)  # the last one seen: no picture, the same number back
        if same["id_live_preview"] == seen:
            assert same["live_preview"] is None
        wait_for(lambda: status(seen)["live_preview"] is not None, "a newer preview")
        newer = status(seen)
        assert newer["id_live_preview"] > seen
        assert status(-1)["id_live_preview"] >= newer["id_live_preview"]  # numbers only rise
        http.post(f"{API}/interrupt")
    job.result(timeout=10)


def test_nowebui_has_no_internal_routes(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(nowebui=True)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.post("/internal/progress", json={"id_task": "x"}).status_code == 404
        assert http.get(f"{API}/cmd-flags").json()["nowebui"] is True
        assert progress(http)["state"]["job_count"] == 0


def test_disconnected_client_does_not_wedge_the_queue(
    demo_factory: Callable[..., DemoServer],
) -> None:
    server = demo_factory(step_delay=0.005)
    port = int(server.url.rsplit(":", 1)[1])
    body = json.dumps({**SMALL, "steps": 20}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /sdapi/v1/txt2img HTTP/1.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip
        with httpx.Client(base_url=server.url, timeout=30) as http:
            wait_for(lambda: progress(http)["state"]["job_count"] > 0, "the job to start")
    # The socket is closed mid-job; the next job must still run.
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert len(generate(http, **SMALL)["files"]) == 1


# --- settings and lists -------------------------------------------------------------------------


def test_model_switch_via_options(client: httpx.Client) -> None:
    models = client.get(f"{API}/sd-models").json()
    assert len(models) >= 3
    for model in models:
        assert model["title"] == f"{model['model_name']}.safetensors [{model['hash']}]"
        assert len(model["hash"]) == 10 and model["sha256"].startswith(model["hash"])
    options = client.get(f"{API}/options").json()
    assert options["sd_model_checkpoint"] == models[0]["title"]
    assert client.post(f"{API}/options", json={"sd_model_checkpoint": models[1]["model_name"]}
                       ).json() is None  # fmt: skip
    after = client.get(f"{API}/options").json()
    assert after["sd_model_checkpoint"] == models[1]["title"]
    assert after["sd_checkpoint_hash"] == models[1]["sha256"]
    body = generate(client, **SMALL, seed=1, prompt="x")
    assert body["info"]["sd_model_name"] == models[1]["model_name"]
    client.post(f"{API}/options", json={"sd_model_checkpoint": models[2]["hash"]})
    other = generate(client, **SMALL, seed=1, prompt="x")
    assert difference(pixels(body["files"][0]), pixels(other["files"][0])) > 8
    unknown = client.post(f"{API}/options", json={"sd_model_checkpoint": "nope.ckpt"})
    assert unknown.status_code == 500
    assert unknown.json() == {"error": "RuntimeError", "detail": "", "body": "",
                              "errors": "model 'nope.ckpt' not found"}  # fmt: skip
    bad_key = client.post(f"{API}/options", json={"no_such_option": 1})
    assert bad_key.status_code == 500 and bad_key.json()["error"] == "KeyError"


def test_model_switch_waits_for_the_running_job(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(step_delay=0.005)
    models = httpx.get(f"{server.url}{API}/sd-models").json()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        job = run_in_thread(server.url, "txt2img", {**SMALL, "steps": 10, "seed": 4})
        wait_for(lambda: progress(http)["state"]["sampling_step"] >= 1, "the job to start")
        switch = run_in_thread(server.url, "options", {"sd_model_checkpoint": models[3]["title"]})
        assert progress(http)["state"]["job_count"] > 0  # GET options/progress still answer
        assert http.get(f"{API}/options").status_code == 200
        assert switch.result(timeout=30).status_code == 200
        # The job ends (inside the queue) before the switch can take the queue.
        assert progress(http)["state"]["job_count"] == 0
        info = json.loads(job.result(timeout=30).json()["info"])
        assert http.get(f"{API}/options").json()["sd_model_checkpoint"] == models[3]["title"]
    assert info["sd_model_name"] == models[0]["model_name"]


def test_lists_have_the_web_ui_shapes(client: httpx.Client) -> None:
    samplers = client.get(f"{API}/samplers").json()
    assert samplers[0]["name"] == "DPM++ 2M" and {"Euler a", "Euler", "DDIM"} <= {
        s["name"] for s in samplers
    }
    assert set(samplers[0]) == {"name", "aliases", "options"}
    schedulers = client.get(f"{API}/schedulers").json()
    assert schedulers[0] == {"name": "automatic", "label": "Automatic", "aliases": None,
                             "default_rho": -1, "need_inner_model": False}  # fmt: skip
    assert {"name", "model_name", "model_path", "model_url", "scale"} == set(
        client.get(f"{API}/upscalers").json()[0]
    )
    assert {"name": "Latent"} in client.get(f"{API}/latent-upscale-modes").json()
    assert set(client.get(f"{API}/prompt-styles").json()[0]) == {
        "name",
        "prompt",
        "negative_prompt",
    }
    assert set(client.get(f"{API}/loras").json()[0]) == {"name", "alias", "path", "metadata"}
    assert set(client.get(f"{API}/embeddings").json()) == {"loaded", "skipped"}
    assert set(client.get(f"{API}/sd-vae").json()[0]) == {"model_name", "filename"}
    assert set(client.get(f"{API}/memory").json()) == {"ram", "cuda"}
    assert client.get(f"{API}/cmd-flags").json()["api"] is True
    assert "txt2img" in client.get(f"{API}/scripts").json()
    for path in ("refresh-checkpoints", "refresh-loras"):
        assert client.post(f"{API}/{path}").json() is None
    options = client.get(f"{API}/options").json()
    assert (options["samples_format"], options["show_progress_every_n_steps"]) == ("png", 10)
    assert (options["live_previews_enable"], options["live_previews_image_format"]) == (True, "png")
    assert (options["CLIP_stop_at_last_layers"], options["return_grid"]) == (1, True)
    assert options["sd_vae"] == "Automatic"


def test_png_info_round_trip(client: httpx.Client) -> None:
    body = generate(client, **SMALL, prompt="p, q", negative_prompt="n", seed=3)
    info = client.post(f"{API}/png-info", json={"image": body["images"][0]}).json()
    assert info["info"] == body["info"]["infotexts"][0]
    params = info["parameters"]
    assert (params["Prompt"], params["Negative prompt"], params["Seed"]) == ("p, q", "n", "3")
    assert (params["Size-1"], params["Size-2"], params["Clip skip"]) == ("64", "64", "1")
    assert "Size" not in params
    missing = client.post(f"{API}/png-info", json={})
    assert missing.json()["detail"][0] == {"loc": ["body", "image"], "msg": "field required",
                                           "type": "value_error.missing"}  # fmt: skip
    bad = client.post(f"{API}/png-info", json={"image": "@@@"})
    assert bad.status_code == 500 and bad.json()["detail"] == "Invalid encoded image"


def test_lora_hashes_in_infotext(client: httpx.Client) -> None:
    body = generate(client, **SMALL, prompt="a fox <lora:add_detail:0.8>")
    text = parse_infotext(body["info"]["infotexts"][0])
    assert text.prompt == "a fox <lora:add_detail:0.8>"
    assert (text.get("Lora hashes") or "").startswith("add_detail: ")


def test_stop_is_prompt_and_idempotent() -> None:
    server = DemoServer(step_delay=0.01).start()
    job = run_in_thread(server.url, "txt2img", {**SMALL, "steps": 10_000})
    with httpx.Client(base_url=server.url, timeout=30) as http:
        wait_for(lambda: progress(http)["state"]["sampling_step"] >= 1, "the job to start")
    server.stop()
    server.stop()
    job.exception(timeout=10)  # finished one way or another: the job did not keep running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}{API}/options", timeout=2)


def test_url_needs_a_started_server() -> None:
    server = DemoServer(port=0)
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        assert server.url.startswith("http://127.0.0.1:")
    with pytest.raises(ValueError):
        DemoServer(api_auth="no-colon")


# --- painter ------------------------------------------------------------------------------------


def test_painter_is_deterministic_and_steered() -> None:
    a = paint("night lake, fox", 1, 96, 64, "demo-dusk")
    assert a.size == (96, 64) and a.mode == "RGB"
    assert a.tobytes() == paint("night lake, fox", 1, 96, 64, "demo-dusk").tobytes()
    assert difference(a, paint("night lake, fox", 2, 96, 64, "demo-dusk")) > 8
    assert difference(a, paint("sunny desert", 1, 96, 64, "demo-dusk")) > 8
    assert difference(a, paint("night lake, fox", 1, 96, 64, "demo-ink")) > 8
    # The same scene at another size (hires fix) looks the same.
    big = paint("night lake, fox", 1, 192, 128, "demo-dusk")
    assert difference(a, big.resize(a.size)) < 8


def test_preview_goes_from_noise_to_the_picture() -> None:
    final = paint("forest", 3, 64, 64, "demo-pastel")
    fractions = [0.0, 0.3, 0.7, 1.0]
    distances = [difference(preview(final, 3, f), final) for f in fractions]
    assert distances == sorted(distances, reverse=True) and distances[-1] == 0
    assert preview(final, 3, 0.3).tobytes() == preview(final, 3, 0.3).tobytes()
    grid = make_grid([final, final, final], rows=2)
    assert grid.size == (128, 128)


def test_a_client_gone_mid_answer_prints_no_traceback_other_errors_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A script that exits while lists are being sent closes its connections: the demo must not
    print a traceback on its stderr (it shares it), even when answering fails again after."""
    with DemoServer() as server:
        httpd = server._httpd
        assert httpd is not None
        try:
            try:
                raise BrokenPipeError(32, "Broken pipe")
            except BrokenPipeError:
                raise ValueError("I/O operation on closed file") from None
        except ValueError:
            httpd.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:
            raise RuntimeError("a real bug")
        except RuntimeError:
            httpd.handle_error(None, ("127.0.0.1", 1))
        assert "a real bug" in capsys.readouterr().err
