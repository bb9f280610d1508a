"""Prompt editing without a widget: attention weights as the web UI's ctrl+up/down change them,
and the LoRA/embedding completion offered at the cursor.

Everything works on the prompt as one string and cursor/selection offsets into it, so the editor
(a Textual TextArea) and the tests share one implementation.

Weights follow the web UI v1.10 (javascript/edit-attention.js with its default options): with no
selection, the `<...>` block, else the `(...)` or `[...]` block around the cursor is the target
(its text before the last `:weight`), else the word under the cursor; `<lora:NAME:W>` moves by
`keyedit_precision_extra` (0.05), `(text:W)` by `keyedit_precision_attention` (0.1); plain text
(or `((old style))` emphasis) is first wrapped as `(text:1.0)`; an emphasis that comes back to 1
loses its brackets. The edited token stays selected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sdtui.images.infotext import parse_infotext
from sdtui.text import strip_control

PRECISION_ATTENTION = 0.1  # the web UI's keyedit_precision_attention default
PRECISION_EXTRA = 0.05  # keyedit_precision_extra: <lora:...> and other extra networks
DELIMITERS = ".,\\/!?%^*;:{}=`~() \t\r\n"  # keyedit_delimiters + keyedit_delimiters_whitespace

_HAS_WEIGHT = re.compile(r".*:-?[\d.]+", re.DOTALL)


@dataclass(frozen=True)
class WeightEdit:
    """Replace `text[start:end]` with `replacement`; then select `selection` (offsets in the new
    text). A small span, so an editor's undo history keeps one step per key."""

    start: int
    end: int
    replacement: str
    selection: tuple[int, int]

    def apply(self, text: str) -> str:
        return text[: self.start] + self.replacement + text[self.end :]


def _block(text: str, cursor: int, opening: str, closing: str) -> tuple[int, int] | None:
    """The selection the web UI makes inside the `opening`…`closing` block around the cursor."""
    before, after = text[:cursor], text[cursor:]
    open_at = before.rfind(opening)
    if open_at == -1 or before.rfind(closing) > open_at:
        return None
    close_at = after.find(closing)
    if close_at == -1:
        return None
    opens_again = after.find(opening)
    if opens_again != -1 and opens_again < close_at:
        return None
    content = text[open_at + 1 : cursor + close_at]
    start = open_at + 1
    if _HAS_WEIGHT.match(content):
        return start, start + content.rfind(":")
    return start, start + len(content)


def _word(text: str, cursor: int) -> tuple[int, int]:
    start = end = cursor
    while start > 0 and text[start - 1] not in DELIMITERS and text[start - 1] not in "<>":
        start -= 1
    while end < len(text) and text[end] not in DELIMITERS and text[end] not in "<>":
        end += 1
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return start, end


def _format(weight: float) -> str:
    weight = float(f"{weight:.12g}")  # JavaScript's toPrecision(12): 1.2000000000000002 → 1.2
    return repr(weight)  # 2.0 stays "2.0", 1.05 is "1.05", as the web UI writes them


