"""One generation, end to end: send the request, watch progress, save every image.

Shared by `sdtui generate` and the TUI, so both save the same files the same way. Heavy steps
(decoding images, converting formats, writing PNGs) run in threads: the caller's event loop only
awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sdtui.api import GenerationRequest, GenerationResult, Img2ImgRequest, PromptStyle
from sdtui.engine.names import model_short_name, split_checkpoint_title
from sdtui.engine.progress import (
    UNKNOWN_PROGRESS,
    ProgressCallback,
    ProgressWatcher,
    new_task_id,
)
from sdtui.engine.styles import apply_styles as merge_styles
from sdtui.images.convert import read_parameters, to_png_with_parameters
from sdtui.images.infotext import build_infotext, parse_infotext
from sdtui.images.png import ImageDataError, set_text_chunk
from sdtui.store import ImageStore, SaveError
from sdtui.store.metadata import SERVER_KEY, server_name

if TYPE_CHECKING:
    from sdtui.api.client import SDClient

__all__ = [
    "UNKNOWN_PROGRESS",
    "GenerationOutcome",
    "ProgressCallback",
    "SavedImage",
    "ServerModel",
    "apply_styles",
    "embedded_infotext",
    "generate",
    "infotext_from_request",
    "mark_server",
    "save_result",
    "schedule_type",
]


@dataclass
class ServerModel:
    """What the infotext needs to know about the loaded model when the server says nothing."""

    name: str | None = None
    hash: str | None = None


# A1111's samplers that run with a schedule of their own when "Automatic" is asked
# (sd_samplers_kdiffusion's `options["scheduler"]`), and those that take no schedule at all.
_DEFAULT_SCHEDULES: dict[str, str] = {
    "DPM++ 2M": "Karras",
    "DPM++ SDE": "Karras",
    "DPM++ 2S a": "Karras",
    "Restart": "Karras",
    "DPM++ 2M SDE": "Exponential",
    "DPM++ 2M SDE Heun": "Exponential",
    "DPM++ 3M SDE": "Exponential",
}
_TIMESTEP_SAMPLERS = frozenset({"DDIM", "DDIM CFG++", "PLMS", "UniPC"})
_SCHEDULES = (
    "Uniform",
    "Karras",
    "Exponential",
    "Polyexponential",
    "SGM Uniform",
    "KL Optimal",
    "Align Your Steps",
    "Simple",
    "Normal",
    "DDIM",
    "Beta",
)
# Scheduler names and labels ("sgm_uniform", "SGM Uniform") → the label the infotext writes.
_SCHEDULE_LABELS = {
    **{label.lower().replace(" ", "_"): label for label in ("Automatic", *_SCHEDULES)},
    "sgmuniform": "SGM Uniform",
}
_MASKED_CONTENT = {2: "latent noise", 3: "latent nothing"}


def _schedule_label(name: str | None) -> str:
    if not name:
        return "Automatic"
    return _SCHEDULE_LABELS.get(name.strip().lower().replace(" ", "_"), name)


def _split_sampler(sampler: str) -> tuple[str, str | None]:
    """ "DPM++ 2M Karras" (a name from before v1.9) → ("DPM++ 2M", "Karras")."""
    for label in _SCHEDULES:
        if sampler.endswith(" " + label):
            return sampler[: -len(label) - 1], label
    return sampler, None


def schedule_type(sampler: str, scheduler: str | None) -> str:
    """The infotext's `Schedule type`, as v1.10 writes it: the scheduler's label ("Automatic"
    when none is named), replaced by the sampler's own schedule when it runs with one
    ("DPM++ 2M" → "Karras"; "Euler a" stays "Automatic"). A combined name ("DPM++ 2M Karras")
    names its schedule."""
    sampler, combined = _split_sampler(sampler)
    label = _schedule_label(scheduler) if scheduler else combined or "Automatic"
    if sampler in _TIMESTEP_SAMPLERS or label != "Automatic":
        return label
    return _DEFAULT_SCHEDULES.get(sampler, "Automatic")


def apply_styles(
    prompt: str, negative_prompt: str, names: Sequence[str] | None, styles: Sequence[PromptStyle]
) -> tuple[str, str]:
    """The prompts the server makes from `prompt` and the styles `names`, in order (v1.10's
    `apply_styles_to_prompt`, see engine/styles.py). Names the server does not have change
    nothing."""
    by_name = {style.name: style for style in styles}
    known = [name for name in names or () if name in by_name]
    return merge_styles(prompt, negative_prompt, known, by_name)


def _checkpoint_short_title(title: str | None) -> str | None:
    """How the infotext names another checkpoint (the refiner, the hires one): "name [hash]"."""
    if not title or title in ("None", "none", "Use same checkpoint"):
        return None
    _, model_hash = split_checkpoint_title(title)
    name = model_short_name(title)
    return f"{name} [{model_hash}]" if model_hash else name


def _vae_name(request: GenerationRequest) -> str | None:
    vae = (request.override_settings or {}).get("sd_vae")
    if not isinstance(vae, str) or vae in ("", "Automatic", "None"):
        return None
    return vae


def _img2img_params(request: Img2ImgRequest) -> dict[str, object]:
    """What an img2img job adds: its denoising strength always, the inpaint keys with a mask.
    No "Image CFG scale": the web UI keeps it only for instruct-pix2pix models."""
    params: dict[str, object] = {
        "Denoising strength": 0.75
        if request.denoising_strength is None
        else request.denoising_strength,
    }
    if request.mask:
        blur = 4 if request.mask_blur is None else request.mask_blur
        if request.inpainting_mask_invert:
            params["Mask mode"] = "Inpaint not masked"
        params["Mask blur"] = blur or None
        if request.inpaint_full_res is not False:
            params["Inpaint area"] = "Only masked"
            params["Masked area padding"] = request.inpaint_full_res_padding or 0
        params["Masked content"] = _MASKED_CONTENT.get(request.inpainting_fill or 0)
    return params


def _hires_params(
    request: GenerationRequest,
    sampler: str,
    schedule: str,
    prompts: tuple[str, str],
    hr_prompts: tuple[str, str],
) -> dict[str, object]:
    """The hires fix's keys, in the order v1.10 adds them."""
    params: dict[str, object] = {
        "Denoising strength": 0.7
        if request.denoising_strength is None
        else request.denoising_strength,
        "Hires checkpoint": _checkpoint_short_title(request.hr_checkpoint_name),
    }
    hr_sampler = request.hr_sampler_name
    if not hr_sampler or hr_sampler == "Use same sampler":
        hr_sampler = sampler
    if hr_sampler != sampler:
        params["Hires sampler"] = hr_sampler
    if hr_prompts[0] != prompts[0]:
        params["Hires prompt"] = hr_prompts[0]
    if hr_prompts[1] != prompts[1]:
        params["Hires negative prompt"] = hr_prompts[1]
    hr_scheduler = request.hr_scheduler
    if not hr_scheduler or hr_scheduler == "Use same scheduler":
        hr_scheduler = request.scheduler
    hr_schedule = schedule_type(hr_sampler, hr_scheduler)
    if hr_schedule != schedule and hr_schedule != "Automatic":
        params["Hires schedule type"] = hr_schedule
    if request.hr_resize_x or request.hr_resize_y:
        params["Hires resize"] = f"{request.hr_resize_x or 0}x{request.hr_resize_y or 0}"
    else:
        params["Hires upscale"] = request.hr_scale or 2.0
    params["Hires steps"] = request.hr_second_pass_steps or None
    params["Hires upscaler"] = request.hr_upscaler
    return params


