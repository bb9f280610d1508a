"""Upscaling saved images through the server's extras endpoints, and saving the results.

Shared by `sdtui upscale` and the TUI's upscale key. One file goes through
`extra-single-image`, several through one `extra-batch-images` call. Each result is saved as the
web UI saves its extras: a PNG that keeps the source's `parameters` (so it still loads and
re-runs like its source) and gains a `postprocessing` text (`Postprocess upscale by: 2,
Postprocess upscaler: Lanczos`). Servers that return the image without those texts get them
spliced in here, without re-encoding pixels; JPEG or WebP answers are converted to PNG.

Results land in the output folder's layout: next to their source when the source lies in it (the
same dated folder, named after the source), else in today's folder; the name says how it was
scaled (`<source>-2x.png`, `<source>-1024x768.png`). Saving is atomic and never overwrites.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sdtui.api.types import ExtrasRequest, ExtrasResult
from sdtui.engine.img2img import SourceImage, read_source_image
from sdtui.images.convert import image_format, read_parameters, to_png_with_parameters
from sdtui.images.infotext import format_infotext_value
from sdtui.images.png import ImageDataError, read_text_chunks, set_text_chunk
from sdtui.store import ImageStore, SaveError
from sdtui.store.files import atomic_write_unique
from sdtui.text import strip_control

if TYPE_CHECKING:
    from sdtui.api.client import SDClient

__all__ = [
    "POSTPROCESSING_KEY",
    "UpscaleOptions",
    "Upscaled",
    "finish_png",
    "postprocessing_text",
    "save_upscaled",
    "upscale_files",
    "upscale_sources",
]

POSTPROCESSING_KEY = "postprocessing"
PARAMETERS_KEY = "parameters"


@dataclass(frozen=True)
class UpscaleOptions:
    """What to do to each image: the Extras tab's upscale section. `scale` or a target `width`
    and `height` (cropped to fit unless `crop` is off); an optional second upscaler blended in at
    `upscaler_2_visibility`."""

    upscaler: str
    scale: float = 2.0
    width: int | None = None
    height: int | None = None
    crop: bool = True
    upscaler_2: str | None = None
    upscaler_2_visibility: float = 0.0

    @property
    def to_size(self) -> bool:
        return self.width is not None and self.height is not None

    def request(self) -> ExtrasRequest:
        second = self.upscaler_2 if self.upscaler_2 and self.upscaler_2_visibility > 0 else None
        return ExtrasRequest(
            resize_mode=1 if self.to_size else 0,
            upscaling_resize=self.scale,
            upscaling_resize_w=self.width or 512,
            upscaling_resize_h=self.height or 512,
            upscaling_crop=self.crop,
            upscaler_1=self.upscaler,
            upscaler_2=second or "None",
            extras_upscaler_2_visibility=self.upscaler_2_visibility if second else 0.0,
        )

    @property
    def tag(self) -> str:
        """How the file name says it was scaled: "2x", "1.5x", "1024x768"."""
        if self.to_size:
            return f"{self.width}x{self.height}"
        return f"{self.scale:g}x"


def postprocessing_text(options: UpscaleOptions) -> str:
    """The `postprocessing` text the web UI writes for this upscale
    (scripts/postprocessing_upscale.py), for servers that send none."""
    info: dict[str, object] = {}
    if options.to_size:
        info["Postprocess upscale to"] = f"{options.width}x{options.height}"
        if options.crop:
            info["Postprocess crop to"] = f"{options.width}x{options.height}"
    else:
        info["Postprocess upscale by"] = f"{options.scale:g}"
    if options.upscaler != "None":
        info["Postprocess upscaler"] = options.upscaler
        if options.upscaler_2 and options.upscaler_2 != "None" and options.upscaler_2_visibility:
            info["Postprocess upscaler 2"] = options.upscaler_2
    return ", ".join(f"{k}: {format_infotext_value(v)}" for k, v in info.items())


@dataclass
class Upscaled:
    """One source's result: where it was saved, or why not (then `png` may still hold it)."""

    source: Path
    png: bytes = b""
    path: Path | None = None
    error: str | None = None


