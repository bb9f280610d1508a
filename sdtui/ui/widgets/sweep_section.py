"""The form's sweep: the web UI's "X/Y/Z plot" script, run as ordinary jobs, one per combination.

Folded, it is one line: "Sweep (X/Y/Z plot)", or once an axis is set "Sweep: CFG Scale × Steps
(6 jobs)". Open, three rows each pick a field and its values, written as the web UI reads them
("5, 7, 9", "1-10 (+2)", "1-10 [4]"); a checkbox asks for the labelled grid; the line under them
counts the jobs or says what is wrong with a row.

The rows' widgets are mounted the first time the section is opened: most jobs are not sweeps,
and the form is the bulk of the first screen to paint. What the user set lives in the section
itself, so `state()`, `restore()` and `axes()` work whether the widgets exist yet or not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Checkbox, Collapsible, Input, Label, Select, Static

from sdtui.engine.sweep import MAX_CELLS, SWEEP_FIELDS, Axis, SweepField, parse_values
from sdtui.text import strip_control
from sdtui.ui.widgets.form_fields import FormError
from sdtui.ui.widgets.in_order import NumberInput

AXES = ("x", "y", "z")
TITLE = "Sweep (X/Y/Z plot)"
NUMBERS = "5, 7, 9 or 1-10 (+2)"
# What to type, by field: numbers take the web UI's ranges, names a comma-separated list.
PLACEHOLDERS = {
    "seed": "1, 2, 3 or 100-103",
    "cfg": "5, 7, 9 or 4-10 [4]",
    "size": "512x512, 768x512",
    "subseed": "1, 2, 3 or 100-103",
    "subseed_strength": "0.1, 0.2 or 0-1 [5]",
    "denoise": "0.3, 0.5, 0.7",
    "hr_scale": "1.5, 2",
    "prompt": "cat, dog, fox (cat replaced)",
    "sampler": "Euler a, DPM++ 2M",
    "hr_sampler": "Euler a, DPM++ 2M",
    "scheduler": "Karras, Exponential",
    "model": "checkpoint names",
    "hr_upscaler": "Latent, R-ESRGAN 4x+",
    "styles": "style names",
    "vae": "VAE names",
}
# Fields that may be swept on two axes (two searches and replaces, two sets of styles); a size
# sets the width and the height.
REPEATABLE = frozenset({"prompt", "styles"})
SETS = {"size": ("width", "height")}


def field_choices() -> list[tuple[str, str]]:
    """The fields one can sweep, as the web UI names them, each once (aliases left out)."""
    fields: dict[str, SweepField] = {}
    for field in SWEEP_FIELDS.values():
        fields.setdefault(field.id, field)
    return [(field.label, field.id) for field in fields.values()]


def placeholder(field_id: str) -> str:
    field = SWEEP_FIELDS.get(field_id)
    if field is None:
        return "pick a field first"
    if field.id in PLACEHOLDERS:
        return PLACEHOLDERS[field.id]
    return NUMBERS if field.kind in (int, float) else "values, comma-separated"


@dataclass
class Row:
    """One axis as the user set it: a SWEEP_FIELDS id ("" for nothing) and the values typed."""

    field: str = ""
    text: str = ""


@dataclass(frozen=True)
class Reading:
    """What the rows say: the axes of the rows that are set, or the first row that is wrong
    (`widget`: the id of the widget to fix it in) and why."""

    axes: tuple[Axis, ...] = ()
    widget: str = ""
    error: str = ""

    @property
    def jobs(self) -> int:
        return math.prod(len(axis.values) for axis in self.axes) if self.axes else 0


def read_rows(rows: dict[str, Row]) -> Reading:
    """Parse every row that names a field; a row left at "nothing" is skipped (so with X at
    nothing and Y set, Y is the sweep's first axis)."""
    axes: list[Axis] = []
    used: dict[str, tuple[SweepField, str]] = {}  # a request field -> the axis setting it
    for name in AXES:
        row = rows[name]
        field = SWEEP_FIELDS.get(row.field)
        if field is None:
            continue
        letter = name.upper()
        for sets in () if field.id in REPEATABLE else SETS.get(field.id, (field.id,)):
            if sets in used:
                other, other_letter = used[sets]
                error = (
                    f"{letter}: {field.label} is already the {other_letter} axis"
                    if other is field
                    else f"{letter}: {field.label} and {other.label} ({other_letter}) both set "
                    f"the {sets}: sweep one of them"
                )
                return Reading(widget=f"sweep-{name}", error=error)
            used[sets] = (field, letter)
        values_id = f"sweep-{name}-values"
        if not row.text.strip():
            example = placeholder(field.id).split(" or ")[0].split(" (")[0]
            return Reading(
                widget=values_id, error=f"{letter}: type the {field.label} values, e.g. {example}"
            )
        try:
            values = parse_values(field, row.text)
        except ValueError as exc:
            return Reading(widget=values_id, error=f"{letter}: {exc}")
        axes.append(Axis(field, values, row.text.strip()))
    reading = Reading(axes=tuple(axes))
    if reading.jobs > MAX_CELLS:
        last = next(n for n in reversed(AXES) if rows[n].field in SWEEP_FIELDS)
        return Reading(
            widget=f"sweep-{last}-values",
            error=f"{reading.jobs} jobs: a sweep makes at most {MAX_CELLS}; give fewer values",
        )
    return reading


def _plural(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"


class SweepSection(Vertical):
    """The sweep's part of the form. The form reads `axes()` and `grid` from it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = {name: Row() for name in AXES}
        self.grid = True
        self.built = False  # the rows' widgets are mounted (on the first opening)

    def compose(self) -> ComposeResult:
        yield Collapsible(title=TITLE, collapsed=True, id="sweep-fold")

    def on_mount(self) -> None:
        self._show()

    # -- opening --------------------------------------------------------------------------------

    @on(Collapsible.Expanded, "#sweep-fold")
    def _expanded(self) -> None:
        self._build()

    def open(self) -> None:
        """Unfold, with the rows' widgets in the DOM at once (so one can be focused next)."""
        self._build()
        self.query_one(Collapsible).collapsed = False

    def _build(self) -> None:
        if self.built:
            return
        self.built = True
        grid = Grid(id="sweep-fields")
        choices = field_choices()
        widgets: list[Label | Select[str] | NumberInput] = []
        for name in AXES:
            row = self.rows[name]
            widgets.append(Label(name.upper(), classes="field-label"))
            widgets.append(
                Select(
                    choices,
                    id=f"sweep-{name}",
                    compact=True,
                    prompt="nothing",
                    value=row.field or Select.NULL,
                    tooltip=f"The field the {name.upper()} axis sweeps",
                )
            )
            widgets.append(
                NumberInput(
                    row.text,
                    id=f"sweep-{name}-values",
                    classes="sweep-values",
                    compact=True,
                    placeholder=placeholder(row.field),
                    tooltip="Values as the web UI's X/Y/Z plot reads them: 5, 7, 9 · 1-10 · "
                    "1-10 (+2) steps of 2 · 1-10 [4] four values",
                )
            )
        contents = self.query_one(Collapsible.Contents)
        contents.mount(grid)
        grid.mount_all(widgets)
        contents.mount(
            Checkbox(
                "Draw grid",
                self.grid,
                id="sweep-grid",
                compact=True,
                tooltip="Save one labelled image of every result once the sweep is done",
            ),
            Static("", id="sweep-status", markup=False),
        )
        self.call_after_refresh(self._show)

    # -- the user's edits -----------------------------------------------------------------------

    @on(Select.Changed, "#sweep-x, #sweep-y, #sweep-z")
    def _field_picked(self, event: Select.Changed) -> None:
        name = (event.select.id or "").removeprefix("sweep-")
        value = event.value
        self.rows[name].field = value if isinstance(value, str) else ""
        self.query_one(f"#sweep-{name}-values", Input).placeholder = placeholder(
            self.rows[name].field
        )
        self._show()

    @on(Input.Changed, ".sweep-values")
    def _values_typed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("sweep-").removesuffix("-values")
        self.rows[name].text = event.value
        self._show()

    @on(Checkbox.Changed, "#sweep-grid")
    def _grid_ticked(self, event: Checkbox.Changed) -> None:
        self.grid = event.value

    # -- what it says ---------------------------------------------------------------------------

    def _show(self) -> None:
        reading = read_rows(self.rows)
        labels = [
            SWEEP_FIELDS[r.field].label for r in self.rows.values() if r.field in SWEEP_FIELDS
        ]
        title = TITLE
        if reading.error:
            title = f"Sweep: {' × '.join(labels)} (fix the values)"
        elif reading.axes:
            title = f"Sweep: {' × '.join(a.field.label for a in reading.axes)}"
            title += f" ({_plural(reading.jobs)})"
        self.query_one(Collapsible).title = title
        self.set_class(bool(reading.axes), "-on")
        if not self.built:
            return
        status = self.query_one("#sweep-status", Static)
        if reading.error:
            status.update(reading.error)
        elif reading.axes:
            sizes = " × ".join(str(len(a.values)) for a in reading.axes)
            line = _plural(reading.jobs)
            status.update(f"{line} · {sizes}" if len(reading.axes) > 1 else line)
        else:
            status.update("Pick a field for X, then its values")
        status.set_class(bool(reading.error), "-error")

    # -- the form reads it ----------------------------------------------------------------------

    def axes(self) -> tuple[Axis, ...]:
        """The axes set, X first (empty when none is); FormError names the row to fix."""
        reading = read_rows(self.rows)
        if reading.error:
            raise FormError(reading.widget, f"Sweep {reading.error}")
        return reading.axes

    # -- across restarts ------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        data = {"sweep-grid": "1" if self.grid else ""}
        for name, row in self.rows.items():
            data[f"sweep-{name}"] = row.field
            data[f"sweep-{name}-values"] = row.text
        return data

    def restore(self, texts: dict[str, str]) -> None:
        """Put back what `state()` returned; a field no longer offered comes back as nothing."""
        for name in AXES:
            field = SWEEP_FIELDS.get(texts.get(f"sweep-{name}", ""))
            row = Row(
                field.id if field else "",
                strip_control(texts.get(f"sweep-{name}-values", ""), keep_newlines=False),
            )
            self.rows[name] = row
            if self.built:
                self.query_one(f"#sweep-{name}", Select).value = row.field or Select.NULL
                self.query_one(f"#sweep-{name}-values", Input).value = row.text
        self.grid = texts.get("sweep-grid", "1") != ""
        if self.built:
            self.query_one("#sweep-grid", Checkbox).value = self.grid
        self._show()
