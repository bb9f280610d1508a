"""What the demo server has "installed": models, samplers, schedulers, styles, options.

Names, shapes and defaults follow AUTOMATIC1111's web UI v1.10 so that a client written against
the demo meets the same lists on a real server. Everything here is plain data plus the small
lookups the web UI performs on it (model aliases, sampler/scheduler resolution, styles).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALWAYSON_SCRIPTS",
    "DEFAULT_SAMPLER",
    "EMBEDDINGS",
    "LATENT_UPSCALE_MODES",
    "LORAS",
    "MODELS",
    "PROMPT_STYLES",
    "SAMPLERS",
    "SCHEDULERS",
    "SELECTABLE_SCRIPTS",
    "UPSCALERS",
    "VAES",
    "VERSION",
    "DemoModel",
    "PromptStyle",
    "Sampler",
    "Scheduler",
    "apply_styles",
    "default_options",
    "effective_schedule",
    "find_lora",
    "find_model",
    "find_scheduler",
    "is_known_upscaler",
    "is_sampler",
    "lora_hash",
    "resolve_sampler_and_scheduler",
    "sampler_uses_ensd",
    "vae_hash",
]

VERSION = "v1.10.1"
_MODEL_DIR = "/opt/stable-diffusion-webui/models"


@dataclass(frozen=True)
class DemoModel:
    """One checkpoint; ``model_name`` also picks the painter's look."""

    model_name: str

    @property
    def filename(self) -> str:
        return f"{_MODEL_DIR}/Stable-diffusion/{self.model_name}.safetensors"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"sdtui-demo-checkpoint:{self.model_name}".encode()).hexdigest()

    @property
    def shorthash(self) -> str:
        """The 10-hex "Model hash" of infotexts and titles."""
        return self.sha256[:10]

    @property
    def title(self) -> str:
        return f"{self.model_name}.safetensors [{self.shorthash}]"

    def aliases(self) -> tuple[str, ...]:
        """Every name the web UI accepts for this checkpoint (its ``checkpoint_aliases``)."""
        name = f"{self.model_name}.safetensors"
        return (
            self.title,
            name,
            self.model_name,
            self.shorthash,
            self.sha256,
            f"{name} [{self.shorthash}]",
        )

    def as_api(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "model_name": self.model_name,
            "hash": self.shorthash,
            "sha256": self.sha256,
            "filename": self.filename,
            "config": None,
        }


MODELS: tuple[DemoModel, ...] = (
    DemoModel("demo-dusk"),
    DemoModel("demo-aurora"),
    DemoModel("demo-pastel"),
    DemoModel("demo-ink"),
)


def find_model(name: object) -> DemoModel | None:
    """The checkpoint for a title, file name, model name or hash, as the web UI resolves it."""
    if not isinstance(name, str):
        return None
    for model in MODELS:
        if name in model.aliases():
            return model
    return None


@dataclass(frozen=True)
class Sampler:
    name: str
    aliases: tuple[str, ...]
    options: dict[str, Any]

    def as_api(self) -> dict[str, Any]:
        return {"name": self.name, "aliases": list(self.aliases), "options": dict(self.options)}


