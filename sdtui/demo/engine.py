"""Generation for the demo server: txt2img and img2img as the web UI runs them, with fake sampling.

The flow follows v1.10's ``text2imgapi``/``img2imgapi`` and ``process_images``: checks and
infotext pasting before the queue, then under the FIFO lock: override settings, seeds, batches
of sampling steps (each one sleep of ``step_delay``) that honour interrupt and skip, hires fix,
grid, infotexts; images are encoded after the lock is released. Pictures come from
:mod:`sdtui.demo.painter`.
"""

from __future__ import annotations

import functools
import json
import math
import random
import string
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageEnhance

from sdtui.demo import catalog, painter
from sdtui.demo.codec import decode_request_image, encode_image, encode_live_preview
from sdtui.demo.errors import ApiError, http_error
from sdtui.demo.extras import Extras
from sdtui.demo.job import LORA_RE, Job, JobReport, int_or
from sdtui.demo.state import JobState, Options, TaskRegistry, TicketLock
from sdtui.images.infotext import parse_infotext

__all__ = ["OOM_PIXEL_LIMIT", "Engine"]

#: width * height * batch_size above this "does not fit in VRAM" (a CUDA out-of-memory error).
OOM_PIXEL_LIMIT = 4096 * 4096
# Longest side of a live preview; real previews are approximations too, and this keeps them cheap.
_PREVIEW_MAX_SIDE = 1024


def _fixed_seed(seed: Any) -> int:
    """``get_fixed_seed``: -1 (or null) becomes a random seed."""
    if seed is None or seed == -1:
        return random.randrange(4294967294)
    return int(seed)


def _create_task_id(task_type: str) -> str:
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=7))
    return f"task({task_type}-{suffix})"


def _grid_rows(count: int, batch_size: int, opts: dict[str, Any]) -> int:
    """Rows of a grid, by the web UI's ``image_grid`` rules."""
    n_rows = int_or(opts.get("n_rows"), -1)
    if n_rows > 0:
        rows = n_rows
    elif n_rows == 0:
        rows = batch_size
    elif opts.get("grid_prevent_empty_spots"):
        rows = max(1, math.floor(math.sqrt(count)))
        while count % rows != 0:
            rows -= 1
    else:
        rows = max(1, round(math.sqrt(count)))
    return min(rows, count)


def _noisy(
    finals: Sequence[Image.Image], seeds: Sequence[int], fraction: float
) -> list[Image.Image]:
    """A batch part-way through sampling: its final pictures under fading noise."""
    return [
        painter.preview(image, seed, fraction) for image, seed in zip(finals, seeds, strict=True)
    ]


def _blended(
    start: Sequence[Image.Image], end: Sequence[Image.Image], fraction: float
) -> list[Image.Image]:
    """A batch part-way through the hires pass: upscaled first pass turning into the final."""
    return [Image.blend(a, b, fraction) for a, b in zip(start, end, strict=True)]


