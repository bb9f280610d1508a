"""The history index: one SQLite database over every image in the output and imported folders.

The files stay the source of truth. The index is a cache of their metadata (read from the header
chunks, never the pixels) that makes listing, searching and filtering 100,000 images instant; when
it is missing, corrupt or from another schema version it is rebuilt from the files.

Scans are incremental. Each directory's mtime is kept: a directory whose mtime has not moved is
not listed again (its rows stay as they are); a changed one is listed and only its new or changed
files (by size and mtime) are read; files that went away are dropped. A file rewritten in place
does not always move its directory's mtime, so every `full_every`-th scan of a process re-lists
every directory and compares each file's size and mtime. A directory modified within the last
couple of seconds is not trusted (its mtime may not tick again for a file written in the same
instant): it is listed again on the next scan.

Several sdtui processes may share the index: WAL journal, a busy timeout, short write transactions
and `INSERT ... ON CONFLICT(path) DO UPDATE` upserts. Each thread gets its own connection.

Marks the files cannot carry (favourite, interrupted) live in a second small database next to the
index, keyed by path, so they survive a rebuild of the index, even one from garbage bytes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import platformdirs

from sdtui.images.infotext import parse_infotext
from sdtui.store.files import TEMP_PREFIX, remove_stale_temps
from sdtui.store.history import UnreadableImage
from sdtui.store.metadata import (
    ImageMetadata,
    is_image_name,
    read_image_metadata,
    server_name,
)
from sdtui.text import strip_control

__all__ = [
    "FULL_SCAN_EVERY",
    "SCHEMA_VERSION",
    "HistoryIndex",
    "HistoryQuery",
    "IndexRow",
    "IndexedImage",
    "ScanResult",
    "fts_match",
]

APP_NAME = "sdtui"
#: Bumped whenever the tables change: an index of another version is rebuilt from the files.
SCHEMA_VERSION = 3
#: Every this many scans in one process, every directory is listed and every file stat-ed again.
FULL_SCAN_EVERY = 12
#: A directory changed this recently (seconds) is listed again on the next scan.
RACY_SECONDS = 2.0
#: Files read and written per write transaction: short, so other processes are not held up.
BATCH = 200
BUSY_TIMEOUT_MS = 10_000
TITLE_MAX = 200

_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_DATE_FOLDER = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WORD = re.compile(r"\w+", re.UNICODE)

_SCHEMA = """
CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    dir TEXT NOT NULL,
    root TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    mtime REAL NOT NULL,
    created REAL NOT NULL,
    title TEXT NOT NULL,
    prompt TEXT NOT NULL,
    negative_prompt TEXT NOT NULL,
    seed INTEGER,
    steps INTEGER,
    sampler TEXT,
    scheduler TEXT,
    cfg_scale REAL,
    width INTEGER,
    height INTEGER,
    model TEXT,
    model_hash TEXT,
    server TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0,
    favourite INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    infotext TEXT NOT NULL
);
CREATE INDEX images_dir ON images(dir);
CREATE INDEX images_seed ON images(seed);
-- In list order, with the root beside: listing a root's ids never reads the table.
CREATE INDEX images_created ON images(created, id, root);
CREATE VIRTUAL TABLE images_fts USING fts5(
    prompt, negative_prompt, content='images', content_rowid='id', prefix='2 3',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER images_ai AFTER INSERT ON images BEGIN
    INSERT INTO images_fts(rowid, prompt, negative_prompt)
    VALUES (new.id, new.prompt, new.negative_prompt);
END;
CREATE TRIGGER images_ad AFTER DELETE ON images BEGIN
    INSERT INTO images_fts(images_fts, rowid, prompt, negative_prompt)
    VALUES ('delete', old.id, old.prompt, old.negative_prompt);
END;
CREATE TRIGGER images_au AFTER UPDATE OF prompt, negative_prompt ON images BEGIN
    INSERT INTO images_fts(images_fts, rowid, prompt, negative_prompt)
    VALUES ('delete', old.id, old.prompt, old.negative_prompt);
    INSERT INTO images_fts(rowid, prompt, negative_prompt)
    VALUES (new.id, new.prompt, new.negative_prompt);
END;
CREATE TABLE dirs (
    path TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    parent TEXT,
    mtime_ns INTEGER NOT NULL,
    files INTEGER NOT NULL
);
"""

_MARKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS marks.marks (
    path TEXT PRIMARY KEY,
    favourite INTEGER NOT NULL DEFAULT 0,
    interrupted INTEGER NOT NULL DEFAULT 0
);
"""

_COLUMNS = (
    "path, dir, root, file_size, mtime_ns, mtime, created, title, prompt, negative_prompt, seed, "
    "steps, sampler, scheduler, cfg_scale, width, height, model, model_hash, server, imported, "
    "infotext"
)
_UPSERT = f"""
INSERT INTO images ({_COLUMNS}, interrupted, favourite)
VALUES ({", ".join("?" * 22)},
    COALESCE((SELECT interrupted FROM marks.marks WHERE path = ?1), 0),
    COALESCE((SELECT favourite FROM marks.marks WHERE path = ?1), 0))
ON CONFLICT(path) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ") if c != "path")},
    interrupted = excluded.interrupted, favourite = excluded.favourite
"""
_ROW_COLUMNS = (
    "id, path, title, seed, width, height, model, steps, sampler, cfg_scale, created, "
    "interrupted, favourite, root"
)
_FULL_COLUMNS = (
    "id, path, root, file_size, mtime, prompt, negative_prompt, seed, steps, sampler, scheduler, "
    "cfg_scale, width, height, model, model_hash, server, created, interrupted, favourite, "
    "infotext"
)


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One image, light enough to hold 100,000 of for a list."""

    id: int
    path: Path
    title: str
    seed: int | None
    width: int | None
    height: int | None
    model: str | None
    steps: int | None
    sampler: str | None
    cfg_scale: float | None
    created: float
    interrupted: bool
    favourite: bool
    imported: bool

    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created)


@dataclass(frozen=True)
class IndexedImage:
    """Everything the index knows about one image."""

    id: int
    path: Path
    root: Path
    file_size: int
    mtime: float
    prompt: str
    negative_prompt: str
    seed: int | None
    steps: int | None
    sampler: str | None
    scheduler: str | None
    cfg_scale: float | None
    width: int | None
    height: int | None
    model: str | None
    model_hash: str | None
    server: str | None
    created: float
    interrupted: bool
    favourite: bool
    imported: bool
    infotext: str

    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created)

    @property
    def title(self) -> str:
        return _title(self.prompt, self.path.name)


@dataclass(frozen=True)
class HistoryQuery:
    """What to list. `text`: words the prompt must hold, each as a word prefix ("cat sitt" finds
    "cats sitting"); a number alone also finds the images of that seed. `model`: a case-insensitive substring of the model's name. `since` is
    inclusive, `until` exclusive. `interrupted`: None for all, True or False for only/none."""

    text: str = ""
    model: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    width: int | None = None
    height: int | None = None
    favourites: bool = False
    interrupted: bool | None = None
    newest_first: bool = True
    limit: int | None = None


@dataclass(frozen=True)
class ScanResult:
    """What a scan changed: rows added, updated (file changed) and removed, directories listed."""

    added: int
    updated: int
    removed: int
    dirs_read: int
    seconds: float

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


ProgressCallback = Callable[[int, int | None], None]


def fts_match(text: str) -> str | None:
    """An FTS5 query for `text`: every word must appear as a prefix of a prompt word. None when
    `text` has no word at all. Quotes keep FTS5 syntax (AND, NEAR, `-`, `:`) out of user input.
    Single letters are left out beside longer words: "a" starts a word in nearly every prompt,
    so it narrows nothing and costs a scan of every row."""
    words = _WORD.findall(text)
    if not words:
        return None
    telling = [word for word in words if len(word) > 1 or not word.isalpha()]
    if telling:
        words = telling
    return " ".join(f'"{word}"*' for word in words)


def _norm(path: Path | str) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def _title(prompt: str, name: str) -> str:
    """The prompt's first line (control characters removed), else the file name."""
    for line in prompt.splitlines():
        line = " ".join(strip_control(line, keep_newlines=False).split())
        if line:
            return line[:TITLE_MAX]
    return strip_control(name, keep_newlines=False)


def _created(path: str, mtime: float) -> float:
    """When an image was made: its mtime, unless it sits in a `YYYY-MM-DD` folder (the web UI's
    and sdtui's layout) of another day, as files copied without their times do; then that day,
    keeping the mtime's time of day so copies made in order stay in order."""
    match = _DATE_FOLDER.match(os.path.basename(os.path.dirname(path)))
    if match is None:
        return mtime
    try:
        day = datetime(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return mtime
    when = datetime.fromtimestamp(mtime)
    if when.date() == day.date():
        return mtime
    since_midnight = when.hour * 3600 + when.minute * 60 + when.second + when.microsecond / 1e6
    return day.timestamp() + since_midnight


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    message = str(exc)
    return "not a database" in message or "malformed" in message


@dataclass
class _Pending:
    """A file a scan has to read: new or changed since its row was written."""

    path: str
    dir: str
    root: str
    size: int
    mtime_ns: int
    known: bool
    racy: bool = False  # changed just now: perhaps still being written, so read again later


class _ScanStopped(Exception):
    """The index is being closed while a scan reads files."""


_F = TypeVar("_F", bound=Callable[..., Any])


def _in_use(method: _F) -> _F:
    """Count a call as using the index's connections, so `close()` waits for it: closing a
    connection another thread is reading from can crash the interpreter."""

    @functools.wraps(method)
    def wrapper(self: HistoryIndex, *args: Any, **kwargs: Any) -> Any:
        with self._idle:
            if self._closed:
                raise RuntimeError("the history index is closed")
            self._active += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    return cast(_F, wrapper)


class HistoryIndex:
    """The index over `roots` (the output folder first) and the `imported` folders (also roots,
    read-only by default). `db_path` defaults to `default_path()`; one index serves every root,
    and queries only return images under this instance's roots."""

    def __init__(
        self,
        roots: Sequence[Path],
        *,
        imported: Sequence[Path] = (),
        db_path: Path | None = None,
        full_every: int = FULL_SCAN_EVERY,
    ) -> None:
        seen: dict[str, None] = {}
        for root in (*roots, *imported):
            seen.setdefault(_norm(root), None)
        self._root_strs: tuple[str, ...] = tuple(seen)
        self._imported_strs = frozenset(_norm(p) for p in imported) - {_norm(r) for r in roots}
        self.roots: tuple[Path, ...] = tuple(Path(r) for r in self._root_strs)
        self.imported: tuple[Path, ...] = tuple(
            Path(r) for r in self._root_strs if r in self._imported_strs
        )
        self.db_path = Path(db_path) if db_path is not None else self.default_path()
        self.marks_path = self.db_path.with_name(self.db_path.stem + "-marks.sqlite3")
        self.full_every = max(1, full_every)
        #: Why the index was built from the files when it opened ("new", "corrupt", "version"),
        #: or None when an existing index was kept. The next scan reads every file then.
        self.rebuilt: str | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0  # calls in progress (see `_in_use`)
        self._scan_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._generation = 0
        self._scans = 0
        self._closed = False
        self._shared: dict[str, str] = {}
        self._open()

    @classmethod
    def default_path(cls) -> Path:
        """The index file in the user's data folder (`XDG_DATA_HOME` moves it)."""
        return Path(platformdirs.user_data_dir(APP_NAME)) / "history.sqlite3"

    # --- connections and schema --------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.db_path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # close() may run on another thread than the one it serves
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("ATTACH DATABASE ? AS marks", (str(self.marks_path),))
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the history index is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "generation", -1) != self._generation:
            if conn is not None:  # this thread's own connection to an index started again
                with self._lock:
                    if conn in self._connections:
                        self._connections.remove(conn)
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            conn = self._connect()
            self._local.conn = conn
            self._local.generation = self._generation
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # already rolled back (a full disk...)
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _open(self) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._prepare()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            self._discard_file()
            self._prepare()
            self.rebuilt = "corrupt"

    def _prepare(self) -> None:
        """Open the marks and the index, creating or recreating the index's tables as needed."""
        self._prepare_marks()
        conn = self._conn()
        conn.execute("PRAGMA journal_mode = WAL")
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                conn.execute("SELECT count(*) FROM dirs").fetchone()  # readable at all?
                return
            self.rebuilt = "new" if version == 0 else "version"
            self._drop_tables(conn)  # a version-0 file may still hold stray tables
            for statement in _statements(_SCHEMA):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _prepare_marks(self) -> None:
        """Create the marks database, or start it again if it is unreadable (on its own
        connection, so a broken index is not taken for broken marks)."""
        for attempt in range(2):
            try:
                conn = sqlite3.connect(self.marks_path, timeout=BUSY_TIMEOUT_MS / 1000)
                try:
                    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.execute(_MARKS_SCHEMA.replace("marks.marks", "marks"))
                    conn.execute("SELECT count(*) FROM marks").fetchone()
                    conn.commit()
                finally:
                    conn.close()
                return
            except sqlite3.DatabaseError as exc:
                if attempt or not _is_corrupt(exc):
                    raise
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(str(self.marks_path) + suffix)

    @staticmethod
    def _drop_tables(conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT type, name FROM main.sqlite_master WHERE type IN ('table', 'trigger', 'view')"
            " AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for kind, name in rows:
            if kind == "table" and name.startswith("images_fts_"):
                continue  # dropped with images_fts
            with contextlib.suppress(sqlite3.OperationalError):
                conn.execute(f'DROP {kind.upper()} IF EXISTS main."{name}"')

    def _drop_connections(self) -> None:
        """Stop using the connections opened so far. Only this thread's own is closed here:
        another thread may be in the middle of a read on its own, and closes it itself the next
        time it asks for one (`close()` closes the rest once no call is in progress)."""
        own: sqlite3.Connection | None = getattr(self._local, "conn", None)
        with self._lock:
            self._generation += 1
            if own is not None and own in self._connections:
                self._connections.remove(own)
            else:
                own = None
        self._local.conn = None
        if own is not None:
            with contextlib.suppress(sqlite3.Error):
                own.close()

    def _healthy_now(self) -> bool:
        """Whether the index file reads well now, on a connection of its own: another process
        may have rebuilt it a moment ago, and that one must not be thrown away."""
        try:
            conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return False
        return bool(version == SCHEMA_VERSION and check == "ok")

    def _discard_file(self) -> None:
        """Move the unreadable index out of the way (kept as `.corrupt` for a post-mortem)."""
        self._drop_connections()
        if self._healthy_now():
            return
        aside = self.db_path.with_name(self.db_path.name + ".corrupt")
        with contextlib.suppress(OSError):
            os.replace(self.db_path, aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(self.db_path) + suffix)

    def _recover(self) -> None:
        """The index broke while open (garbage written over it): start again from the files."""
        with self._scan_lock:
            self._discard_file()
            self.rebuilt = None
            self._prepare()
            self.rebuilt = "corrupt"

    def close(self, timeout: float = 10.0) -> None:
        """Close every thread's connection, once the calls in progress (a scan in a worker
        thread...) have ended. The index cannot be used afterwards."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._active == 0, timeout)
            connections, self._connections = self._connections, []
            self._generation += 1
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def __enter__(self) -> HistoryIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- roots ---------------------------------------------------------------------------------

    def root_of(self, path: Path) -> Path | None:
        """The root `path` lies under (the innermost one when roots nest), by its absolute path;
        symlinks are not followed here (the trash checks those)."""
        text = _norm(path)
        best: str | None = None
        for root in self._root_strs:
            if text.startswith(root.rstrip(os.sep) + os.sep) and (
                best is None or len(root) > len(best)
            ):
                best = root
        return Path(best) if best is not None else None

    def is_imported(self, path: Path) -> bool:
        """Whether `path` lies in an imported folder (read-only unless allowed)."""
        root = self.root_of(path)
        return root is not None and str(root) in self._imported_strs

    # --- scanning ------------------------------------------------------------------------------

    @_in_use
    def scan(
        self, progress: ProgressCallback | None = None, *, full: bool | None = None
    ) -> ScanResult:
        """Bring the index up to date with the files; see the module's notes. `full` forces (or
        skips) a pass that stats every file; by default every `full_every`-th scan is one.
        `progress(done, total)` hears about files being read. Never raises for a bad file."""
        try:
            return self._scan(progress, full)
        except _ScanStopped:
            return ScanResult(0, 0, 0, 0, 0.0)
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
        self._recover()
        return self._scan(progress, True)

    def _scan(self, progress: ProgressCallback | None, full: bool | None) -> ScanResult:
        started = time.perf_counter()
        with self._scan_lock:
            self._scans += 1
            if full is None:
                full = self._scans % self.full_every == 0
            pending: list[_Pending] = []
            removed_paths: list[str] = []
            dir_rows: list[tuple[str, str, str | None, int, int]] = []
            gone_dirs: list[str] = []
            dirs_read = 0
            now = time.time()
            conn = self._conn()
            for root in self._root_strs:
                read, gone = self._walk_root(
                    conn, root, full, now, pending, removed_paths, dir_rows
                )
                dirs_read += read
                gone_dirs.extend(gone)
            added, updated = self._read_pending(pending, progress)
            removed = 0
            if not (removed_paths or gone_dirs or dir_rows):
                # Nothing moved: no write transaction, so other processes are never held up.
                return ScanResult(added, updated, 0, dirs_read, time.perf_counter() - started)
            with self._write() as conn:
                for start in range(0, len(removed_paths), 500):
                    chunk = removed_paths[start : start + 500]
                    removed += conn.execute(
                        f"DELETE FROM images WHERE path IN ({', '.join('?' * len(chunk))})",
                        chunk,
                    ).rowcount
                for gone_dir in gone_dirs:
                    removed += conn.execute(
                        "DELETE FROM images WHERE dir = ?", (gone_dir,)
                    ).rowcount
                    conn.execute("DELETE FROM dirs WHERE path = ?", (gone_dir,))
                conn.executemany(
                    "INSERT INTO dirs (path, root, parent, mtime_ns, files) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT(path) DO UPDATE SET root = excluded.root,"
                    " parent = excluded.parent, mtime_ns = excluded.mtime_ns,"
                    " files = excluded.files",
                    dir_rows,
                )
            return ScanResult(added, updated, removed, dirs_read, time.perf_counter() - started)

    def _walk_root(
        self,
        conn: sqlite3.Connection,
        root: str,
        full: bool,
        now: float,
        pending: list[_Pending],
        removed_paths: list[str],
        dir_rows: list[tuple[str, str, str | None, int, int]],
    ) -> tuple[int, list[str]]:
        """List what changed under one root. Returns (directories listed, directories gone)."""
        known: dict[str, int] = {}
        children: dict[str, list[str]] = {}
        for path, parent, mtime_ns in conn.execute(
            "SELECT path, parent, mtime_ns FROM dirs WHERE root = ?", (root,)
        ):
            known[path] = mtime_ns
            if parent is not None:
                children.setdefault(parent, []).append(path)
        other_roots = {r for r in self._root_strs if r != root}
        writable = root not in self._imported_strs
        seen: set[str] = set()
        read = 0
        stack: list[tuple[str, str | None]] = [(root, None)]
        while stack:
            folder, parent = stack.pop()
            try:
                # The root itself may be a link (~/Pictures -> /data/pictures); nothing inside
                # it is followed (sub-folders are listed with follow_symlinks=False).
                stat = os.stat(folder, follow_symlinks=folder == root)
            except OSError:
                continue  # gone (or unreadable): its rows go below
            seen.add(folder)
            if not full and known.get(folder) == stat.st_mtime_ns:
                stack.extend((child, folder) for child in children.get(folder, ()))
                continue
            read += 1
            files: dict[str, tuple[int, int]] = {}
            subdirs: list[str] = []
            temps = False
            racy = now - stat.st_mtime_ns / 1e9 <= RACY_SECONDS
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        name = entry.name
                        if name.startswith("."):
                            temps = temps or name.startswith(TEMP_PREFIX)
                            continue  # .trash, sdtui's temp files, hidden files
                        try:
                            if entry.is_dir(follow_symlinks=False):
                                if entry.path not in other_roots:
                                    subdirs.append(entry.path)
                            elif is_image_name(name) and entry.is_file(follow_symlinks=False):
                                st = entry.stat(follow_symlinks=False)
                                files[entry.path] = (st.st_size, st.st_mtime_ns)
                                if now - st.st_mtime_ns / 1e9 <= RACY_SECONDS:
                                    racy = True  # perhaps still being written: look again
                        except OSError:
                            continue
            except OSError:
                # Unreadable for now (permissions, a flaky mount): keep what we knew of it.
                stack.extend((child, folder) for child in children.get(folder, ()))
                continue
            if temps and writable:
                remove_stale_temps(Path(folder))  # left by a save that was killed midway
            rows = {
                path: (size, mtime_ns)
                for path, size, mtime_ns in conn.execute(
                    "SELECT path, file_size, mtime_ns FROM images WHERE dir = ?", (folder,)
                )
            }
            for path, (size, mtime_ns) in files.items():
                old = rows.get(path)
                if old != (size, mtime_ns):
                    pending.append(
                        _Pending(
                            path,
                            folder,
                            root,
                            size,
                            mtime_ns,
                            old is not None,
                            now - mtime_ns / 1e9 <= RACY_SECONDS,
                        )
                    )
            removed_paths.extend(path for path in rows if path not in files)
            # A folder (or a file in it) changed just now may change again within the same
            # clock tick without its mtime moving: it is listed again on the next scan.
            dir_rows.append((folder, root, parent, -1 if racy else stat.st_mtime_ns, len(files)))
            stack.extend((sub, folder) for sub in subdirs)
        return read, [path for path in known if path not in seen]

    def _read_pending(
        self, pending: list[_Pending], progress: ProgressCallback | None
    ) -> tuple[int, int]:
        added = updated = 0
        total = len(pending)
        if progress is not None and total:
            progress(0, total)
        for start in range(0, total, BATCH):
            if self._closed:
                # Closing: stop between batches. The directories are not marked read, so the
                # next scan (of this or another process) reads what was left.
                raise _ScanStopped
            batch = pending[start : start + BATCH]
            values = [self._row_values(item) for item in batch]
            with self._write() as conn:
                conn.executemany(_UPSERT, values)
            for item in batch:
                if item.known:
                    updated += 1
                else:
                    added += 1
            if progress is not None:
                progress(min(start + BATCH, total), total)
        return added, updated

    def _row_values(self, item: _Pending) -> tuple[object, ...]:
        try:
            meta = read_image_metadata(Path(item.path))
        except UnreadableImage:
            # Still listed (so it can be seen and deleted), with nothing but its name.
            meta = ImageMetadata(None, None, "")
        except Exception:  # a decoder's surprise must not stop a scan of 100,000 files
            meta = ImageMetadata(None, None, "")
        mtime = item.mtime_ns / 1e9
        info = parse_infotext(meta.infotext) if meta.infotext else None
        prompt = info.prompt if info else ""
        width = meta.width if meta.width else (info.width if info else None)
        height = meta.height if meta.height else (info.height if info else None)
        return (
            item.path,
            item.dir,
            item.root,
            item.size,
            -1 if item.racy else item.mtime_ns,  # -1: unknown, read again on the next listing
            mtime,
            _created(item.path, mtime),
            _title(prompt, os.path.basename(item.path)),
            prompt,
            info.negative_prompt if info else "",
            info.seed if info else None,
            info.steps if info else None,
            info.sampler if info else None,
            info.scheduler if info else None,
            info.cfg_scale if info else None,
            width,
            height,
            info.model if info else None,
            info.model_hash if info else None,
            meta.server or server_name(info.get("Server") if info else None),
            1 if item.root in self._imported_strs else 0,
            meta.infotext,
        )

    @_in_use
    def add(self, paths: Iterable[Path], *, interrupted: bool = False) -> list[IndexRow]:
        """Index these files now (just saved, or restored from the trash), newest first. Paths
        outside every root, missing files and non-images are skipped. `interrupted` marks images
        of an interrupted job (kept with the favourites, so a rebuild keeps it)."""
        pending: list[_Pending] = []
        for path in paths:
            text = _norm(path)
            root = self.root_of(Path(text))
            if root is None or not is_image_name(os.path.basename(text)):
                continue
            try:
                st = os.stat(text)
            except OSError:
                continue
            pending.append(
                _Pending(text, os.path.dirname(text), str(root), st.st_size, st.st_mtime_ns, True)
            )
        if not pending:
            return []
        values = [self._row_values(item) for item in pending]

        def write() -> None:
            with self._write() as conn:
                if interrupted:
                    conn.executemany(
                        "INSERT INTO marks.marks (path, interrupted) VALUES (?, 1)"
                        " ON CONFLICT(path) DO UPDATE SET interrupted = 1",
                        [(item.path,) for item in pending],
                    )
                conn.executemany(_UPSERT, values)

        self._robust(write)
        rows = self._rows_where(
            f"path IN ({', '.join('?' * len(pending))})", [item.path for item in pending]
        )
        return sorted(rows, key=lambda row: (row.created, row.id), reverse=True)

    @_in_use
    def forget(self, paths: Iterable[Path]) -> None:
        """Drop these files' rows (their favourite mark is kept, should they come back)."""
        texts = [_norm(p) for p in paths]

        def write() -> None:
            with self._write() as conn:
                for start in range(0, len(texts), 500):
                    chunk = texts[start : start + 500]
                    conn.execute(
                        f"DELETE FROM images WHERE path IN ({', '.join('?' * len(chunk))})", chunk
                    )

        self._robust(write)

    @_in_use
    def set_favourite(self, path: Path, on: bool) -> None:
        """Star or unstar an image; kept by path beside the index, so a rebuild keeps it."""
        text = _norm(path)

        def write() -> None:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO marks.marks (path, favourite) VALUES (?, ?)"
                    " ON CONFLICT(path) DO UPDATE SET favourite = excluded.favourite",
                    (text, int(on)),
                )
                conn.execute("UPDATE images SET favourite = ? WHERE path = ?", (int(on), text))

        self._robust(write)

    def _robust(self, write: Callable[[], None]) -> None:
        """Run a write; an index found corrupt is started again and the write done there."""
        try:
            write()
            return
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
        self._recover()
        write()

    # --- queries -------------------------------------------------------------------------------

    def _where(self, query: HistoryQuery) -> tuple[str, list[object]]:
        clauses = [f"root IN ({', '.join('?' * len(self._root_strs))})"]
        params: list[object] = list(self._root_strs)
        match = fts_match(query.text)
        if match is not None:
            fts = "id IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)"
            params.append("{prompt} : (" + match + ")")
            seed = query.text.strip()
            if seed.isdigit() and len(seed) < 20:  # a number alone: a seed, or prompt words
                fts = f"({fts} OR seed = ?)"
                params.append(int(seed))
            clauses.append(fts)
        if query.model:
            escaped = query.model.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("model LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        if query.since is not None:
            clauses.append("created >= ?")
            params.append(query.since.timestamp())
        if query.until is not None:
            clauses.append("created < ?")
            params.append(query.until.timestamp())
        if query.width is not None:
            clauses.append("width = ?")
            params.append(query.width)
        if query.height is not None:
            clauses.append("height = ?")
            params.append(query.height)
        if query.favourites:
            clauses.append("favourite = 1")
        if query.interrupted is not None:
            clauses.append("interrupted = ?")
            params.append(int(query.interrupted))
        return " AND ".join(clauses), params

    def _fetch(self, sql: str, params: Sequence[object]) -> list[Any]:
        """Rows of a read; an index found corrupt is started again (empty until the next scan)."""
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
        self._recover()
        return self._conn().execute(sql, params).fetchall()

    def _make_row(self, r: Any) -> IndexRow:
        share = self._shared.setdefault  # a few models and samplers, 100,000 rows: one copy each
        return IndexRow(
            r[0],
            Path(r[1]),
            r[2],
            r[3],
            r[4],
            r[5],
            None if r[6] is None else share(r[6], r[6]),
            r[7],
            None if r[8] is None else share(r[8], r[8]),
            r[9],
            r[10],
            bool(r[11]),
            bool(r[12]),
            r[13] in self._imported_strs,
        )

    def _rows_where(
        self, where: str, params: Sequence[object], order: str = "", limit: int | None = None
    ) -> list[IndexRow]:
        sql = f"SELECT {_ROW_COLUMNS} FROM images WHERE {where} {order}"
        if limit is not None:
            sql += f" LIMIT {max(0, int(limit))}"
        make = self._make_row
        return [make(r) for r in self._fetch(sql, params)]

    @_in_use
    def query(self, query: HistoryQuery) -> list[IndexRow]:
        """The images matching `query`, newest (or oldest) first, at most `query.limit`."""
        if fts_match(query.text) is not None:
            # Sorting the matches' ids and then reading the rows wanted beats sorting whole rows.
            return self.rows(self.query_ids(query))
        where, params = self._where(query)
        direction = "DESC" if query.newest_first else "ASC"
        return self._rows_where(
            where, params, f"ORDER BY created {direction}, id {direction}", query.limit
        )

    @_in_use
    def query_ids(self, query: HistoryQuery) -> list[int]:
        """Just the ids of `query`'s images, in order: a list of 100,000 costs a few MB, and
        `rows()` fetches the ones on screen."""
        where, params = self._where(query)
        direction = "DESC" if query.newest_first else "ASC"
        sql = f"SELECT id FROM images WHERE {where} ORDER BY created {direction}, id {direction}"
        if query.limit is not None:
            sql += f" LIMIT {max(0, int(query.limit))}"
        return [r[0] for r in self._fetch(sql, params)]

    @_in_use
    def rows(self, ids: Sequence[int]) -> list[IndexRow]:
        """The rows for these ids, in the order given (ids no longer indexed are left out)."""
        found: dict[int, IndexRow] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            for row in self._rows_where(f"id IN ({', '.join('?' * len(chunk))})", chunk):
                found[row.id] = row
        return [found[i] for i in ids if i in found]

    @_in_use
    def count(self, query: HistoryQuery) -> int:
        """How many images match `query` (its limit is ignored)."""
        if fts_match(query.text) is not None:
            # Counting the matches' ids beats the planner's pick (a scan of the whole list).
            return len(self.query_ids(replace(query, limit=None)))
        where, params = self._where(query)
        return int(self._fetch(f"SELECT count(*) FROM images WHERE {where}", params)[0][0])

    @_in_use
    def get(self, id_or_path: int | Path) -> IndexedImage | None:
        """The full record of one image, by id or path, or None when it is not indexed."""
        key: object = id_or_path if isinstance(id_or_path, int) else _norm(id_or_path)
        where = "id = ?" if isinstance(id_or_path, int) else "path = ?"
        sql = f"SELECT {_FULL_COLUMNS} FROM images WHERE {where}"
        found = self._fetch(sql, (key,))
        return self._make_full(found[0]) if found else None

    @_in_use
    def records(self, query: HistoryQuery) -> list[IndexedImage]:
        """Full records of `query`'s images, in its order (for a few: `sdtui history --json`)."""
        where, params = self._where(query)
        direction = "DESC" if query.newest_first else "ASC"
        sql = (
            f"SELECT {_FULL_COLUMNS} FROM images WHERE {where}"
            f" ORDER BY created {direction}, id {direction}"
        )
        if query.limit is not None:
            sql += f" LIMIT {max(0, int(query.limit))}"
        return [self._make_full(r) for r in self._fetch(sql, params)]

    def _make_full(self, r: Any) -> IndexedImage:
        return IndexedImage(
            id=r[0],
            path=Path(r[1]),
            root=Path(r[2]),
            file_size=r[3],
            mtime=r[4],
            prompt=r[5],
            negative_prompt=r[6],
            seed=r[7],
            steps=r[8],
            sampler=r[9],
            scheduler=r[10],
            cfg_scale=r[11],
            width=r[12],
            height=r[13],
            model=r[14],
            model_hash=r[15],
            server=r[16],
            created=r[17],
            interrupted=bool(r[18]),
            favourite=bool(r[19]),
            imported=r[2] in self._imported_strs,
            infotext=r[20],
        )

    def __len__(self) -> int:
        return self.count(HistoryQuery())


def _statements(script: str) -> Iterator[str]:
    """Split a schema script into statements (triggers hold `;` inside BEGIN ... END)."""
    buffer: list[str] = []
    for line in script.strip().splitlines():
        buffer.append(line)
        text = "\n".join(buffer).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            yield text
            buffer = []