# v1.10's order: k-diffusion samplers, then timestep samplers. The first is the fallback for an
# unknown name, which is why an unknown sampler silently becomes "DPM++ 2M".
SAMPLERS: tuple[Sampler, ...] = (
    Sampler("DPM++ 2M", ("k_dpmpp_2m",), {"scheduler": "karras"}),
    Sampler(
        "DPM++ SDE",
        ("k_dpmpp_sde",),
        {"second_order": True, "brownian_noise": True, "scheduler": "karras"},
    ),
    Sampler(
        "DPM++ 2M SDE", ("k_dpmpp_2m_sde",), {"brownian_noise": True, "scheduler": "exponential"}
    ),
    Sampler(
        "DPM++ 2M SDE Heun",
        ("k_dpmpp_2m_sde_heun",),
        {"brownian_noise": True, "solver_type": "heun", "scheduler": "exponential"},
    ),
    Sampler(
        "DPM++ 2S a",
        ("k_dpmpp_2s_a",),
        {"uses_ensd": True, "second_order": True, "scheduler": "karras"},
    ),
    Sampler(
        "DPM++ 3M SDE",
        ("k_dpmpp_3m_sde",),
        {"discard_next_to_last_sigma": True, "brownian_noise": True, "scheduler": "exponential"},
    ),
    Sampler("Euler a", ("k_euler_a", "k_euler_ancestral"), {"uses_ensd": True}),
    Sampler("Euler", ("k_euler",), {}),
    Sampler("LMS", ("k_lms",), {}),
    Sampler("Heun", ("k_heun",), {"second_order": True}),
    Sampler("DPM2", ("k_dpm_2",), {"discard_next_to_last_sigma": True, "second_order": True}),
    Sampler(
        "DPM2 a",
        ("k_dpm_2_a",),
        {"discard_next_to_last_sigma": True, "uses_ensd": True, "second_order": True},
    ),
    Sampler("DPM fast", ("k_dpm_fast",), {"uses_ensd": True}),
    Sampler("DPM adaptive", ("k_dpm_ad",), {"uses_ensd": True}),
    Sampler("Restart", ("restart",), {"scheduler": "karras", "second_order": True}),
    Sampler("DDIM", ("ddim",), {}),
    Sampler("DDIM CFG++", ("ddim_cfgpp",), {}),
    Sampler("PLMS", ("plms",), {}),
    Sampler("UniPC", ("unipc",), {}),
    Sampler("LCM", ("k_lcm",), {}),
)
DEFAULT_SAMPLER = SAMPLERS[0]
_SAMPLERS_BY_NAME = {s.name: s for s in SAMPLERS}


@dataclass(frozen=True)
class Scheduler:
    name: str
    label: str
    aliases: tuple[str, ...] | None = None
    default_rho: float = -1
    need_inner_model: bool = False

    def as_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "aliases": list(self.aliases) if self.aliases is not None else None,
            "default_rho": self.default_rho,
            "need_inner_model": self.need_inner_model,
        }


SCHEDULERS: tuple[Scheduler, ...] = (
    Scheduler("automatic", "Automatic"),
    Scheduler("uniform", "Uniform", need_inner_model=True),
    Scheduler("karras", "Karras", default_rho=7.0),
    Scheduler("exponential", "Exponential"),
    Scheduler("polyexponential", "Polyexponential", default_rho=1.0),
    Scheduler("sgm_uniform", "SGM Uniform", aliases=("SGMUniform",), need_inner_model=True),
    Scheduler("kl_optimal", "KL Optimal"),
    Scheduler("align_your_steps", "Align Your Steps"),
    Scheduler("simple", "Simple", need_inner_model=True),
    Scheduler("normal", "Normal", need_inner_model=True),
    Scheduler("ddim", "DDIM", need_inner_model=True),
    Scheduler("beta", "Beta", need_inner_model=True),
)
_AUTOMATIC = SCHEDULERS[0]
_SCHEDULERS_MAP = {**{s.name: s for s in SCHEDULERS}, **{s.label: s for s in SCHEDULERS}}


def find_scheduler(name: str | None) -> Scheduler | None:
    """A scheduler by name or label ("karras" or "Karras"), or None."""
    if name is None:
        return None
    return _SCHEDULERS_MAP.get(name)


def resolve_sampler_and_scheduler(
    sampler_name: str | None, scheduler_name: str | None
) -> tuple[str, str]:
    """(sampler name, scheduler label) exactly as v1.10's ``get_sampler_and_scheduler``.

    A combined name such as "DPM++ 2M Karras" is split; an unknown sampler falls back to the
    first one ("DPM++ 2M"), an unknown scheduler to "Automatic"; a scheduler that is the
    sampler's own default is reported as "Automatic".
    """
    found = _SCHEDULERS_MAP.get(scheduler_name or "", _AUTOMATIC)
    name = sampler_name or DEFAULT_SAMPLER.name
    for scheduler in SCHEDULERS:
        for option in (scheduler.label, *(scheduler.aliases or ())):
            if name.endswith(" " + option):
                found = scheduler
                name = name[: -(len(option) + 1)]
                break
    sampler = _SAMPLERS_BY_NAME.get(name, DEFAULT_SAMPLER)
    if sampler.options.get("scheduler") == found.name:
        found = _AUTOMATIC
    return sampler.name, found.label