_SAFE_STEM = re.compile(r"[^A-Za-z0-9._-]+")


def _stem(source: Path, options: UpscaleOptions) -> str:
    base = _SAFE_STEM.sub("-", source.stem).strip("-.") or "image"
    return f"{base[:80]}-{options.tag}"


def _folder(store: ImageStore, source: Path, when: datetime) -> Path:
    """The source's own folder when it is a dated folder of the store, else today's."""
    try:
        parent = source.resolve().parent
        root = store.root.resolve()
    except OSError:
        return store.folder_for(when)
    if parent.parent == root and not parent.name.startswith("."):
        return parent
    return store.folder_for(when)


def finish_png(image: bytes, source: SourceImage, options: UpscaleOptions) -> bytes:
    """The server's result as the PNG to save: the source's `parameters` kept, a
    `postprocessing` text present (the server's, else ours). Blocking: pixels are decoded only
    for a JPEG or WebP answer."""
    parameters = None
    try:
        parameters = read_parameters(source.data)
    except ImageDataError:
        parameters = None
    fmt = image_format(image)
    png = to_png_with_parameters(image, None if fmt == "png" else parameters)
    texts = read_text_chunks(png)
    if parameters and not texts.get(PARAMETERS_KEY):
        png = set_text_chunk(png, PARAMETERS_KEY, parameters)
    if not texts.get(POSTPROCESSING_KEY):
        text = postprocessing_text(options)
        if text:
            png = set_text_chunk(png, POSTPROCESSING_KEY, text)
    return png


def save_upscaled(
    images: Sequence[bytes],
    sources: Sequence[SourceImage],
    options: UpscaleOptions,
    store: ImageStore,
    when: datetime | None = None,
) -> list[Upscaled]:
    """Give each result its texts and save it (blocking: run in a thread). A source the server
    returned nothing for is reported, not skipped silently."""
    when = when or datetime.now()
    out: list[Upscaled] = []
    for i, source in enumerate(sources):
        result = Upscaled(source.path)
        out.append(result)
        name = strip_control(source.path.name, keep_newlines=False)
        if i >= len(images):
            result.error = f"{name}: the server returned no image for it"
            continue
        try:
            result.png = finish_png(images[i], source, options)
        except ImageDataError as exc:
            result.error = f"{name}: the server's result is unusable: {exc}"
            continue
        try:
            result.path = atomic_write_unique(
                _folder(store, source.path, when), _stem(source.path, options), ".png", result.png
            )
        except SaveError as exc:
            result.error = f"{name}: not saved: {exc.strerror or exc}"
    return out


async def upscale_sources(
    client: SDClient,
    sources: Sequence[SourceImage],
    options: UpscaleOptions,
    store: ImageStore,
) -> list[Upscaled]:
    """Upscale images already read, in one call, and save the results. Raises ApiError when the
    server refuses (unknown upscaler, no extras endpoint...)."""
    request = options.request()
    result: ExtrasResult
    if len(sources) == 1:
        result = await client.extra_single_image(sources[0].data, request)
    else:
        named = [(s.path.name, s.data) for s in sources]
        result = await client.extra_batch_images(named, request)
    return await asyncio.to_thread(save_upscaled, result.images, sources, options, store)


async def upscale_files(
    client: SDClient,
    paths: Sequence[Path],
    options: UpscaleOptions,
    store: ImageStore,
) -> list[Upscaled]:
    """Read `paths`, upscale the readable ones in one call and save the results: one `Upscaled`
    a path, in order, unreadable files carrying their error. Raises ApiError as
    `upscale_sources` does."""

    def read() -> list[SourceImage | Upscaled]:
        read_: list[SourceImage | Upscaled] = []
        for path in paths:
            try:
                read_.append(read_source_image(path))
            except ValueError as exc:
                read_.append(Upscaled(path, error=str(exc)))
        return read_

    items = await asyncio.to_thread(read)
    sources = [i for i in items if isinstance(i, SourceImage)]
    done = iter(await upscale_sources(client, sources, options, store) if sources else [])
    return [next(done) if isinstance(i, SourceImage) else i for i in items]
