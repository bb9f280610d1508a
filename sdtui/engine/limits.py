"""The ranges of the generation settings, shared by the form and the command line.

One table, so `sdtui generate --width 13` is refused with the words the form shows for the same
value. The ranges are the web UI's own sliders (steps 1-150, CFG 1-30, sizes 64-2048 in steps of 8,
batch size 1-8, batch count 1-100); the seed is any unsigned 32-bit number, or -1 for a random one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["LIMITS", "MAX_SEED", "Limit", "LimitError", "check", "parse"]

MAX_SEED = 2**32 - 1

_WHOLE = re.compile(r"[+-]?[0-9]+")


class LimitError(ValueError):
    """A value outside its field's range. `message` is the form's wording for the field; `str()`
    adds the value that was given."""

    def __init__(self, field: str, message: str, given: object = None) -> None:
        self.field = field
        self.message = message
        self.given = given
        super().__init__(message if given is None else f"{message} (got {given})")


@dataclass(frozen=True)
class Limit:
    """One numeric field: its range, whether it is whole, what it must be a multiple of."""

    label: str
    minimum: int | float
    maximum: int | float
    whole: bool
    multiple_of: int | None
    default: int | float
    help: str
    message: str  # what is wrong with a value out of range or not a number, in the form's words

    @property
    def multiple_message(self) -> str:
        return f"{self.label} must be a multiple of {self.multiple_of}"


LIMITS: dict[str, Limit] = {
    "steps": Limit(
        "Steps", 1, 150, True, None, 20,
        "Sampling steps (1-150)",
        "Steps must be a whole number from 1 to 150",
    ),
    "cfg": Limit(
        "CFG", 1, 30, False, None, 7.0,
        "Classifier-free guidance scale (1-30)",
        "CFG must be a number from 1 to 30",
    ),
    "seed": Limit(
        "Seed", -1, MAX_SEED, True, None, -1,
        f"-1 picks a random seed (else 0-{MAX_SEED})",
        f"Seed must be -1 (random) or 0 to {MAX_SEED}",
    ),
    "width": Limit(
        "Width", 64, 2048, True, 8, 512,
        "Image width in pixels (64-2048, a multiple of 8)",
        "Width must be 64 to 2048 pixels",
    ),
    "height": Limit(
        "Height", 64, 2048, True, 8, 512,
        "Image height in pixels (64-2048, a multiple of 8)",
        "Height must be 64 to 2048 pixels",
    ),
    "batch_size": Limit(
        "Batch size", 1, 8, True, None, 1,
        "Images per batch, generated together (1-8)",
        "Batch size must be 1 to 8 images",
    ),
    "batch_count": Limit(
        "Batch count", 1, 100, True, None, 1,
        "Number of batches, run one after another (1-100)",
        "Batch count must be 1 to 100",
    ),
    "denoise": Limit(
        "Denoising strength", 0, 1, False, None, 0.75,
        "Denoising strength for hires fix and img2img (0-1)",
        "Denoising strength must be a number from 0 to 1",
    ),
    "hr_scale": Limit(
        "Hires upscale", 1, 4, False, None, 2.0,
        "Hires fix: upscale by (1-4)",
        "Hires upscale must be a number from 1 to 4",
    ),
    "hr_steps": Limit(
        "Hires steps", 0, 150, True, None, 0,
        "Hires fix: second-pass steps (0-150, 0 = as many as the first pass)",
        "Hires steps must be a whole number from 0 to 150",
    ),
    "hr_width": Limit(
        "Hires width", 0, 2048, True, 8, 0,
        "Hires fix: resize width to (0-2048, a multiple of 8; 0 = from the scale)",
        "Hires width must be 0 to 2048 pixels",
    ),
    "hr_height": Limit(
        "Hires height", 0, 2048, True, 8, 0,
        "Hires fix: resize height to (0-2048, a multiple of 8; 0 = from the scale)",
        "Hires height must be 0 to 2048 pixels",
    ),
    "subseed": Limit(
        "Variation seed", -1, MAX_SEED, True, None, -1,
        f"Variation seed: -1 random (else 0-{MAX_SEED})",
        f"Variation seed must be -1 (random) or 0 to {MAX_SEED}",
    ),
    "subseed_strength": Limit(
        "Variation strength", 0, 1, False, None, 0.0,
        "Variation seed strength (0-1)",
        "Variation strength must be a number from 0 to 1",
    ),
    "clip_skip": Limit(
        "Clip skip", 1, 12, True, None, 1,
        "Clip skip: stop at the last layers of CLIP (1-12)",
        "Clip skip must be a whole number from 1 to 12",
    ),
    "refiner_switch_at": Limit(
        "Refiner switch at", 0.01, 1, False, None, 0.8,
        "Refiner: switch at this fraction of the steps (0.01-1)",
        "Refiner switch must be a number from 0.01 to 1",
    ),
    "mask_blur": Limit(
        "Mask blur", 0, 64, True, None, 4,
        "Inpainting: mask blur in pixels (0-64)",
        "Mask blur must be a whole number from 0 to 64",
    ),
    "upscale_by": Limit(
        "Upscale by", 1, 8, False, None, 2.0,
        "Extras: upscale by (1-8)",
        "Upscale by must be a number from 1 to 8",
    ),
    "upscaler_2_visibility": Limit(
        "Upscaler 2 visibility", 0, 1, False, None, 0.0,
        "Extras: how much of the second upscaler shows (0-1)",
        "Upscaler 2 visibility must be a number from 0 to 1",
    ),
    "upscale_width": Limit(
        "Upscale width", 64, 8192, True, None, 1024,
        "Extras: upscale to this width (64-8192)",
        "Upscale width must be 64 to 8192 pixels",
    ),
    "upscale_height": Limit(
        "Upscale height", 64, 8192, True, None, 1024,
        "Extras: upscale to this height (64-8192)",
        "Upscale height must be 64 to 8192 pixels",
    ),
}  # fmt: skip


def _limit(field: str) -> Limit:
    try:
        return LIMITS[field]
    except KeyError:
        raise KeyError(f"no limits for {field!r}; known: {', '.join(LIMITS)}") from None


def check(field: str, value: int | float) -> int | float:
    """`value` when it fits `field` (as an int for whole fields, else a float); else LimitError.
    Whole fields refuse fractions."""
    shown = f"{value:g}" if isinstance(value, float) else value
    return _check(field, value, shown)


def _check(field: str, value: int | float, shown: object) -> int | float:
    limit = _limit(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LimitError(field, limit.message, repr(value))
    if isinstance(value, float) and (not math.isfinite(value) or (limit.whole and value % 1)):
        raise LimitError(field, limit.message, shown)
    if not limit.minimum <= value <= limit.maximum:
        raise LimitError(field, limit.message, shown)
    if limit.multiple_of and value % limit.multiple_of:
        raise LimitError(field, limit.multiple_message, shown)
    return int(value) if limit.whole else float(value)


def parse(field: str, text: str) -> int | float:
    """The number typed for `field` (an int for whole fields, else a float), or LimitError for
    text that is not a number, a number out of range, or not the required multiple."""
    limit = _limit(field)
    stripped = text.strip()
    shown = repr(text) if not stripped or not _looks_numeric(stripped) else stripped
    if limit.whole:
        if not _WHOLE.fullmatch(stripped):
            raise LimitError(field, limit.message, shown)
        return _check(field, int(stripped), shown)
    try:
        number = float(stripped)
    except ValueError:
        raise LimitError(field, limit.message, shown) from None
    if not math.isfinite(number):
        raise LimitError(field, limit.message, shown)
    return _check(field, number, shown)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Common sizes (the web UI's and SDXL's), as the form offers them.
SIZE_PRESETS: tuple[tuple[int, int], ...] = (
    (512, 512),
    (512, 768),
    (768, 512),
    (768, 768),
    (1024, 1024),
    (832, 1216),
    (1216, 832),
    (896, 1152),
    (1152, 896),
    (768, 1344),
    (1344, 768),
)