#: Samplers that step through timesteps, not sigmas: no noise schedule is applied to them.
TIMESTEP_SAMPLERS = frozenset({"DDIM", "DDIM CFG++", "PLMS", "UniPC"})


def is_sampler(name: object) -> bool:
    return isinstance(name, str) and name in _SAMPLERS_BY_NAME


def effective_schedule(sampler_name: str, scheduler_label: str | None) -> str | None:
    """The noise schedule a sampler really runs with (``KDiffusionSampler.get_sigmas``): the
    named one, or for "Automatic" the sampler's own default ("DPM++ 2M" → "Karras"); None when
    the model's own schedule is used (Euler a, Automatic) or the sampler takes no schedule."""
    if sampler_name in TIMESTEP_SAMPLERS:
        return None
    scheduler = find_scheduler(scheduler_label) if scheduler_label else None
    if scheduler is None or scheduler is _AUTOMATIC:
        sampler = _SAMPLERS_BY_NAME.get(sampler_name)
        scheduler = find_scheduler(sampler.options.get("scheduler")) if sampler else None
    if scheduler is None or scheduler is _AUTOMATIC:
        return None
    return scheduler.label


def sampler_uses_ensd(sampler_name: str) -> bool:
    sampler = _SAMPLERS_BY_NAME.get(sampler_name)
    return bool(sampler and sampler.options.get("uses_ensd"))


UPSCALERS: tuple[dict[str, Any], ...] = (
    {"name": "None", "model_name": None, "model_path": None, "model_url": None, "scale": 4},
    {"name": "Lanczos", "model_name": None, "model_path": None, "model_url": None, "scale": 4},
    {"name": "Nearest", "model_name": None, "model_path": None, "model_url": None, "scale": 4},
    {
        "name": "DAT x2",
        "model_name": None,
        "model_path": "https://github.com/n0kovo/dat_upscaler_models/raw/main/DAT/DAT_x2.pth",
        "model_url": None,
        "scale": 2,
    },
    {
        "name": "ESRGAN_4x",
        "model_name": "ESRGAN",
        "model_path": "https://github.com/cszn/KAIR/releases/download/v1.0/ESRGAN.pth",
        "model_url": None,
        "scale": 4,
    },
    {
        "name": "LDSR",
        "model_name": "LDSR",
        "model_path": "https://heibox.uni-heidelberg.de/f/578df07c8fc04ffbadf3/?dl=1",
        "model_url": None,
        "scale": 4,
    },
    {
        "name": "R-ESRGAN 4x+",
        "model_name": "RealESRGAN",
        "model_path": "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/"
        "RealESRGAN_x4plus.pth",
        "model_url": None,
        "scale": 4,
    },
    {
        "name": "R-ESRGAN 4x+ Anime6B",
        "model_name": "RealESRGAN",
        "model_path": "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.2.4/"
        "RealESRGAN_x4plus_anime_6B.pth",
        "model_url": None,
        "scale": 4,
    },
    {
        "name": "ScuNET GAN",
        "model_name": "ScuNET",
        "model_path": "https://github.com/cszn/KAIR/releases/download/v1.0/scunet_color_real_gan.pth",
        "model_url": None,
        "scale": 4,
    },
    {
        "name": "SwinIR 4x",
        "model_name": "SwinIR",
        "model_path": "https://github.com/JingyunLiang/SwinIR/releases/download/v0.0/"
        "003_realSR_BSRGAN_DFOWMFC_s64w8_SwinIR-L_x4_GAN.pth",
        "model_url": None,
        "scale": 4,
    },
)

LATENT_UPSCALE_MODES: tuple[str, ...] = (
    "Latent",
    "Latent (antialiased)",
    "Latent (bicubic)",
    "Latent (bicubic antialiased)",
    "Latent (nearest)",
    "Latent (nearest-exact)",
)


def is_known_upscaler(name: str) -> bool:
    return name in LATENT_UPSCALE_MODES or any(u["name"] == name for u in UPSCALERS)


