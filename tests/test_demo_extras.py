"""The demo's Extras endpoints against the facts file and v1.10's postprocessing code.

extra-single-image / extra-batch-images: A1111's fields, defaults and limits, the sizes
``Upscaler.upscale`` produces, the ``postprocessing`` text and ``html_info`` as the web UI writes
them, the source's ``parameters`` kept, the real server's errors.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat

from sdtui.demo import DemoServer
from sdtui.images.convert import encode_exif_user_comment, image_format
from sdtui.images.png import read_text_chunks, set_text_chunk

API = "/sdapi/v1"
SINGLE = f"{API}/extra-single-image"
BATCH = f"{API}/extra-batch-images"
INFOTEXT = (
    "a fox in the snow\nNegative prompt: blurry\nSteps: 3, Sampler: Euler a, "
    "Schedule type: Automatic, CFG scale: 7.0, Seed: 5, Size: 64x48, Model: demo-dusk"
)


@pytest.fixture
def client(demo_server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, timeout=30) as http:
        yield http


def source_png(width: int = 64, height: int = 48, infotext: str | None = INFOTEXT) -> bytes:
    """A small picture with detail (a gradient and a square) and, unless None, an infotext."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste((200, 40, 40), (width // 4, height // 4, width // 2, height // 2))
    out = BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    return set_text_chunk(data, "parameters", infotext) if infotext is not None else data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def opened(data: bytes) -> Image.Image:
    with Image.open(BytesIO(data)) as image:
        image.load()
        return image.copy()


