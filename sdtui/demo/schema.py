"""The request models of the web UI's API, as field tables (names, types, defaults, order).

Order matters: the response's ``parameters`` echoes the request in the model's field order.
Fields the web UI declares with a bare type and a non-None default (``send_images: bool =
True``) are not Optional in pydantic v1, so ``null`` there is a 422; all others accept null.
"""

from __future__ import annotations

from sdtui.demo.validation import Field, Kind

__all__ = [
    "IMG2IMG_FIELDS",
    "INTERNAL_PROGRESS_FIELDS",
    "PNG_INFO_FIELDS",
    "PROGRESS_QUERY_FIELDS",
    "TXT2IMG_FIELDS",
]

S, N, F, B, L, LS, D = (
    Kind.STR,
    Kind.INT,
    Kind.FLOAT,
    Kind.BOOL,
    Kind.LIST,
    Kind.LIST_STR,
    Kind.DICT,
)

# StableDiffusionProcessing's own fields (v1.10), in declaration order.
_BASE: tuple[Field, ...] = (
    Field("prompt", S, ""),
    Field("negative_prompt", S, ""),
    Field("styles", LS, None),
    Field("seed", N, -1),
    Field("subseed", N, -1),
    Field("subseed_strength", F, 0),
    Field("seed_resize_from_h", N, -1),
    Field("seed_resize_from_w", N, -1),
    Field("sampler_name", S, None),
    Field("scheduler", S, None),
    Field("batch_size", N, 1),
    Field("n_iter", N, 1),
    Field("steps", N, 50),
    Field("cfg_scale", F, 7.0),
    Field("width", N, 512),
    Field("height", N, 512),
    Field("restore_faces", B, None),
    Field("tiling", B, None),
    Field("do_not_save_samples", B, False),
    Field("do_not_save_grid", B, False),
    Field("eta", F, None),
    Field("denoising_strength", F, None),
    Field("s_min_uncond", F, None),
    Field("s_churn", F, None),
    Field("s_tmax", F, None),
    Field("s_tmin", F, None),
    Field("s_noise", F, None),
    Field("override_settings", D, None),
    Field("override_settings_restore_afterwards", B, True),
    Field("refiner_checkpoint", S, None),
    Field("refiner_switch_at", F, None),
    Field("disable_extra_networks", B, False),
    Field("firstpass_image", S, None),
    Field("comments", D, None),
)

# Fields the API adds to every generation model.
_API_TAIL: tuple[Field, ...] = (
    Field("sampler_index", S, "Euler", nullable=False),
    Field("script_name", S, None),
    Field("script_args", L, [], nullable=False),
    Field("send_images", B, True, nullable=False),
    Field("save_images", B, False, nullable=False),
    Field("alwayson_scripts", D, {}, nullable=False),
    Field("force_task_id", S, None),
    Field("infotext", S, None),
)

TXT2IMG_FIELDS: tuple[Field, ...] = (
    *_BASE,
    Field("enable_hr", B, False),
    Field("firstphase_width", N, 0),
    Field("firstphase_height", N, 0),
    Field("hr_scale", F, 2.0),
    Field("hr_upscaler", S, None),
    Field("hr_second_pass_steps", N, 0),
    Field("hr_resize_x", N, 0),
    Field("hr_resize_y", N, 0),
    Field("hr_checkpoint_name", S, None),
    Field("hr_sampler_name", S, None),
    Field("hr_scheduler", S, None),
    Field("hr_prompt", S, ""),
    Field("hr_negative_prompt", S, ""),
    *_API_TAIL,
)

# img2img redeclares denoising_strength (0.75, not Optional) in place of the base field.
IMG2IMG_FIELDS: tuple[Field, ...] = (
    *(
        Field("denoising_strength", F, 0.75, nullable=False)
        if f.name == "denoising_strength"
        else f
        for f in _BASE
    ),
    Field("init_images", L, None),
    Field("resize_mode", N, 0),
    Field("image_cfg_scale", F, None),
    Field("mask", S, None),
    Field("mask_blur_x", N, 4),
    Field("mask_blur_y", N, 4),
    Field("mask_blur", N, 4),
    Field("mask_round", B, True),
    Field("inpainting_fill", N, 0),
    Field("inpaint_full_res", B, True),
    Field("inpaint_full_res_padding", N, 0),
    Field("inpainting_mask_invert", N, 0),
    Field("initial_noise_multiplier", F, None),
    Field("latent_mask", S, None),
    _API_TAIL[0],
    Field("include_init_images", B, False, nullable=False),
    *_API_TAIL[1:],
)

PROGRESS_QUERY_FIELDS: tuple[Field, ...] = (Field("skip_current_image", B, False, nullable=False),)

INTERNAL_PROGRESS_FIELDS: tuple[Field, ...] = (
    Field("id_task", S, None),
    Field("id_live_preview", N, -1, nullable=False),
    Field("live_preview", B, True, nullable=False),
)

PNG_INFO_FIELDS: tuple[Field, ...] = (Field("image", S, None, nullable=False, required=True),)