@dataclass(frozen=True)
class PromptStyle:
    name: str
    prompt: str
    negative_prompt: str

    def as_api(self) -> dict[str, Any]:
        return {"name": self.name, "prompt": self.prompt, "negative_prompt": self.negative_prompt}


PROMPT_STYLES: tuple[PromptStyle, ...] = (
    PromptStyle(
        "Cinematic",
        "cinematic still of {prompt}, shallow depth of field, film grain",
        "cartoon, painting, illustration",
    ),
    PromptStyle("Oil painting", "oil painting, impasto, visible brush strokes", "photo, 3d render"),
    PromptStyle("Night sky", "{prompt}, night, starry sky, moonlight", "daylight"),
    PromptStyle("Quality tags", "masterpiece, best quality", "lowres, blurry, jpeg artifacts"),
)
_STYLES_BY_NAME = {s.name: s for s in PROMPT_STYLES}


def _merge_prompts(style_prompt: str, prompt: str) -> str:
    if "{prompt}" in style_prompt:
        return style_prompt.replace("{prompt}", prompt)
    return ", ".join(part for part in (prompt.strip(), style_prompt.strip()) if part)


def apply_styles(prompt: str, negative_prompt: str, styles: list[str]) -> tuple[str, str]:
    """Prompts with the named styles applied in order; unknown names are ignored (as v1.10)."""
    for name in styles:
        style = _STYLES_BY_NAME.get(name)
        if style is None:
            continue
        prompt = _merge_prompts(style.prompt, prompt)
        negative_prompt = _merge_prompts(style.negative_prompt, negative_prompt)
    return prompt, negative_prompt


LORAS: tuple[dict[str, Any], ...] = (
    {
        "name": "add_detail",
        "alias": "add_detail",
        "path": f"{_MODEL_DIR}/Lora/add_detail.safetensors",
        "metadata": {"ss_output_name": "add_detail", "ss_network_dim": "128"},
    },
    {
        "name": "film_grain",
        "alias": "filmgrain",
        "path": f"{_MODEL_DIR}/Lora/film_grain.safetensors",
        "metadata": {},
    },
    {
        "name": "watercolor_v2",
        "alias": "watercolor",
        "path": f"{_MODEL_DIR}/Lora/watercolor_v2.safetensors",
        "metadata": {"ss_output_name": "watercolor_v2", "ss_network_dim": "32"},
    },
)

EMBEDDINGS: dict[str, Any] = {
    "loaded": {
        "easynegative": {
            "step": None,
            "sd_checkpoint": None,
            "sd_checkpoint_name": None,
            "shape": 768,
            "vectors": 8,
        },
        "bad-hands-5": {
            "step": 13000,
            "sd_checkpoint": "7460a6fa",
            "sd_checkpoint_name": "demo-dusk",
            "shape": 768,
            "vectors": 2,
        },
    },
    "skipped": {
        "sdxl-negative": {
            "step": None,
            "sd_checkpoint": None,
            "sd_checkpoint_name": None,
            "shape": 2048,
            "vectors": 4,
        },
    },
}

VAES: tuple[dict[str, str], ...] = (
    {
        "model_name": "vae-ft-mse-840000-ema-pruned.safetensors",
        "filename": f"{_MODEL_DIR}/VAE/vae-ft-mse-840000-ema-pruned.safetensors",
    },
    {"model_name": "demo-soft.vae.pt", "filename": f"{_MODEL_DIR}/VAE/demo-soft.vae.pt"},
)


def vae_hash(name: str) -> str:
    return hashlib.sha256(f"sdtui-demo-vae:{name}".encode()).hexdigest()[:10]


def lora_hash(name: str) -> str:
    """The 12-hex short hash "Lora hashes" reports for a LoRA."""
    return hashlib.sha256(f"sdtui-demo-lora:{name}".encode()).hexdigest()[:12]


def find_lora(name: str) -> dict[str, Any] | None:
    """A LoRA by the name or alias used in ``<lora:NAME:WEIGHT>``."""
    for lora in LORAS:
        if name in (lora["name"], lora["alias"]):
            return lora
    return None


