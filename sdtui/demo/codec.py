"""Images to and from the wire, the way the web UI's API encodes and decodes them.

Output images are base64 files in the ``samples_format`` option: PNG with the infotext in a
``parameters`` text chunk, or JPEG/WebP with it in EXIF UserComment. Request images are plain
base64 or ``data:`` URLs; anything Pillow cannot open is the web UI's 500 "Invalid encoded image".
"""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any

from PIL import Image

from sdtui.demo.errors import ApiError, http_error
from sdtui.images.convert import (
    decode_base64_image,
    decode_user_comment,
    encode_exif_user_comment,
)
from sdtui.images.infotext import parse_infotext
from sdtui.images.png import set_text_chunk

__all__ = [
    "decode_request_image",
    "encode_image",
    "encode_live_preview",
    "encode_with_texts",
    "png_info",
    "read_image_info",
]

# Pillow's decode failures, all of which the web UI reports as "Invalid encoded image".
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    Image.DecompressionBombError,
)


def encode_image(
    image: Image.Image,
    samples_format: object,
    infotext: str | None,
    *,
    quality: object = 80,
    fast: bool = False,
) -> str:
    """Base64 of ``image`` as the web UI's ``encode_pil_to_base64`` writes it.

    ``fast`` uses the quickest PNG compression (live previews). An unsupported format is the
    web UI's 500 "Invalid image format".
    """
    fmt = str(samples_format).lower()
    out = BytesIO()
    jpeg_quality = quality if isinstance(quality, int) and not isinstance(quality, bool) else 80
    if fmt == "png":
        image.save(out, format="PNG", compress_level=1 if fast else 3)
        data = out.getvalue()
        if infotext is not None:
            data = set_text_chunk(data, "parameters", infotext)
    elif fmt in ("jpg", "jpeg", "webp"):
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        exif = encode_exif_user_comment(infotext or "")
        pillow_format = "WEBP" if fmt == "webp" else "JPEG"
        rgb.save(out, format=pillow_format, exif=exif, quality=jpeg_quality)
        data = out.getvalue()
    else:
        raise http_error(500, "Invalid image format")
    return base64.b64encode(data).decode("ascii")


def encode_live_preview(image: Image.Image, image_format: object) -> str:
    """The ``data:`` URL ``/internal/progress`` sends, in the ``live_previews_image_format``."""
    fmt = str(image_format).lower()
    out = BytesIO()
    kwargs: dict[str, Any] = {}
    if fmt == "png":
        kwargs = {"optimize": True} if max(image.size) <= 256 else {"compress_level": 1}
    try:
        image.save(out, format=fmt.upper(), **kwargs)
    except (KeyError, ValueError, OSError) as exc:
        raise ApiError(500, type(exc).__name__, errors=str(exc)) from None
    return f"data:image/{fmt};base64,{base64.b64encode(out.getvalue()).decode('ascii')}"


def decode_request_image(encoding: object, *, requests_allowed: bool = True) -> Image.Image:
    """A request's image (base64 or data URL) opened with Pillow, as ``decode_base64_to_image``.

    URLs are refused rather than fetched: the demo never reaches out to the network.
    """
    if not isinstance(encoding, str):
        raise ApiError(
            500,
            "AttributeError",
            errors=f"'{type(encoding).__name__}' object has no attribute 'startswith'",
        )
    if encoding.startswith(("http://", "https://")):
        if not requests_allowed:
            raise http_error(500, "Requests not allowed")
        raise http_error(500, "Invalid image url")
    try:
        data = decode_base64_image(encoding)
        image = Image.open(BytesIO(data))
        image.load()
    except _DECODE_ERRORS:
        raise http_error(500, "Invalid encoded image") from None
    return image


# Keys the web UI drops from ``items`` (they describe the file, not the generation).
_IGNORED_INFO_KEYS = {
    "jfif",
    "jfif_version",
    "jfif_unit",
    "jfif_density",
    "dpi",
    "exif",
    "loop",
    "background",
    "timestamp",
    "duration",
    "progressive",
    "progression",
    "icc_profile",
    "chromaticity",
    "photoshop",
    "transparency",
    "gamma",
    "srgb",
    "aspect",
}

