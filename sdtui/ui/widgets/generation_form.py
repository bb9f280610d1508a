"""The generation form: prompts and every setting, validated as the user types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.validation import ValidationResult
from textual.widgets import Checkbox, Collapsible, Input, Label, Select, Static

from sdtui.api import GenerationRequest, PromptStyle
from sdtui.engine.img2img import SourceImage, fit_size
from sdtui.engine.limits import SIZE_PRESETS
from sdtui.engine.reuse import request_from_infotext
from sdtui.engine.server import ServerFacts
from sdtui.engine.sweep import Axis
from sdtui.text import one_line, strip_control
from sdtui.ui.actions import KeyMap
from sdtui.ui.widgets.advanced_section import ADVANCED_FIELDS, AdvancedSection
from sdtui.ui.widgets.form_fields import (
    DEFAULTS,
    FIELDS,
    Filled,
    FormError,
    ServerSelect,
    model_label,
    number_field,
    read_number,
    sampler_finder,
    scheduler_finder,
    valid_text,
)
from sdtui.ui.widgets.hires_section import HIRES_FIELDS, HiresSection
from sdtui.ui.widgets.img2img_section import IMG2IMG_FIELDS, Img2ImgSection
from sdtui.ui.widgets.prompt_editor import PromptEditor
from sdtui.ui.widgets.style_preview import StylePreview
from sdtui.ui.widgets.sweep_section import SweepSection

__all__ = ["DEFAULTS", "FIELDS", "Filled", "FormError", "GenerationForm"]

# Every number field of the form and its sections: they show their range's error as typed.
CHECKED: dict[str, str] = FIELDS | {
    field_id: name
    for table in (HIRES_FIELDS, ADVANCED_FIELDS, IMG2IMG_FIELDS)
    for field_id, (name, _) in table.items()
}


class GenerationForm(Vertical):
    """Prompts and every setting. Parents read it with `to_request()` (img2img once an init
    image is set) and fill it with `fill_request()` / `apply_infotext()`; it posts `ModelChanged`
    when the user picks a model."""

    class ModelChanged(Message):
        def __init__(self, title: str) -> None:
            super().__init__()
            self.title = title

    class Invalid(Message):
        """Posted when the form becomes invalid or valid again (message None)."""

        def __init__(self, message: str | None) -> None:
            super().__init__()
            self.message = message

    def __init__(self, keys: KeyMap | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys = keys or KeyMap()
        self._errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        prompt = PromptEditor(id="prompt", soft_wrap=True, tab_behavior="focus")
        prompt.border_title = "Prompt"
        negative = PromptEditor(id="negative", soft_wrap=True, tab_behavior="focus")
        negative.border_title = "Negative prompt"
        yield prompt
        yield negative
        yield StylePreview(id="styles")  # the styles row, and what the prompts become
        yield Img2ImgSection(self.keys.name("clear_init"), id="img2img")
        with Grid(id="settings"):
            for field_id, name in FIELDS.items():
                yield from number_field(field_id, name)
            yield Label("Size", classes="field-label")
            yield Select(
                [(f"{w}×{h}", (w, h)) for w, h in SIZE_PRESETS],
                id="size-preset",
                compact=True,
                prompt="custom",
                tooltip=f"Common sizes ({self.keys.name('swap_size')} swaps width and height)",
            )
        with Grid(id="choices"):
            yield Label("Sampler", classes="field-label")
            yield ServerSelect(id="sampler", prompt="server default")
            yield Label("Schedule", classes="field-label")
            yield ServerSelect(id="scheduler", prompt="Automatic")
            yield Label("Model", classes="field-label")
            yield ServerSelect(id="model", prompt="loaded model")
        yield HiresSection(id="hires")
        yield AdvancedSection(id="advanced")
        yield SweepSection(id="sweep")
        yield Static("", id="form-error")

    def _select(self, select_id: str) -> ServerSelect:
        return self.query_one(f"#{select_id}", ServerSelect)

    @property
    def hires(self) -> HiresSection:
        return self.query_one(HiresSection)

    @property
    def advanced(self) -> AdvancedSection:
        return self.query_one(AdvancedSection)

    @property
    def img2img(self) -> Img2ImgSection:
        return self.query_one(Img2ImgSection)

    # -- validation -----------------------------------------------------------------------------

    @on(Input.Changed)
    def _validated(self, event: Input.Changed) -> None:
        field_id = event.input.id or ""
        if field_id not in CHECKED:
            return
        result: ValidationResult | None = event.validation_result
        if result is None or result.is_valid:
            self._errors.pop(field_id, None)
        else:
            self._errors[field_id] = result.failure_descriptions[0]
        self._show_errors()

    @on(Checkbox.Changed, "#hr-enable")
    def _show_errors(self) -> None:
        message = self.error
        error = self.query_one("#form-error", Static)
        error.update(message or "")
        error.set_class(message is not None, "-shown")
        self.post_message(self.Invalid(message))

    @property
    def error(self) -> str | None:
        """The first field's error, leaving out the sections that are off (nothing reads them)."""
        off = set() if self.hires.enabled else set(HIRES_FIELDS)
        off |= set() if self.img2img.active else set(IMG2IMG_FIELDS)
        return next((m for f, m in self._errors.items() if f not in off), None)

    def reveal(self, field_id: str) -> None:
        """Unfold the section holding `field_id`, so it can take the focus."""
        if field_id.startswith("sweep-"):
            self.query_one(SweepSection).open()  # its rows are mounted on the first opening
        for node in self.query_one(f"#{field_id}").ancestors:
            if isinstance(node, Collapsible):
                node.collapsed = False

    def _value(self, field_id: str) -> int | float:
        return read_number(self, field_id, FIELDS[field_id])

    # -- reading and filling --------------------------------------------------------------------

    def to_request(self) -> GenerationRequest:
        """The request the form describes, read from the widgets as they are now; FormError
        names the first bad field."""
        request = GenerationRequest(
            prompt=self.query_one("#prompt", PromptEditor).text,
            negative_prompt=self.query_one("#negative", PromptEditor).text,
            steps=int(self._value("steps")),
            cfg_scale=float(self._value("cfg")),
            seed=int(self._value("seed")),
            width=int(self._value("width")),
            height=int(self._value("height")),
            batch_size=int(self._value("batch-size")),
            n_iter=int(self._value("batch-count")),
        )
        request.sampler_name = self._select("sampler").chosen
        request.scheduler = self._select("scheduler").chosen
        self.advanced.apply(request)
        request.styles = self.query_one(StylePreview).sent or None
        if self.img2img.active:
            # The size fields hold the init image's own size unless typed since (see _init_loaded).
            return self.img2img.apply(request, size_given=True)
        self.hires.apply(request)
        return request

    def sweep_axes(self) -> tuple[Axis, ...]:
        """The sweep's axes, X first (empty: no sweep); FormError names the row to fix."""
        return self.query_one(SweepSection).axes()

    def sweep_grid(self) -> bool:
        return self.query_one(SweepSection).grid

    def _set_input(self, field_id: str, value: object) -> None:
        self.query_one(f"#{field_id}", Input).value = str(value)

    def _load_prompts(self, prompt: str, negative: str) -> None:
        # Text from files and servers may carry escape sequences: never let them reach the screen.
        for editor_id, text in (("#prompt", prompt), ("#negative", negative)):
            editor = self.query_one(editor_id, PromptEditor)
            editor.load_text(strip_control(text))
            editor.move_cursor(editor.document.end)  # typing goes on from the end, not before it

    def state(self) -> dict[str, str]:
        """Everything the user typed, as the widgets hold it now (even if not valid yet)."""
        data = {
            "prompt": self.query_one("#prompt", PromptEditor).text,
            "negative": self.query_one("#negative", PromptEditor).text,
        }
        for field_id in FIELDS:
            data[field_id] = self.query_one(f"#{field_id}", Input).value
        for select_id in ("sampler", "scheduler"):
            value = self._select(select_id).chosen
            if value:
                data[select_id] = value
        data |= self.hires.state() | self.advanced.state() | self.img2img.state()
        data |= self.query_one(SweepSection).state()
        data["styles"] = self.query_one(StylePreview).saved
        return data

    def restore(self, data: Mapping[str, object]) -> None:
        """Put back what `state()` returned. A value the form would refuse (a field left empty
        mid-edit, a hand-edited file) keeps the field's default: the form comes back valid."""
        texts = {k: v for k, v in data.items() if isinstance(v, str)}
        self._load_prompts(texts.get("prompt", ""), texts.get("negative", ""))
        for field_id, field in FIELDS.items():
            value = strip_control(texts.get(field_id, ""), keep_newlines=False).strip()
            if valid_text(field, value):
                self._set_input(field_id, value)
        for select_id in ("sampler", "scheduler"):
            self._select(select_id).want(texts.get(select_id) or None)
        self.hires.restore(texts)
        self.advanced.restore(texts)
        self.img2img.restore(texts)
        self.query_one(SweepSection).restore(texts)
        self.query_one(StylePreview).restore(texts.get("styles"))

    def fill_request(self, request: GenerationRequest, *, with_seed: bool = True) -> None:
        """Show every setting of `request` (an image's parameters, as engine.reuse reads them).
        The batch size and count stay as typed: an image does not say how many were made."""
        self._load_prompts(request.prompt, request.negative_prompt)
        values = {"steps": request.steps, "cfg": f"{request.cfg_scale:g}"}
        values |= {"width": request.width, "height": request.height}
        if with_seed:
            values["seed"] = request.seed
        for field_id, value in values.items():
            self._set_input(field_id, value)
        self._select("sampler").want(request.sampler_name)
        self._select("scheduler").want(request.scheduler or "Automatic")
        self.hires.fill(request)
        self.advanced.fill(request)
        self.query_one(StylePreview).set_picked(request.styles or [])

    def apply_infotext(self, text: str, styles: Sequence[PromptStyle] = ()) -> Filled:
        """Fill the form from an infotext (a history image's, a pasted one), as the web UI's
        "Read generation parameters" does; the form as it was comes back for an undo."""
        before = self.state()
        reused = request_from_infotext(text, styles=styles)
        self.fill_request(reused.request)
        self.img2img.fill(reused.img2img)  # kept for an init image set later, if none is yet
        return Filled(before, reused)

    # -- img2img ----------------------------------------------------------------------------------

    def set_init_image(self, path: Path) -> None:
        """Make `path` the init image (read in a thread): the form sends img2img from then on."""
        self.img2img.set_init(path)

    def clear_init_image(self) -> bool:
        """Back to txt2img; False when there was no init image."""
        cleared = self.img2img.clear()
        self.set_class(False, "-img2img")
        self._show_errors()
        return cleared

    @on(Img2ImgSection.Loaded)
    def _init_loaded(self, event: Img2ImgSection.Loaded) -> None:
        self.set_class(True, "-img2img")
        self._show_errors()
        if event.fill_size:
            width, height = fit_size(event.image.width, event.image.height)
            self._set_input("width", width)
            self._set_input("height", height)

    @property
    def init_image(self) -> SourceImage | None:
        return self.img2img.init

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

    @on(Input.Changed, "#width, #height, #hr-scale, #hr-width, #hr-height")
    @on(Checkbox.Changed, "#hr-enable")
    def _size_typed(self) -> None:
        """The preset shows the size in the fields (or "custom"), whatever changed them; the
        hires fix shows the size it makes of it."""
        try:
            size = (int(self._value("width")), int(self._value("height")))
        except FormError:
            size = (0, 0)
        self.hires.show_size(*size)
        preset: Select[tuple[int, int]] = self.query_one("#size-preset", Select)
        with self.prevent(Select.Changed):
            if size in SIZE_PRESETS:
                preset.value = size
            else:
                preset.clear()

    @on(Select.Changed, "#model")
    def _model_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.post_message(self.ModelChanged(event.value))

    # -- choices from the server ----------------------------------------------------------------

    def set_facts(self, facts: ServerFacts) -> None:
        """Every list the server offers: samplers, schedules, models, upscalers, VAEs."""
        samplers, schedulers = facts.samplers, facts.schedulers
        self._select("sampler").offer(
            [(one_line(s.name, 40), s.name) for s in samplers], sampler_finder(samplers)
        )
        # The web UI's dropdown and infotexts use labels ("Karras"); the server takes either.
        self._select("scheduler").offer(
            [(one_line(s.label, 40), s.label) for s in schedulers], scheduler_finder(schedulers)
        )
        model = self._select("model")
        model.wanted = facts.model_title
        model.offer([(model_label(m), m.title) for m in facts.models])
        self.hires.set_facts(facts)
        self.advanced.set_facts(facts)
        self.query_one(StylePreview).set_offered(facts.styles)

    def set_current_model(self, title: str | None) -> None:
        self._select("model").pick_if_offered(title)
