"""PNG chunk reading and text-chunk splicing without touching pixels.

A PNG is an 8-byte signature followed by chunks, each ``length (4, big-endian) | type (4) |
data (length) | CRC32 of type+data (4)``. Saving a server image with new metadata only needs
one text chunk replaced: copying the other chunks as they are keeps pixels byte-identical and
costs a memory copy instead of a ~100 ms zlib re-encode.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass

__all__ = [
    "PNG_SIGNATURE",
    "TEXT_CHUNK_TYPES",
    "Chunk",
    "ImageDataError",
    "decode_text_chunk",
    "iter_chunks",
    "make_chunk",
    "png_size",
    "read_chunks",
    "read_text_chunks",
    "set_text_chunk",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNK_TYPES = frozenset({b"tEXt", b"zTXt", b"iTXt"})

_LENGTH = struct.Struct(">I")
_IHDR = struct.Struct(">IIBBBBB")
_CHUNK_OVERHEAD = 12  # length + type + CRC
_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG spec limit
_MAX_KEYWORD_LENGTH = 79
# Inflating a text chunk beyond this is refused: infotexts are kilobytes, not megabytes.
_MAX_TEXT_BYTES = 16 * 1024 * 1024


class ImageDataError(ValueError):
    """The bytes are not a usable image; the message says what is wrong, in one line."""


@dataclass(frozen=True)
class Chunk:
    """One PNG chunk: its 4-byte type, its data, and where it starts (its length field)."""

    type: bytes
    data: bytes
    offset: int

    @property
    def end(self) -> int:
        """Offset just past this chunk's CRC."""
        return self.offset + _CHUNK_OVERHEAD + len(self.data)


def make_chunk(chunk_type: bytes, data: bytes) -> bytes:
    """Serialize one chunk with its length and CRC."""
    crc = zlib.crc32(data, zlib.crc32(chunk_type))
    return _LENGTH.pack(len(data)) + chunk_type + data + _LENGTH.pack(crc)


def _check_signature(png: bytes) -> None:
    if len(png) < len(PNG_SIGNATURE) or png[: len(PNG_SIGNATURE)] != PNG_SIGNATURE:
        if not png:
            raise ImageDataError("PNG data is empty")
        raise ImageDataError("not a PNG file (the 8-byte PNG signature is missing)")