def change_weight(
    text: str,
    selection: tuple[int, int],
    up: bool,
    *,
    attention: float = PRECISION_ATTENTION,
    extra: float = PRECISION_EXTRA,
) -> WeightEdit | None:
    """The edit ctrl+up (`up`) or ctrl+down makes in the web UI; None where it does nothing.

    `selection` is (start, end) offsets, equal for a bare cursor, in either order."""
    start, end = sorted(selection)
    if start == end:
        cursor = start
        if cursor > 0 and text[cursor - 1] in ">)]":
            # Right after a tag or an emphasis (where completing a LoRA leaves the cursor): that
            # tag, not the "1>" before the cursor as a word.
            cursor -= 1
        for opening, closing in (("<", ">"), ("(", ")"), ("[", "]")):
            block = _block(text, cursor, opening, closing)
            if block is not None:
                start, end = block
                break
        else:
            start, end = _word(text, start)
    original = text
    closing = ")"
    delta = attention
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if before == "<":
        closing, delta = ">", extra
    elif (before, after) in (("(", ")"), ("[", "]")):
        # Old-style ((emphasis)) or [de-emphasis]: rewrite as one (text:weight).
        depth = 0
        while (
            start - depth - 1 >= 0
            and end + depth < len(text)
            and text[start - depth - 1] == before
            and text[end + depth] == after
        ):
            depth += 1
        weight = (1 / 1.1) ** depth if before == "[" else 1.1**depth
        weight = round(weight / attention) * attention
        text = (
            text[: start - depth]
            + "("
            + text[start:end]
            + ":"
            + _format(weight)
            + ")"
            + text[end + depth :]
        )
        start -= depth - 1
        end -= depth - 1
    elif before != "(":
        while end > start and text[end - 1] == " ":
            end -= 1
        if start == end:
            return None
        text = text[:start] + "(" + text[start:end] + ":1.0)" + text[end:]
        start += 1
        end += 1
    if end >= len(text) or text[end] != ":":
        return None
    weight_length = text[end + 1 :].find(closing) + 1
    if weight_length == 0:
        return None
    try:
        weight = float(text[end + 1 : end + weight_length])
    except ValueError:
        return None
    weight += delta if up else -delta
    weight = float(f"{weight:.12g}")
    if closing == ")" and weight == 1:
        close_at = end + text[end:].find(")")
        text = text[: start - 1] + text[start:end] + text[close_at + 1 :]
        start -= 1
        end -= 1
    else:
        text = text[: end + 1] + _format(weight) + text[end + weight_length :]
    return _diff(original, text, (start, end))


def _diff(old: str, new: str, selection: tuple[int, int]) -> WeightEdit:
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    return WeightEdit(prefix, len(old) - suffix, new[prefix : len(new) - suffix], selection)


# -- completion ----------------------------------------------------------------------------------

Kind = Literal["lora", "embedding"]


@dataclass(frozen=True)
class Candidate:
    """One thing the completion offers: what it shows, and the text it puts in the prompt."""

    kind: Kind
    name: str  # the name used in the prompt
    alias: str = ""  # a LoRA's alias, when it differs from its name

    @property
    def insert(self) -> str:
        return f"<lora:{self.name}:1>" if self.kind == "lora" else self.name

    @property
    def label(self) -> str:
        shown = (
            f"{self.name} ({self.alias})" if self.alias and self.alias != self.name else self.name
        )
        return f"{'LoRA' if self.kind == 'lora' else 'emb.'}  {shown}"


@dataclass(frozen=True)
class Context:
    """What the text before the cursor asks to complete: `text[start:cursor]` is replaced."""

    start: int
    query: str
    kinds: tuple[Kind, ...]


_LORA_OPEN = re.compile(r"<lora:([^<>:\s]*)\Z", re.IGNORECASE)
_TAG_OPEN = re.compile(r"<([\w.\-]*)\Z")
_WORD = re.compile(r"[\w.\-]+\Z")
MIN_WORD = 2  # letters typed before embeddings are offered unasked


def completion_context(text: str, cursor: int, *, forced: bool = False) -> Context | None:
    """The completion the text before `cursor` asks for, or None.

    `<lora:ad` asks for LoRAs matching "ad"; `<ad` (a tag being opened) for LoRAs and embeddings;
    a word of two or more letters for embeddings (`forced`, the completion key: any word, even
    an empty one, and LoRAs too)."""
    before = text[:cursor]
    match = _LORA_OPEN.search(before)
    if match:
        return Context(match.start(), match.group(1), ("lora",))
    match = _TAG_OPEN.search(before)
    if match:
        query = match.group(1)
        if "lora".startswith(query.lower()):
            query = ""  # "<", "<lo": still typing the tag's kind
        return Context(match.start(), query, ("lora", "embedding"))
    match = _WORD.search(before)
    if match and (forced or len(match.group()) >= MIN_WORD):
        kinds: tuple[Kind, ...] = ("lora", "embedding") if forced else ("embedding",)
        return Context(match.start(), match.group(), kinds)
    if forced:
        return Context(cursor, "", ("lora", "embedding"))
    return None


