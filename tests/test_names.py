"""Name matching for samplers, schedulers and models, against the demo server's real lists."""

from __future__ import annotations

import pytest

from sdtui.api.types import Sampler, Scheduler, SdModel
from sdtui.demo import catalog
from sdtui.engine.names import (
    UnknownName,
    match_model,
    match_sampler,
    match_scheduler,
    model_short_name,
    split_checkpoint_title,
)

MODELS = [SdModel(m.title, m.model_name, m.shorthash, m.sha256, m.filename) for m in catalog.MODELS]
SAMPLERS = [Sampler(s.name, list(s.aliases)) for s in catalog.SAMPLERS]
SCHEDULERS = [Scheduler(s.name, s.label) for s in catalog.SCHEDULERS]
AURORA = next(m for m in catalog.MODELS if m.model_name == "demo-aurora")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("sub/name.safetensors [abcdef1234]", ("sub/name.safetensors", "abcdef1234")),
        ("name.ckpt [ABCDEF12]", ("name.ckpt", "ABCDEF12")),
        ("name.safetensors", ("name.safetensors", None)),
        ("  name.safetensors  ", ("name.safetensors", None)),
        ("odd [v2] name.safetensors", ("odd [v2] name.safetensors", None)),
        ("notes [not a hash]", ("notes [not a hash]", None)),
        ("", ("", None)),
    ],
)
def test_split_checkpoint_title(title: str, expected: tuple[str, str | None]) -> None:
    assert split_checkpoint_title(title) == expected


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("sub/name.safetensors [abcdef1234]", "name"),
        ("demo-aurora.safetensors", "demo-aurora"),
        ("C:\\models\\sd\\v1-5-pruned-emaonly.ckpt", "v1-5-pruned-emaonly"),
        ("flux1-dev-Q4.gguf", "flux1-dev-Q4"),
        ("a.PT", "a"),
        ("b.pth", "b"),
        ("c.bin", "c"),
        ("sd_xl_base_1.0", "sd_xl_base_1.0"),
        ("plain", "plain"),
        (".safetensors", ".safetensors"),
    ],
)
def test_model_short_name(name: str, short: str) -> None:
    assert model_short_name(name) == short


@pytest.mark.parametrize(
    "wanted",
    [
        "demo-aurora.safetensors",
        "aurora",
        "AURORA",
        "Demo-Aurora",
        "demo-aur",
        AURORA.title,
        AURORA.title.upper(),
        AURORA.shorthash,
        AURORA.sha256,
        AURORA.sha256[:8],
        AURORA.sha256[:12].upper(),
        AURORA.filename,
        "Stable-diffusion/demo-aurora",
    ],
)
def test_demo_models_resolve(wanted: str) -> None:
    assert match_model(wanted, MODELS) == AURORA.title


def test_model_in_a_folder_by_every_name() -> None:
    model = SdModel("sdxl/juggernaut_v9.safetensors [0123456789]", "sdxl_juggernaut_v9", None)
    other = SdModel("sdxl/juggernaut_v8.safetensors [abcdefabcd]", "sdxl_juggernaut_v8", None)
    for wanted in (
        "sdxl/juggernaut_v9.safetensors",
        "juggernaut_v9.safetensors",
        "juggernaut_v9",
        "sdxl/juggernaut_v9",
        "sdxl_juggernaut_v9",
        "0123456789",
        "v9",
    ):
        assert match_model(wanted, [other, model]) == model.title, wanted


def test_exact_name_beats_a_longer_one_it_prefixes() -> None:
    short = SdModel("base.safetensors [1111111111]", "base")
    longer = SdModel("base-inpainting.safetensors [2222222222]", "base-inpainting")
    assert match_model("base", [longer, short]) == short.title
    assert match_model("base-in", [longer, short]) == longer.title


