"""The rest of the web UI's txt2img tab, folded away: variation seed, clip skip, face restoration,
tiling, the refiner and the VAE.

Its title says what is not at the server's default ("More: clip skip 2, VAE"), so a setting
that changes every image is never hidden without a word.
"""

from __future__ import annotations

import json
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Checkbox, Collapsible, Input, Label, Select, Static

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
    valid_text,
)

ADVANCED_FIELDS: dict[str, tuple[str, str]] = {
    "subseed": ("subseed", "Var. seed"),
    "subseed-strength": ("subseed_strength", "Var. str."),
    "clip-skip": ("clip_skip", "Clip skip"),
    "refiner-switch": ("refiner_switch_at", "Switch at"),
}
CHECKS = {"restore-faces": "Restore faces", "tiling": "Tiling"}
# Settings the form has fields for; any other override an image carries (ENSD, RNG, Eta...) is
# kept as read and sent with the job, as the web UI's "Override settings" keeps them.
FORM_SETTINGS = frozenset({"sd_vae", "CLIP_stop_at_last_layers", "sd_model_checkpoint"})
SELECTS = ("refiner", "vae")
TITLE = "More settings"


class AdvancedSection(Vertical):
    def compose(self) -> ComposeResult:
        with Collapsible(title=TITLE, collapsed=True, id="more"):
            with Grid(id="more-fields"):
                for field_id, (name, label) in ADVANCED_FIELDS.items():
                    if field_id == "refiner-switch":
                        yield Label("Refiner", classes="field-label")
                        yield ServerSelect(id="refiner", prompt="none")
                    yield from number_field(field_id, name, label=label)
                # Kept apart from the variation fields: the grid puts them side by side.
                yield Label("VAE", classes="field-label", id="vae-label")
                yield ServerSelect(id="vae", prompt="server's choice")
            with Horizontal(id="more-checks"):
                for check_id, label in CHECKS.items():
                    yield Checkbox(label, id=check_id, compact=True)
            yield Static("", id="more-overrides", markup=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.overrides: dict[str, Any] = {}
        self.seed_resize: tuple[int, int] | None = None  # "Seed resize from", with variations

    def on_mount(self) -> None:
        self._set_overrides({})

    def _select(self, select_id: str) -> ServerSelect:
        return self.query_one(f"#{select_id}", ServerSelect)

    def _number(self, field_id: str) -> int | float:
        return read_number(self, field_id, ADVANCED_FIELDS[field_id][0])

    def _checked(self, check_id: str) -> bool:
        return self.query_one(f"#{check_id}", Checkbox).value

    # -- the title says what differs ------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _summarise(self) -> None:
        parts = []
        values = {f: self.query_one(f"#{f}", Input).value.strip() for f in ADVANCED_FIELDS}
        try:
            if float(values["subseed-strength"] or 0) > 0:
                parts.append("variation")
        except ValueError:
            pass
        if values["clip-skip"] not in ("", "1"):
            parts.append(f"clip skip {values['clip-skip']}")
        parts += [label.lower() for check_id, label in CHECKS.items() if self._checked(check_id)]
        if self._select("refiner").chosen:
            parts.append("refiner")
        if self._select("vae").chosen:
            parts.append("VAE")
        if self.overrides or self.seed_resize:
            parts.append("overrides")
        self.query_one(Collapsible).title = f"More: {', '.join(parts)}" if parts else TITLE

    # -- the request ----------------------------------------------------------------------------

    def apply(self, request: GenerationRequest) -> None:
        strength = float(self._number("subseed-strength"))
        subseed = int(self._number("subseed"))
        if strength > 0:
            request.subseed = subseed
            request.subseed_strength = strength
        if self.seed_resize:
            request.seed_resize_from_w, request.seed_resize_from_h = self.seed_resize
        clip_skip = int(self._number("clip-skip"))
        request.clip_skip = clip_skip if clip_skip > 1 else None
        request.restore_faces = True if self._checked("restore-faces") else None
        request.tiling = True if self._checked("tiling") else None
        refiner = self._select("refiner").chosen
        switch = float(self._number("refiner-switch"))
        if refiner:
            request.refiner_checkpoint = refiner
            request.refiner_switch_at = switch
        settings = {**self.overrides, **(request.override_settings or {})}
        vae = self._select("vae").chosen
        if vae:
            settings["sd_vae"] = vae
        request.override_settings = settings or None

    def fill(self, request: GenerationRequest) -> None:
        values: dict[str, object] = {
            "subseed": request.subseed if request.subseed_strength else -1,
            "subseed-strength": request.subseed_strength or 0.0,
            "clip-skip": request.clip_skip or 1,
            "refiner-switch": request.refiner_switch_at or 0.8,
        }
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = str(value)
        self.query_one("#restore-faces", Checkbox).value = bool(request.restore_faces)
        self.query_one("#tiling", Checkbox).value = bool(request.tiling)
        self._select("refiner").want(request.refiner_checkpoint)
        vae = (request.override_settings or {}).get("sd_vae")
        self._select("vae").want(vae if isinstance(vae, str) and vae != "Automatic" else None)
        width, height = request.seed_resize_from_w, request.seed_resize_from_h
        self._set_overrides(
            {k: v for k, v in (request.override_settings or {}).items() if k not in FORM_SETTINGS},
            (width, height) if width and height and width > 0 and height > 0 else None,
        )

    def clear_overrides(self) -> bool:
        """Drop the settings kept from an image's parameters; False when there were none."""
        had = bool(self.overrides or self.seed_resize)
        self._set_overrides({}, None)
        return had

    def _set_overrides(
        self, overrides: dict[str, Any], seed_resize: tuple[int, int] | None = None
    ) -> None:
        """Settings an image brought that have no field here: kept, sent, and listed."""
        self.overrides, self.seed_resize = overrides, seed_resize
        shown = [f"{k} {one_line(str(v), 40)}" for k, v in overrides.items()]
        if seed_resize:
            shown.append(f"seed resize from {seed_resize[0]}x{seed_resize[1]}")
        line = self.query_one("#more-overrides", Static)
        line.update(f"Kept from the image: {', '.join(shown)}" if shown else "")
        line.display = bool(shown)
        self._summarise()

    # -- across restarts ------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        data = {f: self.query_one(f"#{f}", Input).value for f in ADVANCED_FIELDS}
        data |= {c: "1" if self._checked(c) else "" for c in CHECKS}
        data |= {s: self._select(s).chosen or "" for s in SELECTS}
        data["overrides"] = json.dumps(self.overrides) if self.overrides else ""
        resize = self.seed_resize
        data["seed-resize"] = f"{resize[0]}x{resize[1]}" if resize else ""
        return data

    def restore(self, texts: dict[str, str]) -> None:
        for field_id, (name, _) in ADVANCED_FIELDS.items():
            value = strip_control(texts.get(field_id, ""), keep_newlines=False).strip()
            self.query_one(f"#{field_id}", Input).value = (
                value if valid_text(name, value) else default_text(name)
            )
        for check_id in CHECKS:
            self.query_one(f"#{check_id}", Checkbox).value = bool(texts.get(check_id))
        for select_id in SELECTS:
            self._select(select_id).want(texts.get(select_id) or None)
        width, _, height = texts.get("seed-resize", "").partition("x")
        resize = (int(width), int(height)) if width.isdigit() and height.isdigit() else None
        self._set_overrides(_overrides(texts.get("overrides", "")), resize)

    def set_facts(self, facts: ServerFacts) -> None:
        self._select("refiner").offer(
            [(model_label(m), m.title) for m in facts.models], model_finder(facts.models)
        )
        vaes = [(one_line(v.model_name, 60), v.model_name) for v in facts.vaes]
        vae = self._select("vae")
        vae.offer(vaes)
        # A server without VAEs to pick (sd.cpp, KoboldCpp) gets no VAE row.
        shown = bool(vaes) or vae.chosen is not None
        vae.display = shown
        self.query_one("#vae-label").display = shown


def _overrides(text: str) -> dict[str, Any]:
    """Overrides as `state()` saved them: settings with plain values; anything else is dropped."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    plain = (str, int, float, bool)
    return {
        strip_control(k, keep_newlines=False): v
        for k, v in data.items()
        if isinstance(k, str) and k not in FORM_SETTINGS and isinstance(v, plain)
    }
