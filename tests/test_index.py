from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sdtui.store.index import HistoryIndex, HistoryQuery, fts_match
from tests.history_files import age_folders, exif_image_bytes, infotext, png_bytes, write

DAY = "2026-11-30"
NOON = datetime(2026, 11, 30, 12, 0).timestamp()


def webui_outputs(base: Path) -> Path:
    """A web UI `outputs` folder: txt2img, img2img, extras and grids in date folders, JPEG and
    WebP beside the PNGs, one deeper folder, one image without parameters."""
    out = base / "outputs"
    specs = [
        ("txt2img-images", "00001-101.png", "a cat sitting on a red mat", 101, "sd15-base", "PNG"),
        ("txt2img-images", "00002-102.png", "a dog running on the beach", 102, "sdxl-turbo", "PNG"),
        ("txt2img-images", "00003-103.jpg", "cats sitting in the snow", 103, "SDXL-base", "JPEG"),
        ("img2img-images", "00000-104.webp", "portrait of an old sailor", 104, "sd15-base", "WEBP"),
        ("extras-images", "00000.png", "", None, None, "PNG"),
        ("txt2img-grids", "grid-0000.png", "a cat sitting on a red mat", 101, "sd15-base", "PNG"),
    ]
    for n, (kind, name, prompt, seed, model, fmt) in enumerate(specs):
        path = out / kind / DAY / name
        if prompt:
            text = infotext(prompt, seed or 0, model=model or "", negative="ugly, dog")
            data = png_bytes(text) if fmt == "PNG" else exif_image_bytes(text, fmt)  # type: ignore[arg-type]
        else:
            data = png_bytes(None)
        write(path, data, NOON + n * 60)
    write(out / "txt2img-images" / "nested" / "deep" / "x.png", png_bytes(infotext("deep", 5)))
    age_folders(out)
    return out


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


def titles(index: HistoryIndex, query: HistoryQuery | None = None) -> list[str]:
    return [row.title for row in index.query(query or HistoryQuery())]


def test_default_location_follows_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert HistoryIndex.default_path() == tmp_path / "xdg" / "sdtui" / "history.sqlite3"
    index = HistoryIndex([tmp_path / "out"])
    assert index.db_path.is_file()
    index.close()


def test_first_build_reads_every_image_with_its_parameters(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db)
    assert index.rebuilt == "new"
    seen: list[tuple[int, int | None]] = []
    result = index.scan(lambda done, total: seen.append((done, total)))
    assert (result.added, result.updated, result.removed) == (7, 0, 0)
    assert seen[0] == (0, 7) and seen[-1] == (7, 7)
    rows = index.query(HistoryQuery())
    assert len(rows) == len(index) == 7
    by_name = {row.path.name: row for row in rows}
    jpeg = by_name["00003-103.jpg"]
    assert (jpeg.title, jpeg.seed, jpeg.model, jpeg.width, jpeg.height) == (
        "cats sitting in the snow",
        103,
        "SDXL-base",
        8,
        8,
    )
    assert (jpeg.steps, jpeg.sampler, jpeg.cfg_scale) == (20, "Euler a", 7.0)
    assert by_name["00000-104.webp"].title == "portrait of an old sailor"
    plain = by_name["00000.png"]
    assert (plain.title, plain.seed, plain.model) == ("00000.png", None, None)
    full = index.get(by_name["00002-102.png"].path)
    assert full is not None and full.id == by_name["00002-102.png"].id
    assert (full.prompt, full.negative_prompt, full.model_hash) == (
        "a dog running on the beach",
        "ugly, dog",
        "abcdef1234",
    )
    assert full.infotext.startswith("a dog running on the beach\nNegative prompt: ugly, dog\n")
    assert full.root == out and full.file_size == full.path.stat().st_size
    assert full.server is None and not full.imported and not full.interrupted
    assert full.created_at() == datetime(2026, 11, 30, 12, 1)
    assert index.get(full.id) == full
    assert index.get(tmp_path / "nope.png") is None
    index.close()


def test_newest_first_and_oldest_first(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db)
    index.scan()
    newest = [row.path.name for row in index.query(HistoryQuery())]
    oldest = [row.path.name for row in index.query(HistoryQuery(newest_first=False))]
    assert newest == oldest[::-1]
    assert newest[0] == "x.png"  # written now, the others yesterday noon and after
    assert newest[1:3] == ["grid-0000.png", "00000.png"]
    assert [r.path.name for r in index.query(HistoryQuery(limit=2))] == newest[:2]
    index.close()