def test_short_hash_prefixes_do_not_match_loosely() -> None:
    # Seven characters of a sha256 are not enough (and never a prefix or substring match).
    with pytest.raises(UnknownName, match="unknown model"):
        match_model(AURORA.sha256[:7], MODELS)
    with pytest.raises(UnknownName, match="unknown model"):
        match_model(AURORA.sha256[4:20], MODELS)


def test_unknown_model_lists_the_titles() -> None:
    with pytest.raises(UnknownName) as caught:
        match_model("nothing-like-it", MODELS)
    message = caught.value.message
    assert message.startswith("unknown model 'nothing-like-it'; the server has: ")
    assert all(m.title in message for m in MODELS)
    assert str(caught.value) == message and isinstance(caught.value, ValueError)


def test_several_models_is_named_as_such() -> None:
    with pytest.raises(UnknownName) as caught:
        match_model("dem", MODELS)
    assert caught.value.message.startswith("model 'dem' matches several: demo-dusk.safetensors")
    assert caught.value.message.endswith("(give more of the name)")


def test_no_models_at_all() -> None:
    with pytest.raises(UnknownName, match="the server has: none"):
        match_model("x", [])


def test_messages_are_one_safe_line_of_bounded_length() -> None:
    many = [SdModel(f"model-{i:04d}-{'x' * 40}.safetensors", f"model-{i}") for i in range(200)]
    with pytest.raises(UnknownName) as caught:
        match_model("\x1b]0;evil\x07zzz\nnext", many)
    message = caught.value.message
    assert len(message) <= 600 and "\n" not in message and "\x1b" not in message
    assert message.startswith("unknown model 'zzz next'")
    with pytest.raises(UnknownName) as caught:
        match_model("model", many)
    assert len(caught.value.message) <= 600


@pytest.mark.parametrize(
    ("wanted", "name"),
    [
        ("Euler a", "Euler a"),
        ("euler a", "Euler a"),
        ("EULER", "Euler"),
        ("k_euler_a", "Euler a"),
        ("k_euler_ancestral", "Euler a"),
        ("dpm++ 2m", "DPM++ 2M"),
        ("DPM++ 2M SDE H", "DPM++ 2M SDE Heun"),
        ("unip", "UniPC"),
        ("k_lc", "LCM"),
    ],
)
def test_match_sampler(wanted: str, name: str) -> None:
    assert match_sampler(wanted, SAMPLERS) == name


def test_sampler_prefix_of_several() -> None:
    with pytest.raises(UnknownName) as caught:
        match_sampler("eul", SAMPLERS)
    assert caught.value.message == (
        "sampler 'eul' matches several: Euler a, Euler (give more of the name)"
    )
    with pytest.raises(UnknownName, match="unknown sampler 'Nope'; the server has: DPM"):
        match_sampler("Nope", SAMPLERS)


def test_samplers_match_no_substring() -> None:
    with pytest.raises(UnknownName, match="unknown sampler"):
        match_sampler("uler", SAMPLERS)


@pytest.mark.parametrize(
    ("wanted", "label"),
    [
        ("karras", "Karras"),
        ("Karras", "Karras"),
        ("KAR", "Karras"),
        ("sgm_uniform", "SGM Uniform"),
        ("sgm uniform", "SGM Uniform"),
        ("align", "Align Your Steps"),
        ("automatic", "Automatic"),
    ],
)
def test_match_scheduler_returns_the_label(wanted: str, label: str) -> None:
    assert match_scheduler(wanted, SCHEDULERS) == label


def test_scheduler_aliases_where_the_type_has_them() -> None:
    class WithAliases:
        def __init__(self, name: str, label: str, aliases: list[str]) -> None:
            self.name, self.label, self.aliases = name, label, aliases

    schedulers = [WithAliases("sgm_uniform", "SGM Uniform", ["SGMUniform"])]
    assert match_scheduler("sgmuniform", schedulers) == "SGM Uniform"  # type: ignore[arg-type]


def test_unknown_scheduler() -> None:
    with pytest.raises(UnknownName, match="unknown scheduler 'zz'; the server has: Automatic"):
        match_scheduler("zz", SCHEDULERS)