def _walk(png: bytes, *, check_crc: bool) -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(type, offset, data_start)`` for each chunk up to and including IEND.

    Checks the signature, that IHDR comes first, that every chunk fits in the data, and that
    IEND is reached. CRCs are checked only when asked, since for a 1024² image that means
    hashing every pixel byte.
    """
    _check_signature(png)
    total = len(png)
    view = memoryview(png)
    pos = len(PNG_SIGNATURE)
    first = True
    while True:
        if pos + 8 > total:
            raise ImageDataError(f"PNG data is truncated: it ends at byte {total} before IEND")
        (length,) = _LENGTH.unpack_from(png, pos)
        chunk_type = bytes(view[pos + 4 : pos + 8])
        if length > _MAX_CHUNK_LENGTH:
            raise ImageDataError(f"PNG chunk at byte {pos} has an impossible length ({length})")
        if not chunk_type.isalpha():
            raise ImageDataError(f"PNG chunk at byte {pos} has an invalid type {chunk_type!r}")
        data_start = pos + 8
        data_end = data_start + length
        if data_end + 4 > total:
            raise ImageDataError(
                f"PNG data is truncated: the {chunk_type.decode('ascii')} chunk at byte {pos} "
                f"needs {length + _CHUNK_OVERHEAD} bytes, only {total - pos} remain"
            )
        if first:
            if chunk_type != b"IHDR" or length != _IHDR.size:
                raise ImageDataError("PNG data is invalid: it does not start with an IHDR chunk")
            first = False
        if check_crc:
            (stored,) = _LENGTH.unpack_from(png, data_end)
            if zlib.crc32(view[pos + 4 : data_end]) != stored:
                raise ImageDataError(
                    f"PNG data is corrupt: CRC mismatch in the {chunk_type.decode('ascii')} "
                    f"chunk at byte {pos}"
                )
        yield chunk_type, pos, data_start
        if chunk_type == b"IEND":
            return
        pos = data_end + 4


def iter_chunks(png: bytes) -> Iterator[Chunk]:
    """Every chunk from IHDR to IEND, after checking signature, lengths and CRCs.

    Raises :class:`ImageDataError` on the first problem, so a consumer that runs this to the
    end has proved the file is structurally whole. Bytes after IEND are ignored, as decoders do.
    """
    for chunk_type, offset, data_start in _walk(png, check_crc=True):
        (length,) = _LENGTH.unpack_from(png, offset)
        yield Chunk(chunk_type, png[data_start : data_start + length], offset)


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` from IHDR, without decoding anything."""
    _check_signature(png)
    pos = len(PNG_SIGNATURE)
    data_start = pos + 8
    data_end = data_start + _IHDR.size
    if len(png) < data_end + 4:
        raise ImageDataError("PNG data is truncated: it ends inside the IHDR chunk")
    if png[pos + 4 : data_start] != b"IHDR" or _LENGTH.unpack_from(png, pos)[0] != _IHDR.size:
        raise ImageDataError("PNG data is invalid: it does not start with an IHDR chunk")
    if zlib.crc32(png[pos + 4 : data_end]) != _LENGTH.unpack_from(png, data_end)[0]:
        raise ImageDataError("PNG data is corrupt: CRC mismatch in the IHDR chunk")
    width, height, *_ = _IHDR.unpack_from(png, data_start)
    if not (0 < width <= _MAX_CHUNK_LENGTH and 0 < height <= _MAX_CHUNK_LENGTH):
        raise ImageDataError(f"PNG header gives an invalid size {width}x{height}")
    return width, height


def _split_keyword(data: bytes, chunk_type: bytes) -> tuple[str, bytes]:
    keyword, sep, rest = data.partition(b"\0")
    if not sep or not keyword:
        raise ImageDataError(f"PNG {chunk_type.decode('ascii')} chunk has no keyword")
    return keyword.decode("latin-1"), rest


def _inflate(data: bytes, keyword: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, _MAX_TEXT_BYTES)
    except zlib.error as exc:
        raise ImageDataError(f"PNG text chunk {keyword!r} has corrupt compressed data") from exc
    if inflater.unconsumed_tail:
        raise ImageDataError(f"PNG text chunk {keyword!r} inflates past the 16 MB limit")
    return out


def decode_text_chunk(chunk_type: bytes, data: bytes) -> tuple[str, str]:
    """``(keyword, text)`` of one tEXt, zTXt or iTXt chunk's data."""
    keyword, rest = _split_keyword(data, chunk_type)
    if chunk_type == b"tEXt":
        return keyword, rest.decode("latin-1")
    if chunk_type == b"zTXt":
        if not rest or rest[0] != 0:
            raise ImageDataError(f"PNG zTXt chunk {keyword!r} uses an unknown compression method")
        return keyword, _inflate(rest[1:], keyword).decode("latin-1")
    # iTXt: compression flag, method, language tag\0, translated keyword\0, UTF-8 text.
    if len(rest) < 2:
        raise ImageDataError(f"PNG iTXt chunk {keyword!r} is too short")
    compressed, method = rest[0], rest[1]
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3:
        raise ImageDataError(f"PNG iTXt chunk {keyword!r} is malformed")
    payload = parts[2]
    if compressed:
        if method != 0:
            raise ImageDataError(f"PNG iTXt chunk {keyword!r} uses an unknown compression method")
        payload = _inflate(payload, keyword)
    try:
        return keyword, payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImageDataError(f"PNG iTXt chunk {keyword!r} is not valid UTF-8") from exc


