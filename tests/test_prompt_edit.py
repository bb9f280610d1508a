"""Prompt editing logic without a widget: weight keys as the web UI's, completion at the cursor."""

from __future__ import annotations

import pytest

from sdtui.engine.prompt_edit import (
    Candidate,
    Context,
    candidates,
    change_weight,
    clean_names,
    complete,
    completion_context,
    is_infotext,
)

LORAS = [("add_detail", "add_detail"), ("film_grain", "filmgrain"), ("watercolor_v2", "watercolor")]
EMBEDDINGS = ["bad-hands-5", "easynegative"]


def weighted(text: str, selection: tuple[int, int] | int, up: bool = True) -> tuple[str, str]:
    """The text after the key, and what is selected in it."""
    if isinstance(selection, int):
        selection = (selection, selection)
    edit = change_weight(text, selection, up)
    assert edit is not None
    after = edit.apply(text)
    start, end = edit.selection
    return after, after[start:end]


# (text, cursor or selection, up, text after, selected after): the web UI's edit-attention.js
WEIGHTS = [
    ("a cat", 3, True, "a (cat:1.1)", "cat"),
    ("a cat", 3, False, "a (cat:0.9)", "cat"),
    ("a (cat:1.1), dog", 5, True, "a (cat:1.2), dog", "cat"),
    ("a (cat:1.1), dog", 5, False, "a cat, dog", "cat"),
    ("(cat:0.2)", 2, False, "(cat:0.1)", "cat"),
    ("(red fox:1.5)", 12, True, "(red fox:1.6)", "red fox"),
    ("x <lora:add_detail:1>", 9, True, "x <lora:add_detail:1.05>", "lora:add_detail"),
    ("x <lora:add_detail:1>", 9, False, "x <lora:add_detail:0.95>", "lora:add_detail"),
    ("<lora:film_grain:0.05>", 3, False, "<lora:film_grain:0.0>", "lora:film_grain"),
    ("<lora:film_grain:1.95>", 3, True, "<lora:film_grain:2.0>", "lora:film_grain"),
    ("((cat)) dog", 3, True, "(cat:1.3) dog", "cat"),
    ("[cat]", 2, False, "(cat:0.8)", "cat"),
    ("(cat)", 2, True, "(cat:1.2)", "cat"),
    ("a red fox, night", (2, 9), True, "a (red fox:1.1), night", "red fox"),
    ("a red fox , night", (2, 10), True, "a (red fox:1.1) , night", "red fox"),
    ("one\ntwo three", 5, True, "one\n(two:1.1) three", "two"),
]


@pytest.mark.parametrize(("text", "cursor", "up", "after", "selected"), WEIGHTS)
def test_weight_keys_as_the_web_ui(
    text: str, cursor: tuple[int, int] | int, up: bool, after: str, selected: str
) -> None:
    assert weighted(text, cursor, up) == (after, selected)


def test_repeated_keys_do_not_accumulate_float_noise() -> None:
    text, selection = "cat", (1, 1)
    for _ in range(7):
        edit = change_weight(text, selection, True)
        assert edit is not None
        text, selection = edit.apply(text), edit.selection
    assert text == "(cat:1.7)"
    for _ in range(7):
        edit = change_weight(text, selection, False)
        assert edit is not None
        text, selection = edit.apply(text), edit.selection
    assert text == "cat"
    assert selection == (0, 3)


def test_an_edit_is_a_small_span_not_the_whole_prompt() -> None:
    text = "a long prompt, (cat:1.1), the end"
    edit = change_weight(text, (18, 18), True)
    assert edit is not None
    assert (edit.start, edit.end, edit.replacement) == (22, 23, "2")


@pytest.mark.parametrize(("text", "cursor"), [("", 0), ("a ,  ", 4), ("(cat", 2)])
def test_nothing_to_weigh_changes_nothing(text: str, cursor: int) -> None:
    assert change_weight(text, (cursor, cursor), True) is None


# -- completion ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "forced", "context"),
    [
        ("a <lora:ad", False, Context(2, "ad", ("lora",))),
        ("a <lora:", False, Context(2, "", ("lora",))),
        ("a <LORA:Fi", False, Context(2, "Fi", ("lora",))),
        ("<", False, Context(0, "", ("lora", "embedding"))),
        ("x, <lo", False, Context(3, "", ("lora", "embedding"))),
        ("x, <wat", False, Context(3, "wat", ("lora", "embedding"))),
        ("photo, easyn", False, Context(7, "easyn", ("embedding",))),
        ("photo, e", False, None),
        ("photo, e", True, Context(7, "e", ("lora", "embedding"))),
        ("photo, ", True, Context(7, "", ("lora", "embedding"))),
        ("photo, ", False, None),
        ("<lora:add_detail:1>", False, None),
        ("", False, None),
    ],
)
def test_completion_context(before: str, forced: bool, context: Context | None) -> None:
    assert completion_context(before + " tail", len(before), forced=forced) == context


