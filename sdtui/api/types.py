"""Typed values crossing the API boundary: what we send and what comes back.

Parsing is lenient in what compatible servers differ on (missing keys, `info` that is not JSON) and
strict about shape where nothing sensible can follow (no `images` list).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


class ResponseShapeError(ValueError):
    """A 200 answer whose JSON is not shaped like the API's."""


class BadImageData(ResponseShapeError):
    """An image string in a 200 answer is not base64: the answer was cut short or corrupted on the
    way, which says nothing about whether the URL points at the right server."""


@dataclass
class GenerationRequest:
    """Every txt2img field a user can set in the web UI's txt2img tab.

    `None` means "the server's default" and is not sent. `model` and `clip_skip` are conveniences
    that travel as `override_settings` (a one-off model, as the API guide advises).
    """

    prompt: str = ""
    negative_prompt: str = ""
    styles: list[str] | None = None
    seed: int = -1
    subseed: int | None = None
    subseed_strength: float | None = None
    seed_resize_from_w: int | None = None
    seed_resize_from_h: int | None = None
    sampler_name: str | None = None
    scheduler: str | None = None
    batch_size: int = 1
    n_iter: int = 1
    steps: int = 20
    cfg_scale: float = 7.0
    distilled_cfg_scale: float | None = None  # Forge (Flux); ignored by A1111
    width: int = 512
    height: int = 512
    restore_faces: bool | None = None
    tiling: bool | None = None
    enable_hr: bool = False
    denoising_strength: float | None = None
    hr_scale: float | None = None
    hr_upscaler: str | None = None
    hr_second_pass_steps: int | None = None
    hr_resize_x: int | None = None
    hr_resize_y: int | None = None
    hr_sampler_name: str | None = None
    hr_scheduler: str | None = None
    hr_prompt: str | None = None
    hr_negative_prompt: str | None = None
    hr_checkpoint_name: str | None = None
    refiner_checkpoint: str | None = None
    refiner_switch_at: float | None = None
    model: str | None = None
    clip_skip: int | None = None
    override_settings: dict[str, Any] | None = None
    override_settings_restore_afterwards: bool | None = None
    script_name: str | None = None
    script_args: list[Any] | None = None
    alwayson_scripts: dict[str, Any] | None = None
    send_images: bool = True
    save_images: bool = False
    force_task_id: str | None = None

    _LOCAL = ("model", "clip_skip")

    def to_payload(self) -> dict[str, Any]:
        """The JSON body for POST /sdapi/v1/txt2img."""
        payload: dict[str, Any] = {}
        for f in fields(self):
            if f.name in self._LOCAL:
                continue
            value = getattr(self, f.name)
            if value is not None:
                payload[f.name] = value
        overrides = dict(self.override_settings or {})
        if self.model:
            overrides["sd_model_checkpoint"] = self.model
        if self.clip_skip is not None:
            overrides["CLIP_stop_at_last_layers"] = self.clip_skip
        if overrides:
            payload["override_settings"] = overrides
        if self.enable_hr and self.denoising_strength is None:
            # The server errors on hires fix without a denoising strength; the web UI sends 0.7.
            payload["denoising_strength"] = 0.7
        return payload

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationRequest:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# Fields of the txt2img tab that the img2img endpoint does not take (hires fix, refiner's hires
# checkpoint): left out of an img2img body rather than relying on the server to ignore them.
_TXT2IMG_ONLY = frozenset(
    {
        "enable_hr",
        "hr_scale",
        "hr_upscaler",
        "hr_second_pass_steps",
        "hr_resize_x",
        "hr_resize_y",
        "hr_sampler_name",
        "hr_scheduler",
        "hr_prompt",
        "hr_negative_prompt",
        "hr_checkpoint_name",
    }
)


