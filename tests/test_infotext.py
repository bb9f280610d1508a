"""Infotext must match what the web UI writes, byte for byte, and read back what it reads."""

from __future__ import annotations

import pytest

from sdtui.images.infotext import (
    INFOTEXT_KEY_ORDER,
    Infotext,
    build_infotext,
    format_infotext_value,
    parse_infotext,
)

SPEC_EXAMPLE = (
    "a red fox at dusk, oil painting\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7.0, Seed: 1234, "
    "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.10.1"
)


def test_build_matches_spec_example_whatever_the_mapping_order() -> None:
    params = {
        "Version": "v1.10.1",
        "Model": "v1-5-pruned-emaonly",
        "Seed": 1234,
        "Size": "512x768",
        "CFG scale": 7.0,
        "Schedule type": "Karras",
        "Model hash": "6ce0161689",
        "Sampler": "Euler a",
        "Steps": 20,
    }
    text = build_infotext("a red fox at dusk, oil painting", "blurry, lowres", params)
    assert text == SPEC_EXAMPLE


def test_build_extras_go_after_known_keys_and_before_version_and_user() -> None:
    params: dict[str, object] = {
        "User": "alice",
        "Hires upscale": 2,
        "Version": "v1.10.1",
        "Hires steps": 10,
        "Hires upscaler": "Latent",
        "Denoising strength": 0.7,
        "Lora hashes": "add_detail: 7c6bad76eb54",
        "Steps": 30,
        "Clip skip": 2,
        "Seed": 42,
        "Sampler": "DPM++ 2M",
        "Face restoration": None,
        "VAE": "",
    }
    text = build_infotext("castle", "", params)
    assert text == (
        "castle\n"
        "Steps: 30, Sampler: DPM++ 2M, Seed: 42, Denoising strength: 0.7, Clip skip: 2, "
        'Hires upscale: 2, Hires steps: 10, Hires upscaler: Latent, Lora hashes: "add_detail: '
        '7c6bad76eb54", Version: v1.10.1, User: alice'
    )


def test_build_quotes_like_the_web_ui() -> None:
    assert format_infotext_value("Euler a") == "Euler a"
    assert format_infotext_value(7.0) == "7.0"
    assert format_infotext_value(True) == "True"
    assert format_infotext_value("a, b") == '"a, b"'
    assert format_infotext_value("k: v") == '"k: v"'
    assert format_infotext_value("one\ntwo") == '"one\\ntwo"'
    assert format_infotext_value('say "hi", ok') == '"say \\"hi\\", ok"'
    # ensure_ascii=False: non-ASCII stays readable inside quotes.
    assert format_infotext_value("猫, café") == '"猫, café"'


def test_build_without_params_or_negative_has_no_trailing_newline() -> None:
    assert build_infotext("just a prompt", "", {}) == "just a prompt"
    assert build_infotext("p", "n", {"Steps": None}) == "p\nNegative prompt: n"


def test_build_writes_a_value_equal_to_its_key_as_a_bare_key() -> None:
    text = build_infotext("p", "", {"Steps": 5, "Sampler": "Euler", "Seed": 1, "Flag": "Flag"})
    assert text == "p\nSteps: 5, Sampler: Euler, Seed: 1, Flag"


def test_key_order_constant_matches_spec() -> None:
    assert INFOTEXT_KEY_ORDER[:4] == ("Steps", "Sampler", "Schedule type", "CFG scale")
    assert INFOTEXT_KEY_ORDER[-3:] == ("Token merging ratio", "RNG", "Tiling")
    assert "Version" not in INFOTEXT_KEY_ORDER


def test_parse_spec_example() -> None:
    info = parse_infotext(SPEC_EXAMPLE)
    assert info.prompt == "a red fox at dusk, oil painting"
    assert info.negative_prompt == "blurry, lowres"
    assert list(info.params) == [
        "Steps",
        "Sampler",
        "Schedule type",
        "CFG scale",
        "Seed",
        "Size",
        "Size-1",
        "Size-2",
        "Model hash",
        "Model",
        "Version",
    ]
    assert info.steps == 20
    assert info.sampler == "Euler a"
    assert info.scheduler == "Karras"
    assert info.cfg_scale == 7.0
    assert info.seed == 1234
    assert (info.width, info.height) == (512, 768)
    assert info.params["Size"] == "512x768"
    assert info.model == "v1-5-pruned-emaonly"
    assert info.model_hash == "6ce0161689"


