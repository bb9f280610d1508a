"""The async client against the demo backend over loopback: every path a user takes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from sdtui.api import (
    ApiError,
    ErrorKind,
    GenerationRequest,
    ProgressUpdate,
    SDClient,
    TaskProgress,
    is_unsupported,
)
from sdtui.images.convert import image_format, read_parameters
from sdtui.images.infotext import parse_infotext


async def test_every_user_field_reaches_the_server(demo_server: Any) -> None:
    request = GenerationRequest(
        prompt="a red fox, at dusk",
        negative_prompt="blurry",
        seed=1234,
        subseed=99,
        subseed_strength=0.25,
        sampler_name="Euler a",
        scheduler="Karras",
        batch_size=2,
        n_iter=1,
        steps=5,
        cfg_scale=6.5,
        width=64,
        height=96,
        restore_faces=False,
        tiling=False,
        clip_skip=2,
        styles=[],
    )
    async with SDClient(demo_server.url) as client:
        models = await client.sd_models()
        request.model = models[-1].title
        result = await client.txt2img(request)
    sent = result.parameters
    for key in (
        "prompt",
        "negative_prompt",
        "seed",
        "subseed",
        "subseed_strength",
        "sampler_name",
        "scheduler",
        "batch_size",
        "n_iter",
        "steps",
        "cfg_scale",
        "width",
        "height",
    ):
        assert sent[key] == getattr(request, key), key
    assert sent["override_settings"]["sd_model_checkpoint"] == models[-1].title
    assert result.seeds == [1234, 1234]  # with a variation strength the subseed moves instead
    assert len(result.images) == 2
    info = parse_infotext(result.infotexts[1] or "")
    assert info.prompt == "a red fox, at dusk"
    assert info.negative_prompt == "blurry"
    assert (info.steps, info.cfg_scale, info.seed) == (5, 6.5, 1234)
    assert (info.get("Variation seed"), info.get("Variation seed strength")) == ("100", "0.25")
    assert (info.sampler, info.scheduler, info.width, info.height) == ("Euler a", "Karras", 64, 96)
    assert info.get("Clip skip") == "2"
    assert info.model == models[-1].model_name
    assert read_parameters(result.images[1]) == result.infotexts[1]


async def test_random_seed_is_resolved_from_all_seeds(demo_server: Any) -> None:
    async with SDClient(demo_server.url) as client:
        result = await client.txt2img(GenerationRequest(prompt="x", width=64, height=64, steps=2))
    assert result.parameters["seed"] == -1
    assert result.seeds[0] >= 0
    assert parse_infotext(result.infotexts[0] or "").seed == result.seeds[0]


async def test_grid_is_set_apart(demo_server: Any) -> None:
    request = GenerationRequest(
        prompt="x", width=64, height=64, steps=2, batch_size=2, save_images=True
    )
    async with SDClient(demo_server.url) as client:
        result = await client.txt2img(request)
    assert result.grid is not None
    assert len(result.images) == 2
    assert result.seeds[1] == result.seeds[0] + 1


async def test_progress_rises_and_interrupt_returns_partial_images(
    demo_factory: Callable[..., Any],
) -> None:
    server = demo_factory(step_delay=0.05)
    updates: list[ProgressUpdate] = []
    async with SDClient(server.url) as client:
        job = asyncio.create_task(
            client.txt2img(GenerationRequest(prompt="x", width=64, height=64, steps=60, n_iter=3))
        )
        while len([u for u in updates if u.active]) < 4:
            updates.append(await client.progress())
            await asyncio.sleep(0.05)
        await client.interrupt()
        result = await asyncio.wait_for(job, 10)
        idle = await client.progress()
    active = [u.progress for u in updates if u.active]
    assert active == sorted(active) and active[-1] > active[0]
    assert len(result.images) == 1  # the first batch, cut short; no further batches
    assert not idle.active


async def test_live_previews_arrive_as_images(demo_factory: Callable[..., Any]) -> None:
    server = demo_factory(step_delay=0.03)
    async with SDClient(server.url) as client:
        await client.set_options({"show_progress_every_n_steps": 1})
        job = asyncio.create_task(
            client.txt2img(GenerationRequest(prompt="x", width=64, height=64, steps=30))
        )
        previews = []
        while not job.done():
            update = await client.progress()
            if update.current_image:
                previews.append(update.current_image)
            await asyncio.sleep(0.03)
        await job
        cheap = await client.progress(skip_current_image=True)
    assert previews and image_format(previews[-1]) in {"png", "jpeg", "webp"}
    assert cheap.current_image is None


async def test_task_progress_follows_one_task_and_sends_only_new_previews(
    demo_factory: Callable[..., Any],
) -> None:
    server = demo_factory(step_delay=0.02)
    async with SDClient(server.url) as client:
        await client.set_options({"show_progress_every_n_steps": 4})
        before = await client.task_progress("task(mine)")
        assert (before.active, before.queued, before.completed) == (False, False, False)
        request = GenerationRequest(
            prompt="x", width=64, height=64, steps=60, force_task_id="task(mine)"
        )
        job = asyncio.create_task(client.txt2img(request))
        last, frames, answers = -1, [], 0
        while not job.done():
            status = await client.task_progress("task(mine)", id_live_preview=last)
            assert isinstance(status, TaskProgress)
            if status.active:
                answers += 1
                assert status.progress is not None and 0 <= status.progress <= 1
                if status.live_preview is not None:
                    assert status.id_live_preview > last  # only a newer one comes back
                    assert image_format(status.live_preview) in {"png", "jpeg", "webp"}
                    frames.append(status.live_preview)
                last = max(last, status.id_live_preview)
            await asyncio.sleep(0.01)
        await job
        done = await client.task_progress("task(mine)")
    assert 2 <= len(frames) <= 60 // 4 < answers  # most polls carried no picture
    assert len(set(frames)) == len(frames)
    assert done.completed and not done.active and done.progress is None


async def test_force_task_id_reaches_the_payload() -> None:
    request = GenerationRequest(prompt="x", force_task_id="task(abc)")
    assert request.to_payload()["force_task_id"] == "task(abc)"
    assert "force_task_id" not in GenerationRequest(prompt="x").to_payload()


async def test_a_server_without_internal_progress_is_asked_once(
    demo_factory: Callable[..., Any],
) -> None:
    server = demo_factory(nowebui=True)
    async with SDClient(server.url) as client:
        for _ in range(2):
            with pytest.raises(ApiError) as caught:
                await client.task_progress("task(x)")
            assert is_unsupported(caught.value)
        assert "/internal/progress" in client.missing
        assert (await client.progress()).job_count == 0  # the API itself is there


async def test_model_switch(demo_server: Any) -> None:
    async with SDClient(demo_server.url) as client:
        models = await client.sd_models()
        assert len(models) >= 2
        await client.set_model(models[1].title)
        assert (await client.get_options())["sd_model_checkpoint"] == models[1].title
        with pytest.raises(ApiError) as caught:
            await client.set_model("no-such-model")
    assert caught.value.kind is ErrorKind.SERVER
    assert "no-such-model" in caught.value.message


async def test_lists(demo_server: Any) -> None:
    async with SDClient(demo_server.url) as client:
        samplers = await client.samplers()
        schedulers = await client.schedulers()
        upscalers = await client.upscalers()
        styles = await client.prompt_styles()
        loras = await client.loras()
    assert "Euler a" in {s.name for s in samplers}
    assert "Karras" in {s.label for s in schedulers}
    assert upscalers and isinstance(styles, list) and isinstance(loras, list)


async def test_png_info_round_trip(demo_server: Any) -> None:
    async with SDClient(demo_server.url) as client:
        result = await client.txt2img(
            GenerationRequest(prompt="p, q", width=64, height=64, steps=2)
        )
        info = await client.png_info(result.images[0])
    assert info.info == result.infotexts[0]


@pytest.mark.parametrize(
    ("credentials", "kind"),
    [(None, ErrorKind.AUTH_MISSING), (("me", "wrong"), ErrorKind.AUTH_WRONG)],
)
async def test_auth_refused(
    demo_factory: Callable[..., Any], credentials: tuple[str, str] | None, kind: ErrorKind
) -> None:
    server = demo_factory(api_auth="me:secret")
    user, password = credentials or (None, None)
    async with SDClient(server.url, user=user, password=password) as client:
        with pytest.raises(ApiError) as caught:
            await client.get_options()
    assert caught.value.kind is kind
    assert "secret" not in caught.value.message


async def test_auth_accepted_from_url(demo_factory: Callable[..., Any]) -> None:
    server = demo_factory(api_auth="me:secret")
    url = server.url.replace("http://", "http://me:secret@")
    async with SDClient(url) as client:
        assert "sd_model_checkpoint" in await client.get_options()
        assert "secret" not in client.base_url


async def test_validation_error_from_the_demo_names_the_field(demo_server: Any) -> None:
    async with SDClient(demo_server.url) as client:
        request = GenerationRequest(prompt="x")
        request.steps = "many"  # type: ignore[assignment]
        with pytest.raises(ApiError) as caught:
            await client.txt2img(request)
    assert caught.value.kind is ErrorKind.VALIDATION
    assert "steps" in caught.value.message and "integer" in caught.value.message


async def test_out_of_memory_from_the_demo(demo_server: Any) -> None:
    async with SDClient(demo_server.url) as client:
        with pytest.raises(ApiError) as caught:
            await client.txt2img(GenerationRequest(prompt="x", width=8192, height=8192, steps=1))
    assert "CUDA out of memory" in caught.value.message


@pytest.mark.parametrize("installed", [False, True])
def test_a_missing_sniffio_is_remembered_so_requests_never_search_for_it(
    monkeypatch: pytest.MonkeyPatch, installed: bool
) -> None:
    """httpcore imports sniffio several times per request; without it installed, each try was
    a search of sys.path on disk, on the event loop."""
    import importlib.util
    import sys

    from sdtui.api import client

    saved = sys.modules.pop("sniffio", "absent")
    searched: list[str] = []

    def find_spec(name: str) -> object:
        searched.append(name)
        return object() if installed else None

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    try:
        client._remember_sniffio_is_missing()
        assert searched == ["sniffio"]
        if installed:
            assert "sniffio" not in sys.modules
        else:
            assert sys.modules["sniffio"] is None
            with pytest.raises(ImportError):
                import sniffio  # noqa: F401
    finally:
        sys.modules.pop("sniffio", None)
        if saved != "absent":
            sys.modules["sniffio"] = saved  # type: ignore[assignment]


# --- img2img, extras and the lists the form offers ---------------------------------------------


async def test_img2img_sends_the_init_image_and_its_fields(demo_server: Any) -> None:
    import base64

    from sdtui.api import Img2ImgRequest

    async with SDClient(demo_server.url) as client:
        made = await client.txt2img(GenerationRequest(prompt="a", width=64, height=48, steps=2))
        init = base64.b64encode(made.images[0]).decode("ascii")
        request = Img2ImgRequest(
            prompt="a fox", width=64, height=48, steps=4, init_images=[init], resize_mode=1
        )
        payload = request.to_payload()
        assert payload["denoising_strength"] == 0.75 and payload["resize_mode"] == 1
        assert not {"enable_hr", "hr_scale", "mask", "mask_blur"} & set(payload)
        result = await client.img2img(request)
        either = await client.generate(request)
    [image] = result.images
    text = parse_infotext(result.infotexts[0] or "")
    assert text.get("Denoising strength") == "0.75" and (text.width, text.height) == (64, 48)
    assert read_parameters(image) == result.infotexts[0]
    assert parse_infotext(either.infotexts[0] or "").get("Denoising strength") == "0.75"


async def test_extras_single_and_batch(demo_server: Any) -> None:
    from io import BytesIO

    from PIL import Image

    from sdtui.api import ExtrasRequest
    from sdtui.images.png import read_text_chunks

    async with SDClient(demo_server.url) as client:
        made = await client.txt2img(GenerationRequest(prompt="a", width=64, height=48, steps=2))
        single = await client.extra_single_image(
            made.images[0], ExtrasRequest(upscaler_1="Lanczos", upscaling_resize=2.5)
        )
        batch = await client.extra_batch_images(
            [("a.png", made.images[0]), ("b.png", made.images[0])],
            ExtrasRequest(upscaler_1="Nearest", resize_mode=1, upscaling_resize_w=80,
                          upscaling_resize_h=80),
        )  # fmt: skip
    [upscaled] = single.images
    with Image.open(BytesIO(upscaled)) as image:
        assert image.size == (160, 120)
    texts = read_text_chunks(upscaled)
    assert texts["parameters"] == made.infotexts[0]
    assert texts["postprocessing"] == "Postprocess upscale by: 2.5, Postprocess upscaler: Lanczos"
    assert single.html_info == f"<p>{texts['postprocessing']}</p>"
    assert len(batch.images) == 2 and "Postprocess upscale to: 80x80" in batch.html_info


async def test_extras_errors_are_one_clear_line(demo_server: Any) -> None:
    from sdtui.api import ExtrasRequest

    async with SDClient(demo_server.url) as client:
        with pytest.raises(ApiError) as unknown:
            await client.extra_single_image(b"\x89PNG", ExtrasRequest(upscaler_1="Lanczos"))
        made = await client.txt2img(GenerationRequest(prompt="a", width=64, height=64, steps=2))
        with pytest.raises(ApiError) as bad_name:
            await client.extra_single_image(made.images[0], ExtrasRequest(upscaler_1="Nope"))
    assert unknown.value.kind is ErrorKind.SERVER
    assert unknown.value.message == "The server failed (500): HTTPException: Invalid encoded image"
    assert bad_name.value.message == (
        "The server failed (500): AssertionError: could not find upscaler named Nope"
    )


async def test_lists_of_embeddings_latent_modes_and_vaes(demo_server: Any) -> None:
    async with SDClient(demo_server.url) as client:
        embeddings = await client.embeddings()
        everything = await client.embeddings(include_skipped=True)
        modes = await client.latent_upscale_modes()
        vaes = await client.sd_vaes()
    assert embeddings and not any(e.skipped for e in embeddings)
    assert {e.name for e in embeddings} < {e.name for e in everything}
    assert any(e.skipped for e in everything)
    assert all(e.shape and e.vectors for e in everything)
    assert "Latent" in modes and "Latent (nearest-exact)" in modes
    assert vaes and all(v.model_name and v.filename for v in vaes)


async def test_fetch_server_facts_reads_every_list(demo_server: Any) -> None:
    from sdtui.engine.server import fetch_server_facts

    async with SDClient(demo_server.url) as client:
        facts = await fetch_server_facts(client)
        options = await client.get_options()
    assert facts.model_title == options["sd_model_checkpoint"]
    assert facts.samplers and facts.schedulers and facts.models
    assert facts.styles and facts.loras and facts.embeddings and facts.vaes
    assert "Lanczos" in {u.name for u in facts.upscalers}
    assert facts.hires_upscalers[0] == "Latent" and facts.hires_upscalers[6] == "None"
    assert "R-ESRGAN 4x+" in facts.hires_upscalers
    other = facts.models[-1].title
    moved = facts.with_model(other)
    assert moved.model_title == other and moved.styles == facts.styles
    assert moved.vaes == facts.vaes and moved.model.name == facts.models[-1].model_name


def _lists_missing_server(status: int) -> Any:
    """A server with the essential lists only, and no img2img, extras or optional lists."""
    from tests.faulty import FaultyServer, json_reply
    from tests.faulty_servers import MISSING_ENDPOINT

    api = "/sdapi/v1"
    missing = MISSING_ENDPOINT[status]
    routes: dict[tuple[str, str], Any] = {
        ("GET", f"{api}/options"): json_reply({"sd_model_checkpoint": "m.safetensors [abc]"}),
        ("GET", f"{api}/sd-models"): json_reply([{"title": "m.safetensors [abc]"}]),
        ("GET", f"{api}/samplers"): json_reply([{"name": "Euler", "aliases": []}]),
        ("POST", f"{api}/img2img"): missing,
        ("POST", f"{api}/extra-single-image"): missing,
        ("POST", f"{api}/extra-batch-images"): missing,
    }
    for name in ("schedulers", "prompt-styles", "loras", "embeddings", "upscalers",
                 "latent-upscale-modes", "sd-vae", "sd-modules"):  # fmt: skip
        routes[("GET", f"{api}/{name}")] = missing
    return FaultyServer(routes)


@pytest.mark.parametrize("status", [404, 405, 501])
async def test_a_server_without_the_optional_lists_gets_empty_ones(status: int) -> None:
    from sdtui.engine.server import fetch_server_facts

    with _lists_missing_server(status) as server:
        async with SDClient(server.url) as client:
            facts = await fetch_server_facts(client)
    assert facts.model_title == "m.safetensors [abc]" and [s.name for s in facts.samplers] == [
        "Euler"
    ]
    lists: list[list[Any]] = [facts.schedulers, facts.styles, facts.loras, facts.embeddings]
    lists += [facts.upscalers, facts.latent_upscale_modes, facts.vaes]
    assert lists == [[]] * 7


@pytest.mark.parametrize("status", [404, 405, 501])
async def test_a_server_without_img2img_or_extras_says_so_in_one_line(status: int) -> None:
    from sdtui.api import ExtrasRequest, Img2ImgRequest

    with _lists_missing_server(status) as server:
        async with SDClient(server.url) as client:
            await client.get_options()
            failures = []
            for call in (
                client.img2img(Img2ImgRequest(init_images=["x"])),
                client.extra_single_image(b"x", ExtrasRequest()),
                client.extra_batch_images([("a", b"x")], ExtrasRequest()),
                client.embeddings(),
                client.sd_vaes(),
            ):
                with pytest.raises(ApiError) as caught:
                    await call
                failures.append(caught.value)
    for error in failures:
        assert is_unsupported(error) and error.kind is ErrorKind.NOT_FOUND
        assert "\n" not in error.message and error.message.startswith(server.url)
    assert "does not offer img2img (no /sdapi/v1/img2img" in failures[0].message
    assert "does not offer upscaling (no /sdapi/v1/extra-single-image" in failures[1].message
    assert "does not offer embeddings" in failures[3].message
    assert "does not offer VAEs (no /sdapi/v1/sd-modules" in failures[4].message


async def test_forge_lists_vaes_as_sd_modules() -> None:
    from tests.faulty import FaultyServer, json_reply

    modules = [{"model_name": "ae.safetensors", "filename": "/m/VAE/ae.safetensors"}]
    with FaultyServer({("GET", "/sdapi/v1/sd-modules"): json_reply(modules)}) as server:
        async with SDClient(server.url) as client:
            vaes = await client.sd_vaes()
    assert [(v.model_name, v.filename) for v in vaes] == [
        ("ae.safetensors", "/m/VAE/ae.safetensors")
    ]


async def test_fetch_server_facts_fails_when_an_essential_list_does() -> None:
    from sdtui.engine.server import fetch_server_facts
    from tests.faulty import FaultyServer, json_reply

    api = "/sdapi/v1"
    routes: dict[tuple[str, str], Any] = {
        ("GET", f"{api}/options"): json_reply({}),
        ("GET", f"{api}/sd-models"): json_reply([]),
        ("GET", f"{api}/samplers"): json_reply({"error": "boom"}, 500),
    }
    with FaultyServer(routes) as server:
        async with SDClient(server.url) as client:
            with pytest.raises(ApiError) as caught:
                await fetch_server_facts(client)
    assert caught.value.kind is ErrorKind.SERVER


def test_request_and_answer_shapes_of_the_new_types() -> None:
    import json

    from sdtui.api import ExtrasRequest, ExtrasResult, Img2ImgRequest
    from sdtui.api.types import BadImageData, ResponseShapeError, parse_embeddings

    base = GenerationRequest(prompt="p", seed=5, enable_hr=True, hr_scale=2.0, model="m")
    img = Img2ImgRequest.from_generation(base, ["AAAA"], denoising_strength=0.3, mask="BBBB")
    payload = img.to_payload()
    assert (payload["prompt"], payload["seed"], payload["denoising_strength"]) == ("p", 5, 0.3)
    assert payload["override_settings"] == {"sd_model_checkpoint": "m"}
    assert "enable_hr" not in payload and "hr_scale" not in payload and payload["mask"] == "BBBB"
    # No denoising strength given: img2img's own default, not the hires fix's.
    assert Img2ImgRequest.from_generation(GenerationRequest(), ["A"]).denoising_strength == 0.75
    assert Img2ImgRequest.from_dict(img.as_dict()) == img

    extras = ExtrasRequest(upscaler_1="Lanczos")
    assert extras.to_payload("QQ==")["image"] == "QQ=="
    batch = extras.to_batch_payload([("a.png", "QQ==")])
    assert batch["imageList"] == [{"data": "QQ==", "name": "a.png"}] and "image" not in batch

    answer = json.dumps({"html_info": "<p>x</p>", "image": "aGVsbG8="}).encode()
    assert ExtrasResult.from_bytes(answer, "image") == ExtrasResult([b"hello"], "<p>x</p>")
    empty = json.dumps({"html_info": "", "image": None}).encode()
    assert ExtrasResult.from_bytes(empty, "image").images == []
    with pytest.raises(ResponseShapeError):
        ExtrasResult.from_bytes(b'{"html_info": ""}', "images")
    with pytest.raises(BadImageData):
        ExtrasResult.from_bytes(b'{"images": ["not base64!"], "html_info": ""}', "images")
    with pytest.raises(ResponseShapeError):
        parse_embeddings([])
    odd = parse_embeddings({"loaded": {"b": {"shape": 768}, "A": "?"}, "skipped": None})
    assert [(e.name, e.shape, e.vectors) for e in odd] == [("A", None, None), ("b", 768, None)]


async def test_an_extras_answer_of_the_wrong_shape_is_one_line() -> None:
    from sdtui.api import ExtrasRequest
    from tests.faulty import FaultyServer, json_reply

    route = ("POST", "/sdapi/v1/extra-single-image")
    with FaultyServer({route: json_reply({"html_info": "<p></p>"})}) as server:
        async with SDClient(server.url) as client:
            with pytest.raises(ApiError) as caught:
                await client.extra_single_image(b"x", ExtrasRequest())
    assert caught.value.kind is ErrorKind.NOT_API
    assert "answered /sdapi/v1/extra-single-image with something unexpected" in str(caught.value)