@dataclass
class Img2ImgRequest(GenerationRequest):
    """Every img2img field of the web UI's img2img tab, beside the txt2img ones it shares.

    `init_images` are base64 strings (plain or `data:` URLs), as the API takes them; so is `mask`
    (white is repainted unless `inpainting_mask_invert` is 1). `width`/`height` are the output
    size: the server does not take them from the init image (it uses 512x512 when none are sent),
    so callers fill them from the init image when the user gave no size. `None` means the
    server's default: resize_mode 0 (just resize; 1 crop and resize, 2 resize and fill, 3 just
    resize latent upscale), mask_blur 4, inpainting_fill 0 (fill; 1 original, 2 latent noise,
    3 latent nothing), inpaint_full_res true ("Only masked"), padding 0, image_cfg_scale 1.5
    (instruct-pix2pix models only).
    """

    init_images: list[str] = field(default_factory=list)
    denoising_strength: float | None = 0.75
    resize_mode: int | None = None
    mask: str | None = None
    mask_blur: int | None = None
    mask_blur_x: int | None = None
    mask_blur_y: int | None = None
    inpainting_fill: int | None = None
    inpaint_full_res: bool | None = None
    inpaint_full_res_padding: int | None = None
    inpainting_mask_invert: int | None = None
    initial_noise_multiplier: float | None = None
    image_cfg_scale: float | None = None
    include_init_images: bool | None = None

    def to_payload(self) -> dict[str, Any]:
        """The JSON body for POST /sdapi/v1/img2img."""
        payload = {k: v for k, v in super().to_payload().items() if k not in _TXT2IMG_ONLY}
        if self.denoising_strength is None:
            payload.pop("denoising_strength", None)  # the server's own default (0.75)
        if self.mask is None:
            for key in ("mask_blur_x", "mask_blur_y"):
                payload.pop(key, None)
        return payload

    @classmethod
    def from_generation(
        cls, request: GenerationRequest, init_images: list[str], **fields_: Any
    ) -> Img2ImgRequest:
        """An img2img job with the txt2img fields of `request` (prompt, seed, sampler...)."""
        shared = {f.name: getattr(request, f.name) for f in fields(GenerationRequest)}
        if request.denoising_strength is None:
            shared.pop("denoising_strength")
        return cls(**{**shared, "init_images": init_images, **fields_})


@dataclass
class ExtrasRequest:
    """The fields of the web UI's Extras tab (POST extra-single-image / extra-batch-images), with
    the server's defaults: scale by 2 with no upscaler (an unchanged image) unless told otherwise.

    resize_mode 0 scales by `upscaling_resize`; 1 resizes to `upscaling_resize_w` x
    `upscaling_resize_h`, cropped to fit when `upscaling_crop`. Upscaler names come from
    GET upscalers ("Lanczos" and "Nearest" need no model; "None" skips that step).
    """

    resize_mode: int = 0
    upscaling_resize: float = 2.0
    upscaling_resize_w: int = 512
    upscaling_resize_h: int = 512
    upscaling_crop: bool = True
    upscaler_1: str = "None"
    upscaler_2: str = "None"
    extras_upscaler_2_visibility: float = 0.0
    gfpgan_visibility: float = 0.0
    codeformer_visibility: float = 0.0
    codeformer_weight: float = 0.0
    upscale_first: bool = False
    show_extras_results: bool = True

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_payload(self, image_b64: str) -> dict[str, Any]:
        """The JSON body for POST /sdapi/v1/extra-single-image."""
        return {**self._fields(), "image": image_b64}

    def to_batch_payload(self, images: list[tuple[str, str]]) -> dict[str, Any]:
        """The JSON body for POST /sdapi/v1/extra-batch-images: (file name, base64) pairs."""
        return {
            **self._fields(),
            "imageList": [{"data": data, "name": name} for name, data in images],
        }


@dataclass(frozen=True)
class ExtrasResult:
    """What an extras call gave back: the processed files (PNG by default, each keeping the
    source's `parameters` and gaining a `postprocessing` text) and the server's `html_info`."""

    images: list[bytes]
    html_info: str

    @classmethod
    def from_bytes(cls, content: bytes, key: str) -> ExtrasResult:
        """Parse an extras answer whose images are under `key` ("image" or "images"), cutting the
        base64 out as for txt2img. Raises json.JSONDecodeError for answers that are not JSON."""
        split = split_base64_field(content, key)
        if split is None:
            data = json.loads(content)
            if not isinstance(data, dict):
                raise ResponseShapeError(f"the answer has no {key!r}")
            value = data.get(key)
            raw = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in raw if v is not None):
                raise ResponseShapeError(f"the answer's {key!r} is not base64 text")
            images = [decode_b64(v) for v in raw if isinstance(v, str) and v]
        else:
            data, strings = split
            images = [decode_b64(s) for s in strings if s]
        if key not in data:
            raise ResponseShapeError(f"the answer has no {key!r}")
        html = data.get("html_info")
        return cls(images=images, html_info=html if isinstance(html, str) else "")


