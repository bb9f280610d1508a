"""The form's building blocks: number fields checked against engine.limits, and selects filled
from the server's lists that remember a value the server has not offered (yet)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from sdtui.api import Sampler, Scheduler, SdModel
from sdtui.engine import limits
from sdtui.engine.limits import LIMITS
from sdtui.engine.names import (
    UnknownName,
    match_sampler,
    match_scheduler,
    model_short_name,
    split_checkpoint_title,
)
from sdtui.engine.reuse import Reused
from sdtui.text import one_line
from sdtui.ui.widgets.in_order import NumberInput

NOT_ON_SERVER = " (not on server)"

# Widget id → the field's name in sdtui.engine.limits (the CLI checks the same ranges).
FIELDS: dict[str, str] = {
    "steps": "steps",
    "cfg": "cfg",
    "width": "width",
    "height": "height",
    "seed": "seed",
    "batch-size": "batch_size",
    "batch-count": "batch_count",
}
DEFAULTS: dict[str, str] = {
    field_id: str(LIMITS[name].default) for field_id, name in FIELDS.items()
}


class FormError(ValueError):
    """The form holds a value the server would refuse; `field` is the widget id to focus."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Filled:
    """What the form's `apply_infotext` did: the form as it was before (for an undo) and what
    was read."""

    before: dict[str, str]
    reused: Reused


class InRange(Validator):
    """A field's range, as sdtui.engine.limits has it."""

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field

    def validate(self, value: str) -> ValidationResult:
        try:
            limits.parse(self.field, value)
        except limits.LimitError as exc:
            return self.failure(exc.message)
        return self.success()


def number_field(
    field_id: str, limit_name: str, value: str | None = None, *, label: str | None = None
) -> ComposeResult:
    """A label and a number input for one of engine.limits' fields."""
    limit = LIMITS[limit_name]
    yield Label(label or limit.label, classes="field-label", id=f"{field_id}-label")
    yield NumberInput(
        default_text(limit_name) if value is None else value,
        id=field_id,
        compact=True,
        validators=[InRange(limit_name)],
        tooltip=limit.help,
        restrict=r"-?[0-9.]*",
        valid_empty=False,
    )


def default_text(limit_name: str) -> str:
    return str(LIMITS[limit_name].default)


def read_number(owner: Widget, field_id: str, limit_name: str) -> int | float:
    """The number in `owner`'s field `field_id`, or FormError naming the field."""
    try:
        return limits.parse(limit_name, owner.query_one(f"#{field_id}", Input).value)
    except limits.LimitError as exc:
        raise FormError(field_id, exc.message) from None


def valid_text(limit_name: str, text: str) -> bool:
    try:
        limits.parse(limit_name, text)
    except limits.LimitError:
        return False
    return True


class ServerSelect(Select[str]):
    """A compact select of one of the server's lists. `want(value)` selects a value whether or
    not the server offers it (yet): it is shown, sent, and kept once the list arrives."""

    def __init__(
        self,
        *,
        id: str,
        prompt: str,
        canonical: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__([], id=id, compact=True, prompt=prompt)
        self.wanted: str | None = None
        self.pairs: list[tuple[str, str]] = []  # what it offers (Select does not expose it)
        self._canonical = canonical

    @property
    def chosen(self) -> str | None:
        """The value picked, or the one wanted when none of the offered ones is."""
        if self.is_blank():
            return self.wanted
        return str(self.value)

    def offered(self) -> set[str]:
        return {v for _, v in self.pairs}

    def want(self, value: str | None) -> None:
        self.wanted = value
        with self.prevent(Select.Changed):
            if value is None:
                self.clear()
                return
            if value not in self.offered():
                found = self._canonical(value) if self._canonical else None
                value = self.wanted = found or value
            if value not in self.offered():
                self.pairs.append((one_line(value, 60), value))
                self.set_options(self.pairs)
            self.value = value

    def offer(
        self, pairs: Iterable[tuple[str, str]], canonical: Callable[[str], str | None] | None = None
    ) -> None:
        """The server's list; the wanted value stays selected (by its canonical name when the
        server spells it otherwise), marked when the server does not have it."""
        self.pairs = list(pairs)
        wanted = self.wanted
        if canonical is not None:
            self._canonical = canonical
        find = self._canonical
        if wanted and wanted not in self.offered():
            found = find(wanted) if find else None
            if found:
                wanted = self.wanted = found
            else:
                self.pairs.append((one_line(wanted, 40) + NOT_ON_SERVER, wanted))
        with self.prevent(Select.Changed):
            self.set_options(self.pairs)
            if wanted:
                self.value = wanted

    def pick_if_offered(self, value: str | None) -> None:
        """Remember `value`; select it only when the server lists it."""
        self.wanted = value
        if value and value in self.offered():
            with self.prevent(Select.Changed):
                self.value = value


def model_label(model: SdModel) -> str:
    """A checkpoint as the dropdown lists it: its name, the short hash only when it is known
    (a title's bracketed hash would wrap onto a line of its own in a narrow form)."""
    return one_line(model.model_name or model.title, 80)


def model_finder(models: list[SdModel]) -> Callable[[str], str | None]:
    """The title of the server's checkpoint an infotext names ("name [hash]", a title, a name)."""

    def find(wanted: str) -> str | None:
        name, short_hash = split_checkpoint_title(wanted)
        for model in models:
            hashes = {h for h in (model.hash, split_checkpoint_title(model.title)[1]) if h}
            if short_hash and short_hash in hashes:
                return model.title
        for model in models:
            if model_short_name(name) in (model_short_name(model.title), model.model_name):
                return model.title
        return None

    return find


def sampler_finder(samplers: list[Sampler]) -> Callable[[str], str | None]:
    """The canonical name of a sampler the web UI accepts by alias ("k_euler_a")."""

    def find(wanted: str) -> str | None:
        try:
            return match_sampler(wanted, samplers)
        except UnknownName:
            return None

    return find


def scheduler_finder(schedulers: list[Scheduler]) -> Callable[[str], str | None]:
    def find(wanted: str) -> str | None:
        try:
            return match_scheduler(wanted, schedulers)
        except UnknownName:
            return None

    return find