class _Matcher:
    """One query's scoring: higher is better, None no match. A prefix before a word start
    before a part of the name before the letters in order; a name before an alias."""

    def __init__(self, query: str) -> None:
        self.query = query.lower()
        self._word = re.compile(r"(?:^|[\W_])" + re.escape(self.query))
        self._in_order = re.compile(".*?".join(map(re.escape, self.query)))

    def field(self, field: str) -> int | None:
        q = self.query
        if field.startswith(q):
            return 400
        if q in field:
            return 300 if self._word.search(field) else 200
        return 100 if self._in_order.search(field) else None

    def score(self, name: str, alias: str) -> int | None:
        best = self.field(name.lower())
        if best is not None:
            best += 1
        if alias and alias != name:
            other = self.field(alias.lower())
            if other is not None and (best is None or other > best):
                best = other
        return best


def candidates(
    context: Context,
    loras: Iterable[tuple[str, str]],
    embeddings: Iterable[str],
    *,
    limit: int = 50,
) -> list[Candidate]:
    """What to offer for `context`, best first: `loras` as (name, alias), `embeddings` by name.
    Without a query, in the server's order. An embedding already typed in full is not offered.
    Cheap enough for every key on thousands of names (the Candidates are made for the best)."""
    pool: list[tuple[Kind, str, str]] = []
    if "lora" in context.kinds:
        pool.extend(("lora", name, alias) for name, alias in loras)
    if "embedding" in context.kinds:
        typed = context.query.lower() if context.kinds == ("embedding",) else None
        pool.extend(("embedding", name, "") for name in embeddings if name.lower() != typed)
    if not context.query:
        return [Candidate(*item) for item in pool[:limit]]
    matcher = _Matcher(context.query)
    scored: list[tuple[int, int, int]] = []
    for index, (_, name, alias) in enumerate(pool):
        score = matcher.score(name, alias)
        if score is not None:
            scored.append((-score, len(name), index))
    scored.sort()
    return [Candidate(*pool[index]) for _, _, index in scored[:limit]]


_TAG_REST = re.compile(r"([^<>:\s]*)(:[^<>\s]*)?>")


def complete(
    text: str, context: Context, cursor: int, candidate: Candidate
) -> tuple[int, int, str]:
    """The replacement that accepts `candidate`: (start, end, text) of the span to replace. A
    LoRA tag already closed after the cursor is replaced whole, keeping its weight
    (`<lora:fil|m:0.8>` → `<lora:film_grain:0.8>`)."""
    if candidate.kind == "lora":
        rest = _TAG_REST.match(text, cursor)
        if rest:
            weight = rest.group(2) or ":1"
            return context.start, rest.end(), f"<lora:{candidate.name}{weight}>"
    return context.start, cursor, candidate.insert


def clean_names(names: Sequence[str]) -> list[str]:
    """Names as they may appear in a prompt: no control characters, no newlines, no blanks."""
    cleaned = (strip_control(name, keep_newlines=False).strip() for name in names)
    return [name for name in cleaned if name]


# -- pasting an infotext -------------------------------------------------------------------------

_GENERATION_KEYS = ("Steps", "Sampler", "Seed", "Size", "CFG scale")


def is_infotext(text: str) -> bool:
    """A whole image's parameters (what the web UI's PNG Info shows), not a prompt: the last line
    parses as a parameter line by the web UI's rule (three or more `Key: value` pairs) and names
    at least one generation setting (Steps, Sampler, Seed, Size, CFG scale), so a prompt written
    as "mood: dark, light: soft, style: ink" is still pasted as text."""
    if not text.strip():
        return False
    params = parse_infotext(text).params
    return any(key in params for key in _GENERATION_KEYS)
