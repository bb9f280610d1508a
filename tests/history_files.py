"""Image files shaped like the web UI's outputs, for the history tests: PNG with a `parameters`
chunk, JPEG and WebP with an EXIF UserComment (UTF-16 either byte order, or ASCII)."""

from __future__ import annotations

import os
import time
from io import BytesIO
from pathlib import Path
from typing import Literal

from PIL import Image

from sdtui.images.infotext import build_infotext
from sdtui.images.png import set_text_chunk

Encoding = Literal["utf16-be", "utf16-le", "ascii"]


def infotext(
    prompt: str,
    seed: int = 1,
    *,
    negative: str = "",
    model: str = "sd15-base",
    width: int = 8,
    height: int = 8,
    steps: int = 20,
    sampler: str = "Euler a",
    cfg: float = 7.0,
    scheduler: str | None = None,
) -> str:
    return build_infotext(
        prompt,
        negative,
        {
            "Steps": steps,
            "Sampler": sampler,
            "Schedule type": scheduler,
            "CFG scale": cfg,
            "Seed": seed,
            "Size": f"{width}x{height}",
            "Model hash": "abcdef1234",
            "Model": model,
            "Version": "v1.10.1",
        },
    )


def png_bytes(text: str | None, size: tuple[int, int] = (8, 8), colour: str = "red") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    data = buffer.getvalue()
    return set_text_chunk(data, "parameters", text) if text is not None else data


def user_comment(text: str, encoding: Encoding = "utf16-be") -> bytes:
    if encoding == "ascii":
        return b"ASCII\x00\x00\x00" + text.encode("utf-8")
    codec = "utf-16-be" if encoding == "utf16-be" else "utf-16-le"
    return b"UNICODE\x00" + text.encode(codec)


def exif_image_bytes(
    text: str | None,
    fmt: Literal["JPEG", "WEBP", "PNG"],
    *,
    encoding: Encoding = "utf16-be",
    size: tuple[int, int] = (8, 8),
) -> bytes:
    """A JPEG or WebP (or PNG with an eXIf chunk) carrying `text` as its EXIF UserComment."""
    image = Image.new("RGB", size, "blue")
    buffer = BytesIO()
    if text is None:
        image.save(buffer, fmt)
        return buffer.getvalue()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = user_comment(text, encoding)
    image.save(buffer, fmt, exif=exif.tobytes())
    return buffer.getvalue()


def write(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def age_folders(root: Path, seconds: float = 60.0) -> None:
    """Move the mtime of every folder and file changed in the last few seconds into the past,
    as if written a while ago (a scan trusts an mtime only once it is a couple of seconds old).
    What was aged before is left as it is."""
    recent = time.time() - 10
    for dirpath, _dirs, files in os.walk(root):
        for path in [*(os.path.join(dirpath, name) for name in files), dirpath]:
            stat = os.stat(path, follow_symlinks=False)
            if stat.st_mtime > recent and not os.path.islink(path):
                os.utime(path, (stat.st_atime, stat.st_mtime - seconds))
