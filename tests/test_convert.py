"""Format detection, decode limits, EXIF infotext and conversion to PNG."""

from __future__ import annotations

import base64
import os
import struct
import zlib
from io import BytesIO

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from sdtui.images.convert import (
    check_decodable,
    decode_base64_image,
    decode_user_comment,
    encode_exif_user_comment,
    image_format,
    image_size,
    read_parameters,
    to_png_with_parameters,
)
from sdtui.images.png import (
    PNG_SIGNATURE,
    ImageDataError,
    iter_chunks,
    make_chunk,
    read_text_chunks,
)

INFOTEXT = (
    "a red fox at dusk, 猫 ✓\nNegative prompt: blurry\n"
    'Steps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 1234, Lora hashes: "a: 1"'
)


def _image(size: tuple[int, int] = (96, 64)) -> Image.Image:
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.frombytes("L", size, os.urandom(size[0] * size[1]))
    return Image.merge(
        "RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _decoded(data: bytes) -> Image.Image:
    with Image.open(BytesIO(data)) as image:
        image.load()
        return image.copy()


def _png_header_only(width: int, height: int) -> bytes:
    """A structurally valid PNG that claims a huge size but holds a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        PNG_SIGNATURE
        + make_chunk(b"IHDR", ihdr)
        + make_chunk(b"IDAT", idat)
        + make_chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def rgb() -> Image.Image:
    return _image()


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to decode with Pillow fail the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Pillow was asked to open the image")

    monkeypatch.setattr(Image, "open", refuse)


# --- format and size ----------------------------------------------------------------------------


def test_image_format_and_size_from_headers(rgb: Image.Image) -> None:
    cases = {
        "png": _encode(rgb, "PNG"),
        "jpeg": _encode(rgb, "JPEG"),
        "webp": _encode(rgb, "WEBP"),
    }
    cases_extra = {
        "webp": [_encode(rgb, "WEBP", lossless=True), _encode(rgb.convert("RGBA"), "WEBP")],
        "jpeg": [_encode(rgb, "JPEG", progressive=True), _encode(rgb.convert("L"), "JPEG")],
    }
    for fmt, data in cases.items():
        assert image_format(data) == fmt
        assert image_size(data) == (96, 64)
        assert check_decodable(data) == (fmt, 96, 64)
    for fmt, more in cases_extra.items():
        for data in more:
            assert check_decodable(data) == (fmt, 96, 64)


def test_webp_extended_canvas_size() -> None:
    data = _encode(_image((300, 17)).convert("RGBA"), "WEBP", exif=encode_exif_user_comment("x"))
    assert data[12:16] == b"VP8X"
    assert image_size(data) == (300, 17)


def test_random_bytes_are_refused() -> None:
    garbage = bytes(range(256)) * 4
    for call in (image_format, image_size, check_decodable, read_parameters):
        with pytest.raises(ImageDataError, match="not a PNG, JPEG or WebP"):
            call(garbage)
    with pytest.raises(ImageDataError, match="not a PNG, JPEG or WebP"):
        to_png_with_parameters(garbage, INFOTEXT)
    with pytest.raises(ImageDataError, match="empty"):
        image_format(b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_images_are_refused(rgb: Image.Image, fmt: str) -> None:
    data = _encode(rgb, fmt)
    for cut in (len(data) // 2, len(data) - 3):
        with pytest.raises(ImageDataError, match="truncated"):
            check_decodable(data[:cut])
        with pytest.raises(ImageDataError, match="truncated"):
            to_png_with_parameters(data[:cut], INFOTEXT)


# --- decode limits ------------------------------------------------------------------------------


def test_png_bomb_is_refused_from_its_header(no_decoding: None) -> None:
    bomb = _png_header_only(60000, 60000)
    assert image_size(bomb) == (60000, 60000)
    with pytest.raises(ImageDataError) as caught:
        check_decodable(bomb)
    assert str(caught.value) == ("PNG image claims 60000x60000 pixels, over the 67 megapixel limit")
    with pytest.raises(ImageDataError, match="over the 67 megapixel limit"):
        to_png_with_parameters(bomb, INFOTEXT)


def test_largest_allowed_png_passes_the_check() -> None:
    assert check_decodable(_png_header_only(8192, 8192)) == ("png", 8192, 8192)
    with pytest.raises(ImageDataError, match="8193x8192"):
        check_decodable(_png_header_only(8193, 8192))


def test_jpeg_bomb_is_refused_from_its_header(rgb: Image.Image, no_decoding: None) -> None:
    data = _encode(rgb, "JPEG")
    sof = data.index(b"\xff\xc0")
    size_at = sof + 5  # marker(2) length(2) precision(1)
    bomb = data[:size_at] + struct.pack(">HH", 40000, 50000) + data[size_at + 4 :]
    assert image_size(bomb) == (50000, 40000)
    with pytest.raises(ImageDataError, match="JPEG image claims 50000x40000 pixels"):
        check_decodable(bomb)


def test_webp_bomb_is_refused_from_its_header(no_decoding: None) -> None:
    # Saving never goes through Image.open, so building the file here is allowed.
    webp = _encode(_image((64, 64)).convert("RGBA"), "WEBP", exif=encode_exif_user_comment("x"))
    assert webp[12:16] == b"VP8X"
    canvas_at = 12 + 8 + 4
    bomb = webp[:canvas_at] + (19999).to_bytes(3, "little") * 2 + webp[canvas_at + 6 :]
    with pytest.raises(ImageDataError, match="WEBP image claims 20000x20000 pixels"):
        check_decodable(bomb)


# --- EXIF and parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("JPEG", {"quality": 95}), ("WEBP", {"quality": 90}), ("WEBP", {"lossless": True})],
)
def test_jpeg_and_webp_exif_become_png_parameters(
    rgb: Image.Image, fmt: str, options: dict[str, object]
) -> None:
    data = _encode(rgb, fmt, exif=encode_exif_user_comment(INFOTEXT), **options)
    assert read_parameters(data) == INFOTEXT
    png = to_png_with_parameters(data, None)
    assert image_format(png) == "png"
    assert read_parameters(png) == INFOTEXT
    with Image.open(BytesIO(png)) as image:
        assert image.text == {"parameters": INFOTEXT}  # type: ignore[attr-defined]
    # Decoded once, pixels kept exactly as the source decodes.
    assert _decoded(png).tobytes() == _decoded(data).convert("RGB").tobytes()


def test_given_infotext_replaces_exif_one(rgb: Image.Image) -> None:
    data = _encode(rgb, "JPEG", exif=encode_exif_user_comment("old"))
    png = to_png_with_parameters(data, INFOTEXT)
    assert read_text_chunks(png) == {"parameters": INFOTEXT}


def test_jpeg_without_infotext_converts_without_text(rgb: Image.Image) -> None:
    png = to_png_with_parameters(_encode(rgb, "JPEG"), None)
    assert read_text_chunks(png) == {}
    assert read_parameters(png) is None


def test_exif_blob_is_read_by_pillow_as_big_endian_unicode(rgb: Image.Image) -> None:
    blob = encode_exif_user_comment("hello ✓")
    assert blob.startswith(b"Exif\0\0MM\0*")
    data = _encode(rgb, "JPEG", exif=blob)
    with Image.open(BytesIO(data)) as image:
        comment = image.getexif().get_ifd(0x8769)[0x9286]
    assert comment == b"UNICODE\0" + "hello ✓".encode("utf-16-be")


def test_exif_wins_over_png_text_when_both_exist(rgb: Image.Image) -> None:
    info = PngInfo()
    info.add_text("parameters", "from the text chunk, Steps: 1, Seed: 2, Sampler: x")
    png = _encode(rgb, "PNG", pnginfo=info, exif=encode_exif_user_comment(INFOTEXT))
    assert read_parameters(png) == INFOTEXT


def test_png_text_is_used_when_exif_has_no_comment(rgb: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0131] = "some software"
    info = PngInfo()
    info.add_text("parameters", INFOTEXT)
    png = _encode(rgb, "PNG", pnginfo=info, exif=exif)
    assert read_parameters(png) == INFOTEXT


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"UNICODE\0" + "猫 fox".encode("utf-16-be"), "猫 fox"),
        (b"UNICODE\0" + "猫 fox".encode("utf-16-le"), "猫 fox"),
        (b"UNICODE\0" + "fox".encode("utf-16"), "fox"),  # with a byte order mark
        (b"ASCII\0\0\0plain text\0", "plain text"),
        (b"\0" * 8 + b"undefined prefix", "undefined prefix"),
        (b"no prefix at all", "no prefix at all"),
        (b"UNICODE\0", None),
        ("already text", "already text"),
    ],
)
def test_decode_user_comment(raw: bytes | str, text: str | None) -> None:
    assert decode_user_comment(raw) == text


def test_little_endian_exif_from_pillow_is_read(rgb: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x8769] = {0x9286: b"UNICODE\0" + INFOTEXT.encode("utf-16-le")}
    data = _encode(rgb, "WEBP", exif=exif)
    assert read_parameters(data) == INFOTEXT


# --- PNG in ------------------------------------------------------------------------------------


def test_png_is_returned_as_is_when_nothing_changes(rgb: Image.Image) -> None:
    info = PngInfo()
    info.add_text("parameters", INFOTEXT)
    png = _encode(rgb, "PNG", pnginfo=info)
    assert to_png_with_parameters(png, None) is png
    assert to_png_with_parameters(png, INFOTEXT) is png


def test_png_with_new_infotext_is_spliced_not_reencoded(rgb: Image.Image) -> None:
    png = _encode(rgb, "PNG")
    out = to_png_with_parameters(png, INFOTEXT)
    assert read_parameters(out) == INFOTEXT
    idat = [c.data for c in iter_chunks(png) if c.type == b"IDAT"]
    assert [c.data for c in iter_chunks(out) if c.type == b"IDAT"] == idat


def test_png_with_bad_crc_is_not_passed_through(rgb: Image.Image) -> None:
    png = bytearray(_encode(rgb, "PNG"))
    png[-20] ^= 0xFF  # inside the last IDAT
    with pytest.raises(ImageDataError, match="CRC"):
        to_png_with_parameters(bytes(png), None)


# --- base64 -------------------------------------------------------------------------------------


def test_decode_base64_plain_wrapped_and_data_url(rgb: Image.Image) -> None:
    png = _encode(rgb, "PNG")
    plain = base64.b64encode(png).decode("ascii")
    assert decode_base64_image(plain) == png
    assert decode_base64_image(base64.encodebytes(png).decode("ascii")) == png
    assert decode_base64_image("data:image/png;base64," + plain) == png


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "not base64 at all!", "data:image/png,rawtext", "QUJD\u00e9"],
)
def test_decode_base64_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ImageDataError, match=r"base64|empty"):
        decode_base64_image(bad)


def test_truncated_base64_is_refused(rgb: Image.Image) -> None:
    encoded = base64.b64encode(_encode(rgb, "PNG")).decode("ascii")
    with pytest.raises(ImageDataError, match="not valid base64"):
        decode_base64_image(encoded[:-1])
    # Cut on a 4-character boundary it decodes, but the image is then seen to be truncated.
    cut = decode_base64_image(encoded[: (len(encoded) // 2) // 4 * 4])
    with pytest.raises(ImageDataError, match="truncated"):
        check_decodable(cut)