def infotext_from_request(
    request: GenerationRequest,
    seed: int,
    model: ServerModel | None = None,
    *,
    styles: Sequence[PromptStyle] = (),
) -> str:
    """The web UI's infotext for an image made from `request`, for servers that send none
    (KoboldCpp answers `info: ""`): the same keys, order and rules as v1.10's `create_infotext`.
    With the server's `styles`, the prompts are written with the request's styles applied."""
    model = model or ServerModel()
    overrides = request.override_settings or {}
    wanted = request.model or overrides.get("sd_model_checkpoint")
    title = wanted if isinstance(wanted, str) and wanted else model.name
    model_name = model_short_name(title) if title else None  # as the infotext's Model: says
    # Another checkpoint than the loaded one: its hash is the one its title carries, if any.
    model_hash = split_checkpoint_title(title)[1] if title != model.name and title else model.hash
    schedule = schedule_type(request.sampler_name or "Euler", request.scheduler)
    sampler, _ = _split_sampler(request.sampler_name or "Euler")  # the infotext names it alone
    prompt, negative = apply_styles(request.prompt, request.negative_prompt, request.styles, styles)
    clip_skip = request.clip_skip or overrides.get("CLIP_stop_at_last_layers")
    resize_w, resize_h = request.seed_resize_from_w or 0, request.seed_resize_from_h or 0
    params: dict[str, object] = {
        "Steps": request.steps,
        "Sampler": sampler,
        "Schedule type": schedule,
        "CFG scale": request.cfg_scale,
        "Seed": seed,
        "Face restoration": "CodeFormer" if request.restore_faces else None,
        "Size": f"{request.width}x{request.height}",
        "Model hash": model_hash,
        "Model": model_name,
        "VAE": _vae_name(request),
        "Variation seed": request.subseed if request.subseed_strength else None,
        "Variation seed strength": request.subseed_strength or None,
        "Seed resize from": f"{resize_w}x{resize_h}" if resize_w > 0 and resize_h > 0 else None,
        "Clip skip": clip_skip if isinstance(clip_skip, int) and clip_skip > 1 else None,
        "Tiling": "True" if request.tiling else None,
    }
    if isinstance(request, Img2ImgRequest):
        params.update(_img2img_params(request))
    elif request.enable_hr:
        hr_prompts = apply_styles(
            request.hr_prompt or request.prompt,
            request.hr_negative_prompt or request.negative_prompt,
            request.styles,
            styles,
        )
        params.update(_hires_params(request, sampler, schedule, (prompt, negative), hr_prompts))
    refiner = _checkpoint_short_title(request.refiner_checkpoint)
    switch_at = request.refiner_switch_at
    if refiner is not None and (switch_at is None or switch_at < 1):
        params["Refiner"] = refiner
        params["Refiner switch at"] = switch_at
    return build_infotext(prompt, negative, params)


