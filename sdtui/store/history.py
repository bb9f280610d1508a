"""The image store: where saved images live and how the history reads them back.

`ImageStore` names and writes new images; the history index (`store/index.py`) walks the folders
and reads them back through `read_png_metadata`. Reading an entry touches only the PNG's header
chunks (the text sits before the pixel data), never the pixels.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdtui.images.infotext import parse_infotext
from sdtui.images.png import PNG_SIGNATURE, TEXT_CHUNK_TYPES, ImageDataError, decode_text_chunk
from sdtui.store.files import (
    atomic_write_unique,
    image_name,
)

MAX_TEXT_CHUNK = 1024 * 1024  # an infotext is a few KB; a megabyte of "text" is not one
MAX_HEADER_CHUNKS = 64


class UnreadableImage(ValueError):
    """A file in the output folder that is not a PNG we can read metadata from."""


@dataclass(frozen=True)
class HistoryEntry:
    """One saved image, as the history shows it."""

    path: Path
    mtime: float
    width: int
    height: int
    infotext: str
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    steps: int | None = None
    sampler: str | None = None
    cfg_scale: float | None = None
    model: str | None = None

    @property
    def title(self) -> str:
        """The prompt's first line, or the file name for an image without one."""
        for line in self.prompt.splitlines():
            if line.strip():
                return line.strip()
        return self.path.name

    @property
    def created(self) -> datetime:
        return datetime.fromtimestamp(self.mtime)


def read_png_header(path: Path) -> tuple[int, int, dict[str, str]]:
    """Width, height and text chunks of a PNG, reading only up to its first pixel data.

    Raises UnreadableImage for files that are not PNGs, are truncated in their header, or carry an
    oversized text chunk.
    """
    width, height, texts, _exif = read_png_metadata(path)
    return width, height, texts


def read_png_metadata(path: Path) -> tuple[int, int, dict[str, str], bytes | None]:
    """`read_png_header` plus the raw `eXIf` chunk, if one comes before the pixel data."""
    try:
        with open(path, "rb") as f:
            if f.read(8) != PNG_SIGNATURE:
                raise UnreadableImage(f"{path.name} is not a PNG")
            texts: dict[str, str] = {}
            exif: bytes | None = None
            width = height = 0
            for index in range(MAX_HEADER_CHUNKS):
                head = f.read(8)
                if len(head) < 8:
                    raise UnreadableImage(f"{path.name} is truncated")
                length, ctype = struct.unpack(">I4s", head)
                if index == 0:
                    if ctype != b"IHDR" or length != 13:
                        raise UnreadableImage(f"{path.name} has no PNG header")
                    data = f.read(length + 4)
                    width, height = struct.unpack(">II", data[:8])
                    continue
                if ctype in (b"IDAT", b"IEND"):
                    break
                if ctype in TEXT_CHUNK_TYPES or ctype == b"eXIf":
                    if length > MAX_TEXT_CHUNK:
                        raise UnreadableImage(
                            f"{path.name} carries a {length // 1024} KB text chunk; skipped"
                        )
                    data = f.read(length + 4)
                    if len(data) < length + 4:
                        raise UnreadableImage(f"{path.name} is truncated")
                    if zlib.crc32(ctype + data[:length]) != struct.unpack(">I", data[length:])[0]:
                        raise UnreadableImage(f"{path.name} has a corrupt text chunk")
                    if ctype == b"eXIf":
                        exif = exif or data[:length]
                        continue
                    try:
                        key, text = decode_text_chunk(ctype, data[:length])
                    except ImageDataError:
                        continue  # one bad text chunk does not make the image unusable
                    texts.setdefault(key, text)
                else:
                    f.seek(length + 4, os.SEEK_CUR)
            if width <= 0 or height <= 0:
                raise UnreadableImage(f"{path.name} has an invalid size")
            return width, height, texts, exif
    except OSError as exc:
        raise UnreadableImage(f"cannot read {path.name}: {exc.strerror or exc}") from None
    except struct.error:
        raise UnreadableImage(f"{path.name} is truncated") from None


def entry_from_file(path: Path, mtime: float | None = None) -> HistoryEntry:
    width, height, texts = read_png_header(path)
    infotext = texts.get("parameters", "")
    if mtime is None:
        mtime = path.stat().st_mtime
    if not infotext:
        return HistoryEntry(path=path, mtime=mtime, width=width, height=height, infotext="")
    info = parse_infotext(infotext)
    return HistoryEntry(
        path=path,
        mtime=mtime,
        width=width,
        height=height,
        infotext=infotext,
        prompt=info.prompt,
        negative_prompt=info.negative_prompt,
        seed=info.seed,
        steps=info.steps,
        sampler=info.sampler,
        cfg_scale=info.cfg_scale,
        model=info.model,
    )


@dataclass
class ImageStore:
    """The output folder: dated sub-folders of PNGs, each carrying its infotext."""

    root: Path

    def folder_for(self, when: datetime) -> Path:
        return self.root / f"{when:%Y-%m-%d}"

    def save(
        self,
        png: bytes,
        *,
        prompt: str,
        seed: int,
        when: datetime | None = None,
        stem: str | None = None,
    ) -> Path:
        """Write a PNG (already carrying its infotext) under a fresh, safe name. Atomic.

        `stem` names the file instead of the date, seed and prompt (a sweep's grid); a taken
        name gains a numbered suffix, as always."""
        if stem is not None and (not stem or stem.startswith(".") or Path(stem).name != stem):
            raise ValueError(f"not a plain file name: {stem!r}")
        when = when or datetime.now()
        folder = self.folder_for(when)
        return atomic_write_unique(folder, stem or image_name(prompt, seed, when), ".png", png)
