"""The form's hires fix: a checkbox that reveals the second pass's settings.

Closed, it is one line ("Hires fix" and, when on, the final size "512x768 → 1024x1536"), so
the form fits 80x24. The fields follow the web UI's hires fix: upscaler (latent modes first, then
the upscalers, as the web UI lists them), upscale by or resize to (0 = from the scale),
second-pass steps (0 = as many as the first pass), denoising strength (always sent with
`enable_hr`), and an optional sampler and prompts of its own.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, Static

from sdtui.api import GenerationRequest
from sdtui.engine.server import ServerFacts
from sdtui.text import one_line, strip_control
from sdtui.ui.widgets.form_fields import (
    ServerSelect,
    default_text,
    model_finder,
    model_label,
    number_field,
    read_number,
    sampler_finder,
    scheduler_finder,
    valid_text,
)

# Widget id → engine.limits field, and the label the form's narrow column shows.
HIRES_FIELDS: dict[str, tuple[str, str]] = {
    "hr-scale": ("hr_scale", "Upscale by"),
    "hr-denoise": ("denoise", "Denoise"),
    "hr-width": ("hr_width", "Width"),
    "hr-height": ("hr_height", "Height"),
    "hr-steps": ("hr_steps", "Steps"),
}
SELECTS = ("hr-upscaler", "hr-sampler", "hr-scheduler", "hr-checkpoint")
HIRES_DEFAULTS = {"hr-denoise": "0.7"}  # the web UI's slider starts at 0.7 for the hires fix


def hires_size(
    width: int, height: int, scale: float, resize_x: int, resize_y: int
) -> tuple[int, int]:
    """The hires fix's final size, as the web UI computes it (processing.py's init)."""
    if not resize_x and not resize_y:
        return int(width * scale), int(height * scale)
    if not resize_y:
        return resize_x, resize_x * height // width
    if not resize_x:
        return resize_y * width // height, resize_y
    return resize_x, resize_y


class HiresSection(Vertical):
    """The hires fix's part of the form. The form asks it to `apply` itself to a request."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="hr-head"):
            yield Checkbox("Hires fix", id="hr-enable", compact=True, tooltip="Hires fix: on/off")
            yield Static("", id="hr-size")
        with Grid(id="hr-fields"):
            yield Label("Upscaler", classes="field-label")
            yield ServerSelect(id="hr-upscaler", prompt="Latent")
            for field_id, (name, label) in HIRES_FIELDS.items():
                yield from number_field(field_id, name, HIRES_DEFAULTS.get(field_id), label=label)
            yield Label("Sampler", classes="field-label")
            yield ServerSelect(id="hr-sampler", prompt="same as first pass")
            yield Label("Schedule", classes="field-label")
            yield ServerSelect(id="hr-scheduler", prompt="same as first pass")
            yield Label("Model", classes="field-label")
            yield ServerSelect(id="hr-checkpoint", prompt="same as first pass")
            yield Label("Prompt", classes="field-label")
            yield Input(id="hr-prompt", compact=True, placeholder="same as first pass")
            yield Label("Negative", classes="field-label")
            yield Input(id="hr-negative", compact=True, placeholder="same as first pass")

    def on_mount(self) -> None:
        self._show_fields()

    @property
    def enabled(self) -> bool:
        return self.query_one("#hr-enable", Checkbox).value

    @on(Checkbox.Changed, "#hr-enable")
    def _show_fields(self) -> None:
        self.query_one("#hr-fields").display = self.enabled
        self.set_class(self.enabled, "-on")

    def _select(self, select_id: str) -> ServerSelect:
        return self.query_one(f"#{select_id}", ServerSelect)

    def _number(self, field_id: str) -> int | float:
        return read_number(self, field_id, HIRES_FIELDS[field_id][0])

    def show_size(self, width: int | None, height: int | None) -> None:
        """ "512x768 → 1024x1536" beside the checkbox, while it is on and the fields are valid."""
        text = ""
        if self.enabled and width and height:
            try:
                size = hires_size(
                    width,
                    height,
                    float(self._number("hr-scale")),
                    int(self._number("hr-width")),
                    int(self._number("hr-height")),
                )
                text = f"{width}x{height} → {size[0]}x{size[1]}"
            except ValueError:
                text = ""
        self.query_one("#hr-size", Static).update(text)

    # -- the request ----------------------------------------------------------------------------

    def apply(self, request: GenerationRequest) -> None:
        """Set the request's hires fields (FormError names a bad field); off, leave them unset."""
        if not self.enabled:
            return
        request.enable_hr = True
        request.hr_scale = float(self._number("hr-scale"))
        request.hr_second_pass_steps = int(self._number("hr-steps"))
        request.hr_resize_x = int(self._number("hr-width"))
        request.hr_resize_y = int(self._number("hr-height"))
        request.denoising_strength = float(self._number("hr-denoise"))
        request.hr_upscaler = self._select("hr-upscaler").chosen
        request.hr_sampler_name = self._select("hr-sampler").chosen
        request.hr_scheduler = self._select("hr-scheduler").chosen
        request.hr_checkpoint_name = self._select("hr-checkpoint").chosen
        prompt = self.query_one("#hr-prompt", Input).value
        negative = self.query_one("#hr-negative", Input).value
        request.hr_prompt = prompt or None
        request.hr_negative_prompt = negative or None

    def fill(self, request: GenerationRequest) -> None:
        """Show the hires fix of a request (an image's parameters); off when it has none."""
        self.query_one("#hr-enable", Checkbox).value = request.enable_hr
        if not request.enable_hr:
            return
        values = {
            "hr-scale": request.hr_scale or 2.0,
            "hr-steps": request.hr_second_pass_steps or 0,
            "hr-width": request.hr_resize_x or 0,
            "hr-height": request.hr_resize_y or 0,
            "hr-denoise": 0.7 if request.denoising_strength is None else request.denoising_strength,
        }
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = f"{value:g}"
        self._select("hr-upscaler").want(request.hr_upscaler)
        self._select("hr-sampler").want(request.hr_sampler_name)
        self._select("hr-scheduler").want(request.hr_scheduler)
        self._select("hr-checkpoint").want(request.hr_checkpoint_name)
        self.query_one("#hr-prompt", Input).value = strip_control(
            request.hr_prompt or "", keep_newlines=False
        )
        self.query_one("#hr-negative", Input).value = strip_control(
            request.hr_negative_prompt or "", keep_newlines=False
        )

    # -- across restarts ------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        data = {"hr-enable": "1" if self.enabled else ""}
        for field_id in (*HIRES_FIELDS, "hr-prompt", "hr-negative"):
            data[field_id] = self.query_one(f"#{field_id}", Input).value
        for select_id in SELECTS:
            data[select_id] = self._select(select_id).chosen or ""
        return data

    def restore(self, texts: dict[str, str]) -> None:
        for field_id, (name, _) in HIRES_FIELDS.items():
            value = strip_control(texts.get(field_id, ""), keep_newlines=False).strip()
            self.query_one(f"#{field_id}", Input).value = (
                value
                if valid_text(name, value)
                else HIRES_DEFAULTS.get(field_id, default_text(name))
            )
        for field_id in ("hr-prompt", "hr-negative"):
            self.query_one(f"#{field_id}", Input).value = strip_control(
                texts.get(field_id, ""), keep_newlines=False
            )
        for select_id in SELECTS:
            self._select(select_id).want(texts.get(select_id) or None)
        self.query_one("#hr-enable", Checkbox).value = bool(texts.get("hr-enable"))

    def set_facts(self, facts: ServerFacts) -> None:
        self._select("hr-upscaler").offer([(one_line(n, 40), n) for n in facts.hires_upscalers])
        self._select("hr-scheduler").offer(
            [(one_line(s.label, 40), s.label) for s in facts.schedulers],
            scheduler_finder(facts.schedulers),
        )
        # An infotext names the checkpoint "name [hash]": the server's title is found for it.
        self._select("hr-checkpoint").offer(
            [(model_label(m), m.title) for m in facts.models], model_finder(facts.models)
        )
        self._select("hr-sampler").offer(
            [(one_line(s.name, 40), s.name) for s in facts.samplers], sampler_finder(facts.samplers)
        )