def single(http: httpx.Client, image: bytes, **fields: Any) -> tuple[dict[str, Any], bytes]:
    response = http.post(SINGLE, json={"image": b64(image), **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"html_info", "image"}
    return body, base64.b64decode(body["image"])


def test_lanczos_scale_by_is_a_real_lanczos_resize_and_keeps_the_infotext(
    client: httpx.Client,
) -> None:
    source = source_png()
    body, data = single(client, source, upscaler_1="Lanczos", upscaling_resize=2)
    result = opened(data)
    expected = opened(source).convert("RGB").resize((128, 96), Image.Resampling.LANCZOS)
    assert result.size == (128, 96)
    assert ImageChops.difference(result.convert("RGB"), expected).getbbox() is None
    texts = read_text_chunks(data)
    assert texts["parameters"] == INFOTEXT
    # pydantic v1 turns the JSON 2 into 2.0 for the float field, so the text says 2.0.
    assert texts["postprocessing"] == "Postprocess upscale by: 2.0, Postprocess upscaler: Lanczos"
    assert body["html_info"] == (
        "<p>Postprocess upscale by: 2.0, Postprocess upscaler: Lanczos</p>"
    )
    assert list(texts) == ["parameters", "postprocessing"]


def test_the_default_factor_reads_as_the_facts_file_words_it(client: httpx.Client) -> None:
    """Left out, `upscaling_resize` is the model's default int 2: "upscale by: 2"."""
    _, data = single(client, source_png(), upscaler_1="Lanczos")
    assert read_text_chunks(data)["postprocessing"] == (
        "Postprocess upscale by: 2, Postprocess upscaler: Lanczos"
    )
    assert opened(data).size == (128, 96)


def test_nearest_repeats_pixels(client: httpx.Client) -> None:
    source = source_png(32, 16)
    _, data = single(client, source, upscaler_1="Nearest", upscaling_resize=4)
    expected = opened(source).convert("RGB").resize((128, 64), Image.Resampling.NEAREST)
    assert ImageChops.difference(opened(data).convert("RGB"), expected).getbbox() is None


def test_sizes_are_rounded_down_to_a_multiple_of_8(client: httpx.Client) -> None:
    """`Upscaler.upscale` aims at (w * scale) // 8 * 8: 100x60 by 1.5 is 144x88, not 150x90."""
    _, data = single(client, source_png(100, 60), upscaler_1="Lanczos", upscaling_resize=1.5)
    assert opened(data).size == (144, 88)
    assert "Postprocess upscale by: 1.5" in read_text_chunks(data)["postprocessing"]


def test_scale_to_crops_to_the_asked_size(client: httpx.Client) -> None:
    body, data = single(
        client,
        source_png(64, 48),
        upscaler_1="Lanczos",
        resize_mode=1,
        upscaling_resize_w=100,
        upscaling_resize_h=100,
    )
    assert opened(data).size == (100, 100)
    assert read_text_chunks(data)["postprocessing"] == (
        "Postprocess upscale to: 100x100, Postprocess crop to: 100x100, "
        "Postprocess upscaler: Lanczos"
    )
    assert body["html_info"].startswith("<p>Postprocess upscale to: 100x100,")


def test_scale_to_without_crop_covers_the_size_by_the_larger_factor(
    client: httpx.Client,
) -> None:
    """Without crop, the factor is max(w/W, h/H) and nothing is cut: 64x48 → 100x100 scales by
    100/48, rounded down to multiples of 8 (128x96)."""
    _, data = single(
        client,
        source_png(64, 48),
        upscaler_1="Lanczos",
        resize_mode=1,
        upscaling_resize_w=100,
        upscaling_resize_h=100,
        upscaling_crop=False,
    )
    assert opened(data).size == (128, 96)
    assert read_text_chunks(data)["postprocessing"] == (
        "Postprocess upscale to: 100x100, Postprocess upscaler: Lanczos"
    )


def test_no_upscaler_leaves_the_size_and_an_empty_postprocessing_text(
    client: httpx.Client,
) -> None:
    source = source_png()
    body, data = single(client, source)  # every field at its default: upscaler_1 "None"
    assert opened(data).size == (64, 48)
    texts = read_text_chunks(data)
    assert texts == {"parameters": INFOTEXT, "postprocessing": ""}
    assert body["html_info"] == "<p></p>"


def test_model_upscalers_resize_and_sharpen(client: httpx.Client) -> None:
    upscalers = [u["name"] for u in client.get(f"{API}/upscalers").json()]
    assert {"R-ESRGAN 4x+", "ESRGAN_4x", "SwinIR 4x", "LDSR"} <= set(upscalers)
    source = source_png()
    _, lanczos = single(client, source, upscaler_1="Lanczos", upscaling_resize=2)
    for name in ("R-ESRGAN 4x+", "SwinIR 4x"):
        _, data = single(client, source, upscaler_1=name, upscaling_resize=2)
        result = opened(data).convert("RGB")
        assert result.size == (128, 96)
        assert read_text_chunks(data)["postprocessing"].endswith(f"Postprocess upscaler: {name}")
        diff = ImageStat.Stat(ImageChops.difference(result, opened(lanczos).convert("RGB")))
        assert 0 < max(diff.mean) < 12  # the same picture, a little crisper


def test_second_upscaler_and_face_restoration_are_blended_and_written(
    client: httpx.Client,
) -> None:
    body, data = single(
        client,
        source_png(),
        upscaler_1="Nearest",
        upscaler_2="Lanczos",
        extras_upscaler_2_visibility=0.4,
        gfpgan_visibility=0.5,
        codeformer_visibility=0.25,
        codeformer_weight=0.6,
    )
    assert opened(data).size == (128, 96)
    text = (
        "Postprocess upscale by: 2, Postprocess upscaler: Nearest, "
        "Postprocess upscaler 2: Lanczos, GFPGAN visibility: 0.5, "
        "CodeFormer visibility: 0.25, CodeFormer weight: 0.6"
    )
    assert read_text_chunks(data)["postprocessing"] == text
    assert body["html_info"] == f"<p>{text}</p>"


def test_an_unknown_upscaler_is_the_real_assertion_error(client: httpx.Client) -> None:
    response = client.post(SINGLE, json={"image": b64(source_png()), "upscaler_1": "4x-Magic"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "AssertionError",
        "detail": "",
        "body": "",
        "errors": "could not find upscaler named 4x-Magic",
    }
    second = client.post(
        SINGLE,
        json={"image": b64(source_png()), "upscaler_1": "Lanczos", "upscaler_2": "Nope"},
    )
    assert second.status_code == 500 and second.json()["errors"].endswith("named Nope")
    # With no first upscaler the step ends before the second one is looked up.
    ignored = client.post(SINGLE, json={"image": b64(source_png()), "upscaler_2": "Nope"})
    assert ignored.status_code == 200


def test_impossible_sizes_are_server_errors_not_a_hang(client: httpx.Client) -> None:
    huge = client.post(
        SINGLE, json={"image": b64(source_png()), "upscaler_1": "Lanczos", "upscaling_resize": 500}
    )
    assert huge.status_code == 500 and huge.json()["error"] == "_ArrayMemoryError"
    assert huge.json()["errors"].startswith("Unable to allocate ")
    tiny = client.post(
        SINGLE,
        json={"image": b64(source_png()), "upscaler_1": "Lanczos", "upscaling_resize": 0.01},
    )
    assert tiny.status_code == 500
    assert tiny.json()["errors"] == "height and width must be > 0"


def test_the_routes_take_post_only(client: httpx.Client) -> None:
    for path in (SINGLE, BATCH):
        response = client.get(path)
        assert response.status_code == 405
        assert response.json() == {"detail": "Method Not Allowed"}


def test_bad_images_are_the_real_500(client: httpx.Client) -> None:
    for image in ("not base64 at all", "", b64(b"GIF89a but not really")):
        response = client.post(SINGLE, json={"image": image, "upscaler_1": "Lanczos"})
        assert response.status_code == 500, image
        assert response.json() == {
            "error": "HTTPException",
            "detail": "Invalid encoded image",
            "body": "",
            "errors": "",
        }
    batch = client.post(BATCH, json={"imageList": [{"data": "@@@", "name": "x.png"}]})
    assert batch.status_code == 500 and batch.json()["detail"] == "Invalid encoded image"


def test_field_limits_are_pydantic_v1_422s(client: httpx.Client) -> None:
    response = client.post(
        SINGLE,
        json={
            "image": b64(source_png()),
            "resize_mode": 2,
            "gfpgan_visibility": 1.5,
            "upscaling_resize": 0,
            "upscaler_1": None,
        },
    )
    assert response.status_code == 422
    errors = {tuple(e["loc"]): e for e in response.json()["detail"]}
    assert errors[("body", "upscaler_1")]["msg"] == "none is not an allowed value"
    assert errors[("body", "resize_mode")]["msg"] == "unexpected value; permitted: 0, 1"
    assert errors[("body", "gfpgan_visibility")] == {
        "loc": ["body", "gfpgan_visibility"],
        "msg": "ensure this value is less than or equal to 1",
        "type": "value_error.number.not_le",
        "ctx": {"limit_value": 1},
    }
    assert errors[("body", "upscaling_resize")]["type"] == "value_error.number.not_gt"
    missing = client.post(BATCH, json={"upscaler_1": "Lanczos"})
    assert missing.status_code == 422
    assert missing.json()["detail"] == [
        {"loc": ["body", "imageList"], "msg": "field required", "type": "value_error.missing"}
    ]
    nameless = client.post(BATCH, json={"imageList": [{"data": b64(source_png())}]})
    assert nameless.status_code == 422
    assert nameless.json()["detail"][0]["loc"] == ["body", "imageList", 0, "name"]


def test_batch_processes_each_image_in_order_keeping_its_own_infotext(
    client: httpx.Client,
) -> None:
    first = source_png(64, 48, infotext="first\nSteps: 3, Sampler: Euler, Seed: 1")
    second = source_png(32, 32, infotext=None)
    response = client.post(
        BATCH,
        json={
            "imageList": [
                {"data": b64(first), "name": "a.png"},
                {"data": b64(second), "name": "b"},
            ],
            "upscaler_1": "Lanczos",
            "upscaling_resize": 1.5,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"html_info", "images"}
    files = [base64.b64decode(x) for x in body["images"]]
    assert [opened(f).size for f in files] == [(96, 72), (48, 48)]
    assert read_text_chunks(files[0])["parameters"] == "first\nSteps: 3, Sampler: Euler, Seed: 1"
    assert "parameters" not in read_text_chunks(files[1])
    assert body["html_info"] == "<p>Postprocess upscale by: 1.5, Postprocess upscaler: Lanczos</p>"


def test_a_jpeg_source_keeps_its_exif_infotext_as_a_png_chunk(client: httpx.Client) -> None:
    image = opened(source_png(infotext=None)).convert("RGB")
    out = BytesIO()
    image.save(out, format="JPEG", exif=encode_exif_user_comment(INFOTEXT))
    _, data = single(client, out.getvalue(), upscaler_1="Lanczos")
    assert image_format(data) == "png"
    texts = read_text_chunks(data)
    assert texts["parameters"] == INFOTEXT and texts["exif comment"] == INFOTEXT


def test_jpeg_samples_carry_only_the_parameters(client: httpx.Client) -> None:
    from sdtui.images.convert import read_parameters

    client.post(f"{API}/options", json={"samples_format": "jpg"})
    _, data = single(client, source_png(), upscaler_1="Lanczos")
    assert image_format(data) == "jpeg"
    assert read_parameters(data) == INFOTEXT


def test_extras_wait_in_the_generation_queue(slow_demo: DemoServer) -> None:
    """The web UI runs extras under the same FIFO lock as txt2img: an extras request sent while
    a job samples is answered only once that job is done."""
    ended: dict[str, float] = {}

    def post(name: str, path: str, body: dict[str, Any]) -> None:
        with httpx.Client(base_url=slow_demo.url, timeout=30) as http:
            assert http.post(path, json=body).status_code == 200
        ended[name] = time.monotonic()

    job = {"prompt": "x", "width": 64, "height": 64, "steps": 30}  # 1.5 s of sampling
    txt2img = threading.Thread(target=post, args=("txt2img", f"{API}/txt2img", job))
    extras = threading.Thread(
        target=post,
        args=("extras", SINGLE, {"image": b64(source_png()), "upscaler_1": "Lanczos"}),
    )
    txt2img.start()
    with httpx.Client(base_url=slow_demo.url, timeout=30) as http:
        deadline = time.monotonic() + 10
        while http.get(f"{API}/progress").json()["state"]["sampling_step"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.005)
    extras.start()
    extras.join()
    txt2img.join()
    assert set(ended) == {"txt2img", "extras"}
    # Without the queue the extras would be back more than a second before the job.
    assert ended["txt2img"] - ended["extras"] < 0.5


def test_show_extras_results_is_accepted_and_the_image_still_comes(client: httpx.Client) -> None:
    """The API ignores it for single and batch images (only folder mode honours it)."""
    body, data = single(client, source_png(), upscaler_1="Lanczos", show_extras_results=False)
    assert opened(data).size == (128, 96)
    assert json.dumps(body)  # plain JSON all the way
