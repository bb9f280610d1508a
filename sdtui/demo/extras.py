"""The Extras tab's API for the demo server: upscaling and face restoration of existing images.

Follows v1.10's ``extras_single_image_api``/``extras_batch_images_api`` and
``run_postprocessing``: under the FIFO lock each image is converted to RGB, upscaled (the
"Upscale" postprocessing script), then GFPGAN and CodeFormer run when their visibility is not 0;
the returned file keeps the source's ``parameters`` and other text items and gains a
``postprocessing`` text. "Lanczos" and "Nearest" resize for real; the model upscalers (ESRGAN,
R-ESRGAN, SwinIR, LDSR, ...) resize with Lanczos and sharpen, taking a moment as a model would.
"""

from __future__ import annotations

import html
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter

from sdtui.demo import catalog
from sdtui.demo.codec import decode_request_image, encode_with_texts, read_image_info
from sdtui.demo.errors import ApiError
from sdtui.demo.state import JobState, Options, TicketLock
from sdtui.demo.validation import Field, Kind, ValidationFailed, validate_model
from sdtui.images.infotext import format_infotext_value

__all__ = [
    "EXTRAS_BATCH_FIELDS",
    "EXTRAS_SINGLE_FIELDS",
    "MAX_UPSCALE_PIXELS",
    "Extras",
    "postprocess",
]

# ExtrasBaseRequest (modules/api/models.py): bare types with defaults, so null is a 422.
_BASE: tuple[Field, ...] = (
    Field("resize_mode", Kind.INT, 0, nullable=False),
    Field("show_extras_results", Kind.BOOL, True, nullable=False),
    Field("gfpgan_visibility", Kind.FLOAT, 0, nullable=False),
    Field("codeformer_visibility", Kind.FLOAT, 0, nullable=False),
    Field("codeformer_weight", Kind.FLOAT, 0, nullable=False),
    Field("upscaling_resize", Kind.FLOAT, 2, nullable=False),
    Field("upscaling_resize_w", Kind.INT, 512, nullable=False),
    Field("upscaling_resize_h", Kind.INT, 512, nullable=False),
    Field("upscaling_crop", Kind.BOOL, True, nullable=False),
    Field("upscaler_1", Kind.STR, "None", nullable=False),
    Field("upscaler_2", Kind.STR, "None", nullable=False),
    Field("extras_upscaler_2_visibility", Kind.FLOAT, 0, nullable=False),
    Field("upscale_first", Kind.BOOL, False, nullable=False),
)
EXTRAS_SINGLE_FIELDS: tuple[Field, ...] = (*_BASE, Field("image", Kind.STR, "", nullable=False))
EXTRAS_BATCH_FIELDS: tuple[Field, ...] = (
    *_BASE,
    Field("imageList", Kind.LIST, None, nullable=False, required=True),
)
_FILE_DATA_FIELDS: tuple[Field, ...] = (
    Field("data", Kind.STR, None, nullable=False, required=True),
    Field("name", Kind.STR, None, nullable=False, required=True),
)

# (field, bound kind, limit): the models' ge/le/gt constraints.
_BOUNDS: tuple[tuple[str, str, float], ...] = (
    ("gfpgan_visibility", "ge", 0),
    ("gfpgan_visibility", "le", 1),
    ("codeformer_visibility", "ge", 0),
    ("codeformer_visibility", "le", 1),
    ("codeformer_weight", "ge", 0),
    ("codeformer_weight", "le", 1),
    ("upscaling_resize", "gt", 0),
    ("upscaling_resize_w", "ge", 1),
    ("upscaling_resize_h", "ge", 1),
    ("extras_upscaler_2_visibility", "ge", 0),
    ("extras_upscaler_2_visibility", "le", 1),
)
_FINITE = (
    "gfpgan_visibility",
    "codeformer_visibility",
    "codeformer_weight",
    "extras_upscaler_2_visibility",
)
_BOUND_TEXT = {
    "ge": "greater than or equal to",
    "le": "less than or equal to",
    "gt": "greater than",
}


def _within(value: float, bound: str, limit: float) -> bool:
    if bound == "ge":
        return value >= limit
    if bound == "le":
        return value <= limit
    return value > limit


#: Output pixels above this do not fit in the demo's memory (the real server's numpy error).
MAX_UPSCALE_PIXELS = 8192 * 8192
# Seconds a model upscaler spends per output megapixel, in units of the server's step delay.
_MODEL_STEPS_PER_MEGAPIXEL = 8