# Base64 is decoded in slices of this many characters (a multiple of 4, so each slice decodes on
# its own): the decoder holds the GIL for a whole call, and a 1024² image is ~2 MB of base64,
# ~12 ms in one piece. Slices let the event loop's thread in between.
B64_SLICE = 256 * 1024


def decode_b64(value: str | bytes) -> bytes:
    """Plain base64 or a data: URL → bytes; BadImageData when it is not base64."""
    if isinstance(value, str):
        if value.startswith("data:"):
            value = value.partition(",")[2]
        try:
            value = value.encode("ascii")
        except UnicodeEncodeError:
            raise BadImageData("an image in the answer is not valid base64") from None
    elif value.startswith(b"data:"):
        value = value.partition(b",")[2]
    try:
        if len(value) <= B64_SLICE:
            return base64.b64decode(value, validate=True)
        return b"".join(
            base64.b64decode(value[i : i + B64_SLICE], validate=True)
            for i in range(0, len(value), B64_SLICE)
        )
    except (binascii.Error, ValueError):
        raise BadImageData("an image in the answer is not valid base64") from None


def _skip_space(content: bytes, pos: int) -> int:
    while pos < len(content) and content[pos] in b" \t\r\n":
        pos += 1
    return pos


def split_base64_field(content: bytes, key: str) -> tuple[Any, list[bytes]] | None:
    """Parse a JSON answer whose `key` holds big base64 strings (a list, or one string) without
    running the JSON decoder over them.

    The decoder holds the GIL for the whole document: ~25 ms for four 1024² images, a stall for
    the event loop even from a worker thread. The strings are cut out as raw bytes instead (base64
    has no quotes or escapes) and the small remainder is parsed. Returns (parsed remainder with
    `key` set to [] or None, the raw strings), or None when the layout is not the simple one, so
    the caller parses the whole answer the ordinary way.
    """
    marker = b'"' + key.encode() + b'"'
    start = content.find(marker)
    if start < 0:
        return None
    pos = _skip_space(content, start + len(marker))
    if content[pos : pos + 1] != b":":
        return None
    value_start = pos = _skip_space(content, pos + 1)
    strings: list[bytes] = []
    is_list = content[pos : pos + 1] == b"["
    if is_list:
        pos = _skip_space(content, pos + 1)
    while True:
        if is_list and content[pos : pos + 1] == b"]":
            pos += 1
            break
        if content[pos : pos + 1] != b'"':
            return None
        close = content.find(b'"', pos + 1)
        if close < 0 or content.find(b"\\", pos + 1, close) >= 0:
            return None
        strings.append(content[pos + 1 : close])
        pos = close + 1
        if not is_list:
            break
        pos = _skip_space(content, pos)
        if content[pos : pos + 1] == b",":
            pos = _skip_space(content, pos + 1)
        elif content[pos : pos + 1] != b"]":
            return None
    placeholder = b"[]" if is_list else b"null"
    try:
        data = json.loads(content[:value_start] + placeholder + content[pos:])
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get(key) != ([] if is_list else None):
        return None  # the marker was not the top-level key: take the ordinary way
    return data, strings


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class GenerationResult:
    """What a txt2img call gave back. `images[i]` is the file the server sent (PNG, JPEG or WebP),
    `seeds[i]` its real seed, `infotexts[i]` its infotext or None when the server sent none."""

    images: list[bytes]
    seeds: list[int]
    infotexts: list[str | None]
    info: dict[str, Any]
    parameters: dict[str, Any]
    grid: bytes | None = None

    @classmethod
    def from_bytes(
        cls, content: bytes, request: GenerationRequest | None = None
    ) -> GenerationResult:
        """Parse a txt2img answer; the images are cut out and decoded in slices (see
        `split_base64_field`). Raises json.JSONDecodeError for answers that are not JSON."""
        split = split_base64_field(content, "images")
        if split is None:
            return cls.from_json(json.loads(content), request)
        data, strings = split
        return cls.from_json(data, request, raw_images=[decode_b64(s) for s in strings if s])

    @classmethod
    def from_json(
        cls,
        data: Any,
        request: GenerationRequest | None = None,
        raw_images: list[bytes] | None = None,
    ) -> GenerationResult:
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise ResponseShapeError("the answer has no 'images' list")
        if raw_images is None:
            raw_images = [decode_b64(i) for i in data["images"] if isinstance(i, str) and i]
        info_raw = data.get("info")
        info: dict[str, Any] = {}
        if isinstance(info_raw, str) and info_raw.strip():
            try:
                decoded = json.loads(info_raw)
            except json.JSONDecodeError:
                decoded = None
            if isinstance(decoded, dict):
                info = decoded
        elif isinstance(info_raw, dict):
            info = info_raw
        first = _int(info.get("index_of_first_image"), 0)
        first = first if 0 <= first <= len(raw_images) else 0
        grid = raw_images[0] if first == 1 and len(raw_images) > 1 else None
        images = raw_images[first:]
        all_infotexts = info.get("infotexts")
        infotexts: list[str | None] = []
        for i in range(len(images)):
            text = None
            if isinstance(all_infotexts, list) and first + i < len(all_infotexts):
                candidate = all_infotexts[first + i]
                text = candidate if isinstance(candidate, str) and candidate else None
            infotexts.append(text)
        all_seeds = info.get("all_seeds")
        seeds: list[int] = []
        base_seed = _int(info.get("seed"), request.seed if request else -1)
        for i in range(len(images)):
            if isinstance(all_seeds, list) and i < len(all_seeds):
                seeds.append(_int(all_seeds[i], -1))
            elif base_seed >= 0:
                seeds.append(base_seed + i)
            else:
                seeds.append(-1)
        params = data.get("parameters")
        return cls(
            images=images,
            seeds=seeds,
            infotexts=infotexts,
            info=info,
            parameters=params if isinstance(params, dict) else {},
            grid=grid,
        )