def _fit_init_image(init: Image.Image, size: tuple[int, int], mode: int) -> Image.Image:
    """``images.resize_image``: the init image brought to the output size by the resize mode
    (0 and 3 stretch; 1 scales to cover and crops the middle; 2 scales to fit and fills the
    sides with the stretched picture)."""
    image = init.convert("RGB")
    width, height = size
    if mode not in (1, 2) or image.size == size:
        return image.resize(size, Image.Resampling.LANCZOS)
    ratio, src_ratio = width / height, image.width / image.height
    cover = (mode == 1) == (ratio > src_ratio)
    src_w = width if cover else height * image.width // image.height
    src_h = width * image.height // image.width if cover else height
    resized = image.resize((max(1, src_w), max(1, src_h)), Image.Resampling.LANCZOS)
    canvas = image.resize(size, Image.Resampling.LANCZOS) if mode == 2 else Image.new("RGB", size)
    canvas.paste(resized, box=(width // 2 - src_w // 2, height // 2 - src_h // 2))
    return canvas


def _oom_message(width: int, height: int, batch: int) -> str:
    latent = (width // 8) * (height // 8)
    tried = latent * latent * batch * 8 * 2 / 2**30  # one attention map, 8 heads, fp16
    return (
        f"CUDA out of memory. Tried to allocate {tried:.2f} GiB. GPU 0 has a total capacity of "
        "23.99 GiB of which 19.87 GiB is free. Of the allocated memory 3.31 GiB is allocated by "
        "PyTorch, and 412.55 MiB is reserved by PyTorch but unallocated. If reserved but "
        "unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True "
        "to avoid fragmentation.  See documentation for Memory Management  "
        "(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)"
    )


@dataclass
class _Output:
    images: list[Image.Image]
    infotexts: list[str]
    info: dict[str, Any]


class Engine:
    """Everything behind the generation and progress endpoints."""

    def __init__(self, step_delay: float) -> None:
        self.step_delay = max(0.0, step_delay)
        self.options = Options(catalog.default_options())
        self.state = JobState()
        self.queue = TicketLock()
        self.tasks = TaskRegistry()
        self.oom_events = 0
        self._loaded = self.current_setting_model()
        self._closed = threading.Event()
        self.extras = Extras(self.state, self.queue, self.options, self.step_delay, self._closed)

    # --- control ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop: interrupt the running job and refuse queued ones."""
        self._closed.set()
        self.state.interrupt()
        self.queue.close()

    @property
    def model_load_seconds(self) -> float:
        return self.step_delay * 20

    def current_setting_model(self) -> catalog.DemoModel:
        return catalog.find_model(self.options.get("sd_model_checkpoint")) or catalog.MODELS[0]

    def current_model(self) -> catalog.DemoModel:
        """The checkpoint in "VRAM" (the setting may name another one while it loads)."""
        return self._loaded

    def _load_model(self, model: catalog.DemoModel) -> None:
        """Swap checkpoints: takes a moment, like reading weights from disk."""
        if model != self._loaded:
            self._closed.wait(self.model_load_seconds)
            self._loaded = model
        self.options.set("sd_model_checkpoint", model.title)
        self.options.set("sd_checkpoint_hash", model.sha256)

    def set_options(self, request: dict[str, Any]) -> None:
        """``POST /sdapi/v1/options``: unknown model 500; a model switch waits for the queue."""
        checkpoint = request.get("sd_model_checkpoint")
        if checkpoint is not None and catalog.find_model(checkpoint) is None:
            raise ApiError(500, "RuntimeError", errors=f"model {checkpoint!r} not found")
        for key, value in request.items():
            if key not in self.options:
                raise ApiError(500, "KeyError", errors=repr(key))
            old = self.options.get(key)
            if old == value:
                continue
            self.options.set(key, value)
            if key == "sd_model_checkpoint":
                model = catalog.find_model(value)
                if model is not None:
                    # The swap waits for the running job, like the web UI's queued reload.
                    with self.queue.held():
                        self._load_model(model)

    def refresh_checkpoints(self) -> None:
        with self.queue.held():
            pass

    # --- generation ---------------------------------------------------------------------------

    def generate(self, mode: str, values: dict[str, Any], sent: set[str]) -> dict[str, Any]:
        """Run one txt2img/img2img request; returns the response body."""
        init_encoded: list[Any] = []
        mask: Image.Image | None = None
        requests_ok = bool(self.options.get("api_enable_requests", True))
        if mode == "img2img":
            if values["init_images"] is None:
                raise http_error(404, "Init image not found")
            init_encoded = list(values["init_images"])
            if values["mask"]:
                mask = decode_request_image(values["mask"], requests_allowed=requests_ok)
        self._apply_infotext(mode, values, sent)
        task_id = values["force_task_id"] or _create_task_id(mode)
        self._check_script(mode, values["script_name"])
        for name in values["alwayson_scripts"] or {}:
            self._check_script(mode, name, alwayson=True)
        sampler, scheduler_label = catalog.resolve_sampler_and_scheduler(
            values["sampler_name"] or values["sampler_index"], values["scheduler"]
        )
        if values["scheduler"]:
            known = catalog.find_scheduler(values["scheduler"])
            scheduler_label = known.label if known else "Automatic"
        job = Job(
            mode,
            values,
            sampler,
            scheduler_label,
            schedule=catalog.effective_schedule(sampler, scheduler_label),
            mask=mask,
        )
        self._check_checkpoints(job)

        self.tasks.add(task_id)
        try:
            with self.queue.held():
                job.init_images = [
                    decode_request_image(x, requests_allowed=requests_ok) for x in init_encoded
                ]
                self.state.begin(f"scripts_{mode}")
                self.tasks.start(task_id)
                try:
                    output = self._process_with_overrides(job)
                finally:
                    self.state.end()
        finally:
            self.tasks.finish(task_id)

        opts = self.options.snapshot()
        images = (
            [
                encode_image(
                    image, opts.get("samples_format"), text, quality=opts.get("jpeg_quality")
                )
                for image, text in zip(output.images, output.infotexts, strict=True)
            ]
            if values["send_images"]
            else []
        )
        parameters = dict(values)
        if mode == "img2img" and not values["include_init_images"]:
            parameters["init_images"] = None
            parameters["mask"] = None
        return {"images": images, "parameters": parameters, "info": json.dumps(output.info)}

    def _check_checkpoints(self, job: Job) -> None:
        """The refiner and hires checkpoints must exist (``get_closet_checkpoint_match``)."""
        v = job.values
        names = [v["refiner_checkpoint"]]
        if job.mode == "txt2img" and v["enable_hr"]:
            names.append(v["hr_checkpoint_name"])
        for name in names:
            if name in (None, "", "None", "none", "Use same checkpoint"):
                continue
            if catalog.find_model(name) is None:
                raise ApiError(
                    500, "Exception", errors=f"Could not find checkpoint with name {name}"
                )

    def _check_script(self, mode: str, name: Any, *, alwayson: bool = False) -> None:
        if name is None or name == "":
            return
        titles = catalog.ALWAYSON_SCRIPTS if alwayson else catalog.SELECTABLE_SCRIPTS[mode]
        all_titles = [*titles, *(catalog.SELECTABLE_SCRIPTS[mode] if alwayson else ())]
        if str(name).lower() not in (t.lower() for t in all_titles):
            raise http_error(422, f"Script '{name}' not found")

    def _apply_infotext(self, mode: str, values: dict[str, Any], sent: set[str]) -> None:
        """Fill fields the request did not send from its ``infotext`` (v1.10 ``apply_infotext``)."""
        text = values.get("infotext")
        if not text:
            return
        parsed = parse_infotext(text)
        params: dict[str, str] = {
            "Prompt": parsed.prompt,
            "Negative prompt": parsed.negative_prompt,
            **parsed.params,
        }
        converters: list[tuple[str, str, Callable[[str], Any]]] = [
            ("prompt", "Prompt", str),
            ("negative_prompt", "Negative prompt", str),
            ("steps", "Steps", int),
            ("sampler_name", "Sampler", str),
            ("scheduler", "Schedule type", str),
            ("cfg_scale", "CFG scale", float),
            ("seed", "Seed", int),
            ("width", "Size-1", int),
            ("height", "Size-2", int),
            ("subseed", "Variation seed", int),
            ("subseed_strength", "Variation seed strength", float),
            ("seed_resize_from_w", "Seed resize from-1", int),
            ("seed_resize_from_h", "Seed resize from-2", int),
            ("denoising_strength", "Denoising strength", float),
        ]
        if mode == "txt2img":
            converters += [
                ("hr_scale", "Hires upscale", float),
                ("hr_upscaler", "Hires upscaler", str),
                ("hr_second_pass_steps", "Hires steps", int),
                ("hr_resize_x", "Hires resize-1", int),
                ("hr_resize_y", "Hires resize-2", int),
            ]
        for name, key, convert in converters:
            if name in sent or key not in params:
                continue
            try:
                values[name] = convert(params[key])
            except ValueError:
                continue
        if mode == "txt2img" and "enable_hr" not in sent:
            hires_keys = ("Hires upscale", "Hires upscaler", "Hires resize-1")
            if "Denoising strength" in params and any(k in params for k in hires_keys):
                values["enable_hr"] = True
        if values["override_settings"] is None:
            values["override_settings"] = {}
        overrides = values["override_settings"]
        clip_skip = parsed.get_int("Clip skip")
        if clip_skip is not None and clip_skip != self.options.get("CLIP_stop_at_last_layers"):
            overrides.setdefault("CLIP_stop_at_last_layers", clip_skip)
        model_hash = parsed.model_hash
        if model_hash and not self.options.get("disable_weights_auto_swap"):
            model = catalog.find_model(model_hash)
            if model is not None and model != self.current_model():
                overrides.setdefault("sd_model_checkpoint", model.title)

    def _process_with_overrides(self, job: Job) -> _Output:
        """``process_images``: apply ``override_settings``, run, restore them afterwards."""
        overrides = job.values["override_settings"] or {}
        stored: dict[str, Any] = {}
        try:
            for key, value in overrides.items():
                if key not in self.options:
                    continue
                if key == "sd_model_checkpoint":
                    model = catalog.find_model(value)
                    if model is None:
                        continue  # an unknown override checkpoint is silently dropped
                    stored[key] = self.options.get(key)
                    self._load_model(model)
                    continue
                stored[key] = self.options.get(key)
                self.options.set(key, value)
            return self._process(job)
        finally:
            if job.values["override_settings_restore_afterwards"]:
                for key, value in stored.items():
                    if key == "sd_model_checkpoint":
                        model = catalog.find_model(value)
                        if model is not None:
                            self._load_model(model)
                    else:
                        self.options.set(key, value)

    def _process(self, job: Job) -> _Output:
        v = job.values
        opts = self.options.snapshot()
        model = self.current_model()
        batch_size = int_or(v["batch_size"], 1)
        n_iter = int_or(v["n_iter"], 1)
        steps = max(1, int_or(v["steps"], 50))
        width, height = int_or(v["width"], 512), int_or(v["height"], 512)
        total = batch_size * n_iter
        if total <= 0:
            raise ApiError(500, "IndexError", errors="list index out of range")
        if width < 8 or height < 8:
            raise ApiError(
                500,
                "RuntimeError",
                errors=f"image size must be at least 8x8 pixels, got {width}x{height}",
            )
        # Latents are 1/8 of the image size: odd sizes come back rounded down to a multiple of 8.
        img_w, img_h = width // 8 * 8, height // 8 * 8

        hires = job.mode == "txt2img" and bool(v["enable_hr"])
        hr_size = self._hires_size(v, width, height) if hires else (img_w, img_h)
        if (
            hires
            and v["hr_upscaler"] is not None
            and not catalog.is_known_upscaler(v["hr_upscaler"])
        ):
            raise ApiError(
                500, "Exception", errors=f"could not find upscaler named {v['hr_upscaler']}"
            )
        out_w, out_h = hr_size
        if out_w * out_h * batch_size > OOM_PIXEL_LIMIT:
            self.oom_events += 1
            raise ApiError(500, "OutOfMemoryError", errors=_oom_message(out_w, out_h, batch_size))

        styles = list(v["styles"] or [])
        prompt, negative = catalog.apply_styles(
            v["prompt"] or "", v["negative_prompt"] or "", styles
        )
        subseed_strength = v["subseed_strength"] or 0
        seed = _fixed_seed(v["seed"])
        subseed = _fixed_seed(v["subseed"])
        all_seeds = [seed + (i if subseed_strength == 0 else 0) for i in range(total)]
        all_subseeds = [subseed + i for i in range(total)]
        clip_skip = int_or(opts.get("CLIP_stop_at_last_layers"), 1)
        denoising = v["denoising_strength"]
        if job.mode == "img2img":
            sampling_steps = int(min(float(denoising), 0.999) * steps) + 1
        else:
            sampling_steps = steps
        hr_steps = int_or(v.get("hr_second_pass_steps"), 0) or steps

        self.state.set_job_count(n_iter * (2 if hires else 1))
        images: list[Image.Image] = []
        cfg = v["cfg_scale"] if isinstance(v["cfg_scale"], int | float) else 7.0
        cfg = cfg if math.isfinite(cfg) else 7.0
        for n in range(n_iter):
            self.state.take_skip()
            if self.state.is_interrupted():
                break
            first = n * batch_size
            seeds = all_seeds[first : first + batch_size]
            subseeds = all_subseeds[first : first + batch_size]

            def final_at(
                size: tuple[int, int],
                index: int,
                s: Sequence[int] = seeds,
                ss: Sequence[int] = subseeds,
                first: int = first,
            ) -> Image.Image:
                picture = self._paint(
                    prompt, s[index], ss[index], subseed_strength, size, model.model_name, cfg
                )
                if job.mode == "img2img" and job.init_images:
                    init = job.init_images[(first + index) % len(job.init_images)]
                    init = _fit_init_image(init, picture.size, int_or(v["resize_mode"], 0))
                    picture = painter.blend_init_image(init, picture, float(denoising))
                    if job.mask is not None:
                        picture = self._apply_mask(picture, init, job.mask, v)
                return picture

            finals = [final_at((img_w, img_h), i) for i in range(batch_size)]
            last_pass = not hires
            reached = self._sample(
                sampling_steps, opts, last_pass, functools.partial(_noisy, finals, seeds)
            )
            if reached < 1.0:
                batch = _noisy(finals, seeds, reached)
            elif hires:
                self.state.next_job()
                if denoising is None:
                    raise ApiError(
                        500,
                        "TypeError",
                        errors="'>' not supported between instances of 'NoneType' and 'int'",
                    )
                upscaled = [x.resize(hr_size, Image.Resampling.BICUBIC) for x in finals]
                hr_finals = [final_at(hr_size, i) for i in range(batch_size)]
                reached = self._sample(
                    hr_steps, opts, True, functools.partial(_blended, upscaled, hr_finals)
                )
                batch = hr_finals if reached >= 1.0 else _blended(upscaled, hr_finals, reached)
            else:
                batch = finals
            images.extend(batch)
            self.state.next_job()

        context = JobReport(
            self.state.job_timestamp,
            job,
            opts,
            model,
            prompt,
            negative,
            all_seeds,
            all_subseeds,
            clip_skip,
            width,
            height,
            steps,
            hr_size if hires else None,
        )
        infotexts = [context.infotext(i) for i in range(len(images))]
        index_of_first_image = 0
        unwanted = len(images) < 2 and bool(opts.get("grid_only_if_multiple", True))
        if v["save_images"] and opts.get("return_grid", True) and images and not unwanted:
            grid = painter.make_grid(images, _grid_rows(len(images), batch_size, opts))
            images.insert(0, grid)
            infotexts.insert(0, context.infotext(0, use_main_prompt=True))
            index_of_first_image = 1
        info = context.info(
            index_of_first_image,
            infotexts,
            styles,
            all_seeds,
            all_subseeds,
            [prompt] * total,
            [negative] * total,
        )
        return _Output(images, infotexts, info)

    @staticmethod
    def _hires_size(v: dict[str, Any], width: int, height: int) -> tuple[int, int]:
        """The hires-fix target size (``calculate_target_resolution``)."""
        rx, ry = int_or(v["hr_resize_x"], 0), int_or(v["hr_resize_y"], 0)
        if rx == 0 and ry == 0:
            scale = v["hr_scale"] if isinstance(v["hr_scale"], int | float) else 2.0
            size = (int(width * scale), int(height * scale))
        elif ry == 0:
            size = (rx, rx * height // width)
        elif rx == 0:
            size = (ry * width // height, ry)
        else:
            size = (rx, ry)
        return max(8, size[0] // 8 * 8), max(8, size[1] // 8 * 8)

    def _paint(
        self,
        prompt: str,
        seed: int,
        subseed: int,
        strength: float,
        size: tuple[int, int],
        model: str,
        cfg: float,
    ) -> Image.Image:
        key = LORA_RE.sub("", prompt)
        picture = painter.paint(key, seed, size[0], size[1], model)
        if strength:
            variation = painter.paint(key, subseed, size[0], size[1], model)
            picture = Image.blend(picture, variation, min(max(float(strength), 0.0), 1.0))
        # CFG scale reads as colour intensity: 7 leaves the picture as painted.
        saturation = min(1.5, max(0.6, 0.6 + 0.4 * min(float(cfg), 15.0) / 7.0))
        if abs(saturation - 1.0) > 1e-3:
            picture = ImageEnhance.Color(picture).enhance(saturation)
        return picture

    @staticmethod
    def _apply_mask(
        picture: Image.Image, init: Image.Image, mask: Image.Image, v: dict[str, Any]
    ) -> Image.Image:
        """Inpainting: only the white part of the mask changes (black with the invert flag)."""
        gray = mask.convert("L").resize(picture.size)
        if v["inpainting_mask_invert"]:
            gray = Image.eval(gray, lambda p: 255 - p)
        base = init.convert("RGB").resize(picture.size)
        return Image.composite(picture, base, gray)

    def _sample(
        self,
        steps: int,
        opts: dict[str, Any],
        last_pass: bool,
        previews: Callable[[float], list[Image.Image]],
    ) -> float:
        """Fake sampling: ``steps`` sleeps, with previews; returns how far it got (1.0 = all)."""
        self.state.start_sampling(steps)
        for step in range(1, steps + 1):
            self.state.wake.wait(self.step_delay)
            if self.state.should_stop():
                return (step - 1) / steps
            self.state.set_step(step)
            if not self.options.get("live_previews_enable", True):
                continue
            every = int_or(self.options.get("show_progress_every_n_steps"), 10)
            due = (every > 0 and step % every == 0) or (every == -1 and last_pass and step == steps)
            if due:
                self.state.set_preview(self._preview_renderer(previews, step / steps, opts))
        return 1.0

    def _preview_renderer(
        self, previews: Callable[[float], list[Image.Image]], fraction: float, opts: dict[str, Any]
    ) -> Callable[[], Image.Image]:
        show_grid = bool(self.options.get("show_progress_grid", True))

        def render() -> Image.Image:
            frames = previews(fraction)
            if show_grid and len(frames) > 1:
                picture = painter.make_grid(frames, _grid_rows(len(frames), len(frames), opts))
            else:
                picture = frames[0]
            if max(picture.size) > _PREVIEW_MAX_SIDE:
                picture = picture.copy()
                picture.thumbnail((_PREVIEW_MAX_SIDE, _PREVIEW_MAX_SIDE))
            return picture

        return render

    # --- progress -----------------------------------------------------------------------------

    def progress(self, skip_current_image: bool) -> dict[str, Any]:
        """``GET /sdapi/v1/progress``, computed exactly as the web UI does."""
        snap = self.state.snapshot()
        state = snap["state"]
        if state["job_count"] == 0:
            return {
                "progress": 0,
                "eta_relative": 0,
                "state": state,
                "current_image": None,
                "textinfo": snap["textinfo"],
            }
        progress = 0.01
        job_count = state["job_count"]
        if job_count > 0:
            progress += state["job_no"] / job_count
        if state["sampling_steps"] > 0:
            progress += 1 / job_count * state["sampling_step"] / state["sampling_steps"]
        since = time.time() - (snap["time_start"] or time.time())
        eta_relative = since / progress - since
        progress = min(progress, 1)
        current_image = None
        frame = snap["preview"]
        if frame is not None and not skip_current_image:
            fmt = self.options.get("samples_format")
            current_image = frame.get_encoded(
                f"api:{fmt}", lambda image: encode_image(image, fmt, None, fast=True)
            )
        return {
            "progress": progress,
            "eta_relative": eta_relative,
            "state": state,
            "current_image": current_image,
            "textinfo": snap["textinfo"],
        }

    def internal_progress(
        self, id_task: str | None, id_live_preview: int, live_preview: bool
    ) -> dict[str, Any]:
        """``POST /internal/progress`` (web UI mode): progress of one task id."""
        active, queued, completed, waiting_text = self.tasks.status(id_task)
        if not active:
            return {
                "active": False,
                "queued": queued,
                "completed": completed,
                "progress": None,
                "eta": None,
                "live_preview": None,
                "id_live_preview": -1,
                "textinfo": waiting_text,
            }
        snap = self.state.snapshot()
        state = snap["state"]
        progress = 0.0
        job_count = state["job_count"]
        if job_count > 0:
            progress += state["job_no"] / job_count
        if state["sampling_steps"] > 0 and job_count > 0:
            progress += 1 / job_count * state["sampling_step"] / state["sampling_steps"]
        progress = min(progress, 1)
        elapsed = time.time() - (snap["time_start"] or time.time())
        eta = elapsed / progress - elapsed if progress > 0 else None
        preview_url = None
        preview_id = id_live_preview
        frame = snap["preview"]
        if (
            self.options.get("live_previews_enable", True)
            and live_preview
            and frame is not None
            and frame.id != id_live_preview
        ):
            fmt = self.options.get("live_previews_image_format", "png")
            preview_url = frame.get_encoded(
                f"internal:{fmt}", lambda image: encode_live_preview(image, fmt)
            )
            preview_id = frame.id
        return {
            "active": True,
            "queued": queued,
            "completed": completed,
            "progress": progress,
            "eta": eta,
            "live_preview": preview_url,
            "id_live_preview": preview_id,
            "textinfo": snap["textinfo"],
        }
