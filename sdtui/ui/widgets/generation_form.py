"""The generation form: prompts and every setting, validated as the user types."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.validation import Function, Integer, Number, ValidationResult, Validator
from textual.widgets import Input, Label, Select, Static, TextArea

from sdtui.api import GenerationRequest, Sampler, Scheduler, SdModel
from sdtui.images.infotext import Infotext
from sdtui.text import one_line, strip_control

SIZE_PRESETS: tuple[tuple[int, int], ...] = (
    (512, 512),
    (512, 768),
    (768, 512),
    (768, 768),
    (1024, 1024),
    (832, 1216),
    (1216, 832),
    (896, 1152),
    (1152, 896),
    (768, 1344),
    (1344, 768),
)
MAX_SEED = 2**32 - 1


class FormError(ValueError):
    """The form holds a value the server would refuse; `field` is the widget id to focus."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _multiple_of_8(value: str) -> bool:
    try:
        return int(value) % 8 == 0
    except ValueError:
        return True  # the Integer validator reports that


@dataclass(frozen=True)
class FieldSpec:
    id: str
    label: str
    validators: tuple[Validator, ...]
    tooltip: str


FIELDS: dict[str, FieldSpec] = {
    spec.id: spec
    for spec in (
        FieldSpec(
            "steps",
            "Steps",
            (Integer(1, 150, failure_description="Steps must be a whole number from 1 to 150"),),
            "Sampling steps (1-150)",
        ),
        FieldSpec(
            "cfg",
            "CFG",
            (Number(1, 30, failure_description="CFG must be a number from 1 to 30"),),
            "Classifier-free guidance scale",
        ),
        FieldSpec(
            "seed",
            "Seed",
            (
                Integer(
                    -1, MAX_SEED, failure_description="Seed must be -1 (random) or 0 to 4294967295"
                ),
            ),
            "-1 picks a random seed",
        ),
        FieldSpec(
            "width",
            "Width",
            (
                Integer(64, 2048, failure_description="Width must be 64 to 2048 pixels"),
                Function(_multiple_of_8, "Width must be a multiple of 8"),
            ),
            "Image width in pixels",
        ),
        FieldSpec(
            "height",
            "Height",
            (
                Integer(64, 2048, failure_description="Height must be 64 to 2048 pixels"),
                Function(_multiple_of_8, "Height must be a multiple of 8"),
            ),
            "Image height in pixels",
        ),
        FieldSpec(
            "batch-size",
            "Batch",
            (Integer(1, 8, failure_description="Batch size must be 1 to 8 images"),),
            "Images per batch (generated together)",
        ),
        FieldSpec(
            "batch-count",
            "× Count",
            (Integer(1, 100, failure_description="Batch count must be 1 to 100"),),
            "Number of batches (run one after another)",
        ),
    )
}


