"""Reading a saved image's parameters back into a request: one reading for every reuse.

`sdtui generate --from FILE`, the TUI's load and its re-run all go through
`request_from_infotext`, so an image loads the same way wherever it is reused. The reading follows
the web UI's "send to txt2img" (modules/infotext_utils.py in v1.10):

- Prompt, negative prompt, steps, sampler, schedule type, CFG, seed, size, variation seed and
  strength, seed resize, clip skip, face restoration, tiling, the hires fix keys, the refiner and
  the VAE become request fields. Hires fix is on when the text has a `Hires upscale`,
  `Hires resize` or `Hires upscaler` key (a txt2img image with hires always has them).
- `Model` and `Model hash` are kept as read (`Reused.model_name`, `Reused.model_hash`): matching
  them against the server's checkpoints is `match_reused_model`'s job, since only the server knows
  what it has. The VAE goes through `override_settings` (`sd_vae`), as the web UI's paste does.
- Styles are not written in an infotext: the web UI writes the merged prompt and, on paste, finds
  the styles whose text it contains and takes that text out again (`extract_styles_from_prompt`).
  Given the server's styles, so does this reading.
- LoRA tags stay in the prompt (`Lora hashes` only describes them).
- One image re-runs as one image: an infotext does not say how many images its job made (the web
  UI never writes the batch count), and the image's seed is its own, so batch size and count are 1.
- img2img-only keys (`Mask blur`, `Inpaint area`, ...) are kept in `Reused.img2img`, the fields an
  img2img request takes, for a caller that has an init image to send.

Keys the reading does not know (extensions' `ControlNet 0`, `ADetailer model`, ...) are listed in
`Reused.ignored`, so the user is told what did not come back.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sdtui.api.types import GenerationRequest, PromptStyle, SdModel
from sdtui.engine.names import model_short_name, split_checkpoint_title
from sdtui.images.infotext import Infotext, parse_infotext
from sdtui.text import one_line

if TYPE_CHECKING:
    from sdtui.engine.server import ServerFacts

__all__ = [
    "INFORMATIONAL_KEYS",
    "OVERRIDE_KEYS",
    "Reused",
    "extract_styles",
    "fit_to_server",
    "match_reused_model",
    "request_from_infotext",
    "split_sampler_scheduler",
]

#: Keys that describe an image without being settings to send: read, never "ignored".
INFORMATIONAL_KEYS: frozenset[str] = frozenset(
    {
        "Model hash",
        "VAE hash",
        "Lora hashes",
        "TI hashes",
        "Hypernet hashes",
        "Version",
        "User",
        "Init image hash",
        "Batch size",
        "Batch pos",
    }
)

#: Keys the web UI pastes into "Override settings" (infotext_utils' setting-name mapping), with
#: the setting each one sets and the type of its value.
OVERRIDE_KEYS: dict[str, tuple[str, type]] = {
    "ENSD": ("eta_noise_seed_delta", int),
    "RNG": ("randn_source", str),
    "Token merging ratio": ("token_merging_ratio", float),
    "Token merging ratio hr": ("token_merging_ratio_hr", float),
    "Eta": ("eta_ancestral", float),
    "Eta DDIM": ("eta_ddim", float),
    "NGMS": ("s_min_uncond", float),
    "Emphasis": ("emphasis", str),
    "Pad conds": ("pad_cond_uncond", bool),
    "Downcast alphas_cumprod": ("use_downcasted_alpha_bar", bool),
    "Schedule max sigma": ("sigma_max", float),
    "Schedule min sigma": ("sigma_min", float),
    "Schedule rho": ("rho", float),
}

# Schedule types the web UI v1.9+ split off old sampler names ("DPM++ 2M Karras").
_SCHEDULE_SUFFIXES = (
    "Karras",
    "Exponential",
    "SGM Uniform",
    "Polyexponential",
    "Uniform",
    "KL Optimal",
    "Align Your Steps",
    "Simple",
    "Normal",
    "Beta",
)

_SIZE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")

# img2img's "Masked content" and "Inpaint area" values, as the web UI's radio buttons say them.
_MASKED_CONTENT = {"fill": 0, "original": 1, "latent noise": 2, "latent nothing": 3}


@dataclass
class Reused:
    """What an image's infotext gives back.

    `request`: the txt2img request to send again (model not set: see `model_name`). `read`: the
    keys that were understood, in the text's order; `ignored`: the keys that could not be used.
    `img2img`: the img2img-only fields the text carries (`Img2ImgRequest` field names), and
    `from_img2img` whether the image looks like an img2img result (a denoising strength without
    hires fix)."""

    request: GenerationRequest
    read: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    model_name: str | None = None
    model_hash: str | None = None
    vae: str | None = None
    styles: list[str] = field(default_factory=list)
    img2img: dict[str, Any] = field(default_factory=dict)
    from_img2img: bool = False

    @property
    def ignored_line(self) -> str:
        """ "ignored: ControlNet 0, ADetailer model", or "" when everything was used."""
        if not self.ignored:
            return ""
        return one_line("ignored: " + ", ".join(self.ignored), 300)


def split_sampler_scheduler(sampler: str, scheduler: str | None) -> tuple[str, str | None]:
    """An old sampler name with its schedule in it ("DPM++ 2M Karras", written before v1.9) →
    ("DPM++ 2M", "Karras"), as the web UI reads it; otherwise the two as given."""
    if scheduler:
        return sampler, scheduler
    for suffix in _SCHEDULE_SUFFIXES:
        if sampler.endswith(" " + suffix) and len(sampler) > len(suffix) + 1:
            return sampler[: -len(suffix) - 1], suffix
    return sampler, scheduler


def _take_style(style_text: str, prompt: str) -> str | None:
    """`prompt` with `style_text` taken out, or None when the style is not in it (the web UI's
    extract_style_text_from_prompt)."""
    text = prompt.strip()
    style = style_text.strip()
    if "{prompt}" in style:
        left, _, right = style.partition("{prompt}")
        if text.startswith(left) and text.endswith(right) and len(text) >= len(left) + len(right):
            return text[len(left) : len(text) - len(right)]
        return None
    if not text.endswith(style):
        return None
    rest = text[: len(text) - len(style)]
    return rest[:-2] if rest.endswith(", ") else rest


def extract_styles(
    prompt: str, negative: str, styles: Sequence[PromptStyle]
) -> tuple[list[str], str, str]:
    """The styles whose text a merged prompt holds, and the prompts without it.

    The web UI's own rule: repeatedly find a style (not yet found) whose prompt and negative prompt
    both end the current prompts (or wrap them, for a `{prompt}` style), and take it out; the styles
    come back in the order they were applied."""
    found: list[str] = []
    left = [s for s in styles if s.prompt or s.negative_prompt]
    while True:
        for style in left:
            positive = _take_style(style.prompt, prompt)
            if positive is None:
                continue
            negative_rest = _take_style(style.negative_prompt, negative)
            if negative_rest is None:
                continue
            prompt, negative = positive, negative_rest
            found.append(style.name)
            left.remove(style)
            break
        else:
            break
    return list(reversed(found)), prompt, negative


def _size(text: str | None) -> tuple[int, int] | None:
    found = _SIZE.match(text) if text else None
    return (int(found[1]), int(found[2])) if found else None


def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() not in ("", "false", "0", "none", "no")


class _Reader:
    """Takes keys from a parsed infotext into a request, noting which it used."""

    def __init__(self, info: Infotext, request: GenerationRequest) -> None:
        self.info = info
        self.request = request
        self.used: set[str] = set()

    def text(self, key: str) -> str | None:
        value = self.info.get(key)
        if value is None:
            return None
        self.used.add(key)
        return value

    def int(self, key: str) -> int | None:
        value = self.info.get_int(key)
        if value is not None:
            self.used.add(key)
        return value

    def float(self, key: str) -> float | None:
        value = self.info.get_float(key)
        if value is not None:
            self.used.add(key)
        return value

    def set(self, name: str, value: object) -> None:
        if value is not None:
            setattr(self.request, name, value)


def request_from_infotext(
    text: str,
    base: GenerationRequest | None = None,
    *,
    styles: Sequence[PromptStyle] = (),
) -> Reused:
    """The request an image's infotext describes, on top of `base` (default: a fresh request):
    fields the text does not mention keep `base`'s values, except batch size and count (1).

    `styles`: the server's styles, to find the ones merged into the prompt; without them the
    prompt stays as written (which makes the same image)."""
    info = parse_infotext(text)
    request = dataclasses.replace(base) if base is not None else GenerationRequest()
    request.override_settings = dict(request.override_settings or {}) or None
    r = _Reader(info, request)
    reused = Reused(request=request)

    prompt, negative = info.prompt, info.negative_prompt
    hr_prompt, hr_negative = info.get("Hires prompt"), info.get("Hires negative prompt")
    if styles:
        found, prompt, negative = extract_styles(prompt, negative, styles)
        if found and (hr_prompt is not None or hr_negative is not None):
            # The server merged the styles into the hires prompts too: take them out of those
            # as well, or keep every prompt merged when they do not hold the same styles.
            hr_found, hr_prompt_rest, hr_negative_rest = extract_styles(
                info.prompt if hr_prompt is None else hr_prompt,
                info.negative_prompt if hr_negative is None else hr_negative,
                styles,
            )
            if hr_found == found:
                hr_prompt = None if hr_prompt is None else hr_prompt_rest
                hr_negative = None if hr_negative is None else hr_negative_rest
            else:
                found, prompt, negative = [], info.prompt, info.negative_prompt
        reused.styles = found
    request.prompt, request.negative_prompt = prompt, negative
    request.styles = reused.styles or None
    request.batch_size, request.n_iter = 1, 1

    r.set("steps", r.int("Steps"))
    r.set("cfg_scale", r.float("CFG scale"))
    r.set("seed", r.int("Seed"))
    size = _size(r.text("Size"))
    if size:
        request.width, request.height = size
    sampler = r.text("Sampler")
    scheduler = r.text("Schedule type")
    if sampler:
        sampler, scheduler = split_sampler_scheduler(sampler, scheduler)
        request.sampler_name = sampler
    if scheduler:
        # "Automatic" is what the server does when none is sent: leave the field to it.
        request.scheduler = None if scheduler.lower() == "automatic" else scheduler

    strength = r.float("Variation seed strength")
    subseed = r.int("Variation seed")  # without a strength it changes nothing
    if strength:
        request.subseed_strength = strength
        r.set("subseed", subseed)
    resize_from = _size(r.text("Seed resize from"))
    if resize_from:
        request.seed_resize_from_w, request.seed_resize_from_h = resize_from
    clip_skip = r.int("Clip skip")
    if clip_skip is not None:
        request.clip_skip = clip_skip if clip_skip > 1 else None
    if r.text("Face restoration") is not None:
        request.restore_faces = True
    if _truthy(r.text("Tiling")):
        request.tiling = True

    reused.model_name = r.text("Model")
    reused.model_hash = r.text("Model hash")
    vae = r.text("VAE")
    if vae:
        reused.vae = vae
        request.override_settings = {**(request.override_settings or {}), "sd_vae": vae}

    refiner = r.text("Refiner")
    if refiner:
        request.refiner_checkpoint = refiner
        r.set("refiner_switch_at", r.float("Refiner switch at"))

    overrides = dict(request.override_settings or {})
    for key, (setting, kind) in OVERRIDE_KEYS.items():
        value = r.text(key)
        if value is not None:
            overrides[setting] = _convert(value, kind)
    request.override_settings = overrides or None

    denoise = r.float("Denoising strength")
    hires = any(k in info.params for k in ("Hires upscale", "Hires resize", "Hires upscaler"))
    if hires:
        request.enable_hr = True
        request.denoising_strength = denoise
        resize = _size(r.text("Hires resize"))
        if resize:
            request.hr_resize_x, request.hr_resize_y = resize
        r.set("hr_scale", r.float("Hires upscale"))
        r.set("hr_upscaler", r.text("Hires upscaler"))
        r.set("hr_second_pass_steps", r.int("Hires steps"))
        r.set("hr_sampler_name", r.text("Hires sampler"))
        r.set("hr_scheduler", r.text("Hires schedule type"))
        if r.text("Hires prompt") is not None:
            request.hr_prompt = hr_prompt
        if r.text("Hires negative prompt") is not None:
            request.hr_negative_prompt = hr_negative
        r.set("hr_checkpoint_name", r.text("Hires checkpoint"))
    elif denoise is not None:
        reused.from_img2img = True
        reused.img2img["denoising_strength"] = denoise
    _read_img2img(r, reused)

    # "Size-1"/"Size-2" are the parser's own split of "Size: WxH", not keys of the text.
    split = {f"{k}-{n}" for k in info.params for n in (1, 2) if f"{k}-1" in info.params}
    keys = [k for k in info.params if k not in split]
    known = r.used | INFORMATIONAL_KEYS
    reused.read = [k for k in keys if k in known]
    reused.ignored = [k for k in keys if k not in known]
    return reused


def _convert(value: str, kind: type) -> object:
    text = value.strip()
    try:
        if kind is bool:
            return text.lower() in ("true", "1", "yes", "on")
        if kind is int:
            return int(float(text))
        if kind is float:
            return float(text)
    except ValueError:
        return text
    return text


def _read_img2img(r: _Reader, reused: Reused) -> None:
    """The img2img tab's keys, as `Img2ImgRequest` fields."""
    fields_ = reused.img2img
    blur = r.int("Mask blur")
    if blur is not None:
        fields_["mask_blur"] = blur
    area = r.text("Inpaint area")
    if area is not None:
        fields_["inpaint_full_res"] = area.strip().lower() == "only masked"
    padding = r.int("Masked area padding")
    if padding is not None:
        fields_["inpaint_full_res_padding"] = padding
    content = r.text("Masked content")
    if content is not None and content.strip().lower() in _MASKED_CONTENT:
        fields_["inpainting_fill"] = _MASKED_CONTENT[content.strip().lower()]
    mode = r.text("Mask mode")
    if mode is not None:
        fields_["inpainting_mask_invert"] = 1 if "not masked" in mode.lower() else 0
    image_cfg = r.float("Image CFG scale")
    if image_cfg is not None:
        fields_["image_cfg_scale"] = image_cfg
    noise = r.float("Noise multiplier")
    if noise is not None:
        fields_["initial_noise_multiplier"] = noise


