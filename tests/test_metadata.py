from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageFile, WebPImagePlugin

from sdtui.store.history import UnreadableImage
from sdtui.store.metadata import is_image_name, read_image_metadata
from tests.history_files import exif_image_bytes, infotext, png_bytes, write

TEXT = infotext("a lighthouse in a storm, ünïcode ✓", 42, negative="blurry")


def test_png_parameters_and_size(tmp_path: Path) -> None:
    path = write(tmp_path / "00001-42.png", png_bytes(TEXT, (12, 7)))
    meta = read_image_metadata(path)
    assert (meta.width, meta.height, meta.infotext) == (12, 7, TEXT)


def test_png_without_parameters(tmp_path: Path) -> None:
    meta = read_image_metadata(write(tmp_path / "plain.png", png_bytes(None)))
    assert (meta.width, meta.height, meta.infotext) == (8, 8, "")


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
@pytest.mark.parametrize("encoding", ["utf16-be", "utf16-le", "ascii"])
def test_exif_user_comment_in_jpeg_and_webp(tmp_path: Path, fmt: str, encoding: str) -> None:
    text = TEXT if encoding != "ascii" else infotext("plain ascii prompt", 7)
    data = exif_image_bytes(text, fmt, encoding=encoding, size=(16, 10))  # type: ignore[arg-type]
    meta = read_image_metadata(write(tmp_path / f"x.{fmt.lower()}", data))
    assert (meta.width, meta.height, meta.infotext) == (16, 10, text)


def test_jpeg_without_exif(tmp_path: Path) -> None:
    meta = read_image_metadata(write(tmp_path / "x.jpg", exif_image_bytes(None, "JPEG")))
    assert (meta.width, meta.height, meta.infotext) == (8, 8, "")


def test_exif_wins_over_the_parameters_chunk(tmp_path: Path) -> None:
    from sdtui.images.png import set_text_chunk

    data = set_text_chunk(exif_image_bytes(TEXT, "PNG"), "parameters", "older text\nSteps: 1")
    meta = read_image_metadata(write(tmp_path / "both.png", data))
    assert meta.infotext == TEXT


def test_no_pixel_is_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Metadata comes from headers: decoding pixels would fail here, and nothing does."""
    jpeg = write(tmp_path / "x.jpg", exif_image_bytes(TEXT, "JPEG", size=(64, 64)))
    webp = write(tmp_path / "x.webp", exif_image_bytes(TEXT, "WEBP", size=(64, 64)))
    png = png_bytes(TEXT, (64, 64))
    cut = write(tmp_path / "cut.png", png[: png.index(b"IDAT") + 8])  # pixel data cut short

    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "load", no_decoding)
    for path in (jpeg, webp, cut):
        meta = read_image_metadata(path)
        assert (meta.width, meta.height, meta.infotext) == (64, 64, TEXT)


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage bytes, not an image at all", b"\x89PNG\r\n\x1a\n\x00\x00", b"\xff\xd8\xff"],
)
def test_unreadable_files_raise_one_clear_error(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path / "bad.png", data)
    with pytest.raises(UnreadableImage, match=r"bad\.png"):
        read_image_metadata(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableImage, match=r"gone\.png"):
        read_image_metadata(tmp_path / "gone.png")


def test_image_names() -> None:
    assert all(is_image_name(n) for n in ("a.png", "B.JPG", "c.jpeg", "d.WebP", "00001-1.png"))
    assert not any(
        is_image_name(n) for n in (".sdtui-1-ab.tmp", ".hidden.png", "notes.txt", "png", ".png")
    )
