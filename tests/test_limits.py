"""The shared table of field ranges: every field's edges, parsed from text and checked as numbers."""

from __future__ import annotations

import dataclasses

import pytest

from sdtui.engine.limits import LIMITS, MAX_SEED, Limit, LimitError, check, parse

# (field, lowest valid, highest valid, the form's message for a bad value)
EDGES = [
    ("steps", 1, 150, "Steps must be a whole number from 1 to 150"),
    ("cfg", 1, 30, "CFG must be a number from 1 to 30"),
    ("seed", -1, 4294967295, "Seed must be -1 (random) or 0 to 4294967295"),
    ("width", 64, 2048, "Width must be 64 to 2048 pixels"),
    ("height", 64, 2048, "Height must be 64 to 2048 pixels"),
    ("batch_size", 1, 8, "Batch size must be 1 to 8 images"),
    ("batch_count", 1, 100, "Batch count must be 1 to 100"),
    ("denoise", 0, 1, "Denoising strength must be a number from 0 to 1"),
    ("hr_scale", 1, 4, "Hires upscale must be a number from 1 to 4"),
    ("hr_steps", 0, 150, "Hires steps must be a whole number from 0 to 150"),
    ("hr_width", 0, 2048, "Hires width must be 0 to 2048 pixels"),
    ("hr_height", 0, 2048, "Hires height must be 0 to 2048 pixels"),
    ("subseed", -1, 4294967295, "Variation seed must be -1 (random) or 0 to 4294967295"),
    ("subseed_strength", 0, 1, "Variation strength must be a number from 0 to 1"),
    ("clip_skip", 1, 12, "Clip skip must be a whole number from 1 to 12"),
    ("refiner_switch_at", 0.01, 1, "Refiner switch must be a number from 0.01 to 1"),
    ("mask_blur", 0, 64, "Mask blur must be a whole number from 0 to 64"),
    ("upscale_by", 1, 8, "Upscale by must be a number from 1 to 8"),
    ("upscaler_2_visibility", 0, 1, "Upscaler 2 visibility must be a number from 0 to 1"),
    ("upscale_width", 64, 8192, "Upscale width must be 64 to 8192 pixels"),
    ("upscale_height", 64, 8192, "Upscale height must be 64 to 8192 pixels"),
]


def test_the_table_holds_every_field() -> None:
    assert list(LIMITS) == [e[0] for e in EDGES]
    assert MAX_SEED == 2**32 - 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        LIMITS["steps"].maximum = 1000  # type: ignore[misc]


@pytest.mark.parametrize(("field", "low", "high", "message"), EDGES)
def test_edges(field: str, low: int, high: int, message: str) -> None:
    limit = LIMITS[field]
    assert (limit.minimum, limit.maximum, limit.message) == (low, high, message)
    assert parse(field, str(low)) == low and parse(field, f" {high} ") == high
    assert check(field, low) == low and check(field, high) == high
    step = limit.multiple_of or 1
    for bad in (low - step, high + step):
        with pytest.raises(LimitError) as caught:
            parse(field, str(bad))
        assert (caught.value.field, caught.value.message) == (field, message)
        assert str(caught.value) == f"{message} (got {bad})"
        with pytest.raises(LimitError):
            check(field, bad)
    with pytest.raises(LimitError) as caught:
        parse(field, "abc")
    assert caught.value.message == message and str(caught.value) == f"{message} (got 'abc')"


@pytest.mark.parametrize("field", ["steps", "seed", "width", "height", "batch_size", "batch_count"])
def test_whole_fields_refuse_fractions(field: str) -> None:
    assert LIMITS[field].whole
    for text in ("8.0", "8.5", "1e2", "0x10", "", " ", "1_6"):
        with pytest.raises(LimitError):
            parse(field, text)
    with pytest.raises(LimitError):
        check(field, 64.5)
    top = LIMITS[field].maximum
    assert parse(field, f"+{top}") == top and isinstance(parse(field, f"+{top}"), int)
    assert check(field, float(top)) == top and isinstance(check(field, float(top)), int)


def test_cfg_is_a_number() -> None:
    limit = LIMITS["cfg"]
    assert not limit.whole and limit.default == 7.0
    assert parse("cfg", "7") == 7.0 and isinstance(parse("cfg", "7"), float)
    assert parse("cfg", "5.5") == 5.5 and parse("cfg", "1e1") == 10.0
    for text in ("0.99", "30.01", "-1", "nan", "inf", "-inf", "seven", ""):
        with pytest.raises(LimitError) as caught:
            parse("cfg", text)
        assert caught.value.message == "CFG must be a number from 1 to 30"
    for value in (float("nan"), float("inf"), 0.5, 31):
        with pytest.raises(LimitError):
            check("cfg", value)


@pytest.mark.parametrize("field", ["width", "height"])
def test_sizes_are_multiples_of_eight(field: str) -> None:
    label = LIMITS[field].label
    assert LIMITS[field].multiple_of == 8
    assert parse(field, "72") == 72 and parse(field, "2040") == 2040
    for text in ("65", "100", "2047"):
        with pytest.raises(LimitError) as caught:
            parse(field, text)
        assert caught.value.message == f"{label} must be a multiple of 8"
        assert str(caught.value) == f"{label} must be a multiple of 8 (got {text})"
    # Out of range says so first, as the form does for 13.
    with pytest.raises(LimitError, match="64 to 2048 pixels"):
        parse(field, "13")


def test_seed_edges() -> None:
    assert parse("seed", "-1") == -1 and parse("seed", "0") == 0
    for text in ("-2", "-5", "4294967296"):
        with pytest.raises(LimitError, match=r"Seed must be -1 \(random\)"):
            parse("seed", text)


def test_defaults_fit_and_help_names_the_range() -> None:
    for field, limit in LIMITS.items():
        assert isinstance(limit, Limit)
        assert check(field, limit.default) == limit.default
        assert f"{limit.minimum:g}" in limit.help or str(limit.minimum) in limit.help
    assert LIMITS["steps"].default == 20 and LIMITS["width"].default == 512


def test_booleans_and_unknown_fields() -> None:
    with pytest.raises(LimitError):
        check("steps", True)
    with pytest.raises(KeyError, match="known: steps"):
        parse("strength", "1")
    assert issubclass(LimitError, ValueError)
