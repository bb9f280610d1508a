"""`sdtui history`: list, search and filter the images in the history index, without the TUI.

The command brings the index up to date (an incremental scan: only changed folders are read),
then queries it. It never imports Textual or httpx, so it starts as fast as Python does.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sdtui.config import ConfigError, Settings, load_settings
from sdtui.store.index import HistoryIndex, HistoryQuery, IndexedImage
from sdtui.store.trash import Trash
from sdtui.text import one_line, strip_control

__all__ = ["BAD_ARGUMENTS", "add_history_parser", "cmd_history", "parse_date"]

BAD_ARGUMENTS = 2
DEFAULT_LIMIT = 20
#: A scan reading at least this many files says so on stderr (a first build, a rebuild).
PROGRESS_FROM = 200

HISTORY_DESCRIPTION = """\
List the images in the history, newest first: the output folder and the imported folders
(--history-dir, or history_dirs in the config), as one index kept in your data folder.

Search words match the start of prompt words: 'cat sitt' finds "cats sitting on a mat".
DATE is YYYY-MM-DD, 'YYYY-MM-DD HH:MM', today, yesterday, or an age such as 3d, 12h, 2w.
--until is exclusive of the instant given; a plain date includes that whole day."""

_AGE = re.compile(r"^(\d+)\s*([hdwm])$")
_AGE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class DateError(ValueError):
    """A DATE argument sdtui cannot read; the message says what it accepts."""


def parse_date(text: str, *, end: bool = False, now: datetime | None = None) -> datetime:
    """A DATE argument as a local datetime. With `end`, a plain date means the end of that day
    (the next midnight), so `--until 2026-12-01` includes the 1st."""
    now = now or datetime.now()
    value = text.strip().lower()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day: datetime | None = None
    if value == "today":
        day = today
    elif value == "yesterday":
        day = today - timedelta(days=1)
    elif value == "now":
        return now
    else:
        age = _AGE.match(value)
        if age is not None:
            count, unit = int(age[1]), age[2]
            if unit == "m":  # months: 30 days is what anyone means by "1m ago" here
                return now - timedelta(days=30 * count)
            return now - count * _AGE_UNITS[unit]
        try:
            parsed = datetime.fromisoformat(text.strip())
        except ValueError:
            raise DateError(
                f"cannot read the date {text!r}: use YYYY-MM-DD, 'YYYY-MM-DD HH:MM', today, "
                "yesterday, or an age such as 3d, 12h, 2w"
            ) from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone().replace(tzinfo=None)
        if len(text.strip()) > 10:
            return parsed
        day = parsed
    return day + timedelta(days=1) if end else day


def add_history_parser(commands: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """Register `history` on the main parser's subcommands."""
    history = commands.add_parser(
        "history",
        help="list, search and filter the saved images (the history, as in the TUI)",
        description=HISTORY_DESCRIPTION,
        formatter_class=formatter,
    )
    history.add_argument("--search", "-s", metavar="TEXT", default="", help="prompt words")
    history.add_argument("--model", metavar="M", help="models whose name holds M (any case)")
    history.add_argument("--since", metavar="DATE", help="made on or after DATE")
    history.add_argument("--until", metavar="DATE", help="made before DATE (a date: up to its end)")
    history.add_argument("--width", type=int, metavar="PX", help="only this width")
    history.add_argument("--height", type=int, metavar="PX", help="only this height")
    history.add_argument("--favourites", "--favorites", action="store_true", help="starred only")
    marks = history.add_mutually_exclusive_group()
    marks.add_argument("--interrupted", action="store_true", help="interrupted jobs' images only")
    marks.add_argument(
        "--no-interrupted", action="store_true", help="leave out interrupted jobs' images"
    )
    history.add_argument("--oldest", action="store_true", help="oldest first")
    history.add_argument(
        "--limit",
        "-n",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help="at most N images (default %(default)s; 0 for all)",
    )
    history.add_argument("--json", action="store_true", help="print one JSON array of objects")
    history.add_argument(
        "--history-dir",
        action="append",
        type=Path,
        dest="history_dirs",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="a folder of existing images to include, read-only (repeatable; replaces the "
        "config's history_dirs)",
    )
    history.add_argument(
        "--out",
        type=Path,
        default=argparse.SUPPRESS,
        help="output folder (default: your pictures folder)",
    )
    actions = history.add_mutually_exclusive_group()
    actions.add_argument(
        "--empty-trash",
        action="store_true",
        help="delete the files in the trash for good and say how many",
    )
    actions.add_argument("--star", type=Path, metavar="PATH", help="star an image")
    actions.add_argument("--unstar", type=Path, metavar="PATH", help="unstar an image")


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    dirs = getattr(args, "history_dirs", None)
    return settings.merged(
        out=getattr(args, "out", None),
        history_dirs=tuple(dirs) if dirs else None,
    )


def _error(message: str) -> None:
    print(f"sdtui history: {one_line(message, 600)}", file=sys.stderr)


