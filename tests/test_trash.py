from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdtui.store.index import HistoryIndex, HistoryQuery
from sdtui.store.trash import Trash, TrashError
from tests.history_files import infotext, png_bytes, write

DAY = "2026-11-30"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Path, Path, HistoryIndex]]:
    out = tmp_path / "out"
    webui = tmp_path / "webui"
    for n in range(3):
        write(out / DAY / f"{n}.png", png_bytes(infotext(f"mine {n}", n)))
    write(webui / "txt2img-images" / DAY / "00001-1.png", png_bytes(infotext("theirs", 1)))
    index = HistoryIndex([out], imported=[webui], db_path=tmp_path / "db" / "h.sqlite3")
    index.scan()
    yield out, webui, index
    index.close()


def names(index: HistoryIndex) -> set[str]:
    return {row.path.name for row in index.query(HistoryQuery())}


def test_delete_moves_into_the_root_s_trash_and_undo_restores(
    setup: tuple[Path, Path, HistoryIndex],
) -> None:
    out, _webui, index = setup
    trash = Trash(index)
    target = out / DAY / "1.png"
    data = target.read_bytes()
    index.set_favourite(target, True)
    items = trash.delete([target])
    assert items[0].original == target
    assert items[0].trashed == out / ".trash" / DAY / "1.png"
    assert not target.exists() and items[0].trashed.read_bytes() == data
    assert "1.png" not in names(index)
    assert index.scan().added == 0  # the scan never looks into .trash
    assert trash.trash_count() == 1
    assert trash.undo(items) == [target]
    assert target.read_bytes() == data and not items[0].trashed.exists()
    assert "1.png" in names(index)
    assert index.get(target).favourite  # type: ignore[union-attr]
    assert trash.trash_count() == 0


def test_the_same_name_twice_in_the_trash_and_undo_onto_a_taken_name(
    setup: tuple[Path, Path, HistoryIndex],
) -> None:
    out, _webui, index = setup
    trash = Trash(index)
    target = out / DAY / "0.png"
    first = trash.delete([target])
    write(target, png_bytes(infotext("a new zero", 9)))
    index.add([target])
    second = trash.delete([target])
    assert second[0].trashed.name == "0-2.png"
    write(target, png_bytes(infotext("yet another", 10)))
    restored = trash.undo(first)
    assert restored == [out / DAY / "0-2.png"]  # the name was taken again: nothing overwritten
    index.scan()
    titles = {row.title for row in index.query(HistoryQuery())}
    assert {"mine 0", "yet another"} <= titles  # the restored one, under its new name
    assert "a new zero" not in titles  # still in the trash


def test_empty_trash_removes_for_good(setup: tuple[Path, Path, HistoryIndex]) -> None:
    out, _webui, index = setup
    trash = Trash(index)
    items = trash.delete([out / DAY / "0.png", out / DAY / "2.png"])
    assert trash.empty() == 2
    assert not (out / ".trash").exists()
    assert trash.trash_count() == 0
    with pytest.raises(TrashError, match="no longer in the trash"):
        trash.undo(items)
    assert names(index) == {"1.png", "00001-1.png"}
    assert trash.empty(out) == 0


def test_imported_folders_are_left_alone_unless_allowed(
    setup: tuple[Path, Path, HistoryIndex],
) -> None:
    _out, webui, index = setup
    theirs = webui / "txt2img-images" / DAY / "00001-1.png"
    with pytest.raises(TrashError, match=r"imported folder .* history_dirs_writable = true"):
        Trash(index).delete([theirs])
    assert theirs.exists()
    with pytest.raises(TrashError, match="may empty"):
        Trash(index).empty(webui)
    allowed = Trash(index, writable_imports=True)
    items = allowed.delete([theirs])
    assert items[0].trashed == webui / ".trash" / "txt2img-images" / DAY / "00001-1.png"
    assert allowed.trash_count(webui) == 1
    assert allowed.empty(webui) == 1


def test_nothing_outside_a_root_is_touched(
    tmp_path: Path, setup: tuple[Path, Path, HistoryIndex]
) -> None:
    out, _webui, index = setup
    trash = Trash(index)
    outside = write(tmp_path / "precious" / "photo.png", png_bytes(None))
    with pytest.raises(TrashError, match="not inside the output folder"):
        trash.delete([outside])
    with pytest.raises(TrashError, match="not inside the output folder"):
        trash.delete([out / ".." / "precious" / "photo.png"])
    # A link inside the root that leads out: refused, and neither end moves.
    link = out / DAY / "link.png"
    link.symlink_to(outside)
    with pytest.raises(TrashError, match="symbolic link"):
        trash.delete([link])
    # A linked folder inside the root that leads out.
    (out / "linked").symlink_to(tmp_path / "precious", target_is_directory=True)
    with pytest.raises(TrashError, match="leads outside"):
        trash.delete([out / "linked" / "photo.png"])
    assert outside.exists() and link.is_symlink()
    # One refused path leaves all of them in place.
    with pytest.raises(TrashError):
        trash.delete([out / DAY / "0.png", outside])
    assert (out / DAY / "0.png").exists()
    with pytest.raises(TrashError, match="gone already"):
        trash.delete([out / DAY / "never.png"])
    assert os.listdir(tmp_path / "precious") == ["photo.png"]


def test_emptying_never_follows_links_out_of_the_trash(
    tmp_path: Path, setup: tuple[Path, Path, HistoryIndex]
) -> None:
    out, _webui, index = setup
    precious = write(tmp_path / "precious" / "keep.png", png_bytes(None))
    (out / ".trash").mkdir()
    (out / ".trash" / "dir-link").symlink_to(tmp_path / "precious", target_is_directory=True)
    (out / ".trash" / "file-link.png").symlink_to(precious)
    assert Trash(index).empty() == 2
    assert precious.exists()


def test_a_move_failing_midway_puts_the_others_back(
    setup: tuple[Path, Path, HistoryIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sdtui.store import trash as trash_module

    out, _webui, index = setup
    real_move = trash_module._move
    calls: list[Path] = []

    def flaky(source: Path, target: Path) -> None:
        calls.append(source)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_move(source, target)

    monkeypatch.setattr(trash_module, "_move", flaky)
    paths = [out / DAY / "0.png", out / DAY / "1.png", out / DAY / "2.png"]
    with pytest.raises(TrashError, match=r"cannot move 1\.png to the trash: No space left"):
        Trash(index).delete(paths)
    assert all(path.exists() for path in paths)
    assert {"0.png", "1.png", "2.png"} <= names(index)
    assert Trash(index).trash_count() == 0


def test_the_same_file_twice_is_moved_once(setup: tuple[Path, Path, HistoryIndex]) -> None:
    out, _webui, index = setup
    target = out / DAY / "0.png"
    items = Trash(index).delete([target, out / DAY / ".." / DAY / "0.png"])
    assert len(items) == 1 and Trash(index).trash_count() == 1
