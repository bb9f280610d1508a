"""Format detection, decode limits, infotext in EXIF, and conversion to PNG.

Servers answer with PNG, JPEG or WebP (their ``samples_format`` option); sdtui keeps PNGs with a
``parameters`` chunk. Everything that can be learned from headers (format, size, EXIF) is read
by walking the container without Pillow, so an image claiming billions of pixels is refused
before any decoder allocates memory for it, and metadata reads stay cheap.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo

from sdtui.images.png import (
    PNG_SIGNATURE,
    ImageDataError,
    iter_chunks,
    png_size,
    read_chunks,
    read_text_chunks,
    set_text_chunk,
)

__all__ = [
    "MAX_IMAGE_PIXELS",
    "PARAMETERS_KEY",
    "check_decodable",
    "check_pixel_limit",
    "decode_base64_image",
    "decode_user_comment",
    "encode_exif_user_comment",
    "image_format",
    "image_size",
    "read_parameters",
    "to_png_with_parameters",
    "user_comment_from_exif",
]

#: Images with more pixels than this are refused before decoding (8192 x 8192).
MAX_IMAGE_PIXELS: int = 8192 * 8192

#: The PNG text keyword the web UI stores infotext under.
PARAMETERS_KEY = "parameters"

_EXIF_PREFIX = b"Exif\x00\x00"
_EXIF_IFD_TAG = 0x8769
_USER_COMMENT_TAG = 0x9286
_UNICODE_PREFIX = b"UNICODE\x00"
_ASCII_PREFIX = b"ASCII\x00\x00\x00"
_JIS_PREFIX = b"JIS\x00\x00\x00\x00\x00"
_UNDEFINED_PREFIX = b"\x00" * 8

_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
# What Pillow raises on bytes it cannot make sense of.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)


# --- format and headers -----------------------------------------------------------------------


def image_format(data: bytes) -> str:
    """``"png"``, ``"jpeg"`` or ``"webp"`` from the magic bytes; anything else is refused."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if not data:
        raise ImageDataError("image data is empty")
    raise ImageDataError(f"not a PNG, JPEG or WebP image (it starts with {data[:8].hex(' ')})")


@dataclass(frozen=True)
class _Header:
    """What a container walk learned: size, raw EXIF (if any), and where pixel data starts."""

    width: int
    height: int
    exif: bytes | None
    image_data_offset: int


# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS, _JPEG_EOI, _JPEG_APP1 = 0xDA, 0xD9, 0xE1


def _jpeg_header(data: bytes) -> _Header:
    """Walk JPEG marker segments up to the start of scan."""
    total = len(data)
    pos = 2
    size: tuple[int, int] | None = None
    exif: bytes | None = None
    while True:
        if pos >= total:
            raise ImageDataError("JPEG data is truncated: it ends before the image data")
        if data[pos] != 0xFF:
            raise ImageDataError(f"JPEG data is corrupt: no marker at byte {pos}")
        while pos < total and data[pos] == 0xFF:
            pos += 1
        if pos >= total:
            raise ImageDataError("JPEG data is truncated: it ends before the image data")
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker == _JPEG_EOI:
            raise ImageDataError("JPEG data has no image data (end marker before any scan)")
        if pos + 2 > total:
            raise ImageDataError("JPEG data is truncated: it ends inside a marker segment")
        (length,) = struct.unpack_from(">H", data, pos)
        end = pos + length
        if length < 2 or end > total:
            raise ImageDataError(f"JPEG data is truncated: marker segment at byte {pos - 2}")
        segment = data[pos + 2 : end]
        if marker in _JPEG_SOF and size is None:
            if len(segment) < 5:
                raise ImageDataError("JPEG data is corrupt: frame header too short")
            height, width = struct.unpack_from(">HH", segment, 1)
            if width == 0 or height == 0:
                raise ImageDataError(f"JPEG header gives an unsupported size {width}x{height}")
            size = (width, height)
        elif marker == _JPEG_APP1 and exif is None and segment.startswith(_EXIF_PREFIX):
            exif = segment
        elif marker == _JPEG_SOS:
            if size is None:
                raise ImageDataError("JPEG data is corrupt: image data comes before the frame size")
            return _Header(size[0], size[1], exif, end)
        pos = end


