"""What the history needs from an image file: its size and its infotext, never its pixels.

PNG: the header chunks up to the first pixel data (`read_png_metadata`): the `parameters` text
chunk, or an `eXIf` chunk's UserComment. JPEG and WebP: the EXIF UserComment (tag 0x9286 in the
Exif IFD), which the web UI writes as ``b"UNICODE\\0"`` + UTF-16 (either byte order is accepted,
as the web UI's reader does) or ``ASCII\\0\\0\\0`` + text. Pillow's `Image.open` only parses the
container's headers, and `getexif()` reads the EXIF segment, so no pixel is decoded. As in the web
UI, a non-empty EXIF UserComment wins over a `parameters` chunk when a file has both.

A PNG sdtui saved also names the server that made it in an `sdtui-server` text chunk (beside
`parameters`, so the infotext stays exactly what the web UI reads back); JPEG and WebP files come
from elsewhere and carry none.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

from sdtui.images.convert import PARAMETERS_KEY, decode_user_comment, user_comment_from_exif
from sdtui.store.history import UnreadableImage, read_png_metadata
from sdtui.text import one_line

__all__ = [
    "IMAGE_SUFFIXES",
    "SERVER_KEY",
    "ImageMetadata",
    "is_image_name",
    "read_image_metadata",
    "server_name",
]

#: The PNG text keyword naming the server (its profile name, or host:port) that made an image.
SERVER_KEY = "sdtui-server"
#: A server name longer than this is cut (a name is a word or host:port, never a paragraph).
SERVER_NAME_MAX = 200

#: File names the history indexes (lower-cased suffixes).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})

_EXIF_IFD_TAG = 0x8769
_USER_COMMENT_TAG = 0x9286
# What Pillow raises on bytes it cannot make sense of.
_PIL_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError)


@dataclass(frozen=True, slots=True)
class ImageMetadata:
    """An image's pixel size, infotext ("" when it carries none) and the server that made it
    (None when the file does not say: JPEG, WebP, images saved by other tools)."""

    width: int | None
    height: int | None
    infotext: str
    server: str | None = None


def server_name(text: str | None) -> str | None:
    """A server name as read from a file, safe to show: one line, no control characters,
    at most `SERVER_NAME_MAX` characters; None when nothing is left."""
    name = one_line(text or "", SERVER_NAME_MAX)
    return name or None


def is_image_name(name: str) -> bool:
    """Whether a file name is one the history shows (by suffix; hidden files never are)."""
    if name.startswith("."):
        return False
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in IMAGE_SUFFIXES


def _read_png(path: Path) -> ImageMetadata:
    width, height, texts, exif = read_png_metadata(path)
    from_exif = user_comment_from_exif(exif)
    infotext = from_exif if from_exif is not None else texts.get(PARAMETERS_KEY, "")
    return ImageMetadata(width, height, infotext, server_name(texts.get(SERVER_KEY)))


def _read_with_pillow(path: Path) -> ImageMetadata:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possibly corrupt EXIF" and the like
            with Image.open(path) as image:  # lazy: headers only, no pixel is decoded
                width, height = image.size
                try:
                    value = image.getexif().get_ifd(_EXIF_IFD_TAG).get(_USER_COMMENT_TAG)
                except (*_PIL_ERRORS, TypeError):
                    value = None
                comment = decode_user_comment(value) if isinstance(value, bytes | str) else None
                if comment is None:
                    text = image.info.get(PARAMETERS_KEY)
                    comment = text if isinstance(text, str) else None
    except FileNotFoundError:
        raise UnreadableImage(f"{path.name} is gone") from None
    except Image.DecompressionBombError:
        raise UnreadableImage(f"{path.name} claims too many pixels") from None
    except _PIL_ERRORS as exc:
        raise UnreadableImage(f"{path.name} is not an image Pillow can read: {exc}") from None
    return ImageMetadata(width, height, comment or "")


def read_image_metadata(path: Path) -> ImageMetadata:
    """Size and infotext of a PNG, JPEG or WebP file, from its headers only.

    Raises UnreadableImage (one line) for a file that is missing, truncated in its header, or not
    an image.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise UnreadableImage(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if head.startswith(b"\x89PNG"):
        return _read_png(path)
    return _read_with_pillow(path)
