"""History thumbnails kept on disk, so a history of 100,000 images decodes each one once.

A thumbnail is the few pixels `make_thumbnail` makes (a 6x6 PNG is ~100 bytes), stored under the
user's cache folder (`XDG_CACHE_HOME` moves it) in a file named by a hash of the image's path,
size and mtime and the thumbnail's cell size: an image changed on disk gets a new entry, and the
old one ages out. Writes are atomic (a temp file renamed into place), so threads and processes
sharing the folder only ever read whole files. An image that cannot be decoded is remembered as an
empty file, so it is not decoded again. The folder is kept under `max_bytes` by deleting the
least recently used entries (each hit touches its file's mtime).

Call `get` from thread workers: a miss decodes an image (milliseconds to a second).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from io import BytesIO
from pathlib import Path

import platformdirs
from PIL import Image

from sdtui.render.thumbnails import THUMB_COLS, THUMB_ROWS, make_thumbnail

__all__ = ["DEFAULT_MAX_BYTES", "ThumbCache", "default_folder"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: A prune leaves the folder at this share of `max_bytes`, so it does not run on every store.
PRUNE_TO = 0.8
_SUFFIX = ".png"
_TEMP_PREFIX = ".tmp-"
# Disk blocks: a 100-byte file still takes a block; count at least this much for each entry.
_MIN_ENTRY = 512


def default_folder() -> Path:
    return Path(platformdirs.user_cache_dir("sdtui")) / "thumbs"


class ThumbCache:
    """Thumbnails by (path, size, mtime, cols, rows), on disk under `folder`."""

    def __init__(self, folder: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = folder if folder is not None else default_folder()
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._used: int | None = None  # bytes in the folder, counted on the first store
        self.hits = 0
        self.misses = 0

    def key(self, path: Path, size: int, mtime: float, cols: int, rows: int) -> str:
        text = f"{os.path.abspath(path)}\0{size}\0{mtime!r}\0{cols}x{rows}"
        return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()

    def entry_path(self, path: Path, size: int, mtime: float, cols: int, rows: int) -> Path:
        key = self.key(path, size, mtime, cols, rows)
        return self.folder / key[:2] / f"{key}{_SUFFIX}"

    def get(
        self,
        path: Path,
        size: int,
        mtime: float,
        cols: int = THUMB_COLS,
        rows: int = THUMB_ROWS,
    ) -> Image.Image | None:
        """The thumbnail of the image at `path` whose file has this `size` and `mtime`: loaded
        from the cache, or made (decoding the image) and stored. None for an unreadable image."""
        entry = self.entry_path(path, size, mtime, cols, rows)
        cached = self._load(entry)
        if cached is not None:
            self.hits += 1
            return cached if isinstance(cached, Image.Image) else None
        self.misses += 1
        thumb = make_thumbnail(path, cols, rows)
        data = b""
        if thumb is not None:
            buffer = BytesIO()
            thumb.save(buffer, "PNG", optimize=False, compress_level=6)
            data = buffer.getvalue()
        elif not os.path.exists(path):
            return None  # gone: nothing worth remembering
        self._store(entry, data)
        return thumb

    def _load(self, entry: Path) -> Image.Image | bool | None:
        """The cached image; False for a remembered unreadable image; None for a miss."""
        try:
            with open(entry, "rb") as f:
                data = f.read()
        except OSError:
            return None
        with contextlib.suppress(OSError):
            os.utime(entry)  # recently used: pruned last
        if not data:
            return False
        try:
            with Image.open(BytesIO(data)) as image:
                return image.convert("RGB")
        except (OSError, ValueError, SyntaxError):
            with contextlib.suppress(OSError):
                os.unlink(entry)  # a damaged entry: made again
            return None

    def _store(self, entry: Path, data: bytes) -> None:
        tmp = entry.with_name(f"{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}")
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, entry)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return  # a cache that cannot write just makes thumbnails again
        with self._lock:
            if self._used is None:
                self._used = self.disk_usage()
            else:
                self._used += max(len(data), _MIN_ENTRY)
            if self._used > self.max_bytes:
                self._used = self._prune(int(self.max_bytes * PRUNE_TO))

    def _entries(self) -> list[tuple[float, int, str]]:
        found = []
        with contextlib.suppress(OSError), os.scandir(self.folder) as shards:
            for shard in shards:
                if not shard.is_dir(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError), os.scandir(shard.path) as entries:
                    for entry in entries:
                        with contextlib.suppress(OSError):
                            stat = entry.stat(follow_symlinks=False)
                            found.append((stat.st_mtime, max(stat.st_size, _MIN_ENTRY), entry.path))
        return found

    def disk_usage(self) -> int:
        """Bytes the cache takes (each entry counted at least one small block)."""
        return sum(size for _mtime, size, _path in self._entries())

    def _prune(self, target: int) -> int:
        entries = sorted(self._entries())
        used = sum(size for _mtime, size, _path in entries)
        for _mtime, size, path in entries:
            if used <= target:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
                used -= size
        return used

    def clear(self) -> None:
        """Remove every cached thumbnail."""
        with self._lock:
            self._prune(0)
            self._used = 0
