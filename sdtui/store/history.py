"""The image store: where saved images live and how the history reads them back.

`ImageStore` is the only thing that walks the output folder. The history panel asks it for entries
(newest first) instead of listing folders itself, so an index can later stand behind the same calls.
Reading an entry touches only the PNG's header chunks (the text sits before the pixel data), never
the pixels.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sdtui.images.infotext import parse_infotext
from sdtui.images.png import PNG_SIGNATURE, TEXT_CHUNK_TYPES, ImageDataError, decode_text_chunk
from sdtui.store.files import (
    TEMP_PREFIX,
    atomic_write_unique,
    image_name,
    remove_stale_temps,
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
    notes: list[str] = field(default_factory=list)  # why files were skipped on the last scan
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def folder_for(self, when: datetime) -> Path:
        return self.root / f"{when:%Y-%m-%d}"

    def save(self, png: bytes, *, prompt: str, seed: int, when: datetime | None = None) -> Path:
        """Write a PNG (already carrying its infotext) under a fresh, safe name. Atomic."""
        when = when or datetime.now()
        folder = self.folder_for(when)
        return atomic_write_unique(folder, image_name(prompt, seed, when), ".png", png)

    def _walk(self, recent: int | None = None) -> Iterator[os.DirEntry[str]]:
        try:
            top = list(os.scandir(self.root))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            self.notes.append(f"cannot read {self.root}: {exc.strerror or exc}")
            return
        folders = sorted(
            (e for e in top if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")),
            key=lambda e: e.name,
            reverse=True,
        )
        if recent is not None:
            folders = folders[:recent]  # dated names (YYYY-MM-DD) sort newest first
        for folder in folders:
            remove_stale_temps(Path(folder.path))
            try:
                yield from os.scandir(folder.path)
            except OSError as exc:
                self.notes.append(f"cannot read {folder.path}: {exc.strerror or exc}")
        yield from (e for e in top if not e.is_dir(follow_symlinks=False))

    def recent_folders(self, count: int) -> list[Path]:
        """The `count` newest dated sub-folders, where new images land."""
        try:
            names = [
                e.name for e in os.scandir(self.root) if e.is_dir() and not e.name.startswith(".")
            ]
        except OSError:
            return []
        return [self.root / name for name in sorted(names, reverse=True)[:count]]

    def paths(self, recent: int | None = None) -> list[tuple[float, Path]]:
        """Saved PNGs with their modification times, newest first (no file is opened). With
        `recent`, only the newest `recent` dated folders (and the folder itself) are listed."""
        found: list[tuple[float, Path]] = []
        for entry in self._walk(recent):
            name = entry.name
            if name.startswith(TEMP_PREFIX) or not name.lower().endswith(".png"):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                found.append((entry.stat().st_mtime, Path(entry.path)))
            except OSError:
                continue
        found.sort(key=lambda item: (item[0], item[1].name), reverse=True)
        return found

    def iter_entries(self, limit: int | None = None) -> Iterator[HistoryEntry]:
        """History entries, newest first, read one file at a time (so a caller can show the
        first ones while the rest load). Unreadable files are skipped and noted in `notes`."""
        with self._lock:
            self.notes = []
            count = 0
            for mtime, path in self.paths():
                if limit is not None and count >= limit:
                    break
                try:
                    entry = entry_from_file(path, mtime)
                except UnreadableImage as exc:
                    self.notes.append(str(exc))
                    continue
                count += 1
                yield entry

    def entries(self, limit: int | None = None) -> list[HistoryEntry]:
        """All of `iter_entries` as a list."""
        return list(self.iter_entries(limit))

    def entry(self, path: Path) -> HistoryEntry:
        return entry_from_file(path)

    def delete(self, path: Path) -> None:
        """Remove a saved image. Refuses paths outside the store."""
        resolved = path.resolve()
        if self.root.resolve() not in resolved.parents:
            raise ValueError(f"{path} is not inside the output folder {self.root}")
        resolved.unlink()