def read_chunks(png: bytes, types: Collection[bytes]) -> list[Chunk]:
    """The chunks of the given types, in file order, CRC-checked; other chunks are not hashed.

    The whole file's structure is still walked (signature, IHDR first, lengths, IEND), so
    truncated data raises :class:`ImageDataError` here too.
    """
    found: list[Chunk] = []
    for chunk_type, offset, data_start in _walk(png, check_crc=False):
        if chunk_type not in types:
            continue
        (length,) = _LENGTH.unpack_from(png, offset)
        data = png[data_start : data_start + length]
        (stored,) = _LENGTH.unpack_from(png, data_start + length)
        if zlib.crc32(data, zlib.crc32(chunk_type)) != stored:
            raise ImageDataError(
                f"PNG data is corrupt: CRC mismatch in the {chunk_type.decode('ascii')} "
                f"chunk at byte {offset}"
            )
        found.append(Chunk(chunk_type, data, offset))
    return found


def read_text_chunks(png: bytes) -> dict[str, str]:
    """All text chunks as ``{keyword: text}``; a repeated keyword keeps its last value.

    tEXt is Latin-1, zTXt is zlib-compressed Latin-1, iTXt is UTF-8 (compressed or not), as
    Pillow reads them. Structure and the text chunks' CRCs are checked; pixel data is not hashed.
    """
    texts: dict[str, str] = {}
    for chunk in read_chunks(png, TEXT_CHUNK_TYPES):
        keyword, text = decode_text_chunk(chunk.type, chunk.data)
        texts[keyword] = text
    return texts


def _check_keyword(keyword: str) -> bytes:
    try:
        encoded = keyword.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"PNG text keyword {keyword!r} is not Latin-1") from None
    if not 1 <= len(encoded) <= _MAX_KEYWORD_LENGTH or b"\0" in encoded:
        raise ValueError(f"PNG text keyword {keyword!r} must be 1-79 characters without NUL")
    if keyword != keyword.strip():
        raise ValueError(f"PNG text keyword {keyword!r} has leading or trailing spaces")
    return encoded


def _text_chunk(keyword: bytes, text: str) -> bytes:
    """tEXt when the text is Latin-1, else uncompressed iTXt: what Pillow and the web UI write."""
    try:
        return make_chunk(b"tEXt", keyword + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        return make_chunk(b"iTXt", keyword + b"\0\0\0\0\0" + text.encode("utf-8"))


def set_text_chunk(png: bytes, keyword: str, text: str) -> bytes:
    """New PNG bytes with exactly one text chunk for ``keyword``, holding ``text``.

    Every tEXt/zTXt/iTXt chunk with that keyword is dropped and one new chunk goes right before
    the first IDAT. All other bytes, pixel data included, are copied as they are: only the new
    chunk's CRC is computed. The structure is checked cheaply (signature, IHDR first, every
    chunk in bounds, IEND present); use :func:`iter_chunks` to verify CRCs as well.
    """
    key = _check_keyword(keyword)
    view = memoryview(png)
    pieces: list[bytes | memoryview] = []
    run_start = 0  # start of the run of bytes being copied unchanged
    inserted = False
    for chunk_type, offset, data_start in _walk(png, check_crc=False):
        if chunk_type == b"IDAT" and not inserted:
            pieces.append(view[run_start:offset])
            pieces.append(_text_chunk(key, text))
            run_start = offset
            inserted = True
        elif chunk_type in TEXT_CHUNK_TYPES:
            (length,) = _LENGTH.unpack_from(png, offset)
            head = view[data_start : data_start + min(length, _MAX_KEYWORD_LENGTH + 1)]
            if bytes(head).partition(b"\0")[0] == key:
                pieces.append(view[run_start:offset])
                run_start = data_start + length + 4
        elif chunk_type == b"IEND":
            if not inserted:
                raise ImageDataError("PNG data is invalid: it has no IDAT chunk")
            pieces.append(view[run_start:])
    return b"".join(pieces)