def _webp_header(data: bytes) -> _Header:
    """Walk the RIFF chunks of a WebP file (simple lossy, lossless, or extended)."""
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if end > len(data):
        raise ImageDataError(
            f"WebP data is truncated: the header promises {end} bytes, only {len(data)} present"
        )
    pos = 12
    canvas: tuple[int, int] | None = None
    frame: tuple[int, int] | None = None
    exif: bytes | None = None
    image_offset: int | None = None
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        start = pos + 8
        if start + length > end:
            raise ImageDataError(f"WebP data is truncated: the {fourcc!r} chunk overruns the file")
        chunk = data[start : start + length]
        if fourcc == b"VP8X" and length >= 10:
            width = 1 + int.from_bytes(chunk[4:7], "little")
            height = 1 + int.from_bytes(chunk[7:10], "little")
            canvas = (width, height)
        elif fourcc == b"VP8 " and frame is None:
            if length < 10 or chunk[3:6] != b"\x9d\x01\x2a":
                raise ImageDataError("WebP data is corrupt: bad VP8 frame header")
            width, height = struct.unpack_from("<HH", chunk, 6)
            frame = (width & 0x3FFF, height & 0x3FFF)
        elif fourcc == b"VP8L" and frame is None:
            if length < 5 or chunk[0] != 0x2F:
                raise ImageDataError("WebP data is corrupt: bad VP8L header")
            (bits,) = struct.unpack_from("<I", chunk, 1)
            frame = (1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF))
        elif fourcc == b"EXIF" and exif is None:
            exif = chunk
        if fourcc in (b"VP8 ", b"VP8L", b"ANMF") and image_offset is None:
            image_offset = pos
        pos = start + length + (length & 1)
    if image_offset is None:
        raise ImageDataError("WebP data has no image data")
    size = canvas or frame
    if size is None or size[0] == 0 or size[1] == 0:
        raise ImageDataError("WebP data is corrupt: no usable image size")
    return _Header(size[0], size[1], exif, image_offset)


def _header(data: bytes, fmt: str) -> _Header:
    if fmt == "jpeg":
        return _jpeg_header(data)
    return _webp_header(data)


def image_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from the header alone, without decoding pixels."""
    fmt = image_format(data)
    if fmt == "png":
        return png_size(data)
    header = _header(data, fmt)
    return header.width, header.height


def check_pixel_limit(fmt: str, width: int, height: int) -> None:
    """Refuse sizes over :data:`MAX_IMAGE_PIXELS`, naming the size and the limit."""
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageDataError(
            f"{fmt.upper()} image claims {width}x{height} pixels, over the "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixel limit"
        )


def check_decodable(data: bytes) -> tuple[str, int, int]:
    """``(format, width, height)`` once the bytes look whole and small enough to decode.

    Refuses, with a message saying why: unknown formats, sizes over :data:`MAX_IMAGE_PIXELS`
    (checked from the header first, so bombs cost nothing), and truncated or corrupt
    containers (PNG: every chunk and CRC through IEND; JPEG: markers through the end-of-image
    marker; WebP: the RIFF chunks against the declared length).
    """
    fmt = image_format(data)
    if fmt == "png":
        width, height = png_size(data)
        check_pixel_limit(fmt, width, height)
        # Walk every chunk (no short-circuit): truncation shows only at the end.
        chunk_types = [chunk.type for chunk in iter_chunks(data)]
        if b"IDAT" not in chunk_types:
            raise ImageDataError("PNG data has no image data (no IDAT chunk)")
        return fmt, width, height
    header = _header(data, fmt)
    check_pixel_limit(fmt, header.width, header.height)
    if fmt == "jpeg" and data.rfind(b"\xff\xd9") < header.image_data_offset:
        raise ImageDataError("JPEG data is truncated: the end-of-image marker is missing")
    return fmt, header.width, header.height


# --- infotext in EXIF ---------------------------------------------------------------------------


def _utf16_is_little_endian(body: bytes) -> bool:
    """Guess UTF-16 byte order: mostly-ASCII text has its zero bytes on the high-byte side."""
    if body[:2] == b"\xff\xfe":
        return True
    if body[:2] == b"\xfe\xff":
        return False
    zeros_even = body[0::2].count(0)
    zeros_odd = body[1::2].count(0)
    return zeros_odd > zeros_even


def decode_user_comment(raw: bytes | str) -> str | None:
    """Text of an EXIF UserComment value, or None when it is empty.

    The web UI writes ``b"UNICODE\\0"`` + UTF-16 big-endian (piexif); other tools write
    little-endian or ``ASCII``; both byte orders and prefixes are accepted.
    """
    if isinstance(raw, str):
        text = raw
    else:
        prefix, body = raw[:8], raw[8:]
        if prefix == _UNICODE_PREFIX:
            body = body[: len(body) - len(body) % 2]
            little = _utf16_is_little_endian(body)
            text = body.decode("utf-16-le" if little else "utf-16-be", errors="replace")
            text = text.removeprefix("\ufeff")
        elif prefix in (_ASCII_PREFIX, _UNDEFINED_PREFIX):
            text = body.decode("utf-8", errors="replace")
        elif prefix == _JIS_PREFIX:
            text = body.decode("shift_jis", errors="replace")
        else:
            text = raw.decode("utf-8", errors="ignore")
    text = text.strip("\x00")
    return text or None


def user_comment_from_exif(exif_blob: bytes | None) -> str | None:
    """The infotext in an EXIF block's UserComment, or None (no EXIF, a broken one, no comment)."""
    if not exif_blob:
        return None
    exif = Image.Exif()
    try:
        exif.load(exif_blob)
        value = exif.get_ifd(_EXIF_IFD_TAG).get(_USER_COMMENT_TAG)
    except (*_DECODE_ERRORS, KeyError, TypeError):
        # Broken EXIF is treated like no EXIF: the pixels and other metadata are still good.
        return None
    if isinstance(value, bytes | str):
        return decode_user_comment(value)
    return None