@dataclass
class SavedImage:
    """One image of a finished job: where it went, or why it could not be saved (then `png` still
    holds it, so the user can save it elsewhere)."""

    index: int
    seed: int
    infotext: str
    png: bytes
    path: Path | None = None
    error: str | None = None


def _images(count: int) -> str:
    return f"{count} image{'' if count == 1 else 's'}"


@dataclass
class GenerationOutcome:
    """A finished job. `interrupted`: we asked the server to stop it (the queue, or the CLI on
    Ctrl-C, sets it). `stopped_early`: the server ended it before it was done without us asking
    (interrupted from elsewhere, shutting down); fewer images than asked says so too."""

    request: GenerationRequest
    result: GenerationResult
    images: list[SavedImage] = field(default_factory=list)
    interrupted: bool = False
    stopped_early: bool = False

    @property
    def errors(self) -> list[str]:
        return [i.error for i in self.images if i.error]

    @property
    def expected(self) -> int:
        """How many images the request asked for: batch size x batch count."""
        return max(1, self.request.batch_size) * max(1, self.request.n_iter)

    @property
    def cut_short(self) -> bool:
        """The server stopped before it was done, by itself (not because we asked)."""
        return not self.interrupted and (self.stopped_early or len(self.images) < self.expected)

    @property
    def complete(self) -> bool:
        """Every image asked for came, from a job that ran to its end: a full progress bar."""
        return not self.interrupted and not self.cut_short

    def summary(self) -> str:
        """One line on how the job ended, for the TUI's progress line and the CLI:
        "3 images saved", "1 of 3 images saved · the server stopped early",
        "interrupted · 2 of 4 images saved", "2 of 3 images saved · 1 not written to disk"."""
        expected = self.expected
        received = [i for i in self.images if i.png]
        saved = sum(1 for i in received if i.path is not None)
        unwritten = sum(1 for i in received if i.path is None and i.error)
        unreadable = len(self.images) - len(received)
        stored = saved or unwritten  # False when the images were not meant to be saved
        count = saved if stored else len(received)
        verb = "saved" if stored else "received"
        if not self.images:
            phrase = "no images"
        elif count < expected:
            phrase = f"{count} of {_images(expected)} {verb}"
        else:
            phrase = f"{_images(count)} {verb}"
        parts = ["interrupted", phrase] if self.interrupted else [phrase]
        if self.cut_short:
            parts.append("the server stopped early")
        if unwritten:
            parts.append(f"{unwritten} not written to disk")
        if unreadable:
            parts.append(f"{unreadable} unreadable")
        return " · ".join(parts)


