"""One reading of an image's parameters into a request (engine/reuse), with web UI infotexts."""

from __future__ import annotations

from sdtui.api.types import GenerationRequest, PromptStyle, SdModel
from sdtui.engine.reuse import (
    extract_styles,
    match_reused_model,
    request_from_infotext,
    split_sampler_scheduler,
)

STYLES = [
    PromptStyle("Cinematic", "cinematic still, dramatic light", "watermark"),
    PromptStyle("Oil painting", "oil painting of {prompt}, impasto", ""),
    PromptStyle("Empty", "", ""),
]

HIRES_LORA_STYLES = (
    "oil painting of masterpiece, a castle on a hill <lora:add_detail:0.8>, cinematic still, "
    "dramatic light, impasto\n"
    "Negative prompt: lowres, (worst quality:1.4), watermark\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, "
    "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, VAE hash: 735e4c3a44, "
    "VAE: vae-ft-mse-840000-ema-pruned.safetensors, Denoising strength: 0.45, Clip skip: 2, "
    'Hires upscale: 2, Hires steps: 12, Hires upscaler: R-ESRGAN 4x+, Lora hashes: "add_detail: '
    '7c6bad76eb54", Version: v1.10.1'
)

INPAINT = (
    "a red door, photo\n"
    "Negative prompt: blurry\n"
    "Steps: 30, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 12345, "
    "Size: 768x512, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Denoising strength: 0.6, "
    "Mask blur: 8, Inpaint area: Only masked, Masked area padding: 32, Masked content: original, "
    "Version: v1.10.1"
)

OLD_WITH_EXTENSIONS = (
    "portrait of a knight, (detailed armor:1.2)\n"
    "multi-line prompt, second line\n"
    "Negative prompt: bad hands\n"
    "Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 8, Seed: 77, Size: 512x512, "
    "Model hash: 7460a6fa, Model: anything-v3, Variation seed: 99, Variation seed strength: 0.3, "
    'Seed resize from: 448x448, ENSD: 31337, ControlNet 0: "Module: canny, Model: '
    'control_v11p_sd15_canny [d14c016b], Weight: 1", ADetailer model: face_yolov8n.pt, '
    "Version: v1.6.0"
)

SDXL_REFINER = (
    "a glass teapot on a table\n"
    "Steps: 40, Sampler: Euler, Schedule type: Automatic, CFG scale: 5, Seed: 8, "
    "Face restoration: CodeFormer, Size: 1024x1024, Model hash: 31e35c80fc, "
    "Model: sd_xl_base_1.0, Tiling: True, Refiner: sd_xl_refiner_1.0 [7440042bbd], "
    "Refiner switch at: 0.8, Version: v1.10.1"
)

HIRES_RESIZE = (
    "a lighthouse\n"
    "Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1, Size: 512x512, "
    "Model: demo-aurora, Denoising strength: 0.5, Hires resize: 1024x768, Hires upscaler: Latent, "
    "Hires sampler: DPM++ 2M, Hires prompt: a lighthouse at night, Version: v1.10.1"
)


def test_hires_lora_and_styles_come_back() -> None:
    reused = request_from_infotext(HIRES_LORA_STYLES, styles=STYLES)
    r = reused.request
    assert reused.styles == r.styles == ["Cinematic", "Oil painting"]
    assert r.prompt == "masterpiece, a castle on a hill <lora:add_detail:0.8>"  # LoRA stays
    assert r.negative_prompt == "lowres, (worst quality:1.4)"
    assert (r.steps, r.sampler_name, r.scheduler, r.cfg_scale, r.seed) == (
        28,
        "DPM++ 2M",
        "Karras",
        6.5,
        3141592653,
    )
    assert (r.width, r.height) == (512, 768)
    assert (r.enable_hr, r.denoising_strength, r.hr_scale, r.hr_second_pass_steps) == (
        True,
        0.45,
        2.0,
        12,
    )
    assert r.hr_upscaler == "R-ESRGAN 4x+" and r.clip_skip == 2
    assert r.override_settings == {"sd_vae": "vae-ft-mse-840000-ema-pruned.safetensors"}
    assert (reused.model_name, reused.model_hash) == ("v1-5-pruned-emaonly", "6ce0161689")
    assert r.model is None  # matched against the server's list by the caller
    assert (r.batch_size, r.n_iter) == (1, 1)
    assert reused.ignored == [] and reused.ignored_line == ""
    assert "Lora hashes" in reused.read and "Hires upscaler" in reused.read
    assert "Size-1" not in reused.read
    assert not reused.from_img2img