def _one(titles: list[str]) -> str | None:
    unique = list(dict.fromkeys(titles))
    return unique[0] if len(unique) == 1 else None


def match_reused_model(reused: Reused, models: Sequence[SdModel]) -> str | None:
    """The server's checkpoint title for the image's model: by its hash first (the very file the
    image was made with, whatever it is called here), then by its exact name (never a loose
    match: "demo-ink" must not pick "demo-ink-v2"); None when the server has neither, or
    several fit."""
    wanted_hash = (reused.model_hash or "").strip().lower()
    if wanted_hash:
        found = _one(
            [
                m.title
                for m in models
                for h in (m.hash, m.sha256, split_checkpoint_title(m.title)[1])
                if h and (h.lower() == wanted_hash or h.lower().startswith(wanted_hash))
            ]
        )
        if found:
            return found
    name = (reused.model_name or "").strip().lower()
    if name:
        return _one(
            [
                m.title
                for m in models
                if name
                in (model_short_name(m.title).lower(), model_short_name(m.model_name).lower())
            ]
        )
    return None


def _exact(value: str, offered: Sequence[tuple[str, Sequence[str]]]) -> str | None:
    """The one result one of whose names is `value`, ignoring case: an image's name is matched
    exactly ("Euler" must not become "Euler a"), never by prefix."""
    wanted = value.strip().lower()
    found = list(dict.fromkeys(r for r, names in offered if wanted in (n.lower() for n in names)))
    return found[0] if len(found) == 1 else None