# Values the web UI's paste logic fills in when an infotext does not mention them.
_PASTE_DEFAULTS: tuple[tuple[str, object], ...] = (
    ("Clip skip", "1"),
    ("Hires resize-1", 0),
    ("Hires resize-2", 0),
    ("Hires sampler", "Use same sampler"),
    ("Hires schedule type", "Use same scheduler"),
    ("Hires checkpoint", "Use same checkpoint"),
    ("Hires prompt", ""),
    ("Hires negative prompt", ""),
    ("Mask mode", "Inpaint masked"),
    ("Masked content", "original"),
    ("Inpaint area", "Whole picture"),
    ("Masked area padding", 32),
    ("RNG", "GPU"),
    ("Schedule type", "Automatic"),
    ("VAE Encoder", "Full"),
    ("VAE Decoder", "Full"),
    ("FP8 weight", "Disable"),
    ("Emphasis", "Original"),
    ("Refiner switch by sampling steps", False),
)


def _exif_user_comment(image: Image.Image) -> str | None:
    try:
        raw = image.getexif().get_ifd(0x8769).get(0x9286)
    except (OSError, ValueError, KeyError, SyntaxError):
        return None
    return decode_user_comment(raw) if isinstance(raw, bytes | str) else None


def read_image_info(image: Image.Image) -> tuple[str | None, dict[str, str]]:
    """``read_info_from_image``: (the infotext, the image's other text items).

    EXIF UserComment wins over a ``parameters`` chunk and is kept as "exif comment" too."""
    items: dict[str, str] = {
        k: v for k, v in image.info.items() if isinstance(k, str) and isinstance(v, str)
    }
    geninfo = items.pop("parameters", None)
    comment = _exif_user_comment(image)
    if comment:
        geninfo = comment
        items["exif comment"] = comment
    for key in _IGNORED_INFO_KEYS:
        items.pop(key, None)
    return geninfo, items


def encode_with_texts(
    image: Image.Image, samples_format: object, texts: dict[str, str], *, quality: object = 80
) -> str:
    """Base64 of ``image`` carrying ``texts`` as ``encode_pil_to_base64`` writes an image's
    ``info``: one PNG text chunk per item, in order; JPEG/WebP keep only ``parameters`` (EXIF)."""
    fmt = str(samples_format).lower()
    if fmt != "png":
        return encode_image(image, fmt, texts.get("parameters"), quality=quality)
    out = BytesIO()
    image.save(out, format="PNG", compress_level=3)
    data = out.getvalue()
    for key, value in texts.items():
        try:
            data = set_text_chunk(data, key, value)
        except ValueError:
            continue  # a keyword PNG cannot hold (another tool's item): not carried over
    return base64.b64encode(data).decode("ascii")


def png_info(encoding: str) -> dict[str, Any]:
    """``POST /sdapi/v1/png-info``: the infotext, the other text items, and the parsed fields."""
    if not encoding.strip():
        return {"info": "", "items": {}, "parameters": {}}
    image = decode_request_image(encoding.strip())
    geninfo, items = read_image_info(image)
    geninfo = geninfo or ""
    return {"info": geninfo, "items": items, "parameters": _parse_parameters(geninfo)}


def _parse_parameters(geninfo: str) -> dict[str, Any]:
    """The web UI's ``parse_generation_parameters``: strings, sizes split into ``-1``/``-2``."""
    parsed = parse_infotext(geninfo)
    params: dict[str, Any] = {"Prompt": parsed.prompt, "Negative prompt": parsed.negative_prompt}
    for key, value in parsed.params.items():
        if f"{key}-1" in parsed.params and f"{key}-2" in parsed.params:
            continue  # the web UI keeps only the split form of "WxH" values
        params[key] = value
    for key, default in _PASTE_DEFAULTS:
        params.setdefault(key, default)
    return params
