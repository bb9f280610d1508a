"""One generation, end to end: send the request, watch progress, save every image.

Shared by `sdtui generate` and the TUI, so both save the same files the same way. Heavy steps
(decoding images, converting formats, writing PNGs) run in threads: the caller's event loop only
awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sdtui.api import GenerationRequest, GenerationResult
from sdtui.engine.names import model_short_name
from sdtui.engine.progress import (
    UNKNOWN_PROGRESS,
    ProgressCallback,
    ProgressWatcher,
    new_task_id,
)
from sdtui.images.convert import read_parameters, to_png_with_parameters
from sdtui.images.infotext import build_infotext, parse_infotext
from sdtui.images.png import ImageDataError
from sdtui.store import ImageStore, SaveError

if TYPE_CHECKING:
    from sdtui.api.client import SDClient

__all__ = [
    "UNKNOWN_PROGRESS",
    "GenerationOutcome",
    "ProgressCallback",
    "SavedImage",
    "ServerModel",
    "embedded_infotext",
    "generate",
    "infotext_from_request",
    "save_result",
]


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
    title = request.model or model.name
    model_name = model_short_name(title) if title else None  # as the infotext's Model: says
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
    """Run one txt2img job (img2img for an `Img2ImgRequest`) and save its images. Raises ApiError when the server fails.

    With `on_progress`, the job is sent under a task id of its own (`force_task_id`, unless the
    request names one) and `on_progress` hears about this job only: while another client's job
    holds the server it gets updates with `waiting` set (see `sdtui.engine.progress`). The
    outcome keeps the caller's request, without the task id."""
    if on_progress is None:
        result = await client.generate(request)
        images = await save_result(result, request, store, model)
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
        save_result(result, request, store, model), watcher.finish(result.info)
    )
    return GenerationOutcome(
        request=request, result=result, images=images, stopped_early=stopped_early
    )
