"""What to tell the user when the terminal shows fewer than 24-bit colours.

Rich (and so Textual) picks the colour system from the environment: ``COLORTERM=truecolor`` or
``24bit`` means 24-bit colour; otherwise ``TERM`` decides, ``*-256color`` meaning 256 colours
and most other names 16. Inside tmux, ``TERM`` is ``tmux-256color`` or ``screen-256color`` and
``COLORTERM`` is often lost on the way (through ``ssh``, or a server started without it), so
images are dithered to 256 colours although the outer terminal could show them all.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["truecolor_hint"]

_COLOURS = {"256": "256 colours", "standard": "16 colours", "windows": "16 colours"}
_TMUX_ADVICE = " (in tmux also `set -as terminal-features ',*:RGB'`)"


def truecolor_hint(color_system: str | None, environ: Mapping[str, str]) -> str | None:
    """One line on how to get full colour, or None when images are drawn in 24-bit colour.

    ``color_system`` is the console's (``Console.color_system``: "truecolor", "256",
    "standard", "windows" or None); ``environ`` the process environment. None is returned for
    "truecolor", and for None too: with no colours detected Textual still writes 24-bit codes.
    """
    colours = _COLOURS.get(color_system or "truecolor")
    if colours is None:
        return None
    forced = environ.get("TEXTUAL_COLOR_SYSTEM", "").strip()
    if forced and forced.lower() not in ("auto", "truecolor"):
        return (
            f"TEXTUAL_COLOR_SYSTEM={forced} limits this terminal to {colours}: images are "
            "dithered. Unset it for full colour."
        )
    term = environ.get("TERM", "").strip().lower()
    in_tmux = "TMUX" in environ or term.startswith(("tmux", "screen"))
    return (
        f"This terminal reports {colours}: images are dithered. For full colour set "
        f"COLORTERM=truecolor{_TMUX_ADVICE if in_tmux else ''}."
    )
