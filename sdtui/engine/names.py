"""Finding samplers, schedulers and models by the names people type.

One set of rules for the command line and the form: what the user wrote is compared, ignoring
case, with every name a thing goes by (a sampler's aliases, a scheduler's name and label, a
checkpoint's title, model name, file name, hashes). An exact match wins; otherwise a unique prefix
(for models also a unique substring, so "aurora" finds "demo-aurora.safetensors [12c7841cc0]").
No match, or several, raises `UnknownName` with a message that lists what the server has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sdtui.api.types import Sampler, Scheduler, SdModel
from sdtui.text import one_line

__all__ = [
    "MODEL_EXTENSIONS",
    "UnknownName",
    "match_model",
    "match_name",
    "match_sampler",
    "match_scheduler",
    "model_short_name",
    "split_checkpoint_title",
]

#: File extensions of checkpoints, dropped from the infotext's `Model:` name.
MODEL_EXTENSIONS = (".safetensors", ".ckpt", ".gguf", ".pt", ".pth", ".bin")

#: Longest message: the list of choices is cut to fit.
MESSAGE_LIMIT = 600
#: Shortest hash prefix accepted for a model (shorter ones match too many things by accident).
MIN_HASH_PREFIX = 8

# "name.safetensors [abcdef1234]": the web UI's checkpoint title, a short hash in brackets.
_TITLE = re.compile(r"^(?P<name>.*?)\s*\[(?P<hash>[0-9A-Fa-f]{6,64})\]$", re.DOTALL)
_HEX = re.compile(r"^[0-9a-f]+$")


class UnknownName(ValueError):
    """The name matches nothing the server has, or several things. `message` says which."""

    def __init__(self, message: str) -> None:
        self.message = one_line(message, MESSAGE_LIMIT)
        super().__init__(self.message)


def split_checkpoint_title(title: str) -> tuple[str, str | None]:
    """A checkpoint title's name and short hash: "sub/name.safetensors [abcdef1234]" →
    ("sub/name.safetensors", "abcdef1234"); a title without a bracketed hash → (title, None)."""
    text = title.strip()
    found = _TITLE.match(text)
    if found is None:
        return text, None
    return found["name"], found["hash"]


def _without_folder(name: str) -> str:
    return name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]


def _without_extension(name: str) -> str:
    lowered = name.lower()
    for ext in MODEL_EXTENSIONS:
        if lowered.endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)]
    return name


def model_short_name(title_or_name: str) -> str:
    """What the infotext's `Model:` holds: "sub/demo-ink.safetensors [abc]" → "demo-ink"."""
    name, _ = split_checkpoint_title(title_or_name)
    return _without_extension(_without_folder(name))


# -- matching -------------------------------------------------------------------------------------


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _choices(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "none"


def _match(
    wanted: str,
    what: str,
    candidates: Sequence[tuple[str, Sequence[str], Sequence[str]]],
    *,
    substring: bool = False,
) -> str:
    """The one result whose names fit `wanted`.

    `candidates` holds (result, names, hashes). Names match exactly, then as a unique prefix (and,
    with `substring`, as a unique substring of a name); hashes match exactly or, when at least
    MIN_HASH_PREFIX characters long, as a prefix, but never loosely.
    """
    lowered = wanted.strip().lower()
    shown = one_line(wanted, 60)
    if lowered:
        exact = _unique(
            result
            for result, names, hashes in candidates
            if lowered in (n.lower() for n in (*names, *hashes))
            or (
                len(lowered) >= MIN_HASH_PREFIX
                and _HEX.match(lowered)
                and any(h.lower().startswith(lowered) for h in hashes)
            )
        )
        if not exact:
            exact = _unique(
                result
                for result, names, _ in candidates
                if any(n.lower().startswith(lowered) for n in names)
            )
        if not exact and substring:  # in a title's name, not in its bracketed hash
            exact = _unique(
                result
                for result, names, _ in candidates
                if any(lowered in split_checkpoint_title(n)[0].lower() for n in names)
            )
        if len(exact) == 1:
            return exact[0]
        if exact:
            raise UnknownName(
                f"{what} '{shown}' matches several: {_choices(exact)} (give more of the name)"
            )
    everything = _unique(result for result, _, _ in candidates)
    raise UnknownName(f"unknown {what} '{shown}'; the server has: {_choices(everything)}")


def match_name(wanted: str, what: str, names: Sequence[str]) -> str:
    """One of `names` (upscalers, VAEs...) by its exact name, ignoring case, else a unique prefix;
    for names of files also without the extension. `what` names the kind in the message."""
    return _match(wanted, what, [(n, [n, _without_extension(n)], ()) for n in names])


def match_sampler(wanted: str, samplers: Sequence[Sampler]) -> str:
    """The canonical `Sampler.name` for a name or alias ("euler a", "k_euler_a", "DPM++ 2M S")."""
    return _match(wanted, "sampler", [(s.name, [s.name, *s.aliases], ()) for s in samplers])


def match_scheduler(wanted: str, schedulers: Sequence[Scheduler]) -> str:
    """The `Scheduler.label` the web UI shows ("Karras") for a label, name or alias."""
    candidates = []
    for s in schedulers:
        # The API lists aliases too ("SGMUniform"); accept them where the type carries them.
        aliases = getattr(s, "aliases", None) or ()
        candidates.append((s.label, [s.label, s.name, *aliases], ()))
    return _match(wanted, "scheduler", candidates)


def _model_names(model: SdModel) -> list[str]:
    names = [model.title, model.model_name]
    for path in (split_checkpoint_title(model.title)[0], model.filename):
        if path:
            base = _without_folder(path)
            names += [path, base, _without_extension(path), _without_extension(base)]
    return _unique(n for n in names if n)


def match_model(wanted: str, models: Sequence[SdModel]) -> str:
    """The `SdModel.title` for a title, model name, file name (with or without folder and
    extension), hash, sha256 or a prefix of it (8+ characters), or a unique part of the name."""
    candidates = []
    for m in models:
        title_hash = split_checkpoint_title(m.title)[1]
        hashes = [h for h in (m.hash, m.sha256, title_hash) if h]
        candidates.append((m.title, _model_names(m), hashes))
    return _match(wanted, "model", candidates, substring=True)