def mark_server(png: bytes, server: str | None) -> bytes:
    """`png` with an `sdtui-server` text chunk naming the server that made it, beside
    `parameters` (spliced: pixels and the infotext are untouched). No name, no chunk."""
    name = server_name(server)
    return set_text_chunk(png, SERVER_KEY, name) if name else png


def _save_one(
    store: ImageStore | None,
    index: int,
    image: bytes,
    seed: int,
    infotext: str,
    prompt: str,
    when: datetime,
    server: str | None = None,
) -> SavedImage:
    try:
        png = to_png_with_parameters(image, infotext)  # no pixel re-encode for PNGs
        png = mark_server(png, server)
    except ImageDataError as exc:
        return SavedImage(index, seed, infotext, b"", error=f"image {index + 1}: {exc}")
    saved = SavedImage(index, seed, infotext, png)
    if store is not None:
        try:
            saved.path = store.save(png, prompt=prompt, seed=seed, when=when)
        except SaveError as exc:
            saved.error = f"image {index + 1} not saved: {exc.strerror or exc}"
    return saved


def embedded_infotext(image: bytes) -> str | None:
    """The infotext a server image carries itself (PNG `parameters` chunk, JPEG/WebP EXIF), or
    None. Unusable bytes give None here: saving them reports what is wrong."""
    try:
        return read_parameters(image) or None
    except ImageDataError:
        return None


async def save_result(
    result: GenerationResult,
    request: GenerationRequest,
    store: ImageStore | None,
    model: ServerModel | None = None,
    *,
    styles: Sequence[PromptStyle] = (),
    server: str | None = None,
) -> list[SavedImage]:
    """Give every image its infotext and save it, in a worker thread.

    The infotext is the one in `info`; else the one the image carries (a server that answers
    `info: ""` may still embed it, with the real seed and model); else one built from the request
    (with the server's `styles` applied to its prompts). With `server`, each PNG also carries
    that name in an `sdtui-server` text chunk (the infotext stays as the web UI reads it).
    """
    when = datetime.now()

    def work() -> list[SavedImage]:
        out = []
        for i, image in enumerate(result.images):
            seed = result.seeds[i] if i < len(result.seeds) else -1
            infotext = result.infotexts[i] if i < len(result.infotexts) else None
            if not infotext:
                infotext = embedded_infotext(image)
                embedded_seed = parse_infotext(infotext).seed if infotext else None
                if seed < 0 and embedded_seed is not None:
                    seed = embedded_seed
            if not infotext:
                infotext = infotext_from_request(request, seed, model, styles=styles)
            out.append(_save_one(store, i, image, seed, infotext, request.prompt, when, server))
        return out

    return await asyncio.to_thread(work)


async def generate(
    client: SDClient,
    request: GenerationRequest,
    store: ImageStore | None,
    *,
    on_progress: ProgressCallback | None = None,
    poll_interval: float = 0.5,
    previews: bool = True,
    model: ServerModel | None = None,
    styles: Sequence[PromptStyle] = (),
    server: str | None = None,
) -> GenerationOutcome:
    """Run one txt2img job (img2img for an `Img2ImgRequest`) and save its images. Raises ApiError when the server fails.

    `server` names the server in each saved PNG (`sdtui-server` chunk; see `save_result`).

    With `on_progress`, the job is sent under a task id of its own (`force_task_id`, unless the
    request names one) and `on_progress` hears about this job only: while another client's job
    holds the server it gets updates with `waiting` set (see `sdtui.engine.progress`). The
    outcome keeps the caller's request, without the task id."""
    if on_progress is None:
        result = await client.generate(request)
        images = await save_result(result, request, store, model, styles=styles, server=server)
        return GenerationOutcome(request=request, result=result, images=images)
    task_id = request.force_task_id or new_task_id()
    sent = dataclasses.replace(request, force_task_id=task_id)
    watcher = ProgressWatcher(
        client, sent, on_progress, task_id=task_id, interval=poll_interval, previews=previews
    )
    await watcher.prepare()
    poller = asyncio.create_task(watcher.watch())
    try:
        result = await client.generate(sent)
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    images, stopped_early = await asyncio.gather(
        save_result(result, request, store, model, styles=styles, server=server),
        watcher.finish(result.info),
    )
    return GenerationOutcome(
        request=request, result=result, images=images, stopped_early=stopped_early
    )