def _without_extension(name: str) -> str:
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


def _shown(value: str) -> str:
    return one_line(value, 80)


def fit_to_server(reused: Reused, facts: ServerFacts) -> list[str]:
    """Put the image's names into the server's own words, in `reused.request`, and say what the
    server lacks (one line each, to show the user).

    The image's model becomes the job's model (`request.model`) when the server has it (by hash,
    then exact name). A sampler, schedule type, hires sampler or upscaler, refiner or VAE the
    server does not list is dropped, so the server's own choice is used: sending an unknown hires
    upscaler would fail the job, an unknown sampler silently becomes another one. A list the
    server does not offer (empty in `facts`) leaves the name as the image says it."""
    request = reused.request
    lines: list[str] = []

    def fit(
        value: str | None,
        what: str,
        offered: Sequence[tuple[str, Sequence[str]]],
        instead: str = "the server's default is used",
    ) -> str | None:
        if not value or not offered:
            return value
        found = _exact(value, offered)
        if found is None:
            lines.append(f"the image's {what} '{_shown(value)}' is not on this server: {instead}")
        return found

    samplers = [(x.name, [x.name, *x.aliases]) for x in facts.samplers]
    schedulers = [(x.label, [x.label, x.name]) for x in facts.schedulers]
    request.sampler_name = fit(request.sampler_name, "sampler", samplers)
    request.scheduler = fit(request.scheduler, "schedule type", schedulers)
    request.hr_sampler_name = fit(request.hr_sampler_name, "hires sampler", samplers)
    request.hr_upscaler = fit(
        request.hr_upscaler,
        "hires upscaler",
        [(n, [n]) for n in facts.hires_upscalers],
        "the server's default (Latent) is used",
    )

    if (reused.model_name or reused.model_hash) and facts.models:
        title = match_reused_model(reused, facts.models)
        if title is None:
            lines.append(
                f"the image's model '{_shown(reused.model_name or reused.model_hash or '')}' is "
                "not on this server: the loaded model is used"
            )
        request.model = title
    if request.refiner_checkpoint and facts.models:
        name, short_hash = split_checkpoint_title(request.refiner_checkpoint)
        probe = Reused(request=request, model_name=model_short_name(name), model_hash=short_hash)
        title = match_reused_model(probe, facts.models)
        if title is None:
            lines.append(
                f"the image's refiner '{_shown(request.refiner_checkpoint)}' is not on this "
                "server: no refiner"
            )
            request.refiner_switch_at = None
        request.refiner_checkpoint = title
    if reused.vae and facts.vaes:
        names = ["Automatic", "None", *(v.model_name for v in facts.vaes)]
        vaes = [(n, [n, _without_extension(n)]) for n in names]
        overrides = dict(request.override_settings or {})
        vae = _exact(reused.vae, vaes)
        if vae is not None:
            overrides["sd_vae"] = vae
        else:
            overrides.pop("sd_vae", None)
            lines.append(
                f"the image's VAE '{_shown(reused.vae)}' is not on this server: "
                "the server's choice is used"
            )
        request.override_settings = overrides or None
    return lines