def _limit(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _constraint_errors(name: str, raw: Any, value: Any) -> list[dict[str, Any]]:
    """pydantic v1's errors for one field's Literal and number constraints (ExtrasBaseRequest)."""
    loc = ["body", name]
    if name == "resize_mode":
        if isinstance(raw, bool) or raw not in (0, 1):
            return [
                {
                    "loc": loc,
                    "msg": "unexpected value; permitted: 0, 1",
                    "type": "value_error.const",
                    "ctx": {"given": raw, "permitted": [0, 1]},
                }
            ]
        return []
    if not isinstance(value, int | float) or isinstance(value, bool):
        return []
    if name in _FINITE and not math.isfinite(value):
        return [
            {
                "loc": loc,
                "msg": "ensure this value is a finite number",
                "type": "value_error.number.not_finite_number",
            }
        ]
    for field_name, bound, limit in _BOUNDS:
        if field_name == name and not math.isnan(value) and not _within(value, bound, limit):
            return [
                {
                    "loc": loc,
                    "msg": f"ensure this value is {_BOUND_TEXT[bound]} {_limit(limit)}",
                    "type": f"value_error.number.not_{bound}",
                    "ctx": {"limit_value": _limit(limit)},
                }
            ]
    return []


def _validate(body: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
    """The request's values, or every error pydantic v1 would list, in field order."""
    validate_model(body, ())  # no body, or not an object: one error for the whole body
    data = dict(body)
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for field in fields:
        sent = {field.name: data[field.name]} if field.name in data else {}
        try:
            one, _ = validate_model(sent, (field,))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            continue
        values.update(one)
        if field.name in sent:
            errors.extend(_constraint_errors(field.name, sent[field.name], one[field.name]))
    if errors:
        raise ValidationFailed(errors)
    return values


def _validate_image_list(raw: list[Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, entry in enumerate(raw):
        try:
            item, _ = validate_model(entry, _FILE_DATA_FIELDS)
        except ValidationFailed as exc:
            for error in exc.errors:
                errors.append({**error, "loc": ["body", "imageList", index, *error["loc"][1:]]})
            continue
        items.append(item)
    if errors:
        raise ValidationFailed(errors)
    return items


def _find_upscaler(name: str) -> dict[str, Any] | None:
    return next((u for u in catalog.UPSCALERS if u["name"] == name), None)


@dataclass
class _Upscaler:
    """One of the server's upscalers, doing what ``Upscaler.upscale`` does with it."""

    name: str
    model: bool  # a neural network (slow, sharpening) rather than a plain filter
    wait: Callable[[float], object]
    step_delay: float

    def do_upscale(self, image: Image.Image, scale: float) -> Image.Image:
        size = (int(image.width * scale), int(image.height * scale))
        if self.name == "Nearest":
            return image.resize(size, Image.Resampling.NEAREST)
        return image.resize(size, Image.Resampling.LANCZOS)

    def upscale(self, image: Image.Image, scale: float) -> Image.Image:
        """``Upscaler.upscale``: the result is the scaled size rounded down to a multiple of 8."""
        dest = (int((image.width * scale) // 8 * 8), int((image.height * scale) // 8 * 8))
        if dest[0] <= 0 or dest[1] <= 0:
            raise ApiError(500, "ValueError", errors="height and width must be > 0")
        if dest[0] * dest[1] > MAX_UPSCALE_PIXELS:
            gib = dest[0] * dest[1] * 3 / 2**30
            raise ApiError(
                500,
                "_ArrayMemoryError",
                errors=f"Unable to allocate {gib:.2f} GiB for an array with shape "
                f"({dest[1]}, {dest[0]}, 3) and data type uint8",
            )
        if self.model:
            # A model upscales by its own factor and is resized to the target: one Lanczos pass
            # and a sharpening stand in for it, with the time a model takes.
            megapixels = dest[0] * dest[1] / 1_000_000
            self.wait(self.step_delay * max(2.0, _MODEL_STEPS_PER_MEGAPIXEL * megapixels))
            result = image.resize(dest, Image.Resampling.LANCZOS)
            return result.filter(ImageFilter.UnsharpMask(radius=1.5, percent=60, threshold=2))
        for _ in range(3):
            shape = image.size
            image = self.do_upscale(image, scale)
            if shape == image.size or (image.width >= dest[0] and image.height >= dest[1]):
                break
        if image.size != dest:
            image = image.resize(dest, Image.Resampling.LANCZOS)
        return image


def _upscaler(name: str, wait: Callable[[float], object], step_delay: float) -> _Upscaler | None:
    """The upscaler named ``name`` ("None": no upscaling); an unknown name is the web UI's
    AssertionError."""
    if name == "None":
        return None
    found = _find_upscaler(name)
    if found is None:
        raise ApiError(500, "AssertionError", errors=f"could not find upscaler named {name}")
    is_model = found["model_name"] is not None or found["model_path"] is not None
    return _Upscaler(name, is_model, wait, step_delay)


def _upscale_step(
    image: Image.Image,
    info: dict[str, Any],
    upscaler: _Upscaler,
    v: dict[str, Any],
) -> Image.Image:
    """``ScriptPostprocessingUpscale.upscale``: scale by a factor, or to a size (then cropped)."""
    mode = v["resize_mode"]
    if mode == 1:
        width, height = v["upscaling_resize_w"], v["upscaling_resize_h"]
        scale = max(width / image.width, height / image.height)
        info["Postprocess upscale to"] = f"{width}x{height}"
    else:
        scale = v["upscaling_resize"]
        info["Postprocess upscale by"] = scale
    result = upscaler.upscale(image, scale)
    if mode == 1 and v["upscaling_crop"]:
        width, height = v["upscaling_resize_w"], v["upscaling_resize_h"]
        cropped = Image.new("RGB", (width, height))
        cropped.paste(
            result, box=(width // 2 - result.width // 2, height // 2 - result.height // 2)
        )
        result = cropped
        info["Postprocess crop to"] = f"{result.width}x{result.height}"
    return result


def _restore_faces(image: Image.Image, strength: float) -> Image.Image:
    """A face restorer's look: smoothed skin, crisper edges."""
    restored = image.filter(ImageFilter.SMOOTH_MORE).filter(
        ImageFilter.UnsharpMask(radius=2, percent=40 + int(60 * strength), threshold=3)
    )
    return restored


def postprocess(
    image: Image.Image,
    v: dict[str, Any],
    wait: Callable[[float], object] = lambda _: None,
    step_delay: float = 0.0,
) -> tuple[Image.Image, str]:
    """One image through the Upscale, GFPGAN and CodeFormer scripts: (result, infotext)."""
    info: dict[str, Any] = {}
    pp = image.convert("RGB")
    first = _upscaler(v["upscaler_1"], wait, step_delay)
    if first is not None:
        second = _upscaler(v["upscaler_2"], wait, step_delay)
        upscaled = _upscale_step(pp, info, first, v)
        info["Postprocess upscaler"] = first.name
        visibility = v["extras_upscaler_2_visibility"]
        if second is not None and visibility > 0:
            other = _upscale_step(pp, info, second, v)
            if other.size != upscaled.size:
                other = other.resize(upscaled.size, Image.Resampling.LANCZOS)
            upscaled = Image.blend(upscaled, other, visibility)
            info["Postprocess upscaler 2"] = second.name
        pp = upscaled
    if v["gfpgan_visibility"] > 0:
        restored = _restore_faces(pp, 1.0)
        if v["gfpgan_visibility"] < 1:
            restored = Image.blend(pp, restored, v["gfpgan_visibility"])
        pp = restored
        info["GFPGAN visibility"] = round(v["gfpgan_visibility"], 3)
    if v["codeformer_visibility"] > 0:
        restored = _restore_faces(pp, 1.0 - v["codeformer_weight"])
        if v["codeformer_visibility"] < 1:
            restored = Image.blend(pp, restored, v["codeformer_visibility"])
        pp = restored
        info["CodeFormer visibility"] = round(v["codeformer_visibility"], 3)
        info["CodeFormer weight"] = round(v["codeformer_weight"], 3)
    text = ", ".join(
        key if key == value else f"{key}: {format_infotext_value(value)}"
        for key, value in info.items()
        if value is not None
    )
    return pp, text


def _plaintext_to_html(text: str) -> str:
    """``ui_common.plaintext_to_html``: what the API returns as ``html_info``."""
    return "<p>" + "<br>\n".join(html.escape(line) for line in text.split("\n")) + "</p>"


class Extras:
    """``POST extra-single-image`` and ``extra-batch-images``, sharing the generation queue."""

    def __init__(
        self,
        state: JobState,
        queue: TicketLock,
        options: Options,
        step_delay: float,
        closed: threading.Event,
    ) -> None:
        self.state = state
        self.queue = queue
        self.options = options
        self.step_delay = step_delay
        self._closed = closed

    def single(self, body: Any) -> dict[str, Any]:
        v = _validate(body, EXTRAS_SINGLE_FIELDS)
        images, html_info = self._run(v, [v["image"]])
        return {"html_info": html_info, "image": images[0] if images else None}

    def batch(self, body: Any) -> dict[str, Any]:
        v = _validate(body, EXTRAS_BATCH_FIELDS)
        entries = _validate_image_list(v["imageList"])
        images, html_info = self._run(v, [e["data"] for e in entries])
        return {"html_info": html_info, "images": images}

    def _run(self, v: dict[str, Any], encoded: list[str]) -> tuple[list[str], str]:
        """``run_postprocessing`` for API images: decode them all first (a bad one is a 500
        before any work), then process each under the queue lock."""
        requests_ok = bool(self.options.get("api_enable_requests", True))
        sources = [decode_request_image(x, requests_allowed=requests_ok) for x in encoded]
        results: list[tuple[Image.Image, dict[str, str]]] = []
        infotext = ""
        with self.queue.held():
            self.state.begin("extras")
            try:
                self.state.set_job_count(len(sources))
                for source in sources:
                    self.state.next_job()
                    if self.state.is_interrupted():
                        break
                    parameters, texts = read_image_info(source)
                    if parameters:
                        texts["parameters"] = parameters
                    image, infotext = postprocess(source, v, self._closed.wait, self.step_delay)
                    if self.options.get("enable_pnginfo", True):
                        texts["postprocessing"] = infotext
                    else:
                        texts = {}
                    results.append((image, texts))
            finally:
                self.state.end()
        opts = self.options.snapshot()
        encoded_out = [
            encode_with_texts(
                image, opts.get("samples_format"), texts, quality=opts.get("jpeg_quality")
            )
            for image, texts in results
        ]
        return encoded_out, _plaintext_to_html(infotext)