def format_eta(seconds: float) -> str:
    """ "ETA 8s", "ETA 2m05s", "ETA 1h02m": short enough for a progress line."""
    total = max(0, round(seconds))
    if total < 60:
        return f"ETA {total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"ETA {minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"ETA {hours}h{minutes:02d}m"


WAITING_TEXT = "waiting: the server is busy with another job"


def _json_with_image(content: bytes, field: str) -> tuple[Any, bytes | None]:
    """A progress answer's JSON, with the base64 image in `field` cut out of it first (a live
    preview is most of the bytes: parsing it as JSON text costs more than the rest)."""
    split = split_base64_field(content, field)
    if split is None:
        return json.loads(content), None
    data, [image] = split
    return data, image


def _preview(image: object) -> bytes | None:
    """A live preview's bytes (plain base64 or a data: URL); None when absent or broken."""
    if not isinstance(image, str | bytes) or not image:
        return None
    try:
        return decode_b64(image)
    except ResponseShapeError:
        return None


@dataclass(frozen=True)
class ProgressUpdate:
    """Where a job stands: one poll of /sdapi/v1/progress, or our own job's progress as the engine
    works it out (`sdtui.engine.progress`).

    `waiting` means the server is running somebody else's job and ours waits behind it: the step
    fields then say nothing about our job. `eta_relative` is 0 while no estimate means anything.
    """

    progress: float
    eta_relative: float
    job: str
    job_no: int
    job_count: int
    sampling_step: int
    sampling_steps: int
    job_timestamp: str
    interrupted: bool
    skipped: bool
    current_image: bytes | None
    textinfo: str | None
    waiting: bool = False

    @property
    def active(self) -> bool:
        return not self.waiting and (self.job_count > 0 or self.progress > 0)

    @property
    def unknown(self) -> bool:
        """The server reports no progress at all (no /progress endpoint)."""
        return self.job_count < 0

    def describe_parts(self) -> list[tuple[str, str]]:
        """`describe()` with each phrase's kind ("waiting", "step", "batch", "eta"), most
        important first, for displays that drop what does not fit."""
        if self.waiting:
            return [("waiting", WAITING_TEXT)]
        parts = []
        if self.sampling_steps:
            parts.append(("step", f"step {self.sampling_step}/{self.sampling_steps}"))
        if self.job_count > 1:
            batch = min(self.job_no + 1, self.job_count)
            parts.append(("batch", f"batch {batch}/{self.job_count}"))
        if self.eta_relative > 0:
            parts.append(("eta", format_eta(self.eta_relative)))
        return parts

    def describe(self) -> list[str]:
        """Where the job stands, as short phrases: "step 12/20", "batch 1/2", "ETA 3s", or
        "waiting: the server is busy with another job"."""
        return [text for _, text in self.describe_parts()]

    @classmethod
    def idle(cls) -> ProgressUpdate:
        return cls(0.0, 0.0, "", 0, 0, 0, 0, "", False, False, None, None)

    @classmethod
    def busy(cls, textinfo: str | None = None) -> ProgressUpdate:
        """Our job waits while the server runs another one."""
        return cls(0.0, 0.0, "", 0, 0, 0, 0, "", False, False, None, textinfo, waiting=True)

    @classmethod
    def from_bytes(cls, content: bytes) -> ProgressUpdate:
        """Parse a progress answer, cutting the live preview out as for txt2img."""
        return cls.from_json(*_json_with_image(content, "current_image"))

    @classmethod
    def from_json(cls, data: Any, raw_image: bytes | None = None) -> ProgressUpdate:
        if not isinstance(data, dict) or "progress" not in data:
            raise ResponseShapeError("the progress answer has no 'progress'")
        state = data.get("state") if isinstance(data.get("state"), dict) else {}
        assert isinstance(state, dict)
        current = _preview(raw_image if raw_image is not None else data.get("current_image"))
        textinfo = data.get("textinfo")
        job_count = _int(state.get("job_count"))
        # job_count is -1 while a job starts: the step fields are still the previous job's.
        starting = job_count < 0
        return cls(
            progress=min(max(_float(data.get("progress")), 0.0), 1.0),
            eta_relative=max(_float(data.get("eta_relative")), 0.0),
            job=str(state.get("job") or ""),
            job_no=0 if starting else _int(state.get("job_no")),
            job_count=max(job_count, 0),  # never "progress unknown": that is ours to say
            sampling_step=0 if starting else _int(state.get("sampling_step")),
            sampling_steps=0 if starting else _int(state.get("sampling_steps")),
            job_timestamp=str(state.get("job_timestamp") or ""),
            interrupted=bool(state.get("interrupted")),
            skipped=bool(state.get("skipped")),
            current_image=current,
            textinfo=textinfo if isinstance(textinfo, str) else None,
        )


@dataclass(frozen=True)
class TaskProgress:
    """One poll of POST /internal/progress: how one task (our `force_task_id`) stands.

    `queued`: another job holds the server and ours waits; `active`: ours runs; `completed`: it
    ended. `live_preview` is set only when a preview newer than the `id_live_preview` we sent
    exists; `id_live_preview` is the newest one's number (send it back to get only newer ones).
    """

    active: bool
    queued: bool
    completed: bool
    progress: float | None
    eta: float | None
    live_preview: bytes | None
    id_live_preview: int
    textinfo: str | None

    @classmethod
    def from_bytes(cls, content: bytes) -> TaskProgress:
        """Parse an answer, cutting the preview (a data: URL) out as for txt2img."""
        return cls.from_json(*_json_with_image(content, "live_preview"))

    @classmethod
    def from_json(cls, data: Any, raw_image: bytes | None = None) -> TaskProgress:
        if not isinstance(data, dict) or "active" not in data:
            raise ResponseShapeError("the task progress answer has no 'active'")
        preview = _preview(raw_image if raw_image is not None else data.get("live_preview"))
        progress = data.get("progress")
        eta = data.get("eta")
        textinfo = data.get("textinfo")
        return cls(
            active=bool(data.get("active")),
            queued=bool(data.get("queued")),
            completed=bool(data.get("completed")),
            progress=min(max(_float(progress), 0.0), 1.0) if progress is not None else None,
            eta=max(_float(eta), 0.0) if eta is not None else None,
            live_preview=preview,
            id_live_preview=_int(data.get("id_live_preview"), -1),
            textinfo=textinfo if isinstance(textinfo, str) else None,
        )


@dataclass(frozen=True)
class SdModel:
    title: str
    model_name: str
    hash: str | None = None
    sha256: str | None = None
    filename: str = ""


@dataclass(frozen=True)
class Sampler:
    name: str
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scheduler:
    name: str
    label: str


@dataclass(frozen=True)
class Upscaler:
    name: str
    scale: float | None = None


@dataclass(frozen=True)
class PromptStyle:
    name: str
    prompt: str = ""
    negative_prompt: str = ""


@dataclass(frozen=True)
class Lora:
    name: str
    alias: str = ""
    path: str = ""


@dataclass(frozen=True)
class Embedding:
    """A textual-inversion embedding, used in a prompt by its name. `skipped`: the server has it
    but did not load it for the current model (another architecture): it does nothing there."""

    name: str
    step: int | None = None
    shape: int | None = None
    vectors: int | None = None
    sd_checkpoint_name: str | None = None
    skipped: bool = False


@dataclass(frozen=True)
class SdVae:
    """A VAE file the server offers (GET sd-vae; Forge: sd-modules). `model_name` is the name to
    send as the `sd_vae` setting."""

    model_name: str
    filename: str = ""


@dataclass(frozen=True)
class PngInfo:
    info: str
    items: dict[str, Any]
    parameters: dict[str, Any]


def _list_of_dicts(data: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ResponseShapeError(f"the {what} answer is not a list of objects")
    return data


def parse_models(data: Any) -> list[SdModel]:
    return [
        SdModel(
            title=str(d.get("title") or d.get("model_name") or ""),
            model_name=str(d.get("model_name") or d.get("title") or ""),
            hash=d.get("hash") if isinstance(d.get("hash"), str) else None,
            sha256=d.get("sha256") if isinstance(d.get("sha256"), str) else None,
            filename=str(d.get("filename") or ""),
        )
        for d in _list_of_dicts(data, "sd-models")
    ]


def parse_samplers(data: Any) -> list[Sampler]:
    return [
        Sampler(name=str(d.get("name", "")), aliases=[str(a) for a in d.get("aliases") or []])
        for d in _list_of_dicts(data, "samplers")
        if d.get("name")
    ]


def parse_schedulers(data: Any) -> list[Scheduler]:
    return [
        Scheduler(name=str(d.get("name", "")), label=str(d.get("label") or d.get("name", "")))
        for d in _list_of_dicts(data, "schedulers")
        if d.get("name")
    ]


def parse_upscalers(data: Any) -> list[Upscaler]:
    out = []
    for d in _list_of_dicts(data, "upscalers"):
        scale = d.get("scale")
        out.append(
            Upscaler(
                name=str(d.get("name", "")),
                scale=float(scale) if isinstance(scale, int | float) else None,
            )
        )
    return out


def parse_styles(data: Any) -> list[PromptStyle]:
    return [
        PromptStyle(
            name=str(d.get("name", "")),
            prompt=str(d.get("prompt") or ""),
            negative_prompt=str(d.get("negative_prompt") or ""),
        )
        for d in _list_of_dicts(data, "prompt-styles")
    ]


def parse_loras(data: Any) -> list[Lora]:
    return [
        Lora(
            name=str(d.get("name", "")),
            alias=str(d.get("alias") or ""),
            path=str(d.get("path") or ""),
        )
        for d in _list_of_dicts(data, "loras")
    ]


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_embeddings(data: Any, include_skipped: bool = False) -> list[Embedding]:
    """`{"loaded": {name: {...}}, "skipped": {...}}` → loaded embeddings by name (then the skipped
    ones, marked, when asked)."""
    if not isinstance(data, dict) or not isinstance(data.get("loaded", {}), dict):
        raise ResponseShapeError("the embeddings answer has no 'loaded' object")
    groups = [("loaded", False)] + ([("skipped", True)] if include_skipped else [])
    out: list[Embedding] = []
    for key, skipped in groups:
        group = data.get(key)
        if not isinstance(group, dict):
            continue
        for name in sorted(group, key=str.lower):
            item = group[name] if isinstance(group[name], dict) else {}
            checkpoint = item.get("sd_checkpoint_name")
            out.append(
                Embedding(
                    name=str(name),
                    step=_opt_int(item.get("step")),
                    shape=_opt_int(item.get("shape")),
                    vectors=_opt_int(item.get("vectors")),
                    sd_checkpoint_name=checkpoint if isinstance(checkpoint, str) else None,
                    skipped=skipped,
                )
            )
    return out


def parse_latent_upscale_modes(data: Any) -> list[str]:
    return [str(d["name"]) for d in _list_of_dicts(data, "latent-upscale-modes") if d.get("name")]


def parse_vaes(data: Any) -> list[SdVae]:
    return [
        SdVae(
            model_name=str(d.get("model_name") or d.get("name") or ""),
            filename=str(d.get("filename") or ""),
        )
        for d in _list_of_dicts(data, "sd-vae")
        if d.get("model_name") or d.get("name")
    ]