def _png_exif(data: bytes) -> bytes | None:
    chunks = read_chunks(data, (b"eXIf",))
    return chunks[0].data if chunks else None


def read_parameters(data: bytes) -> str | None:
    """The infotext stored in an image, or None.

    PNG: the ``parameters`` text chunk; JPEG and WebP: EXIF UserComment. As in the web UI, a
    non-empty EXIF UserComment wins over the text chunk when a file has both.
    """
    fmt = image_format(data)
    if fmt == "png":
        from_exif = user_comment_from_exif(_png_exif(data))
        return from_exif if from_exif is not None else read_text_chunks(data).get(PARAMETERS_KEY)
    return user_comment_from_exif(_header(data, fmt).exif)


def encode_exif_user_comment(text: str) -> bytes:
    """An EXIF blob (``Exif\\0\\0`` + big-endian TIFF) whose UserComment holds ``text``.

    Laid out the way the web UI's piexif call does: IFD0 with one pointer to the Exif IFD,
    which holds one UserComment of ``b"UNICODE\\0"`` + UTF-16-BE. Pass it to Pillow's
    ``save(..., exif=blob)`` for JPEG, WebP or PNG.
    """
    comment = _UNICODE_PREFIX + text.encode("utf-16-be")
    ifd0_offset = 8
    exif_ifd_offset = ifd0_offset + 2 + 12 + 4
    comment_offset = exif_ifd_offset + 2 + 12 + 4
    tiff = b"".join(
        (
            b"MM\x00\x2a",
            struct.pack(">I", ifd0_offset),
            # IFD0: one entry, LONG pointer to the Exif IFD; no next IFD.
            struct.pack(">HHHII", 1, _EXIF_IFD_TAG, 4, 1, exif_ifd_offset),
            struct.pack(">I", 0),
            # Exif IFD: one entry, UNDEFINED bytes of UserComment stored at comment_offset.
            struct.pack(">HHHII", 1, _USER_COMMENT_TAG, 7, len(comment), comment_offset),
            struct.pack(">I", 0),
            comment,
        )
    )
    return _EXIF_PREFIX + tiff


# --- conversion ---------------------------------------------------------------------------------


def _decode_to_png(data: bytes, fmt: str, infotext: str | None) -> bytes:
    """Decode a JPEG/WebP once and encode it as PNG with the infotext in ``parameters``."""
    try:
        with Image.open(BytesIO(data), formats=[_PILLOW_FORMATS[fmt]]) as image:
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            pixels: Image.Image = image
            if image.mode not in ("1", "L", "LA", "RGB", "RGBA"):
                has_alpha = "A" in image.mode or "transparency" in image.info
                pixels = image.convert("RGBA" if has_alpha else "RGB")
            info = PngInfo()
            if infotext:
                info.add_text(PARAMETERS_KEY, infotext)
            out = BytesIO()
            pixels.save(out, "PNG", pnginfo=info, icc_profile=image.info.get("icc_profile"))
    except Image.DecompressionBombError as exc:
        raise ImageDataError(f"{fmt.upper()} image is too large to decode: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise ImageDataError(f"{fmt.upper()} data could not be decoded: {exc}") from exc
    return out.getvalue()


def to_png_with_parameters(data: bytes, infotext: str | None) -> bytes:
    """PNG bytes carrying ``infotext`` in their ``parameters`` chunk, decoding only if needed.

    PNG input is checked structurally, then returned as is when ``infotext`` is None or already
    stored, else spliced (pixels untouched). JPEG and WebP are decoded once and written as PNG
    with ``infotext``, or with the infotext from their EXIF when none is given.
    """
    fmt, _, _ = check_decodable(data)
    if fmt == "png":
        if infotext is None or read_text_chunks(data).get(PARAMETERS_KEY) == infotext:
            return data
        return set_text_chunk(data, PARAMETERS_KEY, infotext)
    if infotext is None:
        infotext = read_parameters(data)
    return _decode_to_png(data, fmt, infotext)


def decode_base64_image(b64: str) -> bytes:
    """Image bytes from plain base64 or a ``data:image/...;base64,`` URL, as servers send them."""
    text = b64.strip()
    if text.startswith("data:"):
        header, comma, text = text.partition(",")
        if not comma or not header.endswith(";base64"):
            raise ImageDataError("image data URL is not base64-encoded")
    compact = "".join(text.split())
    if not compact:
        raise ImageDataError("image data is empty")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageDataError(f"image data is not valid base64 ({exc})") from exc
