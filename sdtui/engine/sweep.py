"""Sweeps: the web UI's X/Y/Z plot, done on this side of the API.

One form, up to three fields with several values each: a job per combination, queued as ordinary
jobs (so every server can take them), and a labelled grid of the results saved beside them. The
rules are the web UI's (scripts/xyz_grid.py):

- Values are a comma list read as CSV, so a value holding a comma is quoted
  (`prompt="a fox, running",a cat`). Whole-number and decimal fields also take ranges: `1-5`
  (every step of 1), `1-10 (+2)` (steps of 2), `1-10 [4]` (4 values spread evenly, ends
  included; whole numbers rounded down, as the web UI does).
- Prompt S/R: the first value is the text searched for; every value (the first too) replaces it
  in the prompt and the negative prompt. When neither holds it, the sweep is refused.
- A seed of -1 is fixed to one random seed for every cell (so only the swept fields change),
  unless the seed is what is swept; a -1 among the swept seeds becomes a random seed of its own.
- Cells run X fastest, then Y, then Z. Grid labels are "CFG Scale: 7"; Prompt S/R, Sampler and
  Checkpoint name show the value alone.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sdtui.api.types import GenerationRequest, Img2ImgRequest
from sdtui.engine.limits import MAX_SEED, LimitError, check
from sdtui.engine.names import match_model, match_name, match_sampler, match_scheduler
from sdtui.images.convert import to_png_with_parameters
from sdtui.images.grid import labelled_grid_png
from sdtui.images.infotext import format_infotext_value, parse_infotext
from sdtui.store.files import slugify
from sdtui.text import one_line

if TYPE_CHECKING:
    from sdtui.engine.server import ServerFacts
    from sdtui.store.history import ImageStore

__all__ = [
    "AXIS_NAMES",
    "MAX_AXES",
    "MAX_CELLS",
    "SWEEP_FIELDS",
    "Axis",
    "Sweep",
    "SweepCell",
    "SweepField",
    "expand",
    "field_for",
    "grid_infotext",
    "grid_png",
    "grid_stem",
    "parse_axis",
    "parse_values",
    "resolve_axis",
    "save_grid",
]

#: The most jobs one sweep queues.
MAX_CELLS = 512
#: X, Y and Z.
MAX_AXES = 3
AXIS_NAMES = ("X", "Y", "Z")
#: What the web UI's fix_seed draws a random seed from.
_RANDOM_SEEDS = 4294967294


@dataclass(frozen=True)
class SweepField:
    """A field a sweep can vary. `label` is the web UI's X/Y/Z plot name for it; `kind` the type
    of its values (int, float, str; tuple for a size)."""

    id: str
    label: str
    kind: type
    limit: str | None = None  # the engine.limits entry values are checked against
    bare: bool = False  # grid labels show the value alone ("Euler a", not "Sampler: Euler a")
    hires: bool = False  # a hires-fix setting: txt2img only, and sweeping it turns the fix on
    aliases: tuple[str, ...] = ()


_FIELDS = (
    SweepField("seed", "Seed", int, "seed", aliases=("seeds",)),
    SweepField("subseed", "Var. seed", int, "subseed", aliases=("variation_seed",)),
    SweepField(
        "subseed_strength",
        "Var. strength",
        float,
        "subseed_strength",
        aliases=("variation_strength", "variation_seed_strength"),
    ),
    SweepField("steps", "Steps", int, "steps", aliases=("step",)),
    SweepField(
        "hr_steps",
        "Hires steps",
        int,
        "hr_steps",
        hires=True,
        aliases=("hr_second_pass_steps",),
    ),
    SweepField("cfg", "CFG Scale", float, "cfg", aliases=("guidance",)),
    SweepField(
        "prompt", "Prompt S/R", str, bare=True, aliases=("prompt_sr", "sr", "s/r", "search_replace")
    ),
    SweepField("sampler", "Sampler", str, bare=True, aliases=("sampler_name",)),
    SweepField("hr_sampler", "Hires sampler", str, hires=True, aliases=("hr_sampler_name",)),
    SweepField("scheduler", "Schedule type", str, aliases=("schedule",)),
    SweepField(
        "model",
        "Checkpoint name",
        str,
        bare=True,
        aliases=("checkpoint", "ckpt", "sd_model_checkpoint"),
    ),
    SweepField("size", "Size", tuple),
    SweepField("width", "Width", int, "width"),
    SweepField("height", "Height", int, "height"),
    SweepField(
        "denoise", "Denoising", float, "denoise", aliases=("denoising_strength", "strength")
    ),
    SweepField("clip_skip", "Clip skip", int, "clip_skip"),
    SweepField(
        "hr_scale",
        "Hires upscale",
        float,
        "hr_scale",
        hires=True,
        aliases=("hires_scale", "hr_upscale"),
    ),
    SweepField("hr_upscaler", "Hires upscaler", str, hires=True),
    SweepField("styles", "Styles", str, aliases=("style",)),
    SweepField("vae", "VAE", str, aliases=("sd_vae",)),
)

#: Every field a sweep can vary, by id.
SWEEP_FIELDS: dict[str, SweepField] = {f.id: f for f in _FIELDS}


def _key(name: str) -> str:
    """A field name as typed, compared loosely: "CFG Scale", "cfg-scale" and "cfg_scale" match."""
    return re.sub(r"[\s._\-]+", "_", name.strip().lower()).strip("_")


_BY_NAME: dict[str, SweepField] = {}
for _field in _FIELDS:
    for _name in (_field.id, _field.label, *_field.aliases):
        _BY_NAME.setdefault(_key(_name), _field)
for _field in _FIELDS:  # "hires_steps" for "hr_steps", as the CLI's --hr-* flags are read
    if _field.id.startswith("hr_"):
        _BY_NAME.setdefault("hires_" + _field.id[3:], _field)


def field_for(name: str) -> SweepField:
    """The field `name` means (its id, the web UI's label, or an alias, ignoring case);
    ValueError naming the fields there are."""
    found = _BY_NAME.get(_key(name))
    if found is None:
        shown = one_line(name, 40)
        raise ValueError(f"unknown sweep field '{shown}'; use one of: {', '.join(SWEEP_FIELDS)}")
    return found


# -- values ---------------------------------------------------------------------------------------


def _format(value: object) -> str:
    """A value as the grid shows it: floats rounded to 8 places, without a trailing ".0"."""
    if isinstance(value, float):
        text = repr(round(value, 8))
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)


def _basename(title: str) -> str:
    return title.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Axis:
    """One swept field and its values, in order. `text` is the values as typed (the grid's
    infotext records it, as the web UI's "X Values" does)."""

    field: SweepField
    values: tuple[object, ...]
    text: str = ""

    def labels(self) -> list[str]:
        """The grid's label for each value: "CFG Scale: 5"; the value alone for Prompt S/R,
        Sampler and Checkpoint name (a checkpoint without its folder)."""
        if self.field.id == "model":
            return [_basename(str(v)) for v in self.values]
        if self.field.bare:
            return [_format(v) for v in self.values]
        return [f"{self.field.label}: {_format(v)}" for v in self.values]

    @property
    def values_text(self) -> str:
        """The values as typed, or written back as CSV when the axis was built in code."""
        if self.text.strip():
            return self.text.strip()
        out = io.StringIO()
        csv.writer(out).writerow([_format(v) for v in self.values])
        return out.getvalue().strip()


_INT = r"[+-]?\d+"
_FLOAT = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_INT_RANGE = re.compile(rf"\s*({_INT})\s*-\s*({_INT})\s*(?:\(\s*({_INT})\s*\)|\[\s*(\d+)\s*\])?\s*")
_FLOAT_RANGE = re.compile(
    rf"\s*({_FLOAT})\s*-\s*({_FLOAT})\s*(?:\(\s*({_FLOAT})\s*\)|\[\s*(\d+)\s*\])?\s*"
)
_SIZE = re.compile(r"\s*(\d+)\s*(?:[xX×*]\s*(\d+))?\s*")
_RANGE_HINT = "a number or a range such as 1-5, 1-10 (+2) or 1-10 [4]"


def _csv_items(field: SweepField, text: str) -> list[tuple[str, bool]]:
    """The comma-separated items of `text` (a line break separates too), each with whether it
    was quoted. CSV quoting: "a, b" is one item, "" inside quotes is a quote."""
    items: list[tuple[str, bool]] = []
    piece: list[str] = []
    quoted = in_quotes = False
    index = 0
    while index < len(text):
        char = text[index]
        if in_quotes:
            if char == '"' and text[index + 1 : index + 2] == '"':
                piece.append('"')
                index += 1
            elif char == '"':
                in_quotes = False
            else:
                piece.append(char)
        elif char == '"' and not "".join(piece).strip():
            piece, in_quotes, quoted = [], True, True
        elif char in ",\n":
            items.append(("".join(piece), quoted))
            piece, quoted = [], False
        else:
            piece.append(char)
        index += 1
    if in_quotes:
        raise ValueError(f'{field.label}: a quote is not closed (a value with commas is "a, b")')
    items.append(("".join(piece), quoted))
    return items


def _split(field: SweepField, text: str) -> list[str]:
    """The values, stripped. Empty ones are dropped, except a quoted "" for Prompt S/R
    (replacing the text with nothing is a fair question)."""
    items = [(item.strip(), quoted) for item, quoted in _csv_items(field, text)]
    if field.id == "prompt":
        if items and not items[0][0]:
            raise ValueError(
                "Prompt S/R: the first value is the text to search for; it cannot be empty"
            )
        return [item for item, quoted in items if item or quoted]
    return [item for item, _ in items if item]


def _too_many(field: SweepField, item: str, count: int) -> ValueError:
    return ValueError(
        f"{field.label}: {one_line(item, 40)} gives {count} values; a sweep makes at most "
        f"{MAX_CELLS} jobs"
    )


def _checked(field: SweepField, value: int | float, item: str) -> int | float:
    assert field.limit is not None
    try:
        return check(field.limit, value)
    except LimitError as exc:
        raise ValueError(str(exc)) from None


def _spread(field: SweepField, item: str, start: float, end: float, count: int) -> list[float]:
    """`count` values evenly spread from `start` to `end` (the `a-b [count]` form)."""
    if count < 1:
        raise ValueError(f"{field.label}: {item} asks for no values")
    if count > MAX_CELLS:
        raise _too_many(field, item, count)
    if count == 1:
        return [start]
    return [start + (end - start) * i / (count - 1) for i in range(count)]


def _int_range(field: SweepField, item: str, found: re.Match[str]) -> list[int]:
    start, end = int(found[1]), int(found[2])
    if found[4] is not None:
        # int() of evenly spread values, as the web UI's int(np.linspace(...)) gives them
        return [int(v) for v in _spread(field, item, start, end, int(found[4]))]
    step = int(found[3]) if found[3] is not None else (1 if end >= start else -1)
    if step == 0:
        raise ValueError(f"{field.label}: the step of {item} cannot be 0")
    if (end - start) * step < 0:
        raise ValueError(f"{field.label}: {item} never reaches {end} in steps of {step:+d}")
    count = (end - start) // step + 1
    if count > MAX_CELLS:
        raise _too_many(field, item, count)
    return [start + i * step for i in range(count)]


def _float_range(field: SweepField, item: str, found: re.Match[str]) -> list[float]:
    start, end = float(found[1]), float(found[2])
    if found[4] is not None:
        return [round(v, 8) for v in _spread(field, item, start, end, int(found[4]))]
    step = float(found[3]) if found[3] is not None else (1.0 if end >= start else -1.0)
    if step == 0:
        raise ValueError(f"{field.label}: the step of {item} cannot be 0")
    if (end - start) * step < 0:
        raise ValueError(
            f"{field.label}: {item} never reaches {_format(end)} in steps of {step:+g}"
        )
    span = (end - start) / step
    if span + 1 > MAX_CELLS:
        raise _too_many(field, item, math.floor(span + 1e-9) + 1)
    count = math.floor(span + 1e-9) + 1  # the end is included when a step lands on it
    return [round(start + i * step, 8) for i in range(count)]


def _numbers(field: SweepField, item: str) -> list[int | float]:
    whole = field.kind is int
    ranged = (_INT_RANGE if whole else _FLOAT_RANGE).fullmatch(item)
    if ranged is not None:
        spread: Sequence[int | float] = (
            _int_range(field, item, ranged) if whole else _float_range(field, item, ranged)
        )
        return [_checked(field, v, item) for v in spread]
    try:
        number: int | float = int(item) if whole else float(item)
    except ValueError:
        raise ValueError(f"{field.label}: '{one_line(item, 40)}' is not {_RANGE_HINT}") from None
    if not whole and not math.isfinite(number):
        raise ValueError(f"{field.label}: '{one_line(item, 40)}' is not {_RANGE_HINT}")
    return [_checked(field, number, item)]


def _size(item: str) -> tuple[int, int]:
    found = _SIZE.fullmatch(item)
    if found is None:
        raise ValueError(f"Size: '{one_line(item, 40)}' is not a size such as 512x768")
    width = int(found[1])
    height = int(found[2]) if found[2] is not None else width
    try:
        return int(check("width", width)), int(check("height", height))
    except LimitError as exc:
        raise ValueError(f"Size {width}x{height}: {exc.message}") from None


def parse_values(field: SweepField, text: str) -> tuple[object, ...]:
    """The values `text` gives `field`, as the web UI's X/Y/Z plot reads them ("5,7,9", "1-5",
    "1-10 (+2)", "1-10 [4]", quoted CSV for values with commas), each checked against the
    form's range for the field. ValueError with one line saying what is wrong."""
    items = _split(field, text)
    values: list[object] = []
    for item in items:
        if field.kind is int or field.kind is float:
            values += _numbers(field, item)
        elif field.kind is tuple:
            values.append(_size(item))
        else:
            values.append(item)
        if len(values) > MAX_CELLS:
            raise ValueError(
                f"{field.label}: more than {MAX_CELLS} values; a sweep makes at most {MAX_CELLS} jobs"
            )
    if not values:
        raise ValueError(f"{field.label}: no values given (for example {_example(field)})")
    return tuple(values)


def _example(field: SweepField) -> str:
    examples = {
        int: f"{field.id}=20,30 or {field.id}=1-5",
        float: f"{field.id}=5,7.5,10 or {field.id}=1-10 [4]",
        tuple: "size=512x768,768x512",
    }
    return examples.get(field.kind, f'{field.id}=one,"two, with a comma"')


def parse_axis(text: str) -> Axis:
    """An axis from "FIELD=V1,V2,..." (`--sweep cfg=5,7,9`); ValueError with one line naming the
    fields there are or what is wrong with the values."""
    name, equals, values = text.partition("=")
    if not equals or not name.strip():
        raise ValueError(
            f"a sweep is FIELD=V1,V2,... (for example cfg=5,7,9), not '{one_line(text, 40)}'; "
            f"fields: {', '.join(SWEEP_FIELDS)}"
        )
    sweep_field = field_for(name)
    return Axis(sweep_field, parse_values(sweep_field, values), values.strip())


# -- server names ---------------------------------------------------------------------------------


def resolve_axis(axis: Axis, facts: ServerFacts) -> Axis:
    """The axis with each name (sampler, schedule type, checkpoint, hires upscaler, style, VAE)
    replaced by the server's own, matched as the command line matches --sampler and the rest.
    A list the server does not offer leaves the names as typed. UnknownName (a ValueError)
    names a value the server lacks, with what it has."""
    resolve = _resolver(axis.field.id, facts)
    if resolve is None:
        return axis
    return dataclasses.replace(axis, values=tuple(resolve(str(v)) for v in axis.values))


def _resolver(field_id: str, facts: ServerFacts) -> Callable[[str], str] | None:
    if field_id in ("sampler", "hr_sampler") and facts.samplers:
        return lambda v: match_sampler(v, facts.samplers)
    if field_id == "scheduler" and facts.schedulers:
        return lambda v: match_scheduler(v, facts.schedulers)
    if field_id == "model" and facts.models:
        return lambda v: match_model(v, facts.models)
    if field_id == "hr_upscaler" and facts.hires_upscalers:
        names = facts.hires_upscalers
        return lambda v: match_name(v, "hires upscaler", names)
    if field_id == "vae" and facts.vaes:
        vaes = ["Automatic", "None", *(v.model_name for v in facts.vaes)]
        return lambda v: match_name(v, "VAE", vaes)
    if field_id == "styles" and facts.styles:
        styles = [s.name for s in facts.styles]
        return lambda v: ",".join(
            match_name(part, "style", styles) for part in v.split(",") if part.strip()
        )
    return None


# -- expanding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepCell:
    """One job of a sweep and where its image goes in the grid."""

    request: GenerationRequest
    x: int
    y: int
    z: int


@dataclass
class Sweep:
    """Every job of a sweep, X fastest, then Y, then Z."""

    axes: tuple[Axis, ...]
    cells: list[SweepCell] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(columns, rows, sheets): the X, Y and Z value counts (1 for an axis not used)."""
        counts = [len(a.values) for a in self.axes] + [1] * (MAX_AXES - len(self.axes))
        return counts[0], counts[1], counts[2]

    def labels(self, index: int) -> list[str]:
        """The grid labels of axis `index` (0 X, 1 Y, 2 Z): [""] for an axis not used."""
        return self.axes[index].labels() if index < len(self.axes) else [""]

    def summary(self) -> str:
        """One line: "6 jobs: CFG Scale 5, 7, 9 × Steps 20, 30"."""
        parts = [f"{a.field.label} {', '.join(_format(v) for v in a.values)}" for a in self.axes]
        count = len(self.cells)
        return one_line(f"{count} job{'' if count == 1 else 's'}: {' × '.join(parts)}", 200)


def _fixed_seed(seed: int | None, rng: random.Random) -> int:
    return rng.randrange(_RANDOM_SEEDS) if seed is None or seed < 0 else seed


# Fields that may be swept on two axes, as in the web UI: each applies on top of the other.
_REPEATABLE = frozenset({"prompt", "styles"})


def _check_axes(request: GenerationRequest, axes: Sequence[Axis]) -> None:
    if not axes:
        raise ValueError("a sweep needs at least one field, for example cfg=5,7,9")
    if len(axes) > MAX_AXES:
        raise ValueError(f"a sweep takes at most {MAX_AXES} fields (X, Y and Z); got {len(axes)}")
    seen: dict[str, str] = {}
    for axis in axes:
        ids = ("width", "height") if axis.field.id == "size" else (axis.field.id,)
        for field_id in ids if axis.field.id not in _REPEATABLE else ():
            if field_id in seen and seen[field_id] == axis.field.label:
                raise ValueError(f"{axis.field.label} is swept twice: give its values once")
            if field_id in seen:
                raise ValueError(
                    f"{axis.field.label} and {seen[field_id]} both set the {field_id}: "
                    "sweep one of them"
                )
            seen[field_id] = axis.field.label
        if not axis.values:
            raise ValueError(f"{axis.field.label}: no values given")
        img2img = isinstance(request, Img2ImgRequest)
        if axis.field.hires and img2img:
            raise ValueError(f"{axis.field.label} is a hires fix setting; img2img has no hires fix")
        if axis.field.id == "denoise" and not img2img and not request.enable_hr:
            raise ValueError(
                "Denoising applies to img2img and the hires fix: turn the hires fix on to sweep it"
            )
    count = math.prod(len(a.values) for a in axes)
    if count > MAX_CELLS:
        raise ValueError(f"the sweep makes {count} jobs; at most {MAX_CELLS} (give fewer values)")


def _apply(request: GenerationRequest, axis: Axis, value: object) -> GenerationRequest:
    """`request` with `axis` set to `value` (a new request; the old one is untouched)."""
    field_id = axis.field.id
    changes: dict[str, object] = {}
    if axis.field.hires:
        changes["enable_hr"] = True
    if field_id == "prompt":
        search = str(axis.values[0])
        if search not in request.prompt and search not in request.negative_prompt:
            raise ValueError(
                f"Prompt S/R did not find {one_line(search, 60)} in prompt or negative prompt"
            )
        changes["prompt"] = request.prompt.replace(search, str(value))
        changes["negative_prompt"] = request.negative_prompt.replace(search, str(value))
    elif field_id == "size":
        assert isinstance(value, tuple)
        changes["width"], changes["height"] = value
    elif field_id == "hr_scale":
        # A resize-to size wins over the scale on the server: the scale is what is swept.
        changes.update(hr_scale=value, hr_resize_x=None, hr_resize_y=None)
    elif field_id == "styles":
        added = [s.strip() for s in str(value).split(",") if s.strip()]
        changes["styles"] = [
            *(request.styles or []),
            *(s for s in added if s not in (request.styles or [])),
        ]
    elif field_id == "vae":
        changes["override_settings"] = {**(request.override_settings or {}), "sd_vae": value}
    else:
        changes[_REQUEST_FIELD[field_id]] = value
    return dataclasses.replace(request, **changes)  # type: ignore[arg-type]


_REQUEST_FIELD = {
    "seed": "seed",
    "subseed": "subseed",
    "subseed_strength": "subseed_strength",
    "steps": "steps",
    "hr_steps": "hr_second_pass_steps",
    "cfg": "cfg_scale",
    "sampler": "sampler_name",
    "hr_sampler": "hr_sampler_name",
    "scheduler": "scheduler",
    "model": "model",
    "width": "width",
    "height": "height",
    "denoise": "denoising_strength",
    "clip_skip": "clip_skip",
    "hr_upscaler": "hr_upscaler",
}


def _fix_seeds(
    request: GenerationRequest, axes: list[Axis], rng: random.Random
) -> tuple[GenerationRequest, list[Axis]]:
    """Seeds of -1 made fixed, as the web UI's X/Y/Z plot does: the request's (one seed for
    every cell), and each -1 among the swept seeds (one random seed each)."""
    swept = {a.field.id for a in axes}
    changes: dict[str, int] = {}
    if "seed" not in swept:
        changes["seed"] = _fixed_seed(request.seed, rng)
    variation = "subseed_strength" in swept or bool(request.subseed_strength)
    if "subseed" not in swept and variation:
        changes["subseed"] = _fixed_seed(request.subseed, rng)
    fixed_axes = [
        dataclasses.replace(
            a, values=tuple(_fixed_seed(v if isinstance(v, int) else -1, rng) for v in a.values)
        )
        if a.field.id in ("seed", "subseed")
        else a
        for a in axes
    ]
    return dataclasses.replace(request, **changes), fixed_axes  # type: ignore[arg-type]


def expand(
    request: GenerationRequest, axes: Sequence[Axis], rng: random.Random | None = None
) -> Sweep:
    """A job per combination of the axes' values (X fastest, then Y, then Z), each a copy of
    `request` with its values set. Seeds of -1 are fixed first (see the module's notes).
    ValueError with one line for a sweep that cannot run: no axes or more than three, a field
    swept twice, over MAX_CELLS jobs, a hires setting on img2img, Prompt S/R text not found."""
    _check_axes(request, axes)
    base, fixed = _fix_seeds(request, list(axes), rng or random.Random())
    padded = [*fixed] + [None] * (MAX_AXES - len(fixed))
    x_axis, y_axis, z_axis = padded
    cells: list[SweepCell] = []
    for z, z_value in enumerate(z_axis.values if z_axis else (None,)):
        for y, y_value in enumerate(y_axis.values if y_axis else (None,)):
            for x, x_value in enumerate(x_axis.values if x_axis else (None,)):
                cell = base
                for axis, value in ((x_axis, x_value), (y_axis, y_value), (z_axis, z_value)):
                    if axis is not None:
                        cell = _apply(cell, axis, value)
                cells.append(SweepCell(cell, x, y, z))
    return Sweep(axes=tuple(fixed), cells=cells)


# -- the grid -------------------------------------------------------------------------------------


def grid_png(sweep: Sweep, images: Sequence[bytes | None]) -> bytes:
    """The labelled grid of a sweep's images (one per cell, in cell order; None where a job
    failed, drawn grey): one sub-grid per Z value, joined side by side under the Z labels.
    CPU-bound (decodes every image): call it in a thread. ValueError when no image is there."""
    if len(images) != len(sweep.cells):
        raise ValueError(f"{len(images)} images for a sweep of {len(sweep.cells)} cells")
    columns, rows, sheets = sweep.shape
    png = labelled_grid_png(
        images,
        columns,
        rows,
        sweep.labels(0),
        sweep.labels(1),
        sweep.labels(2) if sheets > 1 else (),
    )
    return png


def grid_infotext(sweep: Sweep, infotext: str) -> str:
    """`infotext` (the first cell's, as the web UI uses) with the plot's own keys added to its
    parameter line: Script, X Type, X Values (as typed), Fixed X Values for seeds, and so on."""
    pairs = ["Script: X/Y/Z plot"]
    for name, axis in zip(AXIS_NAMES, sweep.axes, strict=False):
        pairs.append(f"{name} Type: {format_infotext_value(axis.field.label)}")
        pairs.append(f"{name} Values: {format_infotext_value(axis.values_text)}")
        if axis.field.id in ("seed", "subseed"):
            fixed = ", ".join(str(v) for v in axis.values)
            pairs.append(f"Fixed {name} Values: {format_infotext_value(fixed)}")
    extra = ", ".join(pairs)
    text = infotext.rstrip()
    if not text:
        return extra
    if parse_infotext(text).params:
        return f"{text}, {extra}"
    return f"{text}\n{extra}"


def grid_stem(sweep: Sweep, folder: Path) -> str:
    """The grid's file name without ".png", as the web UI names grids:
    xyz_grid-<number>-<seed>-<prompt words>, the number one past the highest in `folder`."""
    first = sweep.cells[0].request if sweep.cells else GenerationRequest()
    numbers = [-1]
    try:
        for path in folder.glob("xyz_grid-*.png"):
            found = re.match(r"xyz_grid-(\d+)-", path.name)
            if found:
                numbers.append(int(found[1]))
    except OSError:
        pass
    seed = first.seed if 0 <= first.seed <= MAX_SEED else "x"
    return f"xyz_grid-{max(numbers) + 1:04d}-{seed}-{slugify(first.prompt)}"


def _save_grid(
    sweep: Sweep,
    images: Sequence[bytes | None],
    store: ImageStore,
    infotext: str,
    when: datetime | None,
) -> Path:
    png = grid_png(sweep, images)
    if infotext:
        png = to_png_with_parameters(png, infotext)
    when = when or datetime.now()
    first = sweep.cells[0].request
    stem = grid_stem(sweep, store.folder_for(when))
    return store.save(png, prompt=first.prompt, seed=first.seed, when=when, stem=stem)


async def save_grid(
    sweep: Sweep,
    images: Sequence[bytes | None],
    store: ImageStore,
    infotext: str,
    *,
    when: datetime | None = None,
) -> Path:
    """Draw the grid and save it beside the sweep's images (the dated folder of `when`, today
    by default: pass the first image's time for a sweep that ran past midnight), as
    xyz_grid-NNNN-<seed>-<prompt words>.png carrying `infotext` in its `parameters` chunk
    (see :func:`grid_infotext`). Runs in a thread; atomic. ValueError when no image is there;
    SaveError when the folder cannot be written."""
    return await asyncio.to_thread(_save_grid, sweep, list(images), store, infotext, when)