class GenerationForm(Vertical):
    """Prompt, negative prompt and settings. Parents read it with `to_request()` and fill it
    with `load_request()` / `load_infotext()`; it posts `ModelChanged` when the user picks a model."""

    class ModelChanged(Message):
        def __init__(self, title: str) -> None:
            super().__init__()
            self.title = title

    class Invalid(Message):
        """Posted when the form becomes invalid or valid again (message None)."""

        def __init__(self, message: str | None) -> None:
            super().__init__()
            self.message = message

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._wanted: dict[str, str | None] = {"sampler": None, "scheduler": None, "model": None}
        self._errors: dict[str, str] = {}
        # What each select offers, kept here (Select does not expose its options).
        self._options: dict[str, list[tuple[str, str]]] = {
            "sampler": [],
            "scheduler": [],
            "model": [],
        }

    def compose(self) -> ComposeResult:
        prompt = TextArea(id="prompt", soft_wrap=True, tab_behavior="focus")
        prompt.border_title = "Prompt"
        negative = TextArea(id="negative", soft_wrap=True, tab_behavior="focus")
        negative.border_title = "Negative prompt"
        yield prompt
        yield negative
        with Grid(id="settings"):
            for field_id, default in (
                ("steps", "20"),
                ("cfg", "7.0"),
                ("seed", "-1"),
                ("batch-size", "1"),
                ("width", "512"),
                ("height", "512"),
            ):
                yield from self._field(field_id, default)
            yield Label("Count", classes="field-label")
            yield Input(
                "1",
                id="batch-count",
                compact=True,
                validators=list(FIELDS["batch-count"].validators),
                tooltip=FIELDS["batch-count"].tooltip,
                restrict=r"-?[0-9.]*",
            )
            yield Label("Size", classes="field-label")
            yield Select(
                [(f"{w} × {h}", (w, h)) for w, h in SIZE_PRESETS],
                id="size-preset",
                compact=True,
                prompt="preset",
                tooltip="Common sizes (ctrl+t swaps width and height)",
            )
        with Grid(id="choices"):
            yield Label("Sampler", classes="field-label")
            yield Select([], id="sampler", compact=True, prompt="server default")
            yield Label("Schedule", classes="field-label")
            yield Select([], id="scheduler", compact=True, prompt="Automatic")
            yield Label("Model", classes="field-label")
            yield Select([], id="model", compact=True, prompt="loaded model")
        yield Static("", id="form-error")

    def _field(self, field_id: str, default: str) -> ComposeResult:
        spec = FIELDS[field_id]
        yield Label(spec.label, classes="field-label")
        yield Input(
            default,
            id=field_id,
            compact=True,
            validators=list(spec.validators),
            tooltip=spec.tooltip,
            restrict=r"-?[0-9.]*",
            valid_empty=False,
        )

    # -- validation -----------------------------------------------------------------------------

    @on(Input.Changed)
    def _validated(self, event: Input.Changed) -> None:
        field_id = event.input.id or ""
        if field_id not in FIELDS:
            return
        result: ValidationResult | None = event.validation_result
        if result is None or result.is_valid:
            self._errors.pop(field_id, None)
        else:
            self._errors[field_id] = result.failure_descriptions[0]
        self._show_errors()

    def _show_errors(self) -> None:
        message = next(iter(self._errors.values()), None)
        error = self.query_one("#form-error", Static)
        error.update(message or "")
        error.set_class(message is not None, "-shown")
        self.post_message(self.Invalid(message))

    @property
    def error(self) -> str | None:
        return next(iter(self._errors.values()), None)

    def _value(self, field_id: str) -> str:
        widget = self.query_one(f"#{field_id}", Input)
        result = widget.validate(widget.value)
        if result is not None and not result.is_valid:
            raise FormError(field_id, result.failure_descriptions[0])
        return widget.value.strip()

    # -- reading and filling --------------------------------------------------------------------

    def to_request(self) -> GenerationRequest:
        """The request the form describes; FormError names the first bad field."""
        prompt = self.query_one("#prompt", TextArea).text
        negative = self.query_one("#negative", TextArea).text
        request = GenerationRequest(
            prompt=prompt,
            negative_prompt=negative,
            steps=int(self._value("steps")),
            cfg_scale=float(self._value("cfg")),
            seed=int(self._value("seed")),
            width=int(self._value("width")),
            height=int(self._value("height")),
            batch_size=int(self._value("batch-size")),
            n_iter=int(self._value("batch-count")),
        )
        request.sampler_name = self._select_value("sampler")
        request.scheduler = self._select_value("scheduler")
        return request

    def _select_value(self, select_id: str) -> str | None:
        select: Select[str] = self.query_one(f"#{select_id}", Select)
        if select.is_blank():
            return self._wanted.get(select_id)
        return str(select.value)

    def _set_input(self, field_id: str, value: object) -> None:
        self.query_one(f"#{field_id}", Input).value = str(value)

    def _load_prompts(self, prompt: str, negative: str) -> None:
        # Text from files and servers may carry escape sequences: never let them reach the screen.
        self.query_one("#prompt", TextArea).load_text(strip_control(prompt))
        self.query_one("#negative", TextArea).load_text(strip_control(negative))

    def load_request(self, request: GenerationRequest) -> None:
        self._load_prompts(request.prompt, request.negative_prompt)
        self._set_input("steps", request.steps)
        self._set_input("cfg", request.cfg_scale)
        self._set_input("seed", request.seed)
        self._set_input("width", request.width)
        self._set_input("height", request.height)
        self._set_input("batch-size", request.batch_size)
        self._set_input("batch-count", request.n_iter)
        self._want("sampler", request.sampler_name)
        self._want("scheduler", request.scheduler)

    INPUT_IDS = ("steps", "cfg", "seed", "width", "height", "batch-size", "batch-count")

    def state(self) -> dict[str, str]:
        """Everything the user typed, as typed (even if not valid yet), for keeping across runs."""
        data = {
            "prompt": self.query_one("#prompt", TextArea).text,
            "negative": self.query_one("#negative", TextArea).text,
        }
        for field_id in self.INPUT_IDS:
            data[field_id] = self.query_one(f"#{field_id}", Input).value
        for select_id in ("sampler", "scheduler"):
            value = self._select_value(select_id)
            if value:
                data[select_id] = value
        return data

    def restore(self, data: dict[str, object]) -> None:
        """Put back what `state()` returned; unknown or mistyped entries are ignored."""
        texts = {k: v for k, v in data.items() if isinstance(v, str)}
        self._load_prompts(texts.get("prompt", ""), texts.get("negative", ""))
        for field_id in self.INPUT_IDS:
            if field_id in texts:
                self._set_input(field_id, strip_control(texts[field_id], keep_newlines=False))
        for select_id in ("sampler", "scheduler"):
            if texts.get(select_id):
                self._want(select_id, texts[select_id])

    def load_infotext(self, info: Infotext, *, with_seed: bool = True) -> None:
        """Fill the form from an image's parameters (the web UI's "send to txt2img")."""
        self._load_prompts(info.prompt, info.negative_prompt)
        if info.steps is not None:
            self._set_input("steps", info.steps)
        if info.cfg_scale is not None:
            self._set_input("cfg", info.cfg_scale)
        if with_seed and info.seed is not None:
            self._set_input("seed", info.seed)
        if info.width and info.height:
            self._set_input("width", info.width)
            self._set_input("height", info.height)
        if info.sampler:
            self._want("sampler", info.sampler)
        self._want("scheduler", info.scheduler or "Automatic")

    def set_seed(self, seed: int) -> None:
        self._set_input("seed", seed)

    def swap_size(self) -> None:
        width = self.query_one("#width", Input).value
        self._set_input("width", self.query_one("#height", Input).value)
        self._set_input("height", width)

    @on(Select.Changed, "#size-preset")
    def _preset(self, event: Select.Changed) -> None:
        if isinstance(event.value, tuple):
            width, height = event.value
            self._set_input("width", width)
            self._set_input("height", height)

    @on(Select.Changed, "#model")
    def _model_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.post_message(self.ModelChanged(event.value))

    # -- choices from the server ----------------------------------------------------------------

    def _want(self, select_id: str, value: str | None) -> None:
        """Select `value` if the server offers it; remember it either way so it is sent and shown
        once the lists arrive."""
        self._wanted[select_id] = value
        select: Select[str] = self.query_one(f"#{select_id}", Select)
        options = self._options[select_id]
        with self.prevent(Select.Changed):
            if value is None:
                select.clear()
                return
            if value not in {v for _, v in options}:
                options.append((one_line(value, 60), value))
                select.set_options(options)
            select.value = value

    def set_choices(
        self,
        samplers: list[Sampler],
        schedulers: list[Scheduler],
        models: list[SdModel],
        current_model: str | None,
    ) -> None:
        lists: dict[str, list[tuple[str, str]]] = {
            "sampler": [(one_line(s.name, 40), s.name) for s in samplers],
            # The web UI's dropdown and infotexts use labels ("Karras"); the server takes either.
            "scheduler": [(one_line(s.label, 40), s.label) for s in schedulers],
            "model": [(one_line(m.title, 80), m.title) for m in models],
        }
        self._wanted["model"] = current_model
        with self.prevent(Select.Changed):
            for select_id, pairs in lists.items():
                select: Select[str] = self.query_one(f"#{select_id}", Select)
                wanted = self._wanted.get(select_id)
                if wanted and wanted not in {v for _, v in pairs}:
                    # The web UI accepts aliases ("k_euler_a"); find the canonical name.
                    canonical = self._canonical(select_id, wanted, samplers, schedulers)
                    if canonical:
                        wanted = self._wanted[select_id] = canonical
                    else:
                        pairs.append((one_line(wanted, 40) + " (not on server)", wanted))
                self._options[select_id] = pairs
                select.set_options(pairs)
                if wanted:
                    select.value = wanted

    @staticmethod
    def _canonical(
        select_id: str, wanted: str, samplers: list[Sampler], schedulers: list[Scheduler]
    ) -> str | None:
        lowered = wanted.lower()
        if select_id == "sampler":
            for s in samplers:
                if lowered == s.name.lower() or lowered in (a.lower() for a in s.aliases):
                    return s.name
        if select_id == "scheduler":
            for sch in schedulers:
                if lowered in (sch.name.lower(), sch.label.lower()):
                    return sch.label
        return None

    def set_current_model(self, title: str | None) -> None:
        self._wanted["model"] = title
        select: Select[str] = self.query_one("#model", Select)
        with self.prevent(Select.Changed):
            if title and title in {v for _, v in self._options["model"]}:
                select.value = title