def test_a_date_folder_dates_images_copied_without_their_times(tmp_path: Path, db: Path) -> None:
    copied = datetime(2026, 12, 1, 9, 30).timestamp()  # copied on the 1st, made on the 30th
    write(tmp_path / "out" / DAY / "a.png", png_bytes(infotext("copied", 1)), copied)
    write(tmp_path / "out" / "misc" / "b.png", png_bytes(infotext("loose", 2)), copied)
    index = HistoryIndex([tmp_path / "out"], db_path=db)
    index.scan()
    rows = {row.title: row for row in index.query(HistoryQuery())}
    assert rows["copied"].created_at() == datetime(2026, 11, 30, 9, 30)
    assert rows["loose"].created_at() == datetime(2026, 12, 1, 9, 30)
    index.close()


def test_rescan_reads_only_what_changed(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db, full_every=1000)
    index.scan()
    age_folders(out)
    nothing = index.scan()
    assert (nothing.added, nothing.updated, nothing.removed, nothing.dirs_read) == (0, 0, 0, 0)
    assert not nothing.changed

    # Added outside sdtui: only its folder is listed again.
    write(out / "txt2img-images" / DAY / "00004-105.png", png_bytes(infotext("a new owl", 105)))
    age_folders(out)
    added = index.scan()
    assert (added.added, added.updated, added.removed, added.dirs_read) == (1, 0, 0, 1)
    assert "a new owl" in titles(index)

    # Deleted outside sdtui.
    (out / "txt2img-images" / DAY / "00002-102.png").unlink()
    age_folders(out)
    removed = index.scan()
    assert (removed.added, removed.removed, removed.dirs_read) == (0, 1, 1)
    assert "a dog running on the beach" not in titles(index)

    # A whole folder deleted: its rows go, and its sub-folders' too.
    for path in sorted((out / "txt2img-images" / "nested").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (out / "txt2img-images" / "nested").rmdir()
    age_folders(out)
    gone = index.scan()
    assert gone.removed == 1 and "deep" not in titles(index)

    # A new folder (a new day).
    write(out / "txt2img-images" / "2026-12-01" / "00000-1.png", png_bytes(infotext("dawn", 1)))
    age_folders(out)
    day = index.scan()
    assert day.added == 1 and day.dirs_read == 2  # the new folder and its parent
    assert len(index) == 7
    index.close()


def test_a_file_changed_in_place_is_caught(tmp_path: Path, db: Path) -> None:
    """Changing a file's contents leaves its folder's mtime alone on most filesystems: a changed
    folder compares each file's size and mtime, and the periodic full pass re-stats every file
    even in folders whose mtime did not move."""
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db, full_every=3)
    assert index.scan().added == 7  # scan 1
    target = out / "txt2img-images" / DAY / "00001-101.png"
    folder = target.parent
    before = os.stat(folder)
    write(target, png_bytes(infotext("a cat sitting on a blue mat", 101)))  # same name, in place
    os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))  # folder mtime unmoved
    stale = index.scan()  # scan 2: the folder looks untouched
    assert stale.updated == 0 and "a cat sitting on a blue mat" not in titles(index)
    full = index.scan()  # scan 3: the full pass
    assert (full.added, full.updated, full.removed) == (0, 1, 0)
    assert "a cat sitting on a blue mat" in titles(index)
    assert len(index) == 7
    # A changed folder compares every file's stat: a touched file is read again.
    write(target, png_bytes(infotext("a cat sitting on a green mat", 101)))
    write(folder / "00009-1.png", png_bytes(infotext("another", 1)))  # moves the folder's mtime
    again = index.scan(full=False)
    assert (again.added, again.updated) == (1, 1)
    assert "a cat sitting on a green mat" in titles(index)
    index.close()


