"""Making text from servers and files safe to show.

Server strings (error messages, model names, infotexts) and file contents may carry terminal control
sequences: an OSC title sequence printed or shown in a widget would retitle the user's terminal, and
a stray carriage return can overwrite a line. Everything that came from outside goes through here
before it reaches a terminal.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 range (which some terminals honour as CSI etc.).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Whole escape sequences first, so their printable tails ("]0;title") vanish with them.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[ -/]*[0-~]"  # two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)


def strip_control(text: str, *, keep_newlines: bool = True) -> str:
    """Remove escape sequences and control characters; tabs become spaces."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\t", " ")
    if not keep_newlines:
        text = text.replace("\n", " ")
    return _CONTROL.sub("", text)


def one_line(text: str, limit: int = 300) -> str:
    """A single safe line: controls removed, whitespace runs collapsed, cut to `limit` characters."""
    text = " ".join(strip_control(text, keep_newlines=False).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
