"""One generation, end to end: send the request, watch progress, save every image.

Shared by `sdtui generate` and the TUI, so both save the same files the same way. Heavy steps
(decoding images, converting formats, writing PNGs) run in threads: the caller's event loop only
awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sdtui.api import ApiError, ErrorKind, GenerationRequest, GenerationResult, ProgressUpdate
from sdtui.images.convert import read_parameters, to_png_with_parameters
from sdtui.images.infotext import build_infotext, parse_infotext
from sdtui.images.png import ImageDataError
from sdtui.store import ImageStore, SaveError

if TYPE_CHECKING:
    from sdtui.api.client import SDClient

ProgressCallback = Callable[[ProgressUpdate], None]


@dataclass
class ServerModel:
    """What the infotext needs to know about the loaded model when the server says nothing."""

    name: str | None = None
    hash: str | None = None


def infotext_from_request(
    request: GenerationRequest, seed: int, model: ServerModel | None = None
) -> str:
    """The web UI's infotext for an image made from `request`, for servers that send none
    (KoboldCpp answers `info: ""`)."""
    model = model or ServerModel()
    model_name = request.model or model.name
    if model_name and "[" in model_name:  # a checkpoint title "name.safetensors [hash]"
        model_name = model_name.rsplit("[", 1)[0].strip()
    if model_name:
        model_name = model_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        for ext in (".safetensors", ".ckpt", ".gguf", ".pt"):
            model_name = model_name.removesuffix(ext)
    params: dict[str, object] = {
        "Steps": request.steps,
        "Sampler": request.sampler_name or "Euler",
        "Schedule type": request.scheduler
        if request.scheduler and request.scheduler != "Automatic"
        else None,
        "CFG scale": request.cfg_scale,
        "Seed": seed,
        "Face restoration": "CodeFormer" if request.restore_faces else None,
        "Size": f"{request.width}x{request.height}",
        "Model hash": model.hash if not request.model else None,
        "Model": model_name,
        "Variation seed": request.subseed if request.subseed_strength else None,
        "Variation seed strength": request.subseed_strength or None,
        "Denoising strength": request.denoising_strength if request.enable_hr else None,
        "Clip skip": request.clip_skip if request.clip_skip and request.clip_skip > 1 else None,
        "Tiling": True if request.tiling else None,
    }
    if request.enable_hr:
        params["Hires upscale"] = request.hr_scale or 2.0
        params["Hires steps"] = request.hr_second_pass_steps or None
        params["Hires upscaler"] = request.hr_upscaler
    return build_infotext(request.prompt, request.negative_prompt, params)


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


@dataclass
class GenerationOutcome:
    request: GenerationRequest
    result: GenerationResult
    images: list[SavedImage] = field(default_factory=list)
    interrupted: bool = False

    @property
    def errors(self) -> list[str]:
        return [i.error for i in self.images if i.error]


def _save_one(
    store: ImageStore | None,
    index: int,
    image: bytes,
    seed: int,
    infotext: str,
    prompt: str,
    when: datetime,
) -> SavedImage:
    try:
        png = to_png_with_parameters(image, infotext)  # no pixel re-encode for PNGs
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
) -> list[SavedImage]:
    """Give every image its infotext and save it, in a worker thread.

    The infotext is the one in `info`; else the one the image carries (a server that answers
    `info: ""` may still embed it, with the real seed and model); else one built from the request.
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
                infotext = infotext_from_request(request, seed, model)
            out.append(_save_one(store, i, image, seed, infotext, request.prompt, when))
        return out

    return await asyncio.to_thread(work)


async def poll_progress(
    client: SDClient,
    on_progress: ProgressCallback,
    *,
    interval: float = 0.5,
    previews: bool = True,
) -> None:
    """Report progress until cancelled. Servers without /progress get one idle update with
    `job_count == -1` (meaning: progress unknown) and no more polls."""
    while True:
        try:
            update = await client.progress(skip_current_image=not previews)
        except ApiError as exc:
            if exc.kind in (ErrorKind.NOT_FOUND, ErrorKind.API_DISABLED):
                on_progress(UNKNOWN_PROGRESS)
                return
            # A hiccup in a progress poll is not a failed job: the generation call says how it went.
        else:
            on_progress(update)
        await asyncio.sleep(interval)


UNKNOWN_PROGRESS = ProgressUpdate(0.0, 0.0, "", 0, -1, 0, 0, "", False, False, None, None)


async def generate(
    client: SDClient,
    request: GenerationRequest,
    store: ImageStore | None,
    *,
    on_progress: ProgressCallback | None = None,
    poll_interval: float = 0.5,
    previews: bool = True,
    model: ServerModel | None = None,
) -> GenerationOutcome:
    """Run one txt2img job and save its images. Raises ApiError when the server fails."""
    poller = None
    if on_progress is not None:
        poller = asyncio.create_task(
            poll_progress(client, on_progress, interval=poll_interval, previews=previews)
        )
    try:
        result = await client.txt2img(request)
    finally:
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
    images = await save_result(result, request, store, model)
    return GenerationOutcome(request=request, result=result, images=images)