def test_without_the_server_styles_the_merged_prompt_is_kept() -> None:
    reused = request_from_infotext(HIRES_LORA_STYLES)
    assert reused.styles == [] and reused.request.styles is None
    assert reused.request.prompt.startswith("oil painting of masterpiece")
    assert reused.request.negative_prompt.endswith(", watermark")


def test_img2img_fields_are_kept_for_an_init_image() -> None:
    reused = request_from_infotext(INPAINT)
    assert reused.from_img2img and not reused.request.enable_hr
    assert reused.request.denoising_strength is None  # not a txt2img setting
    assert reused.request.scheduler is None  # "Automatic": the server's own choice
    assert reused.img2img == {
        "denoising_strength": 0.6,
        "mask_blur": 8,
        "inpaint_full_res": True,
        "inpaint_full_res_padding": 32,
        "inpainting_fill": 1,
    }
    assert reused.ignored == []


def test_unknown_keys_are_listed_and_old_sampler_names_split() -> None:
    reused = request_from_infotext(OLD_WITH_EXTENSIONS)
    r = reused.request
    assert r.prompt == "portrait of a knight, (detailed armor:1.2)\nmulti-line prompt, second line"
    assert (r.sampler_name, r.scheduler) == ("DPM++ 2M", "Karras")
    assert (r.subseed, r.subseed_strength) == (99, 0.3)
    assert (r.seed_resize_from_w, r.seed_resize_from_h) == (448, 448)
    assert r.override_settings == {"eta_noise_seed_delta": 31337}
    assert reused.ignored == ["ControlNet 0", "ADetailer model"]
    assert reused.ignored_line == "ignored: ControlNet 0, ADetailer model"


def test_refiner_face_restoration_and_tiling() -> None:
    r = request_from_infotext(SDXL_REFINER).request
    assert r.refiner_checkpoint == "sd_xl_refiner_1.0 [7440042bbd]"
    assert r.refiner_switch_at == 0.8
    assert r.restore_faces is True and r.tiling is True
    assert r.negative_prompt == "" and (r.width, r.height) == (1024, 1024)


def test_hires_resize_sampler_and_prompt() -> None:
    r = request_from_infotext(HIRES_RESIZE).request
    assert r.enable_hr and (r.hr_resize_x, r.hr_resize_y) == (1024, 768)
    assert r.hr_scale is None and r.hr_upscaler == "Latent"
    assert (r.hr_sampler_name, r.hr_prompt) == ("DPM++ 2M", "a lighthouse at night")


def test_base_keeps_what_the_text_does_not_say() -> None:
    base = GenerationRequest(
        prompt="old", steps=50, batch_size=4, n_iter=3, model="x.safetensors [aaaa]"
    )
    base.override_settings = {"keep": 1}
    reused = request_from_infotext("just a prompt", base)
    r = reused.request
    assert r.prompt == "just a prompt" and r.steps == 50 and r.model == "x.safetensors [aaaa]"
    assert (r.batch_size, r.n_iter) == (1, 1)  # one image re-runs as one image
    assert base.batch_size == 4 and base.override_settings == {"keep": 1}  # base untouched
    assert reused.read == [] and reused.ignored == []


def test_extract_styles_needs_both_prompts() -> None:
    styles = [PromptStyle("S", "sharp", "blurry")]
    assert extract_styles("a cat, sharp", "ugly", styles) == ([], "a cat, sharp", "ugly")
    assert extract_styles("a cat, sharp", "ugly, blurry", styles) == (["S"], "a cat", "ugly")


def test_split_sampler_scheduler() -> None:
    assert split_sampler_scheduler("DPM++ 2M SDE Exponential", None) == (
        "DPM++ 2M SDE",
        "Exponential",
    )
    assert split_sampler_scheduler("Euler a", None) == ("Euler a", None)
    assert split_sampler_scheduler("DPM++ 2M Karras", "Uniform") == ("DPM++ 2M Karras", "Uniform")


