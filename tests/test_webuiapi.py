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
