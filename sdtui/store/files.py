"""Saving images: atomic, collision-free, and never outside the output folder.

A save writes a hidden temporary file in the destination folder, flushes it to disk, then
hard-links it to its final name. `os.link` fails instead of overwriting, so two processes that pick
the same name at the same moment cannot clobber each other: the loser tries the next suffix. Readers
only ever see complete files, since the final name appears only once the bytes are all there. Where
the filesystem has no hard links, an exclusive create reserves the name and a rename fills it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import time
import unicodedata
from datetime import datetime
from pathlib import Path

TEMP_PREFIX = ".sdtui-"
TEMP_SUFFIX = ".tmp"
MAX_SLUG = 48


class SaveError(OSError):
    """Saving failed (folder unwritable, disk full...). The message says what to do."""


def slugify(prompt: str, limit: int = MAX_SLUG) -> str:
    """A file-name-safe summary of a prompt: ASCII letters, digits and dashes only.

    Slashes, dots, control characters and anything else that could leave the folder or confuse a
    shell are dropped, so the name can never climb out with `..` or name a device.
    """
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else ""
    text = unicodedata.normalize("NFKD", first_line).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"<[^>]*>", " ", text)  # <lora:name:0.8> says little about the picture
    words = re.findall(r"[a-z0-9]+", text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:limit]
    return slug or "image"


def image_name(prompt: str, seed: int, when: datetime) -> str:
    seed_part = str(seed) if seed >= 0 else "x"
    return f"{when:%Y%m%d-%H%M%S}-{seed_part}-{slugify(prompt)}"


def atomic_write_unique(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write `data` to `folder/stem{suffix}` (or `stem-2{suffix}`, ...) without ever overwriting or
    exposing a partial file. Returns the path written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaveError(exc.errno, f"cannot create the folder {folder}: {exc.strerror}") from None
    tmp = folder / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        for attempt in range(1, 10_000):
            name = f"{stem}{suffix}" if attempt == 1 else f"{stem}-{attempt}{suffix}"
            target = folder / name
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in _NO_LINK_ERRNOS:
                    raise
                try:  # no hard links here: reserve the name, then fill it atomically
                    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                except FileExistsError:
                    continue
                os.replace(tmp, target)
                return target
            return target
        raise SaveError(0, f"no free file name for {stem} in {folder}")
    except SaveError:
        raise
    except OSError as exc:
        raise SaveError(exc.errno, _save_message(folder, exc)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


# Errors meaning "this filesystem cannot hard-link", as opposed to "cannot write at all".
_NO_LINK_ERRNOS = {
    errno.EPERM,
    errno.ENOTSUP,
    errno.EOPNOTSUPP,
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
}


def _save_message(folder: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"the disk holding {folder} is full: free some space or save elsewhere"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write to {folder} ({exc.strerror}): choose another output folder (--out)"
    return f"cannot save into {folder}: {exc.strerror or exc}"


def remove_stale_temps(folder: Path, older_than: float = 3600.0) -> int:
    """Delete temporary files left behind by a save that was killed midway."""
    removed = 0
    cutoff = time.time() - older_than
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX):
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
    return removed
