"""Styles merged into the prompts as the web UI v1.10 merges them (modules/styles.py)."""

from __future__ import annotations

from sdtui.engine.styles import Style, apply_styles, merge_prompts, split_known

STYLES = {
    "Cinematic": Style("cinematic still of {prompt}, shallow depth of field", "cartoon, painting"),
    "Oil painting": Style("oil painting, impasto", "photo"),
    "Night sky": Style("{prompt}, night, starry sky", ""),
    "Empty": Style("", ""),
}


def test_merge_rules() -> None:
    assert merge_prompts("style", "prompt") == "prompt, style"
    assert merge_prompts("  style ", " prompt ") == "prompt, style"
    assert merge_prompts("style", "") == "style"
    assert merge_prompts("", "prompt ") == "prompt"
    assert merge_prompts("a {prompt} b", " p ") == "a  p  b"  # placeholder: no stripping
    assert merge_prompts("{prompt}, {prompt}", "x") == "x, x"


def test_styles_apply_in_the_order_picked() -> None:
    assert apply_styles("a fox", "blurry", ["Cinematic", "Oil painting"], STYLES) == (
        "cinematic still of a fox, shallow depth of field, oil painting, impasto",
        "blurry, cartoon, painting, photo",
    )
    assert apply_styles("a fox", "blurry", ["Oil painting", "Cinematic"], STYLES) == (
        "cinematic still of a fox, oil painting, impasto, shallow depth of field",
        "blurry, photo, cartoon, painting",  # the negatives have no {prompt}: joined after
    )


def test_a_placeholder_style_with_an_empty_negative() -> None:
    assert apply_styles("a fox", "", ["Night sky"], STYLES) == ("a fox, night, starry sky", "")


def test_unknown_names_only_strip_as_the_web_ui_does() -> None:
    assert apply_styles(" a fox ", " neg ", ["Gone"], STYLES) == ("a fox", "neg")
    assert apply_styles(" a fox ", "", [], STYLES) == (" a fox ", "")


def test_split_known_keeps_the_order() -> None:
    assert split_known(["Night sky", "Gone", "Cinematic", "Old"], STYLES) == (
        ["Night sky", "Cinematic"],
        ["Gone", "Old"],
    )


def test_the_demo_merges_the_same_way() -> None:
    """The demo backend stands in for the server: its merge must be this one."""
    from sdtui.demo import catalog

    styles = {s.name: Style(s.prompt, s.negative_prompt) for s in catalog.PROMPT_STYLES}
    names = [s.name for s in catalog.PROMPT_STYLES]
    for picked in (names, names[::-1], names[1:2], []):
        assert catalog.apply_styles("a fox ", "blurry", picked) == apply_styles(
            "a fox ", "blurry", picked, styles
        )