def test_match_reused_model_by_hash_then_exact_name() -> None:
    models = [
        SdModel(
            "v1-5-pruned-emaonly.safetensors [6ce0161689]", "v1-5-pruned-emaonly", "6ce0161689"
        ),
        SdModel("renamed.safetensors [31e35c80fc]", "renamed", "31e35c80fc"),
        SdModel("demo-ink-v2.safetensors [0123456789]", "demo-ink-v2", "0123456789"),
    ]
    hires = request_from_infotext(HIRES_LORA_STYLES)
    assert match_reused_model(hires, models) == models[0].title
    inpaint = request_from_infotext(INPAINT)  # sd_xl_base_1.0, here under another name
    assert match_reused_model(inpaint, models) == models[1].title
    loose = request_from_infotext("x\nSteps: 1, Seed: 2, Model: demo-ink")
    assert match_reused_model(loose, models) is None
    assert match_reused_model(request_from_infotext("x"), models) is None


def test_styles_come_out_of_the_hires_prompt_too() -> None:
    text = (
        "a fox, cinematic still, dramatic light\n"
        "Negative prompt: watermark\n"
        "Steps: 5, Sampler: Euler, Seed: 1, Size: 64x64, Denoising strength: 0.5, "
        'Hires prompt: "a fox, detailed, cinematic still, dramatic light", Hires upscale: 2, '
        "Hires upscaler: Latent"
    )
    r = request_from_infotext(text, styles=STYLES).request
    assert r.styles == ["Cinematic"] and r.prompt == "a fox" and r.negative_prompt == ""
    assert r.hr_prompt == "a fox, detailed"
    other = text.replace("a fox, detailed, cinematic still, dramatic light", "a fox, detailed")
    kept = request_from_infotext(other, styles=STYLES).request
    assert kept.styles is None and kept.prompt == "a fox, cinematic still, dramatic light"
    assert kept.hr_prompt == "a fox, detailed"


def test_fit_to_server_uses_the_servers_names_and_says_what_it_lacks() -> None:
    from sdtui.api.types import Sampler, Scheduler, SdVae, Upscaler
    from sdtui.engine.reuse import fit_to_server
    from sdtui.engine.server import ServerFacts

    facts = ServerFacts(
        samplers=[Sampler("DPM++ 2M", ["k_dpmpp_2m"]), Sampler("Euler a")],
        schedulers=[Scheduler("karras", "Karras")],
        models=[SdModel("v1-5-pruned-emaonly.safetensors [6ce0161689]", "v1-5-pruned-emaonly")],
        upscalers=[Upscaler("None"), Upscaler("Lanczos")],
        latent_upscale_modes=["Latent"],
        vaes=[SdVae("vae-ft-mse-840000-ema-pruned.safetensors")],
    )
    reused = request_from_infotext(HIRES_LORA_STYLES)
    assert fit_to_server(reused, facts) == [
        "the image's hires upscaler 'R-ESRGAN 4x+' is not on this server: the server's default "
        "(Latent) is used"
    ]
    r = reused.request
    assert (r.sampler_name, r.scheduler, r.hr_upscaler) == ("DPM++ 2M", "Karras", None)
    assert r.model == "v1-5-pruned-emaonly.safetensors [6ce0161689]"
    assert r.override_settings == {"sd_vae": "vae-ft-mse-840000-ema-pruned.safetensors"}

    refiner = request_from_infotext(SDXL_REFINER)
    lines = fit_to_server(refiner, facts)
    assert [line.split(" is not")[0] for line in lines] == [
        "the image's sampler 'Euler'",
        "the image's model 'sd_xl_base_1.0'",
        "the image's refiner 'sd_xl_refiner_1.0 [7440042bbd]'",
    ]
    assert refiner.request.sampler_name is None and refiner.request.model is None
    assert refiner.request.refiner_checkpoint is None
    assert refiner.request.refiner_switch_at is None

    # A server without the lists (KoboldCpp): the image's names are sent as they are.
    bare = request_from_infotext(HIRES_LORA_STYLES)
    assert fit_to_server(bare, ServerFacts()) == []
    assert bare.request.hr_upscaler == "R-ESRGAN 4x+" and bare.request.model is None