class _Progress:
    """One line on stderr while a scan reads many files (a first build or a rebuild)."""

    def __init__(self, rebuilt: str | None) -> None:
        self.rebuilt = rebuilt
        self.tty = sys.stderr.isatty()
        self.shown = False

    def __call__(self, done: int, total: int | None) -> None:
        if total is None or (total < PROGRESS_FROM and self.rebuilt != "corrupt"):
            return
        verb = {"corrupt": "rebuilding", "version": "rebuilding"}.get(
            self.rebuilt or "", "building"
        )
        if self.tty:
            sys.stderr.write(f"\r\x1b[2Ksdtui: {verb} the history index: {done}/{total} images")
            sys.stderr.flush()
            self.shown = True
        elif not self.shown:
            sys.stderr.write(f"sdtui: {verb} the history index from {total} images\n")
            sys.stderr.flush()
            self.shown = True

    def finish(self) -> None:
        if self.shown and self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _record(image: IndexedImage) -> dict[str, Any]:
    return {
        "path": str(image.path),
        "prompt": image.prompt,
        "negative_prompt": image.negative_prompt,
        "seed": image.seed,
        "steps": image.steps,
        "sampler": image.sampler,
        "scheduler": image.scheduler,
        "cfg_scale": image.cfg_scale,
        "width": image.width,
        "height": image.height,
        "model": image.model,
        "model_hash": image.model_hash,
        "server": image.server,
        "created": image.created_at().astimezone().isoformat(timespec="seconds"),
        "favourite": image.favourite,
        "interrupted": image.interrupted,
        "imported": image.imported,
        "file_size": image.file_size,
        "infotext": image.infotext,
    }


def _cut(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


#: The SERVER column of the listing is cut to this many characters ("gpu1", "10.0.0.5:7860").
SERVER_WIDTH = 24


def _table(images: Sequence[IndexedImage], width: int | None) -> list[str]:
    """Lines of a table: time, seed, size, model, the server when any image names one, path,
    then the prompt's first line in what room is left (`width` None: nothing is cut, for
    pipes)."""
    servers = any(image.server for image in images)
    rows = []
    for image in images:
        mark = "*" if image.favourite else ("!" if image.interrupted else " ")
        size = f"{image.width}x{image.height}" if image.width and image.height else "?"
        cells = [
            mark + image.created_at().strftime("%Y-%m-%d %H:%M"),
            "" if image.seed is None else str(image.seed),
            size,
            one_line(image.model or "", 40),
        ]
        if servers:
            cells.append(one_line(image.server or "", SERVER_WIDTH))
        cells += [
            strip_control(str(image.path), keep_newlines=False),
            one_line(image.title, 300),
        ]
        rows.append(cells)
    head = [" TIME", "SEED", "SIZE", "MODEL", *(["SERVER"] if servers else []), "PATH", "PROMPT"]
    fixed = len(head) - 1
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(fixed)]
    lines = []
    for row in [head, *rows]:
        left = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:fixed]))
        room = None if width is None else width - len(left) - 2
        prompt = row[fixed] if room is None else _cut(row[fixed], room)
        lines.append(f"{left}  {prompt}".rstrip() if prompt else left.rstrip())
    return lines


def cmd_history(args: argparse.Namespace) -> int:
    """Run `sdtui history`; returns the exit status (2 for a bad DATE, 1 for other failures)."""
    try:
        since = parse_date(args.since) if args.since else None
        until = parse_date(args.until, end=True) if args.until else None
    except DateError as exc:
        _error(str(exc))
        return BAD_ARGUMENTS
    if args.limit < 0:
        _error("--limit must be 0 (all) or more")
        return BAD_ARGUMENTS
    try:
        settings = _settings(args)
    except ConfigError as exc:
        _error(str(exc))
        return 1
    roots = [settings.output_dir]
    imported = list(settings.history_dirs)
    missing = [d for d in imported if not d.is_dir()]
    if missing:
        _error(f"{missing[0]} is not a folder (from --history-dir or history_dirs)")
        return 1
    try:
        index = HistoryIndex(roots, imported=imported)
    except (OSError, sqlite3.Error) as exc:  # a data folder that cannot be made, a locked db
        _error(f"cannot open the history index {HistoryIndex.default_path()}: {exc}")
        return 1
    try:
        return _run(args, settings, index, since, until)
    except sqlite3.OperationalError as exc:  # locked for longer than the busy timeout, disk full
        _error(f"the history index {index.db_path} cannot be used now: {exc}")
        return 1
    finally:
        index.close()


def _run(
    args: argparse.Namespace,
    settings: Settings,
    index: HistoryIndex,
    since: datetime | None,
    until: datetime | None,
) -> int:
    if args.empty_trash:
        trash = Trash(index, writable_imports=settings.history_dirs_writable)
        removed = trash.empty()
        print(f"removed {removed} file{'' if removed == 1 else 's'} from the trash")
        return 0
    progress = _Progress(index.rebuilt)
    try:
        index.scan(progress)
    finally:
        progress.finish()
    target = args.star or args.unstar
    if target is not None:
        if index.root_of(target) is None:
            _error(f"{target} is not in the output folder or an imported folder")
            return 1
        if not target.is_file():
            _error(f"{target} is not a file")
            return 1
        index.add([target])
        index.set_favourite(target, args.star is not None)
        print(f"{'starred' if args.star else 'unstarred'} {target}")
        return 0
    query = HistoryQuery(
        text=args.search,
        model=args.model,
        since=since,
        until=until,
        width=args.width,
        height=args.height,
        favourites=args.favourites,
        interrupted=True if args.interrupted else (False if args.no_interrupted else None),
        newest_first=not args.oldest,
        limit=args.limit or None,
    )
    images = index.records(query)
    if args.json:
        print(json.dumps([_record(image) for image in images], ensure_ascii=False, indent=2))
        return 0
    if not images:
        print("sdtui history: no images match", file=sys.stderr)
        return 0
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    sys.stdout.write("\n".join(_table(images, width)) + "\n")
    return 0
