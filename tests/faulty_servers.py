"""More builders for fault tests: hand-made image bytes and scripted txt2img answers."""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from sdtui.images import PNG_SIGNATURE, encode_exif_user_comment, make_chunk
from tests.faulty import Reply, json_reply

#: How servers say "no such endpoint": FastAPI's 404 and 405, and a 501 from servers (or proxies)
#: that route a path without implementing it.
MISSING_ENDPOINT: dict[int, Reply] = {
    404: json_reply({"detail": "Not Found"}, 404),
    405: json_reply({"detail": "Method Not Allowed"}, 405),
    501: Reply(501, "Not Implemented", content_type="text/plain"),
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def txt2img_reply(images: list[str], info: Any = "", **reply: Any) -> Reply:
    """A txt2img answer with these base64 images; `reply` sets Reply fields (delay, drop_after)."""
    return Reply(body={"images": images, "parameters": {}, "info": info}, **reply)


def png_bytes(size: tuple[int, int] = (64, 48), *, noise: bool = False) -> bytes:
    """A real PNG without text chunks (as KoboldCpp or sd.cpp may send). `noise` makes it big:
    random pixels do not compress."""
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (30, 90, 160))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def png_with_parameters(text: str, size: tuple[int, int] = (64, 48)) -> bytes:
    """A PNG carrying `text` in its `parameters` chunk, as A1111 writes it."""
    info = PngInfo()
    info.add_text("parameters", text)
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_exif(text: str, size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG carrying `text` in EXIF UserComment, as A1111 writes it with samples_format jpg."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, "JPEG", exif=encode_exif_user_comment(text))
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header claims `width` x `height` (valid CRCs, tiny IDAT):
    a decompression bomb's calling card."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + make_chunk(b"IHDR", ihdr)
        + make_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + make_chunk(b"IEND", b"")
    )
