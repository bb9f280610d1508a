"""PNG chunk walking and text splicing, checked against Pillow as the independent reader."""

from __future__ import annotations

import itertools
import os
import struct
import zlib
from io import BytesIO

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from sdtui.images.png import (
    PNG_SIGNATURE,
    ImageDataError,
    iter_chunks,
    make_chunk,
    png_size,
    read_text_chunks,
    set_text_chunk,
)

INFOTEXT = "a fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 1"


def _noisy_png(pnginfo: PngInfo | None = None, size: tuple[int, int] = (192, 128)) -> bytes:
    """A PNG whose pixels do not compress well, so it has several IDAT chunks."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = BytesIO()
    image.save(out, "PNG", pnginfo=pnginfo)
    return out.getvalue()


def _idat(png: bytes) -> list[bytes]:
    return [chunk.data for chunk in iter_chunks(png) if chunk.type == b"IDAT"]


def _raw_chunks(png: bytes, chunk_type: bytes) -> list[bytes]:
    """Each chunk of that type as its exact on-disk bytes (length, type, data, CRC)."""
    return [png[c.offset : c.end] for c in iter_chunks(png) if c.type == chunk_type]


def _pixels(png: bytes) -> bytes:
    with Image.open(BytesIO(png)) as image:
        return image.tobytes()


def _with_chunk_after_idat(png: bytes, chunk: bytes) -> bytes:
    iend = next(c for c in iter_chunks(png) if c.type == b"IEND")
    return png[: iend.offset] + chunk + png[iend.offset :]


@pytest.fixture(scope="module")
def server_png() -> bytes:
    info = PngInfo()
    info.add_text("parameters", "old infotext, Steps: 1")
    info.add_text("Software", "test")
    return _noisy_png(info)


def test_iter_chunks_walks_a_pillow_png(server_png: bytes) -> None:
    chunks = list(iter_chunks(server_png))
    assert chunks[0].type == b"IHDR"
    assert chunks[0].offset == len(PNG_SIGNATURE)
    assert chunks[-1].type == b"IEND"
    assert chunks[-1].end == len(server_png)
    assert len(_idat(server_png)) >= 2
    for before, after in itertools.pairwise(chunks):
        assert before.end == after.offset


def test_png_size(server_png: bytes) -> None:
    assert png_size(server_png) == (192, 128)


def test_read_text_chunks_matches_pillow_for_all_three_kinds() -> None:
    info = PngInfo()
    info.add_text("plain", "Latin-1 café")
    info.add_text("packed", "zipped " * 50, zip=True)
    info.add_itxt("intl", "猫 ✓", zip=False)
    info.add_itxt("intlzip", "圧縮 " * 40, zip=True)
    png = _noisy_png(info, (8, 8))
    texts = read_text_chunks(png)
    with Image.open(BytesIO(png)) as image:
        assert texts == image.text  # type: ignore[attr-defined]
    assert texts["intl"] == "猫 ✓"


def test_set_text_chunk_is_read_by_pillow_and_keeps_pixels(server_png: bytes) -> None:
    out = set_text_chunk(server_png, "parameters", INFOTEXT)
    with Image.open(BytesIO(out)) as image:
        assert image.text["parameters"] == INFOTEXT  # type: ignore[attr-defined]
        assert image.text["Software"] == "test"  # type: ignore[attr-defined]
    assert _pixels(out) == _pixels(server_png)
    # Pixel chunks are copied byte for byte, CRCs included, not re-encoded.
    assert _raw_chunks(out, b"IDAT") == _raw_chunks(server_png, b"IDAT")
    assert _raw_chunks(out, b"IHDR") == _raw_chunks(server_png, b"IHDR")
    list(iter_chunks(out))  # every CRC still valid


def test_set_text_chunk_replaces_and_places_before_first_idat(server_png: bytes) -> None:
    out = set_text_chunk(server_png, "parameters", INFOTEXT)
    types = [c.type for c in iter_chunks(out)]
    first_idat = types.index(b"IDAT")
    assert types[first_idat - 1] == b"tEXt"
    params = [c for c in iter_chunks(out) if c.data.startswith(b"parameters\0")]
    assert len(params) == 1
    assert params[0].data == b"parameters\0" + INFOTEXT.encode("latin-1")
    # Nothing else changed: dropping the new chunk and the old one gives the same chunk list.
    old = [(c.type, c.data) for c in iter_chunks(server_png) if not c.data.startswith(b"param")]
    new = [(c.type, c.data) for c in iter_chunks(out) if not c.data.startswith(b"param")]
    assert old == new


def test_set_text_chunk_removes_every_kind_of_existing_chunk(server_png: bytes) -> None:
    extra = make_chunk(b"zTXt", b"parameters\0\0" + zlib.compress(b"late zTXt"))
    itxt = make_chunk(b"iTXt", b"parameters\0\0\0\0\0late iTXt")
    png = _with_chunk_after_idat(_with_chunk_after_idat(server_png, extra), itxt)
    out = set_text_chunk(png, "parameters", "new")
    keyed = [c for c in iter_chunks(out) if c.data.startswith(b"parameters\0")]
    assert [(c.type, c.data) for c in keyed] == [(b"tEXt", b"parameters\0new")]
    assert read_text_chunks(out) == {"parameters": "new", "Software": "test"}


def test_keyword_match_is_exact(server_png: bytes) -> None:
    png = _with_chunk_after_idat(server_png, make_chunk(b"tEXt", b"parameters2\0keep me"))
    out = set_text_chunk(png, "parameters", "new")
    assert read_text_chunks(out)["parameters2"] == "keep me"


def test_non_latin1_text_becomes_uncompressed_itxt(server_png: bytes) -> None:
    text = "猫 ✓ 🦊\nSteps: 20, Sampler: Euler a, Seed: 1"
    out = set_text_chunk(server_png, "parameters", text)
    new = [c for c in iter_chunks(out) if c.data.startswith(b"parameters\0")]
    assert [c.type for c in new] == [b"iTXt"]
    assert new[0].data == b"parameters\0\0\0\0\0" + text.encode("utf-8")
    with Image.open(BytesIO(out)) as image:
        assert image.text["parameters"] == text  # type: ignore[attr-defined]


def test_latin1_text_with_accents_stays_text(server_png: bytes) -> None:
    out = set_text_chunk(server_png, "parameters", "café")
    new = [c for c in iter_chunks(out) if c.data.startswith(b"parameters\0")]
    assert [c.type for c in new] == [b"tEXt"]


def test_set_text_chunk_keeps_bytes_after_iend(server_png: bytes) -> None:
    out = set_text_chunk(server_png + b"trailer", "parameters", "x")
    assert out.endswith(b"IEND\xaeB`\x82trailer")


def test_set_text_chunk_on_png_without_text_adds_one() -> None:
    png = _noisy_png(size=(16, 16))
    out = set_text_chunk(png, "parameters", INFOTEXT)
    assert read_text_chunks(out) == {"parameters": INFOTEXT}
    assert len(out) == len(png) + 12 + len(b"parameters\0") + len(INFOTEXT)


@pytest.mark.parametrize("keyword", ["", "x" * 80, "caf\u0300", " lead", "nul\0"])
def test_bad_keywords_are_refused(server_png: bytes, keyword: str) -> None:
    with pytest.raises(ValueError, match="keyword"):
        set_text_chunk(server_png, keyword, "x")


def test_truncated_png_is_refused_everywhere(server_png: bytes) -> None:
    truncated = server_png[: len(server_png) // 2]
    with pytest.raises(ImageDataError, match="truncated"):
        list(iter_chunks(truncated))
    with pytest.raises(ImageDataError, match="truncated"):
        set_text_chunk(truncated, "parameters", "x")
    with pytest.raises(ImageDataError, match="truncated"):
        read_text_chunks(truncated)
    # Losing only the IEND chunk counts as truncation too.
    with pytest.raises(ImageDataError, match="truncated"):
        list(iter_chunks(server_png[:-12]))


def test_corrupt_pixel_crc_is_caught_by_iter_chunks(server_png: bytes) -> None:
    idat = next(c for c in iter_chunks(server_png) if c.type == b"IDAT")
    flip = idat.offset + 8 + 100
    corrupt = server_png[:flip] + bytes([server_png[flip] ^ 0xFF]) + server_png[flip + 1 :]
    with pytest.raises(ImageDataError, match=r"CRC mismatch in the IDAT chunk"):
        list(iter_chunks(corrupt))


def test_corrupt_text_crc_is_caught_by_read_text_chunks(server_png: bytes) -> None:
    text = next(c for c in iter_chunks(server_png) if c.type == b"tEXt")
    pos = text.offset + 8 + 2
    corrupt = server_png[:pos] + b"X" + server_png[pos + 1 :]
    with pytest.raises(ImageDataError, match="CRC mismatch in the tEXt"):
        read_text_chunks(corrupt)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 40, "signature"),
        (PNG_SIGNATURE + make_chunk(b"IDAT", b"") + make_chunk(b"IEND", b""), "IHDR"),
    ],
)
def test_not_a_png(data: bytes, message: str) -> None:
    with pytest.raises(ImageDataError, match=message):
        list(iter_chunks(data))
    with pytest.raises(ImageDataError, match=message):
        png_size(data)


def test_impossible_chunk_length_is_refused(server_png: bytes) -> None:
    pos = len(PNG_SIGNATURE) + 8 + 13 + 4  # the chunk after IHDR
    corrupt = server_png[:pos] + struct.pack(">I", 0xFFFFFFF0) + server_png[pos + 4 :]
    with pytest.raises(ImageDataError):
        set_text_chunk(corrupt, "parameters", "x")


def test_png_without_idat_is_refused() -> None:
    ihdr = make_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    png = PNG_SIGNATURE + ihdr + make_chunk(b"IEND", b"")
    with pytest.raises(ImageDataError, match="IDAT"):
        set_text_chunk(png, "parameters", "x")


def test_corrupt_compressed_text_is_refused() -> None:
    ihdr = make_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    bad = make_chunk(b"zTXt", b"parameters\0\0not zlib at all")
    png = PNG_SIGNATURE + ihdr + bad + make_chunk(b"IEND", b"")
    with pytest.raises(ImageDataError, match="compressed"):
        read_text_chunks(png)