def _names(query: str, kinds: tuple[str, ...] = ("lora",)) -> list[str]:
    context = Context(0, query, kinds)  # type: ignore[arg-type]
    return [c.name for c in candidates(context, LORAS, EMBEDDINGS)]


def test_candidates_filter_best_first() -> None:
    assert _names("") == ["add_detail", "film_grain", "watercolor_v2"]  # the server's order
    assert _names("water") == ["watercolor_v2"]  # prefix
    assert _names("grain") == ["film_grain"]  # a word inside the name
    assert _names("color") == ["watercolor_v2"]  # substring
    assert _names("wc") == ["watercolor_v2"]  # in order
    assert _names("filmg") == ["film_grain"]  # the alias "filmgrain"
    assert _names("a") == ["add_detail", "film_grain", "watercolor_v2"]
    assert _names("zzz") == []
    assert _names("bad", ("lora", "embedding")) == ["bad-hands-5"]
    assert _names("d", ("lora", "embedding"))[0] == "add_detail"


def test_an_embedding_typed_in_full_is_not_offered() -> None:
    context = Context(0, "easynegative", ("embedding",))
    assert candidates(context, LORAS, EMBEDDINGS) == []


def test_candidate_text() -> None:
    lora = Candidate("lora", "film_grain", "filmgrain")
    assert lora.insert == "<lora:film_grain:1>"
    assert lora.label == "LoRA  film_grain (filmgrain)"
    assert Candidate("lora", "add_detail", "add_detail").label == "LoRA  add_detail"
    assert Candidate("embedding", "easynegative").insert == "easynegative"


@pytest.mark.parametrize(
    ("text", "cursor", "name", "after"),
    [
        ("a <lora:fil", 11, "film_grain", "a <lora:film_grain:1>"),
        ("a <lora:fil, b", 11, "film_grain", "a <lora:film_grain:1>, b"),
        ("a <lora:fil|m:0.8>, b".replace("|", ""), 11, "film_grain", "a <lora:film_grain:0.8>, b"),
        ("a <lora:fil>", 11, "film_grain", "a <lora:film_grain:1>"),
        ("<wat", 4, "watercolor_v2", "<lora:watercolor_v2:1>"),
    ],
)
def test_accepting_a_lora(text: str, cursor: int, name: str, after: str) -> None:
    context = completion_context(text, cursor)
    assert context is not None
    start, end, insert = complete(text, context, cursor, Candidate("lora", name))
    assert text[:start] + insert + text[end:] == after


def test_accepting_an_embedding_replaces_the_word() -> None:
    text = "photo, easyn, sky"
    context = completion_context(text, 12)
    assert context is not None
    start, end, insert = complete(text, context, 12, Candidate("embedding", "easynegative"))
    assert text[:start] + insert + text[end:] == "photo, easynegative, sky"


def test_server_names_lose_control_characters() -> None:
    assert clean_names(["ok", "bad\x1b[31mred", " \n", "two\nlines"]) == [
        "ok",
        "badred",
        "two lines",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: 1, Size: 512x512",
            True,
        ),
        ("a fox\nSteps: 20, Sampler: Euler a, CFG scale: 7", True),
        ("Steps: 20, Seed: 5, Size: 64x64", True),
        ("mood: dark, light: soft, style: ink", False),  # a prompt in Key: value form
        ("a fox\nSteps: 20, Sampler: Euler a", False),  # two pairs: part of the prompt
        ("a lighthouse at dusk", False),
        ("", False),
    ],
)
def test_is_infotext(text: str, expected: bool) -> None:
    assert is_infotext(text) is expected


def test_the_cursor_right_after_a_tag_changes_that_tag() -> None:
    """Completing a LoRA leaves the cursor after its `>`: the weight key must then change the
    tag's weight, not wrap "1>" as a word (which broke the tag)."""
    text = "a castle <lora:film_grain:1>"
    edit = change_weight(text, (len(text), len(text)), True)
    assert edit is not None and edit.apply(text) == "a castle <lora:film_grain:1.05>"
    text = "a (castle:1.1), dusk"
    edit = change_weight(text, (14, 14), False)
    assert edit is not None and edit.apply(text) == "a castle, dusk"


def test_a_word_never_takes_in_a_tag_s_bracket() -> None:
    text = "castle<lora:x:1>"
    edit = change_weight(text, (2, 2), True)
    assert edit is not None and edit.apply(text) == "(castle:1.1)<lora:x:1>"
