"""Infotext: the web UI's "PNG Info" text that describes how an image was made.

The format is defined by what AUTOMATIC1111's web UI writes and reads, so both directions
follow its rules exactly (key order, quoting, the ">= 3 pairs" test for the parameter line).
Images saved by sdtui must paste back into the web UI, and images saved by the web UI must
load into sdtui, with nothing lost either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "INFOTEXT_KEY_ORDER",
    "NEGATIVE_PROMPT_PREFIX",
    "Infotext",
    "build_infotext",
    "format_infotext_value",
    "parse_infotext",
]

#: Keys the web UI writes first, in this order, when present (modules/processing.py).
INFOTEXT_KEY_ORDER: tuple[str, ...] = (
    "Steps",
    "Sampler",
    "Schedule type",
    "CFG scale",
    "Image CFG scale",
    "Seed",
    "Face restoration",
    "Size",
    "Model hash",
    "Model",
    "VAE hash",
    "VAE",
    "Variation seed",
    "Variation seed strength",
    "Seed resize from",
    "Denoising strength",
    "Clip skip",
    "ENSD",
    "Token merging ratio",
    "RNG",
    "Tiling",
)

#: Keys the web UI always writes last, after any extra keys.
_TRAILING_KEYS: tuple[str, ...] = ("Version", "User")

NEGATIVE_PROMPT_PREFIX = "Negative prompt:"

# The web UI's own pattern for one `Key: value` pair on the parameter line.
_PARAM_RE = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_IMAGE_SIZE_RE = re.compile(r"^(\d+)x(\d+)$")
# Fewer matches than this and the last line is just more prompt text.
_MIN_PARAM_PAIRS = 3


def format_infotext_value(value: object) -> str:
    """Render one value as the web UI does: str() form, JSON-quoted if it holds , : or newline.

    Quoting keeps the parameter line splittable on commas; the reader JSON-decodes it back.
    """
    text = value if isinstance(value, str) else str(value)
    if "," not in text and ":" not in text and "\n" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def build_infotext(prompt: str, negative_prompt: str, params: Mapping[str, object]) -> str:
    """Build the infotext the web UI would write for these prompts and parameters.

    ``params`` maps infotext keys to values (``{"Steps": 20, "CFG scale": 7.0, ...}``). Known keys
    come first in :data:`INFOTEXT_KEY_ORDER`, then the other keys in the mapping's order, then
    "Version" and "User". ``None`` and ``""`` values are left out. A value equal to its key is
    written as the bare key, as the web UI does for flags.
    """
    known = set(INFOTEXT_KEY_ORDER) | set(_TRAILING_KEYS)
    ordered_keys = [k for k in INFOTEXT_KEY_ORDER if k in params]
    ordered_keys += [k for k in params if k not in known]
    ordered_keys += [k for k in _TRAILING_KEYS if k in params]

    pairs: list[str] = []
    for key in ordered_keys:
        value = params[key]
        if _is_blank(value):
            continue
        if value == key:
            pairs.append(key)
        else:
            pairs.append(f"{key}: {format_infotext_value(value)}")

    negative_line = f"\n{NEGATIVE_PROMPT_PREFIX} {negative_prompt}" if negative_prompt else ""
    return f"{prompt}{negative_line}\n{', '.join(pairs)}".strip()


def _unquote(value: str) -> str:
    """JSON-decode a quoted value; leave it as written when it is not valid JSON."""
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


def _parse_float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def _parse_int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    number = _parse_float(text)
    if number is not None and number.is_integer():
        return int(number)
    return None


@dataclass(frozen=True)
class Infotext:
    """A parsed infotext: prompts plus the parameter line's values as strings.

    ``params`` keeps the text's order. Quoted values are already JSON-decoded. Any ``WxH`` value
    (such as ``Size``) is kept and also split into ``<key>-1`` and ``<key>-2``, the names the
    web UI uses when pasting. A missing key means the server default (Clip skip 1, Schedule
    type Automatic), which is left to the caller to apply.
    """

    prompt: str
    negative_prompt: str
    params: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        """The raw string value of ``key``, or None."""
        return self.params.get(key)

    def get_int(self, key: str) -> int | None:
        """``key`` as an int ("20" or "20.0"), or None when missing or not a whole number."""
        return _parse_int(self.params.get(key))

    def get_float(self, key: str) -> float | None:
        """``key`` as a float, or None when missing or not a number."""
        return _parse_float(self.params.get(key))

    @property
    def steps(self) -> int | None:
        return self.get_int("Steps")

    @property
    def seed(self) -> int | None:
        return self.get_int("Seed")

    @property
    def cfg_scale(self) -> float | None:
        return self.get_float("CFG scale")

    @property
    def sampler(self) -> str | None:
        return self.params.get("Sampler")

    @property
    def scheduler(self) -> str | None:
        return self.params.get("Schedule type")

    @property
    def width(self) -> int | None:
        return self.get_int("Size-1")

    @property
    def height(self) -> int | None:
        return self.get_int("Size-2")

    @property
    def model(self) -> str | None:
        return self.params.get("Model")

    @property
    def model_hash(self) -> str | None:
        return self.params.get("Model hash")


def _parse_param_line(line: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, raw in _PARAM_RE.findall(line):
        if not raw:
            # The web UI skips a key with nothing after the colon.
            continue
        value = _unquote(raw) if raw[0] == '"' and raw[-1] == '"' else raw
        params[key] = value
        size = _IMAGE_SIZE_RE.match(value)
        if size is not None:
            params[f"{key}-1"] = size.group(1)
            params[f"{key}-2"] = size.group(2)
    return params


def parse_infotext(text: str) -> Infotext:
    """Parse infotext with the web UI's reading rules.

    The last line is the parameter line only if it holds at least three ``Key: value`` pairs;
    otherwise it belongs to the prompt. Lines are stripped; a line starting with
    "Negative prompt:" (possibly the first) begins the negative prompt, which runs until the
    parameter line. Both prompts may span several lines.
    """
    lines = text.replace("\r\n", "\n").strip().split("\n")
    last_line = lines.pop()
    if len(_PARAM_RE.findall(last_line)) < _MIN_PARAM_PAIRS:
        lines.append(last_line)
        last_line = ""

    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    in_negative = False
    for raw_line in lines:
        line = raw_line.strip()
        if line.startswith(NEGATIVE_PROMPT_PREFIX):
            in_negative = True
            line = line[len(NEGATIVE_PROMPT_PREFIX) :].strip()
        (negative_lines if in_negative else prompt_lines).append(line)

    return Infotext(
        prompt=_join_lines(prompt_lines),
        negative_prompt=_join_lines(negative_lines),
        params=_parse_param_line(last_line),
    )


def _join_lines(lines: list[str]) -> str:
    """Join with newlines, dropping leading empty lines as the web UI's accumulator does."""
    start = 0
    while start < len(lines) and lines[start] == "":
        start += 1
    return "\n".join(lines[start:])
