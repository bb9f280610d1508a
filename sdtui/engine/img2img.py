"""img2img from files: reading the init image and mask, and the request that sends them.

Shared by `sdtui generate --init-image` and the TUI. The server does not take the output size
from the init image (it makes 512x512 when none is sent), so without a size from the user the
init image's own size is used, brought to what the server accepts: a multiple of 8, at most 2048
on a side (a bigger image is scaled down to fit, keeping its shape), at least 64.
Reading and encoding are blocking: call them from a worker thread.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdtui.api.types import GenerationRequest, Img2ImgRequest
from sdtui.engine.limits import LIMITS
from sdtui.images.convert import check_decodable
from sdtui.images.png import ImageDataError
from sdtui.text import strip_control

__all__ = [
    "INPAINT_AREAS",
    "RESIZE_MODES",
    "InputImageError",
    "SourceImage",
    "fit_size",
    "img2img_request",
    "read_source_image",
]

#: The web UI's resize modes, as the command line names them, and the API's numbers for them.
RESIZE_MODES: dict[str, int] = {
    "just-resize": 0,
    "crop-and-resize": 1,
    "resize-and-fill": 2,
    "latent": 3,  # "Just resize (latent upscale)"
}

#: Inpaint area: the whole picture, or only the masked part (`inpaint_full_res`).
INPAINT_AREAS: dict[str, bool] = {"whole": False, "masked": True}


class InputImageError(ValueError):
    """An image file that cannot be used: the message says which and why, in one line."""


@dataclass(frozen=True)
class SourceImage:
    """An image file read for sending: its bytes (PNG, JPEG or WebP as they are) and size."""

    path: Path
    data: bytes
    format: str
    width: int
    height: int

    @property
    def name(self) -> str:
        return strip_control(self.path.name, keep_newlines=False)

    def b64(self) -> str:
        """Plain base64, as the API takes images."""
        return base64.b64encode(self.data).decode("ascii")


def read_source_image(path: Path) -> SourceImage:
    """Read and check an image file (blocking). InputImageError when it cannot be read or is
    not a whole PNG, JPEG or WebP within the decoder's pixel limit."""
    shown = strip_control(str(path), keep_newlines=False)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputImageError(f"{shown} is a folder, not an image") from None
    except OSError as exc:
        raise InputImageError(f"cannot read {shown}: {exc.strerror or exc}") from None
    try:
        fmt, width, height = check_decodable(data)
    except ImageDataError as exc:
        raise InputImageError(f"{shown}: {exc}") from None
    return SourceImage(path, data, fmt, width, height)


def _round8(value: float) -> int:
    return max(8, round(value / 8) * 8)


def fit_size(width: int, height: int) -> tuple[int, int]:
    """An image's size as an output size the server takes: scaled down to fit 2048 on its longer
    side when bigger, each side rounded to a multiple of 8, and kept within 64-2048."""
    top = int(LIMITS["width"].maximum)
    low = int(LIMITS["width"].minimum)
    scale = min(1.0, top / max(width, height, 1))
    w, h = _round8(width * scale), _round8(height * scale)
    return min(top, max(low, w)), min(top, max(low, h))


def img2img_request(
    request: GenerationRequest,
    init: SourceImage,
    *,
    mask: SourceImage | None = None,
    size_given: bool = False,
    **fields: Any,
) -> Img2ImgRequest:
    """The img2img job for `request`'s settings made from `init` (and `mask`, for inpainting).

    Without `size_given`, the output size is the init image's own (see `fit_size`). `fields` are
    `Img2ImgRequest` fields (denoising_strength, resize_mode, mask_blur, inpaint_full_res...);
    hires fix settings, which img2img does not take, are not sent."""
    sent = Img2ImgRequest.from_generation(request, [init.b64()], **fields)
    if mask is not None:
        sent.mask = mask.b64()
    if not size_given:
        sent.width, sent.height = fit_size(init.width, init.height)
    sent.enable_hr = False
    return sent
