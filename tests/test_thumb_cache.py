from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sdtui.render import thumb_cache
from sdtui.render.thumb_cache import ThumbCache
from sdtui.render.thumbnails import make_thumbnail
from tests.history_files import png_bytes, write


def image(path: Path, colour: str = "red", size: tuple[int, int] = (32, 16)) -> os.stat_result:
    write(path, png_bytes(None, size, colour))
    return path.stat()


def test_default_folder_follows_xdg_cache_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert ThumbCache().folder == tmp_path / "cache" / "sdtui" / "thumbs"


def test_made_once_then_loaded_from_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ThumbCache(tmp_path / "thumbs")
    path = tmp_path / "a.png"
    st = image(path)
    thumb = cache.get(path, st.st_size, st.st_mtime, 6, 3)
    made_directly = make_thumbnail(path, 6, 3)
    assert thumb is not None and made_directly is not None
    assert thumb.tobytes() == made_directly.tobytes() and thumb.size == made_directly.size
    assert thumb.getpixel((0, 0)) == (255, 0, 0)
    entry = cache.entry_path(path, st.st_size, st.st_mtime, 6, 3)
    assert entry.is_file() and entry.stat().st_size < 200
    made: list[Path] = []
    monkeypatch.setattr(thumb_cache, "make_thumbnail", lambda p, c, r: made.append(p))
    again = ThumbCache(tmp_path / "thumbs").get(path, st.st_size, st.st_mtime, 6, 3)
    assert made == [] and again is not None
    assert again.tobytes() == thumb.tobytes()


def test_a_changed_image_gets_a_new_thumbnail(tmp_path: Path) -> None:
    cache = ThumbCache(tmp_path / "thumbs")
    path = tmp_path / "a.png"
    st = image(path, "red")
    assert cache.get(path, st.st_size, st.st_mtime, 6, 3).getpixel((0, 0)) == (255, 0, 0)  # type: ignore[union-attr]
    os.utime(path, (st.st_mtime + 5, st.st_mtime + 5))
    image(path, "blue")
    st2 = path.stat()
    assert cache.get(path, st2.st_size, st2.st_mtime, 6, 3).getpixel((0, 0)) == (0, 0, 255)  # type: ignore[union-attr]
    # Another cell size is another entry.
    assert cache.get(path, st2.st_size, st2.st_mtime, 4, 2) is not None
    assert cache.misses == 3 and cache.hits == 0


def test_unreadable_images_are_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ThumbCache(tmp_path / "thumbs")
    bad = write(tmp_path / "bad.png", b"not a png")
    st = bad.stat()
    assert cache.get(bad, st.st_size, st.st_mtime, 6, 3) is None
    calls: list[Path] = []
    monkeypatch.setattr(thumb_cache, "make_thumbnail", lambda p, c, r: calls.append(p))
    assert cache.get(bad, st.st_size, st.st_mtime, 6, 3) is None
    assert calls == []
    # A file that is gone is not remembered (it may come back).
    assert cache.get(tmp_path / "gone.png", 1, 1.0, 6, 3) is None
    assert not cache.entry_path(tmp_path / "gone.png", 1, 1.0, 6, 3).exists()


def test_a_damaged_entry_is_made_again(tmp_path: Path) -> None:
    cache = ThumbCache(tmp_path / "thumbs")
    path = tmp_path / "a.png"
    st = image(path)
    cache.get(path, st.st_size, st.st_mtime, 6, 3)
    entry = cache.entry_path(path, st.st_size, st.st_mtime, 6, 3)
    entry.write_bytes(b"\x89PNG garbage")
    assert cache.get(path, st.st_size, st.st_mtime, 6, 3) is not None
    assert cache.get(path, st.st_size, st.st_mtime, 6, 3) is not None
    assert cache.hits == 1


def test_bounded_by_pruning_the_least_recently_used(tmp_path: Path) -> None:
    cache = ThumbCache(tmp_path / "thumbs", max_bytes=20 * 512)
    paths = []
    for n in range(40):
        path = tmp_path / f"{n}.png"
        st = image(path, colour=f"#{n:02x}8080")
        os.utime(path, (1000 + n, 1000 + n))
        paths.append(path)
        cache.get(path, st.st_size, 1000 + n, 6, 3)
        entry = cache.entry_path(path, st.st_size, 1000 + n, 6, 3)
        os.utime(entry, (2000 + n, 2000 + n))  # entries in the order made
    assert cache.disk_usage() <= 20 * 512
    newest = cache.entry_path(paths[-1], paths[-1].stat().st_size, 1039, 6, 3)
    oldest = cache.entry_path(paths[0], paths[0].stat().st_size, 1000, 6, 3)
    assert newest.exists() and not oldest.exists()
    cache.clear()
    assert cache.disk_usage() == 0


def test_threads_share_a_cache(tmp_path: Path) -> None:
    cache = ThumbCache(tmp_path / "thumbs")
    path = tmp_path / "a.png"
    st = image(path)
    results: list[object] = []

    def work() -> None:
        for _ in range(20):
            results.append(cache.get(path, st.st_size, st.st_mtime, 6, 3))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80 and all(r is not None for r in results)
    leftovers = [p for p in (tmp_path / "thumbs").rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
