"""One generation job's description, and the infotexts and info JSON made from it.

Infotexts follow the web UI's ``create_infotext`` (key order and formatting come from
:func:`sdtui.images.infotext.build_infotext`); the info object is ``Processed.js()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from sdtui.demo import catalog
from sdtui.images.infotext import build_infotext

__all__ = ["LORA_RE", "Job", "JobReport", "int_or"]

#: ``<lora:NAME:WEIGHT>`` in a prompt.
LORA_RE = re.compile(r"<lora:([^:>]+)(?::[^>]*)?>")


def int_or(value: Any, default: int) -> int:
    """``value`` if it is a real int (not a bool), else ``default`` (for fields sent as null)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass
class Job:
    """One validated generation request, resolved as far as possible before it is queued."""

    mode: str  # "txt2img" or "img2img"
    values: dict[str, Any]
    sampler: str
    scheduler_label: str  # the request's scheduler ("Automatic" when none was named)
    schedule: str | None = None  # the schedule the sampler really used, when not the model's
    init_images: list[Image.Image] = field(default_factory=list)
    mask: Image.Image | None = None

    @property
    def schedule_type(self) -> str:
        """The infotext's "Schedule type": what sampling used, else the request's label."""
        return self.schedule or self.scheduler_label


@dataclass
class JobReport:
    """A finished job's infotexts (``create_infotext``) and info object (``Processed.js()``)."""

    job_timestamp: str
    job: Job
    opts: dict[str, Any]
    model: catalog.DemoModel
    prompt: str
    negative: str
    all_seeds: list[int]
    all_subseeds: list[int]
    clip_skip: int
    width: int
    height: int
    steps: int
    hr_size: tuple[int, int] | None

    def vae(self) -> tuple[str | None, str | None]:
        name = self.opts.get("sd_vae")
        if isinstance(name, str) and any(x["model_name"] == name for x in catalog.VAES):
            return name, catalog.vae_hash(name)
        return None, None

    @property
    def hr_prompts(self) -> tuple[str, str]:
        """The hires pass's prompts (the first pass's when empty), styles applied to them too."""
        v = self.job.values
        prompt = v["hr_prompt"] or v["prompt"] or ""
        negative = v["hr_negative_prompt"] or v["negative_prompt"] or ""
        return catalog.apply_styles(prompt, negative, list(v["styles"] or []))

    def _checkpoint_title(self, name: Any) -> str | None:
        """A checkpoint's ``short_title`` ("name [hash]"), or None for "the same one"."""
        if name in (None, "", "None", "none", "Use same checkpoint"):
            return None
        model = catalog.find_model(name)
        return f"{model.model_name} [{model.shorthash}]" if model else None

    def extra_params(self) -> dict[str, Any]:
        """``p.extra_generation_params`` in the order v1.10 fills it: processing's own keys,
        then the LoRA extension's, then those sampling adds (schedule, refiner)."""
        v = self.job.values
        extra: dict[str, Any] = {}
        if self.job.mode == "img2img":
            extra["Denoising strength"] = v["denoising_strength"]
            if self.job.mask is not None:
                extra.update(self._inpaint_params())
        if self.hr_size is not None:
            extra["Denoising strength"] = v["denoising_strength"]
            extra["Hires checkpoint"] = self._checkpoint_title(v["hr_checkpoint_name"])
            hr_sampler = self.hr_sampler()
            if hr_sampler != self.job.sampler:
                extra["Hires sampler"] = hr_sampler
            hr_prompt, hr_negative = self.hr_prompts
            if hr_prompt != self.prompt:
                extra["Hires prompt"] = hr_prompt
            if hr_negative != self.negative:
                extra["Hires negative prompt"] = hr_negative
            hr_schedule = catalog.effective_schedule(hr_sampler, self.hr_scheduler_label())
            if hr_schedule is not None and hr_schedule != self.job.schedule:
                extra["Hires schedule type"] = hr_schedule
            if int_or(v["hr_resize_x"], 0) == 0 and int_or(v["hr_resize_y"], 0) == 0:
                extra["Hires upscale"] = v["hr_scale"]
            else:
                extra["Hires resize"] = f"{v['hr_resize_x']}x{v['hr_resize_y']}"
            if v["hr_second_pass_steps"]:
                extra["Hires steps"] = v["hr_second_pass_steps"]
            if v["hr_upscaler"] is not None:
                extra["Hires upscaler"] = v["hr_upscaler"]
        loras = []
        for name in LORA_RE.findall(self.prompt):
            lora = catalog.find_lora(name)
            if lora is not None:
                loras.append(f"{lora['alias']}: {catalog.lora_hash(lora['name'])}")
        if loras:
            extra["Lora hashes"] = ", ".join(dict.fromkeys(loras))
        if self.job.schedule is not None:
            extra["Schedule type"] = self.job.schedule
        refiner = self._checkpoint_title(v["refiner_checkpoint"])
        switch_at = v["refiner_switch_at"]
        model_title = f"{self.model.model_name} [{self.model.shorthash}]"
        if refiner is not None and refiner != model_title and (switch_at is None or switch_at < 1):
            extra["Refiner"] = refiner
            extra["Refiner switch at"] = switch_at
        return {k: value for k, value in extra.items() if value is not None}

    def _inpaint_params(self) -> dict[str, Any]:
        """img2img with a mask: the keys ``StableDiffusionProcessingImg2Img.init`` adds."""
        v = self.job.values
        params: dict[str, Any] = {}
        blur_x, blur_y = int_or(v["mask_blur_x"], 4), int_or(v["mask_blur_y"], 4)
        if isinstance(v["mask_blur"], int):  # the mask_blur setter sets both
            blur_x = blur_y = v["mask_blur"]
        if v["inpainting_mask_invert"]:
            params["Mask mode"] = "Inpaint not masked"
        if blur_x > 0 or blur_y > 0:
            params["Mask blur"] = blur_x if blur_x == blur_y else None
        if v["inpaint_full_res"]:
            params["Inpaint area"] = "Only masked"
            params["Masked area padding"] = int_or(v["inpaint_full_res_padding"], 0)
        fill = int_or(v["inpainting_fill"], 0)
        if fill in (2, 3):
            params["Masked content"] = "latent noise" if fill == 2 else "latent nothing"
        return params

    def hr_sampler(self) -> str:
        name = self.job.values["hr_sampler_name"]
        return name if catalog.is_sampler(name) else self.job.sampler

    def hr_scheduler_label(self) -> str:
        name = self.job.values["hr_scheduler"]
        if not name or name == "Use same scheduler":
            return self.job.scheduler_label
        known = catalog.find_scheduler(name)
        return known.label if known else "Automatic"

    def infotext(self, index: int, *, use_main_prompt: bool = False) -> str:
        v = self.job.values
        o = self.opts
        strength = v["subseed_strength"] or 0
        resize_w = int_or(v["seed_resize_from_w"], -1)
        resize_h = int_or(v["seed_resize_from_h"], -1)
        vae_name, vae_hash = self.vae()
        uses_ensd = int_or(o.get("eta_noise_seed_delta"), 0) != 0 and catalog.sampler_uses_ensd(
            self.job.sampler
        )
        params: dict[str, Any] = {
            "Steps": self.steps,
            "Sampler": self.job.sampler,
            "Schedule type": self.job.schedule_type,
            "CFG scale": v["cfg_scale"],
            # Only instruct-pix2pix ("edit") models keep image_cfg_scale; the demo has none.
            "Image CFG scale": None,
            "Seed": self.all_seeds[0 if use_main_prompt else index],
            "Face restoration": o.get("face_restoration_model") if v["restore_faces"] else None,
            "Size": f"{self.width}x{self.height}",
            "Model hash": self.model.shorthash if o.get("add_model_hash_to_info") else None,
            "Model": self.model.model_name if o.get("add_model_name_to_info") else None,
            "VAE hash": vae_hash if o.get("add_vae_hash_to_info") else None,
            "VAE": vae_name if o.get("add_vae_name_to_info") else None,
            "Variation seed": None
            if strength == 0
            else self.all_subseeds[0 if use_main_prompt else index],
            "Variation seed strength": None if strength == 0 else strength,
            "Seed resize from": None
            if resize_w <= 0 or resize_h <= 0
            else f"{resize_w}x{resize_h}",
            "Clip skip": None if self.clip_skip <= 1 else self.clip_skip,
            "ENSD": o.get("eta_noise_seed_delta") if uses_ensd else None,
            "RNG": o.get("randn_source") if o.get("randn_source") != "GPU" else None,
            "Tiling": "True" if v["tiling"] else None,
            **self.extra_params(),
            "Version": catalog.VERSION if o.get("add_version_to_infotext") else None,
        }
        return build_infotext(self.prompt, self.negative, params)

    def info(
        self,
        index_of_first_image: int,
        infotexts: list[str],
        styles: list[str],
        all_seeds: list[int],
        all_subseeds: list[int],
        all_prompts: list[str],
        all_negative_prompts: list[str],
    ) -> dict[str, Any]:
        """``Processed.js()``: the ``info`` object, before it is JSON-encoded into a string."""
        v = self.job.values
        vae_name, vae_hash = self.vae()
        return {
            "prompt": all_prompts[0],
            "all_prompts": all_prompts,
            "negative_prompt": all_negative_prompts[0],
            "all_negative_prompts": all_negative_prompts,
            "seed": all_seeds[0],
            "all_seeds": all_seeds,
            "subseed": all_subseeds[0],
            "all_subseeds": all_subseeds,
            "subseed_strength": v["subseed_strength"],
            "width": self.width,
            "height": self.height,
            "sampler_name": self.job.sampler,
            "cfg_scale": v["cfg_scale"],
            "steps": self.steps,
            "batch_size": v["batch_size"],
            "restore_faces": v["restore_faces"],
            "face_restoration_model": self.opts.get("face_restoration_model")
            if v["restore_faces"]
            else None,
            "sd_model_name": self.model.model_name,
            "sd_model_hash": self.model.shorthash,
            "sd_vae_name": vae_name,
            "sd_vae_hash": vae_hash,
            "seed_resize_from_w": v["seed_resize_from_w"],
            "seed_resize_from_h": v["seed_resize_from_h"],
            "denoising_strength": v["denoising_strength"],
            "extra_generation_params": self.extra_params(),
            "index_of_first_image": index_of_first_image,
            "infotexts": infotexts,
            "styles": styles,
            "job_timestamp": self.job_timestamp,
            "clip_skip": self.clip_skip,
            "is_using_inpainting_conditioning": False,
            "version": catalog.VERSION,
        }
