"""Safe delete: files move to a `.trash` folder inside the root they belong to, and can come back.

`<root>/.trash/` keeps each file's path relative to its root, so undo puts it back where it was
and emptying the trash is the only thing that removes a file for good. Nothing is ever moved
outside its root: a path that is not inside a root, or that gets there only through a symbolic
link, is refused. Imported folders (the web UI's outputs) are left alone unless the config allows
deleting there (`history_dirs_writable = true`). The scan skips `.trash` folders.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sdtui.store.index import HistoryIndex

__all__ = ["TRASH_FOLDER", "Trash", "TrashError", "Trashed"]

TRASH_FOLDER = ".trash"


class TrashError(Exception):
    """A delete, undo or empty that cannot be done; the message is one line to show the user."""


@dataclass(frozen=True)
class Trashed:
    """One file moved to the trash: where it was and where it is now (the undo token)."""

    original: Path
    trashed: Path


def _free_name(target: Path) -> Path:
    """`target`, or `name-2.ext`, `name-3.ext`... when something already has that name."""
    if not os.path.lexists(target):
        return target
    for n in range(2, 10_000):
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
        if not os.path.lexists(candidate):
            return candidate
    raise TrashError(f"no free name for {target.name} in {target.parent}")


def _move(source: Path, target: Path) -> None:
    """Move without ever replacing a file: a hard link then an unlink where links work."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.rename(source, target)
        return
    os.unlink(source)


class Trash:
    """Deletes for the history: into each root's `.trash`, with undo and empty."""

    def __init__(self, index: HistoryIndex, *, writable_imports: bool = False) -> None:
        self.index = index
        self.writable_imports = writable_imports

    def _writable_roots(self) -> list[Path]:
        return [
            root
            for root in self.index.roots
            if self.writable_imports or root not in self.index.imported
        ]

    def _check(self, path: Path) -> tuple[Path, Path]:
        """The file's real path and its root's real path, or TrashError saying why not."""
        root = self.index.root_of(path)
        if root is None:
            raise TrashError(f"{path} is not inside the output folder or an imported folder")
        if root in self.index.imported and not self.writable_imports:
            raise TrashError(
                f"{path.name} is in the imported folder {root}, which sdtui leaves untouched "
                "(set history_dirs_writable = true in the config to allow deleting there)"
            )
        absolute = Path(os.path.abspath(path))
        if absolute.is_symlink():
            raise TrashError(f"{path.name} is a symbolic link: sdtui only deletes real files")
        try:
            real_root = root.resolve(strict=True)
            real = absolute.resolve(strict=True)
        except FileNotFoundError:
            raise TrashError(f"{path.name} is gone already") from None
        except (OSError, RuntimeError) as exc:
            raise TrashError(f"cannot read {path}: {exc}") from None
        if real_root not in real.parents:
            raise TrashError(f"{path} leads outside {root} (through a link): not deleted")
        if TRASH_FOLDER in real.relative_to(real_root).parts:
            raise TrashError(f"{path.name} is in the trash already")
        if not real.is_file():
            raise TrashError(f"{path.name} is not a file")
        return real, real_root

    def delete(self, paths: Sequence[Path]) -> list[Trashed]:
        """Move these files to their roots' trash folders and drop them from the index.

        All or nothing: every path is checked before anything moves, so a refused path (outside
        the roots, in a read-only imported folder, a link leading out) leaves all of them in
        place, and a move that fails midway puts back the ones already moved.
        """
        checked: dict[Path, tuple[Path, Path]] = {}
        for path in paths:
            real, real_root = self._check(path)
            checked.setdefault(real, (path, real_root))  # the same file named twice: once
        moved: list[Trashed] = []
        for real, (path, real_root) in checked.items():
            target = _free_name(real_root / TRASH_FOLDER / real.relative_to(real_root))
            try:
                _move(real, target)
            except OSError as exc:
                for item in reversed(moved):
                    with contextlib.suppress(OSError):
                        _move(item.trashed, item.original)
                raise TrashError(
                    f"cannot move {path.name} to the trash: {exc.strerror or exc}"
                ) from None
            moved.append(Trashed(Path(os.path.abspath(path)), target))
        self.index.forget([item.original for item in moved])
        return moved

    def undo(self, items: Sequence[Trashed]) -> list[Path]:
        """Put trashed files back (under a free name if another file took theirs) and index them
        again. Returns the paths restored; TrashError when none could be."""
        restored: list[Path] = []
        problem = ""
        for item in items:
            if not os.path.lexists(item.trashed):
                problem = f"{item.original.name} is no longer in the trash (it was emptied)"
                continue
            target = _free_name(item.original)
            try:
                _move(item.trashed, target)
            except OSError as exc:
                problem = f"cannot restore {item.original.name}: {exc.strerror or exc}"
                continue
            restored.append(target)
        if restored:
            self.index.add(restored)
        elif problem:
            raise TrashError(problem)
        return restored

    def _trash_folders(self, root: Path | None) -> list[Path]:
        roots = self._writable_roots() if root is None else [Path(os.path.abspath(root))]
        folders = []
        for base in roots:
            folder = base / TRASH_FOLDER
            if folder.is_dir() and not folder.is_symlink():
                folders.append(folder)
        return folders

    def trash_count(self, root: Path | None = None) -> int:
        """How many files wait in the trash of `root` (default: every root sdtui may write)."""
        count = 0
        for folder in self._trash_folders(root):
            for _dirpath, _dirs, files in os.walk(folder):
                count += len(files)
        return count

    def empty(self, root: Path | None = None) -> int:
        """Delete the trash of `root` (default: every root sdtui may write) for good. Returns
        how many files were removed. Links inside the trash are removed, never followed."""
        if root is not None and Path(os.path.abspath(root)) not in self._writable_roots():
            raise TrashError(f"{root} is not a folder whose trash sdtui may empty")
        removed = 0
        for folder in self._trash_folders(root):
            for dirpath, dirs, files in os.walk(folder, topdown=False):
                for name in files:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(dirpath, name))
                        removed += 1
                for name in dirs:
                    with contextlib.suppress(OSError):
                        full = os.path.join(dirpath, name)
                        if os.path.islink(full):
                            os.unlink(full)
                            removed += 1
                        else:
                            os.rmdir(full)
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        return removed