def test_a_folder_written_just_now_is_listed_again(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    write(out / DAY / "a.png", png_bytes(infotext("first", 1)))
    index = HistoryIndex([out], db_path=db, full_every=1000)
    index.scan()
    # Same folder mtime tick as the scan (coarse clocks): still listed next time.
    folder_mtime = os.stat(out / DAY).st_mtime_ns
    write(out / DAY / "b.png", png_bytes(infotext("second", 2)))
    os.utime(out / DAY, ns=(folder_mtime, folder_mtime))
    assert index.scan().added == 1
    index.close()


def test_trash_temp_and_hidden_files_are_not_indexed(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    imported = tmp_path / "webui"
    write(out / DAY / "kept.png", png_bytes(infotext("kept", 1)))
    write(out / ".trash" / DAY / "binned.png", png_bytes(infotext("binned", 2)))
    write(out / DAY / ".hidden.png", png_bytes(infotext("hidden", 3)))
    write(out / DAY / "notes.txt", b"not an image")
    old = time.time() - 7200
    out_temp = write(out / DAY / ".sdtui-1-abcd.tmp", b"half a png", old)
    import_temp = write(imported / DAY / ".sdtui-1-abcd.tmp", b"half a png", old)
    write(imported / DAY / "theirs.png", png_bytes(infotext("theirs", 4)))
    index = HistoryIndex([out], imported=[imported], db_path=db)
    index.scan()
    assert sorted(titles(index)) == ["kept", "theirs"]
    assert not out_temp.exists()  # a killed save's leftover, in our own folder
    assert import_temp.exists()  # imported folders are never written to
    index.close()


def test_unreadable_files_are_listed_by_name_and_never_stop_a_scan(
    tmp_path: Path, db: Path
) -> None:
    out = tmp_path / "out"
    write(out / DAY / "good.png", png_bytes(infotext("good", 1)))
    write(out / DAY / "garbage.png", b"\x00garbage" * 100)
    write(out / DAY / "truncated.jpg", exif_image_bytes(infotext("cut", 2), "JPEG")[:20])
    write(out / DAY / "huge-text.png", b"\x89PNG\r\n\x1a\n" + b"\xff" * 64)
    index = HistoryIndex([out], db_path=db)
    assert index.scan().added == 4
    rows = {row.path.name: row for row in index.query(HistoryQuery())}
    assert rows["good.png"].title == "good"
    for name in ("garbage.png", "truncated.jpg", "huge-text.png"):
        assert (rows[name].title, rows[name].seed, rows[name].width) == (name, None, None)
    index.close()


def test_search_words_are_prefixes_and_all_must_match(tmp_path: Path, db: Path) -> None:
    index = HistoryIndex([webui_outputs(tmp_path)], db_path=db)
    index.scan()

    def search(text: str) -> list[str]:
        return sorted(set(titles(index, HistoryQuery(text=text))))

    assert search("cat sitt") == ["a cat sitting on a red mat", "cats sitting in the snow"]
    assert search("CAT SITTING red") == ["a cat sitting on a red mat"]
    assert search("sailor") == ["portrait of an old sailor"]
    assert search("dog") == ["a dog running on the beach"]  # not the negative prompts' "dog"
    assert search("ugly") == []  # only in negative prompts
    assert search("zebra") == []
    assert search("") == search("   ") == search("!!") == sorted(set(titles(index)))
    # FTS5 syntax in what the user types is just text.
    for text in ('"cat', "cat*", "(cat", "^cat", "cat:", "red-mat", "sitting)", "cat ON a", "{a}"):
        assert "a cat sitting on a red mat" in search(text)
    for text in ("cat AND", "NOT cat", "prompt:cat", "cat -dog", "NEAR(cat sitting)"):
        assert search(text) == []  # every word is looked for, none is an operator
    assert index.count(HistoryQuery(text="cat")) == 3  # the grid too
    # A number alone is a seed too (or a word of a prompt).
    assert search("103") == ["cats sitting in the snow"]
    assert search(" 101 ") == ["a cat sitting on a red mat"]  # the image and its grid
    assert index.count(HistoryQuery(text="101")) == 2
    assert search("101 cat") == []  # beside words, a number is only a prompt word
    assert fts_match("cat's") == '"cat"*'  # a single letter beside longer words narrows nothing
    assert fts_match("a cat sitt") == '"cat"* "sitt"*'
    assert fts_match("a") == '"a"*' and fts_match("x y") == '"x"* "y"*'
    assert search("a cat sitt") == search("cat sitt")
    alone = search("a")  # a single letter on its own is still looked for
    assert "a dog running on the beach" in alone and "cats sitting in the snow" not in alone
    assert fts_match("...") is None
    index.close()


def test_filters(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    wide = png_bytes(infotext("wide", 9, model="other"), (16, 8))
    write(out / "sizes" / "wide.png", wide, NOON)
    index = HistoryIndex([out], db_path=db)
    index.scan()

    def names(**kw: object) -> set[str]:
        return {row.path.name for row in index.query(HistoryQuery(**kw))}  # type: ignore[arg-type]

    assert names(model="sdxl") == {"00002-102.png", "00003-103.jpg"}
    assert names(model="SD15-BASE") == {
        "00001-101.png",
        "00000-104.webp",
        "grid-0000.png",
        "x.png",
    }
    assert names(model="%") == set()  # LIKE wildcards are literal
    assert names(model="_") == set()
    assert names(since=datetime(2026, 11, 30, 12, 2)) == {
        "00003-103.jpg",
        "00000-104.webp",
        "00000.png",
        "grid-0000.png",
        "x.png",
    }
    assert names(until=datetime(2026, 11, 30, 12, 1)) == {"00001-101.png", "wide.png"}
    assert names(since=datetime(2026, 11, 30, 12, 1), until=datetime(2026, 11, 30, 12, 3)) == {
        "00002-102.png",
        "00003-103.jpg",
    }
    assert names(width=16) == {"wide.png"}
    assert names(width=16, height=8) == {"wide.png"}
    assert names(height=7) == set()
    assert names(text="cat", model="sd15", width=8) == {"00001-101.png", "grid-0000.png"}
    assert index.count(HistoryQuery(model="sdxl", limit=1)) == 2
    index.close()


def test_favourites_and_interrupted(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db)
    index.scan()
    star = out / "txt2img-images" / DAY / "00002-102.png"
    index.set_favourite(star, True)
    assert [r.path for r in index.query(HistoryQuery(favourites=True))] == [star]
    assert index.get(star).favourite  # type: ignore[union-attr]
    new = write(out / "txt2img-images" / DAY / "00005-9.png", png_bytes(infotext("cut short", 9)))
    rows = index.add([new], interrupted=True)
    assert [(r.path, r.interrupted, r.title) for r in rows] == [(new, True, "cut short")]
    assert [r.path for r in index.query(HistoryQuery(interrupted=True))] == [new]
    assert new not in {r.path for r in index.query(HistoryQuery(interrupted=False))}
    assert index.count(HistoryQuery(interrupted=False)) == 7
    # Marks outlive the row: forgotten (trashed) and added back, the star is still there.
    index.forget([star])
    assert index.count(HistoryQuery(favourites=True)) == 0
    index.add([star])
    assert index.count(HistoryQuery(favourites=True)) == 1
    index.set_favourite(star, False)
    assert index.count(HistoryQuery(favourites=True)) == 0
    index.close()


def test_add_indexes_new_files_at_once_and_skips_others(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    index = HistoryIndex([out], db_path=db)
    index.scan()
    a = write(out / DAY / "a.png", png_bytes(infotext("alpha", 1)), NOON)
    b = write(out / DAY / "b.png", png_bytes(infotext("beta", 2)), NOON + 1)
    outside = write(tmp_path / "elsewhere" / "c.png", png_bytes(infotext("gamma", 3)))
    rows = index.add([a, b, outside, out / DAY / "missing.png", out / DAY / "x.txt"])
    assert [r.title for r in rows] == ["beta", "alpha"]
    assert index.scan().added == 0  # a later scan finds them indexed already
    assert len(index) == 2
    index.close()


def test_queries_see_only_this_index_s_roots(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    webui = tmp_path / "webui"
    write(out / DAY / "mine.png", png_bytes(infotext("mine", 1)))
    write(webui / "txt2img-images" / DAY / "theirs.png", png_bytes(infotext("theirs", 2)))
    both = HistoryIndex([out], imported=[webui], db_path=db)
    both.scan()
    rows = {r.title: r for r in both.query(HistoryQuery())}
    assert (rows["mine"].imported, rows["theirs"].imported) == (False, True)
    assert both.is_imported(rows["theirs"].path) and not both.is_imported(rows["mine"].path)
    assert both.root_of(rows["theirs"].path) == webui
    assert both.root_of(tmp_path / "x.png") is None
    assert both.get(rows["theirs"].path).imported  # type: ignore[union-attr]
    both.close()
    alone = HistoryIndex([out], db_path=db)
    assert titles(alone) == ["mine"]  # the imported rows stay in the file, unseen here
    alone.close()


def test_nested_roots_are_walked_once(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    write(out / DAY / "mine.png", png_bytes(infotext("mine", 1)))
    write(out / "webui" / DAY / "theirs.png", png_bytes(infotext("theirs", 2)))
    index = HistoryIndex([out], imported=[out / "webui"], db_path=db)
    index.scan()
    rows = {r.title: r.imported for r in index.query(HistoryQuery())}
    assert rows == {"mine": False, "theirs": True}
    index.close()


def test_a_deleted_index_is_rebuilt_with_its_favourites(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db)
    index.scan()
    star = out / "img2img-images" / DAY / "00000-104.webp"
    index.set_favourite(star, True)
    before = titles(index)
    index.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    again = HistoryIndex([out], db_path=db)
    assert again.rebuilt == "new"
    assert again.scan().added == 7
    assert titles(again) == before
    assert [r.path for r in again.query(HistoryQuery(favourites=True))] == [star]
    again.close()


def test_a_corrupt_index_is_rebuilt(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db)
    index.scan()
    star = out / "txt2img-images" / DAY / "00001-101.png"
    index.set_favourite(star, True)
    before = titles(index)
    index.close()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    db.write_bytes(os.urandom(4096) * 4)  # garbage over the whole file
    again = HistoryIndex([out], db_path=db)
    assert again.rebuilt == "corrupt"
    seen: list[tuple[int, int | None]] = []
    assert again.scan(lambda d, t: seen.append((d, t))).added == 7
    assert seen[-1] == (7, 7)
    assert titles(again) == before
    assert again.count(HistoryQuery(favourites=True)) == 1
    again.close()
    kept = HistoryIndex([out], db_path=db)
    assert kept.rebuilt is None and len(kept) == 7
    kept.close()


def test_an_index_of_another_schema_version_is_rebuilt(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db)
    index.scan()
    index.close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    again = HistoryIndex([out], db_path=db)
    assert again.rebuilt == "version"
    assert len(again) == 0
    assert again.scan().added == 7
    again.close()


def test_one_connection_per_thread(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db)
    index.scan()
    errors: list[BaseException] = []
    counts: list[int] = []

    def reader() -> None:
        try:
            for _ in range(50):
                counts.append(len(index.query(HistoryQuery(text="cat"))))
        except BaseException as exc:
            errors.append(exc)

    def writer() -> None:
        try:
            for n in range(20):
                path = write(out / "new" / f"{n}.png", png_bytes(infotext(f"cat {n}", n)))
                index.add([path])
                index.scan()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)] + [
        threading.Thread(target=writer)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert min(counts) >= 3 and len(index) == 27
    index.close()
    with pytest.raises(RuntimeError, match="closed"):
        index.query(HistoryQuery())


def _process_writer(db: str, root: str, tag: str, count: int) -> None:
    index = HistoryIndex([Path(root)], db_path=Path(db))
    for n in range(count):
        path = write(Path(root) / tag / f"{n:04d}.png", png_bytes(infotext(f"{tag} image {n}", n)))
        index.add([path])
        if n % 10 == 0:
            index.scan()
    index.scan()
    index.close()


def test_two_processes_writing_at_once(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    HistoryIndex([out], db_path=db).close()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_process_writer, args=(str(db), str(out), tag, 60))
        for tag in ("left", "right")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    index = HistoryIndex([out], db_path=db)
    assert index.count(HistoryQuery(text="left")) == 60
    assert index.count(HistoryQuery(text="right")) == 60
    assert index.scan().added == 0
    assert len(index) == 120
    index.close()


def test_since_until_use_local_time(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    made = datetime(2026, 11, 30, 23, 59)
    write(out / "x.png", png_bytes(infotext("late", 1)), made.timestamp())
    index = HistoryIndex([out], db_path=db)
    index.scan()
    day = datetime(2026, 11, 30)
    assert titles(index, HistoryQuery(since=day, until=day + timedelta(days=1))) == ["late"]
    assert titles(index, HistoryQuery(since=day + timedelta(days=1))) == []
    index.close()


def test_a_linked_root_is_followed_but_no_link_inside_it(tmp_path: Path, db: Path) -> None:
    real = tmp_path / "data" / "pictures"
    write(real / DAY / "a.png", png_bytes(infotext("alpha", 1)))
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "b.png", png_bytes(infotext("linked in", 2)))
    (real / "link").symlink_to(elsewhere, target_is_directory=True)
    (real / DAY / "c.png").symlink_to(elsewhere / "b.png")
    age_folders(tmp_path)
    root = tmp_path / "pictures"
    root.symlink_to(real, target_is_directory=True)
    os.utime(root, (1e9, 1e9), follow_symlinks=False)  # the link itself never changes
    index = HistoryIndex([root], db_path=db, full_every=1000)
    index.scan()
    assert titles(index) == ["alpha"]
    write(real / "d.png", png_bytes(infotext("in the linked root", 3)))  # moves real's mtime
    assert index.scan().added == 1
    assert sorted(titles(index)) == ["alpha", "in the linked root"]
    index.close()


def test_a_file_still_being_written_is_read_again(tmp_path: Path, db: Path) -> None:
    """The web UI writes its files in place: a scan may catch one half written. Anything that
    changed within the last couple of seconds is read again on the next scan, even if its size,
    its mtime and its folder's mtime all look the same by then (coarse clocks)."""
    out = tmp_path / "out"
    full = png_bytes(infotext("finished at last", 1))
    target = write(out / DAY / "00001-1.png", full[:33])  # signature and IHDR so far
    index = HistoryIndex([out], db_path=db, full_every=1000)
    index.scan()
    assert titles(index) == ["00001-1.png"]
    stat, folder = target.stat(), os.stat(out / DAY)
    target.write_bytes(full)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.utime(out / DAY, ns=(folder.st_atime_ns, folder.st_mtime_ns))
    assert index.scan().updated == 1
    assert titles(index) == ["finished at last"]
    age_folders(out)
    index.scan()
    assert index.scan().dirs_read == 0  # settled: trusted from now on
    index.close()


def test_a_corrupt_marks_file_is_started_again(tmp_path: Path, db: Path) -> None:
    out = webui_outputs(tmp_path)
    index = HistoryIndex([out], db_path=db)
    index.scan()
    index.close()
    marks = index.marks_path
    assert marks.is_file()
    for suffix in ("-wal", "-shm"):
        Path(str(marks) + suffix).unlink(missing_ok=True)
    marks.write_bytes(b"not a database at all" * 300)
    again = HistoryIndex([out], db_path=db)
    assert again.rebuilt is None and len(again) == 7  # the index itself was fine
    star = out / "txt2img-images" / DAY / "00001-101.png"
    again.set_favourite(star, True)
    assert again.count(HistoryQuery(favourites=True)) == 1
    again.close()


def test_titles_carry_no_control_characters(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    write(out / "a.png", png_bytes(infotext("\x1b[31mred\x1b[0m\tcat\x07 on a mat", 1)))
    index = HistoryIndex([out], db_path=db)
    index.scan()
    assert titles(index) == ["red cat on a mat"]
    assert "\x1b[31m" in index.get(out / "a.png").prompt  # type: ignore[union-attr]
    index.close()


def test_close_waits_for_a_scan_in_another_thread_and_loses_nothing(
    tmp_path: Path, db: Path
) -> None:
    """The app closes the index at exit while a worker thread may be scanning: the scan stops
    between batches (closing its connection under it could crash the interpreter), and the next
    process reads what was left."""
    out = tmp_path / "outputs"
    folder = out / "txt2img-images" / DAY
    for i in range(600):
        write(folder / f"{i:05d}-{i}.png", png_bytes(infotext(f"picture {i}", i)))
    age_folders(out)
    index = HistoryIndex([out], db_path=db)
    reading = threading.Event()
    results: list[object] = []

    def progress(done: int, total: int | None) -> None:
        reading.set()
        time.sleep(0.05)  # a slow disk: the close lands in the middle of the scan

    thread = threading.Thread(target=lambda: results.append(index.scan(progress)))
    thread.start()
    assert reading.wait(10)
    index.close()
    thread.join(10)
    assert not thread.is_alive() and len(results) == 1
    with pytest.raises(RuntimeError, match="closed"):
        index.query(HistoryQuery())

    again = HistoryIndex([out], db_path=db)
    again.scan()
    assert again.count(HistoryQuery()) == 600
    again.close()
