"""Saving is atomic and collision-free; an image's header reads back what was saved, and a bad
file is refused in one line."""

from __future__ import annotations

import io
import multiprocessing
import os
import struct
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from sdtui.images.png import set_text_chunk
from sdtui.store import ImageStore, SaveError, slugify
from sdtui.store.files import TEMP_PREFIX
from sdtui.store.history import UnreadableImage, entry_from_file

INFOTEXT = "a red fox\nat dusk\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 42, Size: 64x32, Model: demo"


def make_png(infotext: str | None = INFOTEXT, size: tuple[int, int] = (64, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(buffer, "PNG")
    png = buffer.getvalue()
    return set_text_chunk(png, "parameters", infotext) if infotext else png


def test_slug_is_safe_for_any_prompt() -> None:
    assert slugify("a red fox, at dusk!") == "a-red-fox-at-dusk"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("/\\..\x00\x1b[2J") == "2j"
    assert slugify("") == "image"
    assert slugify("<lora:detail:0.8> café") == "cafe"
    long = slugify("word " * 1000)
    assert len(long) <= 48 and long.startswith("word-word")


def test_save_names_and_reads_back(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    when = datetime(2026, 11, 25, 12, 3, 1)
    path = store.save(make_png(), prompt="a red fox\nat dusk", seed=42, when=when)
    assert path == tmp_path / "2026-11-25" / "20261125-120301-42-a-red-fox.png"
    entry = entry_from_file(path)
    assert entry.path == path
    assert (entry.width, entry.height) == (64, 32)
    assert entry.title == "a red fox"
    assert entry.prompt == "a red fox\nat dusk"
    assert entry.negative_prompt == "blurry"
    assert (entry.seed, entry.steps, entry.sampler, entry.cfg_scale) == (42, 20, "Euler a", 7.0)


def test_same_name_never_overwrites(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    when = datetime(2026, 1, 1)
    first = store.save(make_png(), prompt="p", seed=1, when=when)
    second = store.save(make_png(size=(8, 8)), prompt="p", seed=1, when=when)
    assert first != second and second.name.endswith("-2.png")
    assert first.read_bytes() == make_png()


def test_prompt_cannot_escape_the_folder(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "out")
    path = store.save(make_png(), prompt="../../../evil/\x00name" + "x" * 5000, seed=1)
    assert (tmp_path / "out") in path.resolve().parents
    assert len(path.name) < 100


def _save_many(root: str, worker: int, count: int) -> list[str]:
    store = ImageStore(Path(root))
    when = datetime(2026, 1, 1, 0, 0, 0)
    png = make_png(f"worker {worker}\nSteps: 1, Seed: {worker}, Size: 64x32")
    return [str(store.save(png, prompt="same prompt", seed=7, when=when)) for _ in range(count)]


def test_two_processes_saving_at_once_lose_nothing(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(_save_many, [(str(tmp_path), 1, 40), (str(tmp_path), 2, 40)])
    paths = [p for batch in results for p in batch]
    assert len(set(paths)) == 80
    files = sorted(tmp_path.rglob("*.png"))
    assert len(files) == 80
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    prompts = {entry_from_file(p).prompt for p in files}
    assert prompts == {"worker 1", "worker 2"}


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permissions: a file standing where the folder should be fails the same way
        blocker = tmp_path / "out"
        blocker.write_text("not a folder")
        store = ImageStore(blocker)
    else:
        tmp_path.chmod(0o500)
        store = ImageStore(tmp_path / "out")
    with pytest.raises(SaveError) as caught:
        store.save(make_png(), prompt="p", seed=1)
    assert "out" in str(caught.value.strerror)


def test_a_header_too_big_for_an_infotext_is_refused(tmp_path: Path) -> None:
    """A multi-megabyte "text" chunk is not an infotext: the reader refuses it (the index then
    lists the file by name) instead of holding it in memory."""
    huge = make_png(None)
    chunk_data = b"parameters\x00" + b"A" * (2 * 1024 * 1024)
    chunk = (
        struct.pack(">I", len(chunk_data))
        + b"tEXt"
        + chunk_data
        + struct.pack(">I", zlib.crc32(b"tEXt" + chunk_data))
    )
    (tmp_path / "huge.png").write_bytes(huge[:33] + chunk + huge[33:])
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage")
    with pytest.raises(UnreadableImage, match="text chunk"):
        entry_from_file(tmp_path / "huge.png")
    with pytest.raises(UnreadableImage):
        entry_from_file(tmp_path / "corrupt.png")
