"""Styles merged into the prompts as the web UI v1.10 does it (modules/styles.py).

Each picked style is applied in order: a style prompt holding `{prompt}` has it replaced by the
prompt so far, any other is joined after it with ", " (empty parts dropped, both stripped). The
negative prompt the same with the style's negative. A name the server does not know is applied as
an empty style, as the web UI's `no_style` is: it changes nothing but the stripping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class StyleTexts(Protocol):
    """What merging needs of a style: a `Style`, or the API's `PromptStyle`."""

    @property
    def prompt(self) -> str: ...

    @property
    def negative_prompt(self) -> str: ...


@dataclass(frozen=True)
class Style:
    """A style's two texts (what the server's `prompt-styles` lists, by name)."""

    prompt: str = ""
    negative_prompt: str = ""


def merge_prompts(style_prompt: str, prompt: str) -> str:
    if "{prompt}" in style_prompt:
        return style_prompt.replace("{prompt}", prompt)
    return ", ".join(part for part in (prompt.strip(), style_prompt.strip()) if part)


def apply_styles(
    prompt: str,
    negative_prompt: str,
    names: Iterable[str],
    styles: Mapping[str, StyleTexts],
) -> tuple[str, str]:
    """The prompt and negative prompt the server generates from, with `names` applied in order."""
    for name in names:
        style: StyleTexts = styles.get(name) or Style()
        prompt = merge_prompts(style.prompt, prompt)
        negative_prompt = merge_prompts(style.negative_prompt, negative_prompt)
    return prompt, negative_prompt


def split_known(names: Sequence[str], known: Iterable[str]) -> tuple[list[str], list[str]]:
    """`names` in order, as (on this server, not on it)."""
    offered = set(known)
    return [n for n in names if n in offered], [n for n in names if n not in offered]
