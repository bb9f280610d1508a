"""The third-party ``webuiapi`` client works unchanged against the demo server.

``webuiapi`` is what many scripts use to drive a real web UI; if it works here, the demo's wire
format is close enough to the real thing for other clients too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import webuiapi

from sdtui.demo import DemoServer


def connect(server: DemoServer, **kwargs: str) -> webuiapi.WebUIApi:
    address = urlsplit(server.url)
    return webuiapi.WebUIApi(host=address.hostname, port=address.port, **kwargs)


def test_txt2img_lists_and_png_info(demo_server: DemoServer) -> None:
    api = connect(demo_server)
    result = api.txt2img(prompt="a quiet lake at dawn", seed=5, width=64, height=64, steps=3)
    assert result.image.size == (64, 64)
    assert result.info["seed"] == 5 and result.info["all_seeds"] == [5]
    assert result.parameters["prompt"] == "a quiet lake at dawn"
    assert result.info["sampler_name"] == "Euler a"  # webuiapi's default sampler
    assert result.image.info["parameters"] == result.info["infotexts"][0]

    info = api.png_info(result.image)
    assert info.info == result.info["infotexts"][0]  # not JSON, so kept as the string

    titles = [m["title"] for m in api.get_sd_models()]
    assert len(titles) >= 3
    assert {"Euler a", "DPM++ 2M"} <= {s["name"] for s in api.get_samplers()}
    assert "karras" in api.util_get_scheduler_names()
    assert api.util_get_current_model() == titles[0]


def test_model_switch_and_options(demo_server: DemoServer, capsys: pytest.CaptureFixture[str]
                                  ) -> None:  # fmt: skip
    api = connect(demo_server)
    target = api.util_get_model_names()[-1]
    api.util_set_model(target)  # prints progress lines; they are not under test
    capsys.readouterr()
    assert api.util_get_current_model() == target
    api.set_options({"samples_format": "jpg"})
    assert api.get_options()["samples_format"] == "jpg"
    result = api.txt2img(prompt="x", seed=1, width=64, height=64, steps=2)
    assert result.image.format == "JPEG"
    assert result.info["sd_model_name"] + ".safetensors" in target


def test_interrupt_and_progress(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(step_delay=0.01)
    api = connect(server)
    results: list[webuiapi.WebUIApiResult] = []
    job = threading.Thread(
        target=lambda: results.append(
            api.txt2img(prompt="x", width=64, height=64, steps=10_000, n_iter=3)
        )
    )
    job.start()
    watcher = connect(server)
    for _ in range(2000):
        if watcher.get_progress()["state"]["sampling_step"] >= 2:
            break
    assert watcher.get_progress()["progress"] > 0
    watcher.interrupt()
    job.join(timeout=10)
    assert not job.is_alive()
    assert len(results[0].images) == 1  # the interrupted batch; no further batches
    watcher.util_wait_for_ready(check_interval=0.01)


def test_auth(demo_factory: Callable[..., DemoServer]) -> None:
    server = demo_factory(api_auth="me:secret")
    anonymous = connect(server)
    with pytest.raises(RuntimeError) as caught:
        anonymous.txt2img(prompt="x", width=64, height=64, steps=2)
    assert caught.value.args[0] == 401
    api = connect(server)
    api.set_auth("me", "secret")
    assert api.txt2img(prompt="x", width=64, height=64, steps=2).image.size == (64, 64)
    signed_in = connect(server, username="me", password="secret")
    assert signed_in.get_options()["sd_model_checkpoint"]


def test_extra_single_image_upscales_and_keeps_the_infotext(demo_server: DemoServer) -> None:
    api = connect(demo_server)
    made = api.txt2img(prompt="a lighthouse", seed=3, width=64, height=48, steps=2)
    result = api.extra_single_image(made.image, upscaler_1="Lanczos", upscaling_resize=2)
    assert result.image.size == (128, 96)
    assert result.image.info["parameters"] == made.info["infotexts"][0]
    assert result.image.info["postprocessing"] == (
        "Postprocess upscale by: 2.0, Postprocess upscaler: Lanczos"
    )
    assert result.info == "<p>Postprocess upscale by: 2.0, Postprocess upscaler: Lanczos</p>"
    sized = api.extra_single_image(
        made.image, upscaler_1="R-ESRGAN 4x+", resize_mode=1, upscaling_resize_w=96,
        upscaling_resize_h=96,
    )  # fmt: skip
    assert sized.image.size == (96, 96)
    with pytest.raises(RuntimeError) as caught:
        api.extra_single_image(made.image, upscaler_1="No such upscaler")
    assert caught.value.args[0] == 500 and "could not find upscaler" in caught.value.args[1]


def test_extra_batch_images_keeps_the_order(demo_server: DemoServer) -> None:
    api = connect(demo_server)
    small = api.txt2img(prompt="a", seed=1, width=64, height=64, steps=2).image
    wide = api.txt2img(prompt="b", seed=2, width=96, height=64, steps=2).image
    result = api.extra_batch_images(
        [small, wide], upscaler_1="Nearest", upscaling_resize=1.5, name_list=["s", "w"]
    )
    assert [image.size for image in result.images] == [(96, 96), (144, 96)]
    assert [image.info["parameters"] for image in result.images] == [
        small.info["parameters"],
        wide.info["parameters"],
    ]
    assert "Postprocess upscaler: Nearest" in result.info
