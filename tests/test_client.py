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