# The scripts a request may name; titles are matched case-insensitively, as by the web UI.
SELECTABLE_SCRIPTS: dict[str, tuple[str, ...]] = {
    "txt2img": ("Prompt matrix", "Prompts from file or textbox", "X/Y/Z plot"),
    "img2img": (
        "img2img alternative test",
        "Loopback",
        "Outpainting mk2",
        "Poor man's outpainting",
        "Prompt matrix",
        "Prompts from file or textbox",
        "SD upscale",
        "X/Y/Z plot",
    ),
}
ALWAYSON_SCRIPTS: tuple[str, ...] = (
    "Extra options",
    "Hypertile",
    "Refiner",
    "Seed",
    "Sampler",
    "Comments",
    "LoRA",
)


def default_options() -> dict[str, Any]:
    """A fresh copy of the settings a new v1.10 install reports (a representative subset)."""
    model = MODELS[0]
    return {
        "samples_save": True,
        "samples_format": "png",
        "samples_filename_pattern": "",
        "save_images_add_number": True,
        "save_images_replace_action": "Replace",
        "grid_save": True,
        "grid_format": "png",
        "grid_extended_filename": False,
        "grid_only_if_multiple": True,
        "grid_prevent_empty_spots": False,
        "grid_zip_filename_pattern": "",
        "n_rows": -1,
        "font": "",
        "grid_text_active_color": "#000000",
        "grid_text_inactive_color": "#999999",
        "grid_background_color": "#ffffff",
        "save_images_before_face_restoration": False,
        "save_images_before_highres_fix": False,
        "save_images_before_color_correction": False,
        "save_mask": False,
        "save_mask_composite": False,
        "jpeg_quality": 80,
        "webp_lossless": False,
        "export_for_4chan": True,
        "img_downscale_threshold": 4.0,
        "target_side_length": 4000.0,
        "img_max_size_mp": 200.0,
        "use_original_name_batch": True,
        "use_upscaler_name_as_suffix": False,
        "save_selected_only": True,
        "save_init_img": False,
        "temp_dir": "",
        "clean_temp_dir_at_start": False,
        "save_incomplete_images": False,
        "notification_audio": True,
        "notification_volume": 100,
        "outdir_samples": "",
        "outdir_txt2img_samples": "outputs/txt2img-images",
        "outdir_img2img_samples": "outputs/img2img-images",
        "outdir_extras_samples": "outputs/extras-images",
        "outdir_grids": "",
        "outdir_txt2img_grids": "outputs/txt2img-grids",
        "outdir_img2img_grids": "outputs/img2img-grids",
        "outdir_save": "log/images",
        "outdir_init_images": "outputs/init-images",
        "save_to_dirs": True,
        "grid_save_to_dirs": True,
        "use_save_to_dirs_for_ui": False,
        "directories_filename_pattern": "[date]",
        "directories_max_prompt_words": 8,
        "ESRGAN_tile": 192,
        "ESRGAN_tile_overlap": 8,
        "realesrgan_enabled_models": ["R-ESRGAN 4x+", "R-ESRGAN 4x+ Anime6B"],
        "dat_enabled_models": ["DAT x2", "DAT x3", "DAT x4"],
        "upscaler_for_img2img": None,
        "set_scale_by_when_changing_upscaler": False,
        "face_restoration": False,
        "face_restoration_model": "CodeFormer",
        "code_former_weight": 0.5,
        "face_restoration_unload": False,
        "auto_launch_browser": "Local",
        "enable_console_prompts": False,
        "show_warnings": False,
        "show_gradio_deprecation_warnings": True,
        "memmon_poll_rate": 8,
        "samples_log_stdout": False,
        "multiple_tqdm": True,
        "enable_upscale_progressbar": True,
        "print_hypernet_extra": False,
        "list_hidden_files": True,
        "disable_mmap_load_safetensors": False,
        "hide_ldm_prints": True,
        "dump_stacks_on_signal": False,
        "api_enable_requests": True,
        "api_forbid_local_requests": True,
        "api_useragent": "",
        "unload_models_when_training": False,
        "pin_memory": False,
        "save_optimizer_state": False,
        "save_training_settings_to_txt": True,
        "dataset_filename_word_regex": "",
        "dataset_filename_join_string": " ",
        "training_image_repeats_per_epoch": 1,
        "training_write_csv_every": 500.0,
        "training_xattention_optimizations": False,
        "training_enable_tensorboard": False,
        "training_tensorboard_save_images": False,
        "training_tensorboard_flush_every": 120.0,
        "sd_model_checkpoint": model.title,
        "sd_checkpoints_limit": 1,
        "sd_checkpoints_keep_in_cpu": True,
        "sd_checkpoint_cache": 0,
        "sd_unet": "Automatic",
        "enable_quantization": False,
        "emphasis": "Original",
        "enable_batch_seeds": True,
        "comma_padding_backtrack": 20,
        "sdxl_clip_l_skip": False,
        "CLIP_stop_at_last_layers": 1,
        "upcast_attn": False,
        "randn_source": "GPU",
        "tiling": False,
        "hires_fix_refiner_pass": "second pass",
        "enable_prompt_comments": True,
        "sdxl_crop_top": 0.0,
        "sdxl_crop_left": 0.0,
        "sdxl_refiner_low_aesthetic_score": 2.5,
        "sdxl_refiner_high_aesthetic_score": 6.0,
        "sd_vae_checkpoint_cache": 0,
        "sd_vae": "Automatic",
        "sd_vae_overrides_per_model_preferences": True,
        "auto_vae_precision_bfloat16": False,
        "auto_vae_precision": True,
        "sd_vae_encode_method": "Full",
        "sd_vae_decode_method": "Full",
        "inpainting_mask_weight": 1.0,
        "initial_noise_multiplier": 1.0,
        "img2img_extra_noise": 0.0,
        "img2img_color_correction": False,
        "img2img_fix_steps": False,
        "img2img_background_color": "#ffffff",
        "img2img_editor_height": 720,
        "img2img_sketch_default_brush_color": "#ffffff",
        "img2img_inpaint_mask_brush_color": "#ffffff",
        "img2img_inpaint_sketch_default_brush_color": "#ffffff",
        "return_mask": False,
        "return_mask_composite": False,
        "img2img_batch_show_results_limit": 32,
        "overlay_inpaint": True,
        "cross_attention_optimization": "Automatic",
        "s_min_uncond": 0.0,
        "token_merging_ratio": 0.0,
        "token_merging_ratio_img2img": 0.0,
        "token_merging_ratio_hr": 0.0,
        "pad_cond_uncond": False,
        "pad_cond_uncond_v0": False,
        "persistent_cond_cache": True,
        "batch_cond_uncond": True,
        "fp8_storage": "Disable",
        "cache_fp16_weight": False,
        "auto_backcompat": True,
        "use_old_emphasis_implementation": False,
        "use_old_karras_scheduler_sigmas": False,
        "no_dpmpp_sde_batch_determinism": False,
        "use_old_hires_fix_width_height": False,
        "hires_fix_use_firstpass_conds": False,
        "use_old_scheduling": False,
        "use_downcasted_alpha_bar": False,
        "refiner_switch_by_sample_steps": False,
        "interrogate_keep_models_in_memory": False,
        "interrogate_return_ranks": False,
        "interrogate_clip_num_beams": 1,
        "interrogate_clip_min_length": 24,
        "interrogate_clip_max_length": 48,
        "interrogate_clip_dict_limit": 1500.0,
        "interrogate_clip_skip_categories": [],
        "interrogate_deepbooru_score_threshold": 0.5,
        "deepbooru_sort_alpha": True,
        "deepbooru_use_spaces": True,
        "deepbooru_escape": True,
        "deepbooru_filter_tags": "",
        "extra_networks_show_hidden_directories": True,
        "extra_networks_dir_button_function": False,
        "extra_networks_hidden_models": "When searched",
        "extra_networks_default_multiplier": 1.0,
        "extra_networks_card_width": 0.0,
        "extra_networks_card_height": 0.0,
        "extra_networks_card_text_scale": 1.0,
        "extra_networks_card_show_desc": True,
        "extra_networks_card_description_is_html": False,
        "extra_networks_card_order_field": "Path",
        "extra_networks_card_order": "Ascending",
        "extra_networks_tree_view_style": "Dirs",
        "extra_networks_tree_view_default_enabled": True,
        "extra_networks_tree_view_default_width": 180.0,
        "extra_networks_add_text_separator": " ",
        "ui_extra_networks_tab_reorder": "",
        "textual_inversion_print_at_load": False,
        "textual_inversion_add_hashes_to_infotext": True,
        "sd_hypernetwork": "None",
        "sd_lora": "None",
        "lora_preferred_name": "Alias from file",
        "lora_add_hashes_to_infotext": True,
        "lora_bundled_ti_to_infotext": True,
        "lora_show_all": False,
        "lora_hide_unknown_for_versions": [],
        "lora_in_memory_limit": 0,
        "lora_not_found_warning_console": False,
        "lora_not_found_gradio_warning": False,
        "localization": "None",
        "quicksettings_list": ["sd_model_checkpoint"],
        "ui_tab_order": [],
        "hidden_tabs": [],
        "ui_reorder_list": [],
        "gradio_theme": "Default",
        "gradio_themes_cache": True,
        "show_progress_in_title": True,
        "send_seed": True,
        "send_size": True,
        "js_modal_lightbox": True,
        "js_modal_lightbox_initially_zoomed": True,
        "js_modal_lightbox_gamepad": False,
        "js_modal_lightbox_gamepad_repeat": 250.0,
        "sd_webui_modal_lightbox_icon_opacity": 1.0,
        "sd_webui_modal_lightbox_toolbar_opacity": 0.9,
        "gallery_height": "",
        "open_dir_button_choice": "Subdirectory",
        "enable_pnginfo": True,
        "save_txt": False,
        "add_model_name_to_info": True,
        "add_model_hash_to_info": True,
        "add_vae_name_to_info": True,
        "add_vae_hash_to_info": True,
        "add_user_name_to_info": False,
        "add_version_to_infotext": True,
        "disable_weights_auto_swap": True,
        "infotext_skip_pasting": [],
        "infotext_styles": "Apply if any",
        "show_progressbar": True,
        "live_previews_enable": True,
        "live_previews_image_format": "png",
        "show_progress_grid": True,
        "show_progress_every_n_steps": 10,
        "show_progress_type": "Approx NN",
        "live_preview_allow_lowvram_full": False,
        "live_preview_content": "Prompt",
        "live_preview_refresh_period": 1000.0,
        "live_preview_fast_interrupt": False,
        "js_live_preview_in_modal_lightbox": False,
        "prevent_screen_sleep_during_generation": True,
        "hide_samplers": [],
        "eta_ddim": 0.0,
        "eta_ancestral": 1.0,
        "ddim_discretize": "uniform",
        "s_churn": 0.0,
        "s_tmin": 0.0,
        "s_tmax": 0.0,
        "s_noise": 1.0,
        "sigma_min": 0.0,
        "sigma_max": 0.0,
        "rho": 0.0,
        "eta_noise_seed_delta": 0,
        "always_discard_next_to_last_sigma": False,
        "sgm_noise_multiplier": False,
        "uni_pc_variant": "bh1",
        "uni_pc_skip_type": "time_uniform",
        "uni_pc_order": 3,
        "uni_pc_lower_order_final": True,
        "sd_noise_schedule": "Default",
        "skip_early_cond": 0.0,
        "beta_dist_alpha": 0.6,
        "beta_dist_beta": 0.6,
        "postprocessing_enable_in_main_ui": [],
        "postprocessing_disable_in_extras": [],
        "postprocessing_operation_order": [],
        "upscaling_max_images_in_cache": 5,
        "postprocessing_existing_caption_action": "Ignore",
        "disabled_extensions": [],
        "disable_all_extensions": "none",
        "restore_config_state_file": "",
        "sd_checkpoint_hash": model.sha256,
        "return_grid": True,
        "do_not_show_images": False,
        "interrupt_after_current": True,
        "hires_fix_show_sampler": False,
        "hires_fix_show_prompts": False,
        "txt2img_settings_accordion": False,
        "img2img_settings_accordion": False,
    }
