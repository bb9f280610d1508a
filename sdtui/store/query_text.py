"""The history's search box: one line of text turned into a `HistoryQuery`.

Words are searched in the prompts (each word a prefix: ``cat sit`` finds "cats sitting");
``key:value`` terms filter:

=====================  ==========================================================
``model:NAME``         the model's name contains NAME (case-insensitive)
``since:YYYY-MM-DD``   made on that day or later
``until:YYYY-MM-DD``   made on that day or earlier
``size:WxH``           that size (``size:512x`` or ``size:x768``: one side only)
``is:fav`` or ``*``    starred images only
``is:interrupted``     images of an interrupted job (``is:complete``: the others)
``sort:oldest``        oldest first (``sort:newest``: the default)
=====================  ==========================================================

A value with spaces goes in quotes (``model:"sd xl"``). A term whose key is not one of these is
searched as words (a prompt may well contain ``a:b``); a known key with a bad value is left out of
the query and named in `ParsedQuery.problems`, so the rest still searches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sdtui.store.index import HistoryQuery

__all__ = ["SEARCH_HELP", "ParsedQuery", "parse_query"]

SEARCH_HELP = "words model:NAME is:fav since:/until:YYYY-MM-DD size:WxH sort:oldest"
"""The syntax in one line, for the search field's placeholder."""

_TOKEN = re.compile(r'(\S+?:)?"([^"]*)"?|(\S+)')
_SIZE = re.compile(r"^(\d+)?\s*[x×]\s*(\d+)?$", re.IGNORECASE)
_FAVOURITE = {"fav", "favs", "favourite", "favourites", "favorite", "favorites", "star", "starred"}
_KEYS = {"model", "since", "until", "size", "is", "sort"}


@dataclass(frozen=True)
class ParsedQuery:
    """What the search box asked for, and each term it could not read (one line each)."""

    query: HistoryQuery
    problems: tuple[str, ...] = field(default=())

    @property
    def filtered(self) -> bool:
        """Whether the query leaves anything out (words or a filter; the sort order does not)."""
        return replace(self.query, newest_first=True) != HistoryQuery(limit=self.query.limit)


def _tokens(text: str) -> list[tuple[str | None, str]]:
    """(key, value) per term: key is None for a plain word."""
    out: list[tuple[str | None, str]] = []
    for match in _TOKEN.finditer(text):
        prefix, quoted, bare = match.groups()
        if bare is not None:
            key, sep, value = bare.partition(":")
            if sep and key.lower() in _KEYS:
                out.append((key.lower(), value))
            else:
                out.append((None, bare))
        else:
            key = (prefix or "").rstrip(":").lower()
            if key in _KEYS:
                out.append((key, quoted))
            else:
                out.append((None, f"{prefix or ''}{quoted}"))
    return out


def _date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None


def parse_query(text: str, *, limit: int | None = None) -> ParsedQuery:
    """The query for `text` (see the module's doc for the syntax)."""
    words: list[str] = []
    problems: list[str] = []
    options: dict[str, object] = {}
    for key, value in _tokens(text):
        if key is None:
            if value == "*":
                options["favourites"] = True
            elif value.strip('"'):
                words.append(value.strip('"'))
            continue
        lowered = value.strip().lower()
        if key == "model":
            if lowered:
                options["model"] = value.strip()
            else:
                problems.append("model: wants a name, e.g. model:sdxl")
        elif key in ("since", "until"):
            day = _date(value.strip())
            if day is None:
                problems.append(f"{key}: wants a date like 2026-01-31, not '{value}'")
            elif key == "since":
                options["since"] = day
            else:  # the whole day counts (the index's `until` is exclusive)
                options["until"] = day + timedelta(days=1)
        elif key == "size":
            size = _SIZE.match(lowered)
            if size is None or not (size.group(1) or size.group(2)):
                problems.append(f"size: wants WxH like 512x768, not '{value}'")
            else:
                if size.group(1):
                    options["width"] = int(size.group(1))
                if size.group(2):
                    options["height"] = int(size.group(2))
        elif key == "is":
            if lowered in _FAVOURITE:
                options["favourites"] = True
            elif lowered in ("interrupted", "stopped"):
                options["interrupted"] = True
            elif lowered in ("complete", "completed", "finished"):
                options["interrupted"] = False
            else:
                problems.append(f"is: knows fav, interrupted and complete, not '{value}'")
        elif key == "sort":
            if lowered in ("oldest", "old", "asc"):
                options["newest_first"] = False
            elif lowered in ("newest", "new", "desc"):
                options["newest_first"] = True
            else:
                problems.append(f"sort: knows newest and oldest, not '{value}'")
    query = HistoryQuery(text=" ".join(words), limit=limit, **options)  # type: ignore[arg-type]
    return ParsedQuery(query, tuple(problems))