def test_parse_old_web_ui_text_with_integer_cfg() -> None:
    text = (
        "girl with a beret, ((eyeshadow))\n"
        "Negative prompt: ugly, [blurry]\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, "
        "Model hash: 45dee52b"
    )
    info = parse_infotext(text)
    assert info.prompt == "girl with a beret, ((eyeshadow))"
    assert info.negative_prompt == "ugly, [blurry]"
    assert info.cfg_scale == 7.0
    assert info.get_int("CFG scale") == 7
    assert info.scheduler is None
    assert info.seed == 965400086


def test_parse_splits_every_wxh_value_like_the_web_ui() -> None:
    info = parse_infotext("p\nSteps: 1, Seed: 2, Hires resize: 1024x1536")
    assert info.params["Hires resize-1"] == "1024"
    assert info.params["Hires resize-2"] == "1536"


def test_last_line_with_fewer_than_three_pairs_stays_in_the_prompt() -> None:
    text = "portrait, style: baroque\nlighting: soft, mood: calm"
    info = parse_infotext(text)
    assert info.prompt == text
    assert info.negative_prompt == ""
    assert info.params == {}


def test_negative_prompt_on_the_first_line() -> None:
    info = parse_infotext("Negative prompt: lowres\nsecond line\nSteps: 5, Sampler: Euler, Seed: 3")
    assert info.prompt == ""
    assert info.negative_prompt == "lowres\nsecond line"
    assert info.steps == 5


def test_params_line_only() -> None:
    info = parse_infotext("Steps: 5, Sampler: Euler, Seed: 3")
    assert (info.prompt, info.negative_prompt, info.seed) == ("", "", 3)


def test_crlf_and_surrounding_whitespace_are_tolerated() -> None:
    info = parse_infotext("  cat\r\nNegative prompt: dog\r\nSteps: 5, Sampler: Euler, Seed: 3\r\n")
    assert (info.prompt, info.negative_prompt, info.steps) == ("cat", "dog", 5)


def test_accessors_return_none_when_missing_or_unparsable() -> None:
    info = Infotext("p", "", {"Steps": "many", "Seed": "12.5", "CFG scale": "x"})
    assert info.steps is None
    assert info.seed is None
    assert info.cfg_scale is None
    assert info.width is None
    assert info.model is None
    assert info.get_float("Seed") == 12.5
    assert info.get_int("missing") is None


ROUND_TRIPS: list[tuple[str, str, dict[str, object]]] = [
    ("a plain prompt", "", {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7.0, "Seed": 1}),
    (
        "first line,\nsecond line\nthird line",
        "bad, ugly",
        {"Steps": 30, "Seed": 99, "Size": "768x512"},
    ),
    ("prompt", "neg one\nneg two, more", {"Steps": 1, "Sampler": "DDIM", "Seed": 7}),
    (
        "prompt",
        "",
        {
            "Steps": 12,
            "Sampler": "DPM++ 2M",
            "Seed": 5,
            "Lora hashes": "add_detail: 7c6bad76eb54, other: 0123456789ab",
            "Note": 'say "hi", then leave',
            "Multi": "line one\nline two: yes",
            "Path": "C:\\models\\x.safetensors",
        },
    ),
    (
        "猫のポートレート, café ✓ 🦊",
        "ぼやけた",
        {"Steps": 8, "Sampler": "Euler", "Seed": 3, "Model": "モデル, v2"},
    ),
]


@pytest.mark.parametrize(("prompt", "negative", "params"), ROUND_TRIPS)
def test_round_trip(prompt: str, negative: str, params: dict[str, object]) -> None:
    info = parse_infotext(build_infotext(prompt, negative, params))
    assert info.prompt == prompt
    assert info.negative_prompt == negative
    expected = {key: str(value) for key, value in params.items()}
    recovered = {key: value for key, value in info.params.items() if key in expected}
    assert recovered == expected
    assert [k for k in info.params if k in expected] == [
        k for k in INFOTEXT_KEY_ORDER if k in params
    ] + [k for k in params if k not in INFOTEXT_KEY_ORDER]


def test_round_trip_typed_accessors() -> None:
    params = {"Steps": 25, "CFG scale": 6.5, "Seed": 4294967295, "Size": "640x960"}
    info = parse_infotext(build_infotext("x", "y", params))
    assert (info.steps, info.cfg_scale, info.seed) == (25, 6.5, 4294967295)
    assert (info.width, info.height) == (640, 960)
