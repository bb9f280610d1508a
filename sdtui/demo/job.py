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
    scheduler_infotext: str | None  # what "Schedule type" shows (None: left out)
    init_images: list[Image.Image] = field(default_factory=list)
    mask: Image.Image | None = None


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

    def extra_params(self) -> dict[str, Any]:
        v = self.job.values
        extra: dict[str, Any] = {}
        if self.job.scheduler_infotext and self.job.scheduler_infotext != "Automatic":
            extra["Schedule type"] = self.job.scheduler_infotext
        if self.job.mode == "img2img":
            extra["Denoising strength"] = v["denoising_strength"]
            if self.job.mask is not None:
                extra["Mask blur"] = v["mask_blur"]
        if self.hr_size is not None:
            extra["Denoising strength"] = v["denoising_strength"]
            if int_or(v["hr_resize_x"], 0) == 0 and int_or(v["hr_resize_y"], 0) == 0:
                extra["Hires upscale"] = v["hr_scale"]
            else:
                extra["Hires resize"] = f"{v['hr_resize_x']}x{v['hr_resize_y']}"
            if v["hr_second_pass_steps"]:
                extra["Hires steps"] = v["hr_second_pass_steps"]
            if v["hr_upscaler"] is not None:
                extra["Hires upscaler"] = v["hr_upscaler"]
            if v["hr_sampler_name"] and v["hr_sampler_name"] != self.job.sampler:
                extra["Hires sampler"] = v["hr_sampler_name"]
            if v["hr_prompt"] and v["hr_prompt"] != v["prompt"]:
                extra["Hires prompt"] = v["hr_prompt"]
            if v["hr_negative_prompt"] and v["hr_negative_prompt"] != v["negative_prompt"]:
                extra["Hires negative prompt"] = v["hr_negative_prompt"]
        loras = []
        for name in LORA_RE.findall(self.prompt):
            lora = catalog.find_lora(name)
            if lora is not None:
                loras.append(f"{lora['alias']}: {catalog.lora_hash(lora['name'])}")
        if loras:
            extra["Lora hashes"] = ", ".join(dict.fromkeys(loras))
        return extra

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
            "Schedule type": self.job.scheduler_infotext,
            "CFG scale": v["cfg_scale"],
            "Image CFG scale": v.get("image_cfg_scale"),
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
