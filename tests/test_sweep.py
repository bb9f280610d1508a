"""Sweeps, the web UI's X/Y/Z plot done client-side: reading axes and values as its text boxes
do, expanding a request into a job per cell, names fitted to a real (demo) server, and the grid
of a sweep run against the demo server, saved beside its images."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from sdtui.api import GenerationRequest, SDClient
from sdtui.api.types import Img2ImgRequest
from sdtui.engine import generate
from sdtui.engine.names import UnknownName
from sdtui.engine.server import ServerFacts, fetch_server_facts
from sdtui.engine.sweep import (
    MAX_CELLS,
    SWEEP_FIELDS,
    Axis,
    Sweep,
    expand,
    field_for,
    grid_infotext,
    grid_png,
    grid_stem,
    parse_axis,
    parse_values,
    resolve_axis,
    save_grid,
)
from sdtui.images import parse_infotext, read_parameters
from sdtui.images.convert import image_size
from sdtui.store import ImageStore

# -- fields and aliases ---------------------------------------------------------------------------


def test_the_contract_fields_exist_with_the_web_uis_labels() -> None:
    wanted = {
        "seed": "Seed",
        "steps": "Steps",
        "cfg": "CFG Scale",
        "sampler": "Sampler",
        "scheduler": "Schedule type",
        "model": "Checkpoint name",
        "width": "Width",
        "height": "Height",
        "size": "Size",
        "prompt": "Prompt S/R",
        "denoise": "Denoising",
        "clip_skip": "Clip skip",
        "subseed": "Var. seed",
        "subseed_strength": "Var. strength",
        "hr_scale": "Hires upscale",
        "hr_steps": "Hires steps",
        "hr_upscaler": "Hires upscaler",
        "styles": "Styles",
    }
    assert {k: SWEEP_FIELDS[k].label for k in wanted} == wanted
    assert SWEEP_FIELDS["steps"].kind is int and SWEEP_FIELDS["cfg"].kind is float
    assert SWEEP_FIELDS["sampler"].kind is str and SWEEP_FIELDS["size"].kind is tuple


@pytest.mark.parametrize(
    ("name", "field_id"),
    [
        ("cfg", "cfg"),
        ("cfg_scale", "cfg"),
        ("CFG Scale", "cfg"),
        ("cfg-scale", "cfg"),
        ("checkpoint", "model"),
        ("Checkpoint name", "model"),
        ("sampler_name", "sampler"),
        ("schedule type", "scheduler"),
        ("Prompt S/R", "prompt"),
        ("sr", "prompt"),
        ("Var. seed", "subseed"),
        ("Var. strength", "subseed_strength"),
        ("denoising_strength", "denoise"),
        ("hires-steps", "hr_steps"),
        ("hr_second_pass_steps", "hr_steps"),
        ("Hires upscaler", "hr_upscaler"),
        (" Steps ", "steps"),
    ],
)
def test_fields_are_found_by_id_label_and_alias(name: str, field_id: str) -> None:
    assert field_for(name).id == field_id


def test_an_unknown_field_is_one_line_naming_the_fields() -> None:
    with pytest.raises(ValueError, match=r"unknown sweep field 'colour'; use one of: seed, ") as e:
        parse_axis("colour=red,blue")
    assert "\n" not in str(e.value) and "cfg" in str(e.value) and "hr_upscaler" in str(e.value)


@pytest.mark.parametrize("text", ["cfg", "=5,7", "  =1"])
def test_an_axis_without_field_or_equals_says_how_to_write_one(text: str) -> None:
    with pytest.raises(
        ValueError, match=r"a sweep is FIELD=V1,V2,\.\.\. \(for example cfg=5,7,9\)"
    ):
        parse_axis(text)


# -- values ---------------------------------------------------------------------------------------


def values(text: str) -> tuple[object, ...]:
    return parse_axis(text).values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steps=20,30", (20, 30)),
        ("steps= 20 , 30 ,", (20, 30)),  # spaces and a trailing comma, as a text box gets them
        ("steps=1-5", (1, 2, 3, 4, 5)),
        ("steps=1-10 (+2)", (1, 3, 5, 7, 9)),
        ("steps=1 - 10(+3)", (1, 4, 7, 10)),
        ("steps=10-1 (-3)", (10, 7, 4, 1)),
        ("steps=5-1", (5, 4, 3, 2, 1)),
        ("steps=1-10 [4]", (1, 4, 7, 10)),
        ("steps=1-10 [3]", (1, 5, 10)),  # 5.5 rounded down, as int(np.linspace) does
        ("steps=20-20 [1]", (20,)),
        ("steps=10,1-3,50", (10, 1, 2, 3, 50)),
        ("seed=-1,42", (-1, 42)),
        ("cfg=5,7.5,9", (5.0, 7.5, 9.0)),
        ("cfg=1-2 (+0.25)", (1.0, 1.25, 1.5, 1.75, 2.0)),
        ("cfg=1-2 (+0.3)", (1.0, 1.3, 1.6, 1.9)),  # stops before the end, never past it
        ("cfg=2-1 (-0.5)", (2.0, 1.5, 1.0)),
        ("cfg=1-10 [4]", (1.0, 4.0, 7.0, 10.0)),
        ("cfg=5-9", (5.0, 6.0, 7.0, 8.0, 9.0)),
        ("denoise=0.1-0.3 (+0.1)", (0.1, 0.2, 0.3)),  # no 0.30000000000000004
        ("subseed_strength=0-1 [3]", (0.0, 0.5, 1.0)),
        ("hr_scale=1.5,2", (1.5, 2.0)),
        ("size=512x768, 768X512,640", ((512, 768), (768, 512), (640, 640))),
        ("sampler=Euler a,DPM++ 2M", ("Euler a", "DPM++ 2M")),
        ('prompt=red,"a, b",c', ("red", "a, b", "c")),
        ('prompt=red,"say ""hi"""', ("red", 'say "hi"')),
        ('prompt=red,""', ("red", "")),  # replacing with nothing, asked for in quotes
        ("prompt=red,,blue,", ("red", "blue")),  # stray commas are not empty values
        ("steps=10\n20", (10, 20)),
    ],
)
def test_values_read_as_the_web_ui_reads_them(text: str, expected: tuple[object, ...]) -> None:
    assert values(text) == expected
    if isinstance(expected[0], int):
        assert all(type(v) is int for v in values(text))
    if isinstance(expected[0], float):
        assert all(type(v) is float for v in values(text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps=0,20", r"^Steps must be a whole number from 1 to 150 \(got 0\)$"),
        ("steps=100-200 (+50)", r"^Steps must be a whole number from 1 to 150 \(got 200\)$"),
        ("steps=7.5", r"^Steps: '7\.5' is not a number or a range such as 1-5"),
        ("steps=lots", r"^Steps: 'lots' is not a number or a range such as 1-5, 1-10 \(\+2\)"),
        ("cfg=31", r"^CFG must be a number from 1 to 30 \(got 31\)$"),
        ("cfg=nan", r"^CFG Scale: 'nan' is not a number"),
        ("width=500", r"^Width must be a multiple of 8 \(got 500\)$"),
        ("seed=-2", r"^Seed must be -1 \(random\) or 0 to 4294967295 \(got -2\)$"),
        ("steps=1-5 (+0)", r"^Steps: the step of 1-5 \(\+0\) cannot be 0$"),
        ("steps=5-1 (+1)", r"^Steps: 5-1 \(\+1\) never reaches 1 in steps of \+1$"),
        ("cfg=1-2 [0]", r"^CFG Scale: 1-2 \[0\] asks for no values$"),
        (
            "seed=1-4294967295",
            r"^Seed: 1-4294967295 gives 4294967295 values; a sweep makes at most 512",
        ),
        ("steps=1-10 [1000]", r"^Steps: 1-10 \[1000\] gives 1000 values"),
        ("steps=,", r"^Steps: no values given \(for example steps=20,30 or steps=1-5\)$"),
        ("cfg= ", r"^CFG Scale: no values given"),
        ('prompt="red', r'^Prompt S/R: a quote is not closed \(a value with commas is "a, b"\)$'),
        ("prompt=,blue", r"^Prompt S/R: the first value is the text to search for; it cannot be"),
        ("size=512by768", r"^Size: '512by768' is not a size such as 512x768$"),
        ("size=512x4096", r"^Size 512x4096: Height must be 64 to 2048 pixels$"),
    ],
)
def test_bad_values_are_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as e:
        parse_axis(text)
    assert "\n" not in str(e.value)


def test_too_many_single_values_are_refused() -> None:
    text = ",".join(str(1 + i % 150) for i in range(MAX_CELLS + 1))
    with pytest.raises(ValueError, match="more than 512 values"):
        parse_values(SWEEP_FIELDS["steps"], text)


def test_axis_labels_are_the_web_uis() -> None:
    assert parse_axis("cfg=5,7.5").labels() == ["CFG Scale: 5", "CFG Scale: 7.5"]
    assert parse_axis("steps=20").labels() == ["Steps: 20"]
    assert parse_axis("size=512x768").labels() == ["Size: 512x768"]
    assert parse_axis("scheduler=Karras").labels() == ["Schedule type: Karras"]
    assert parse_axis("hr_upscaler=Latent").labels() == ["Hires upscaler: Latent"]
    assert parse_axis("denoise=0.1-0.3 (+0.1)").labels()[-1] == "Denoising: 0.3"
    # Prompt S/R and Sampler show the value alone; a checkpoint without its folder
    assert parse_axis("prompt=red,blue").labels() == ["red", "blue"]
    assert parse_axis("sampler=Euler a").labels() == ["Euler a"]
    model = Axis(SWEEP_FIELDS["model"], ("sdxl/dream.safetensors [abcdef1234]",))
    assert model.labels() == ["dream.safetensors [abcdef1234]"]


def test_an_axis_keeps_its_values_as_typed() -> None:
    assert parse_axis("steps = 1-10 (+2)").values_text == "1-10 (+2)"
    built = Axis(SWEEP_FIELDS["prompt"], ("red", "a, b"))
    assert built.values_text == 'red,"a, b"'


# -- expanding ------------------------------------------------------------------------------------

BASE = GenerationRequest(prompt="a red fox in the snow", negative_prompt="red blur", seed=42)


def test_cells_run_x_fastest_then_y_then_z() -> None:
    sweep = expand(
        BASE, [parse_axis("cfg=5,7,9"), parse_axis("steps=20,30"), parse_axis("seed=1,2")]
    )
    assert sweep.shape == (3, 2, 2) and len(sweep.cells) == 12
    got = [
        (c.x, c.y, c.z, c.request.cfg_scale, c.request.steps, c.request.seed) for c in sweep.cells
    ]
    assert got[:4] == [
        (0, 0, 0, 5.0, 20, 1),
        (1, 0, 0, 7.0, 20, 1),
        (2, 0, 0, 9.0, 20, 1),
        (0, 1, 0, 5.0, 30, 1),
    ]
    assert got[-1] == (2, 1, 1, 9.0, 30, 2)
    assert sweep.summary() == "12 jobs: CFG Scale 5, 7, 9 × Steps 20, 30 × Seed 1, 2"
    # every cell is a new request; the form's is untouched
    assert BASE.cfg_scale == 7.0 and BASE.steps == 20
    assert len({id(c.request) for c in sweep.cells}) == 12


def test_one_axis_makes_a_row() -> None:
    sweep = expand(BASE, [parse_axis("steps=10-30 (+10)")])
    assert sweep.shape == (3, 1, 1)
    assert [c.request.steps for c in sweep.cells] == [10, 20, 30]
    assert sweep.labels(1) == [""] and sweep.labels(2) == [""]
    assert sweep.summary() == "3 jobs: Steps 10, 20, 30"


def test_prompt_search_replace_changes_prompt_and_negative() -> None:
    sweep = expand(BASE, [parse_axis("prompt=red,blue,")])
    got = [(c.request.prompt, c.request.negative_prompt) for c in sweep.cells]
    assert got == [
        ("a red fox in the snow", "red blur"),
        ("a blue fox in the snow", "blue blur"),
    ]
    only_negative = GenerationRequest(prompt="a fox", negative_prompt="blurry")
    sweep = expand(only_negative, [parse_axis('prompt=blurry,"blurry, jpeg"')])
    assert [c.request.negative_prompt for c in sweep.cells] == ["blurry", "blurry, jpeg"]
    assert all(c.request.prompt == "a fox" for c in sweep.cells)


def test_two_prompt_axes_apply_in_turn() -> None:
    sweep = expand(BASE, [parse_axis("prompt=red,grey"), parse_axis("sr=snow,rain")])
    assert [c.request.prompt for c in sweep.cells] == [
        "a red fox in the snow",
        "a grey fox in the snow",
        "a red fox in the rain",
        "a grey fox in the rain",
    ]


def test_prompt_text_not_found_is_the_web_uis_error() -> None:
    with pytest.raises(
        ValueError, match=r"^Prompt S/R did not find green in prompt or negative prompt$"
    ):
        expand(BASE, [parse_axis("prompt=green,blue")])


def test_a_random_seed_is_fixed_once_for_every_cell() -> None:
    request = GenerationRequest(prompt="x", seed=-1)
    sweep = expand(request, [parse_axis("cfg=5,7,9"), parse_axis("steps=10,20")], random.Random(7))
    seeds = {c.request.seed for c in sweep.cells}
    assert len(seeds) == 1 and 0 <= seeds.pop() < 4294967294
    again = expand(request, [parse_axis("cfg=5,7,9")], random.Random(7))
    assert again.cells[0].request.seed == sweep.cells[0].request.seed  # the rng decides
    fixed = expand(BASE, [parse_axis("cfg=5,7")])
    assert [c.request.seed for c in fixed.cells] == [42, 42]


def test_swept_seeds_of_minus_one_each_get_their_own() -> None:
    sweep = expand(BASE, [parse_axis("seed=-1,-1,5"), parse_axis("cfg=5,7")], random.Random(1))
    first, second, third = sweep.axes[0].values
    assert first != second and third == 5 and -1 not in sweep.axes[0].values
    assert [c.request.seed for c in sweep.cells] == [first, second, 5, first, second, 5]
    # the grid's labels and infotext say which seeds were used
    assert sweep.axes[0].labels()[0] == f"Seed: {first}"


def test_variation_seed_is_fixed_when_a_strength_is_swept() -> None:
    sweep = expand(
        GenerationRequest(prompt="x", seed=3),
        [parse_axis("subseed_strength=0,0.5,1")],
        random.Random(2),
    )
    subseeds = {c.request.subseed for c in sweep.cells}
    assert len(subseeds) == 1 and isinstance(subseeds.pop(), int)
    assert [c.request.subseed_strength for c in sweep.cells] == [0.0, 0.5, 1.0]
    plain = expand(GenerationRequest(prompt="x", seed=3), [parse_axis("cfg=5")])
    assert plain.cells[0].request.subseed is None  # no variation: nothing to fix


def test_size_and_dimension_fields() -> None:
    sweep = expand(BASE, [parse_axis("size=512x768,768x512")])
    assert [(c.request.width, c.request.height) for c in sweep.cells] == [(512, 768), (768, 512)]
    sweep = expand(BASE, [parse_axis("height=576,640")])
    assert [(c.request.width, c.request.height) for c in sweep.cells] == [(512, 576), (512, 640)]


def test_size_and_width_together_would_set_width_twice() -> None:
    with pytest.raises(ValueError, match=r"^Size and Width both set the width: sweep one of them$"):
        expand(BASE, [parse_axis("width=512,640"), parse_axis("size=512x768")])


def test_hires_fields_turn_the_hires_fix_on() -> None:
    request = GenerationRequest(prompt="x", hr_resize_x=1024, hr_resize_y=1024)
    sweep = expand(
        request,
        [
            parse_axis("hr_scale=1.5,2"),
            parse_axis("hr_steps=0,10"),
            parse_axis("hr_upscaler=Latent,Lanczos"),
        ],
    )
    first = sweep.cells[0].request
    assert first.enable_hr and first.hr_scale == 1.5 and first.hr_second_pass_steps == 0
    assert first.hr_resize_x is None and first.hr_resize_y is None  # else the scale is ignored
    assert first.hr_upscaler == "Latent" and sweep.cells[-1].request.hr_upscaler == "Lanczos"
    assert first.to_payload()["denoising_strength"] == 0.7  # what the web UI sends
    assert not request.enable_hr


def test_denoise_needs_img2img_or_the_hires_fix() -> None:
    with pytest.raises(ValueError, match=r"^Denoising applies to img2img and the hires fix"):
        expand(BASE, [parse_axis("denoise=0.3,0.6")])
    hires = GenerationRequest(prompt="x", enable_hr=True)
    assert [
        c.request.denoising_strength for c in expand(hires, [parse_axis("denoise=0.3,0.6")]).cells
    ] == [0.3, 0.6]
    img2img = Img2ImgRequest(prompt="x", init_images=["AAAA"])
    cells = expand(img2img, [parse_axis("denoise=0.3,0.6")]).cells
    assert all(isinstance(c.request, Img2ImgRequest) for c in cells)
    assert [c.request.denoising_strength for c in cells] == [0.3, 0.6]
    first = cells[0].request
    assert isinstance(first, Img2ImgRequest) and first.init_images == ["AAAA"]


def test_hires_fields_are_refused_for_img2img() -> None:
    img2img = Img2ImgRequest(prompt="x", init_images=["AAAA"])
    with pytest.raises(ValueError, match=r"^Hires steps is a hires fix setting; img2img has no"):
        expand(img2img, [parse_axis("hr_steps=5,10")])


def test_names_styles_clip_skip_and_vae_are_set() -> None:
    request = GenerationRequest(prompt="x", styles=["Cinematic"], override_settings={"eta": 1})
    sweep = expand(
        request,
        [
            parse_axis("sampler=Euler a"),
            parse_axis('styles=Oil painting,"Night sky,Cinematic"'),
            parse_axis("vae=None"),
        ],
    )
    first, second = sweep.cells
    assert first.request.sampler_name == "Euler a"
    assert first.request.styles == ["Cinematic", "Oil painting"]
    assert second.request.styles == ["Cinematic", "Night sky"]  # a style once
    assert first.request.override_settings == {"eta": 1, "sd_vae": "None"}
    assert request.styles == ["Cinematic"] and request.override_settings == {"eta": 1}
    sweep = expand(request, [parse_axis("clip_skip=1,2"), parse_axis("model=demo-ink")])
    assert [c.request.clip_skip for c in sweep.cells] == [1, 2]
    assert (
        sweep.cells[0].request.to_payload()["override_settings"]["sd_model_checkpoint"]
        == "demo-ink"
    )


def test_sweep_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"^a sweep needs at least one field"):
        expand(BASE, [])
    four = [parse_axis(t) for t in ("cfg=5", "steps=20", "seed=1", "clip_skip=2")]
    with pytest.raises(ValueError, match=r"^a sweep takes at most 3 fields \(X, Y and Z\); got 4$"):
        expand(BASE, four)
    with pytest.raises(ValueError, match=r"^CFG Scale is swept twice: give its values once$"):
        expand(BASE, [parse_axis("cfg=5"), parse_axis("cfg_scale=7")])


def test_more_than_max_cells_is_one_line() -> None:
    axes = [parse_axis("steps=1-10"), parse_axis("cfg=1-10"), parse_axis("seed=1-6")]
    with pytest.raises(
        ValueError, match=r"^the sweep makes 600 jobs; at most 512 \(give fewer values\)$"
    ):
        expand(BASE, axes)
    just = [parse_axis("steps=1-8"), parse_axis("cfg=1-8"), parse_axis("seed=1-8")]
    assert len(expand(BASE, just).cells) == MAX_CELLS


# -- names on a real server -----------------------------------------------------------------------


@pytest.fixture
async def facts(demo_server: Any) -> ServerFacts:
    async with SDClient(demo_server.url) as client:
        return await fetch_server_facts(client)


async def test_names_are_fitted_to_the_servers(facts: ServerFacts) -> None:
    def resolved(text: str) -> tuple[object, ...]:
        return resolve_axis(parse_axis(text), facts).values

    assert resolved("sampler=dpm++ 2m,k_dpmpp_sde") == ("DPM++ 2M", "DPM++ SDE")
    assert resolved("scheduler=karras,sgm_uniform") == ("Karras", "SGM Uniform")
    assert resolved("model=aurora,demo-ink") == (
        "demo-aurora.safetensors [12c7841cc0]",
        "demo-ink.safetensors [89c398aee3]",
    )
    assert resolved("hr_upscaler=latent,r-esrgan 4x+") == ("Latent", "R-ESRGAN 4x+")
    assert resolved('styles=cinematic,"oil painting,night sky"') == (
        "Cinematic",
        "Oil painting,Night sky",
    )
    assert resolved("vae=automatic,vae-ft-mse") == (
        "Automatic",
        "vae-ft-mse-840000-ema-pruned.safetensors",
    )
    # fields without names, and the labels after fitting
    steps = parse_axis("steps=20")
    assert resolve_axis(steps, facts) is steps
    model = resolve_axis(parse_axis("checkpoint=aurora"), facts)
    assert model.labels() == ["demo-aurora.safetensors [12c7841cc0]"]
    assert model.text == "aurora"


async def test_unknown_names_use_the_command_lines_words(facts: ServerFacts) -> None:
    with pytest.raises(UnknownName, match=r"^unknown sampler 'warp'; the server has: DPM\+\+ 2M, "):
        resolve_axis(parse_axis("sampler=Euler a,warp"), facts)
    with pytest.raises(UnknownName, match=r"^model 'demo' matches several: "):
        resolve_axis(parse_axis("model=demo"), facts)
    with pytest.raises(UnknownName, match=r"^unknown scheduler 'zigzag'"):
        resolve_axis(parse_axis("scheduler=zigzag"), facts)
    with pytest.raises(UnknownName, match=r"^unknown hires upscaler 'magic'"):
        resolve_axis(parse_axis("hr_upscaler=magic"), facts)
    with pytest.raises(UnknownName, match=r"^unknown style 'baroque'; the server has: Cinematic"):
        resolve_axis(parse_axis("styles=baroque"), facts)


def test_a_server_without_a_list_keeps_the_names_as_typed() -> None:
    axis = parse_axis("sampler=Euler a,whatever")
    assert resolve_axis(axis, ServerFacts()).values == ("Euler a", "whatever")


# -- the grid of a sweep --------------------------------------------------------------------------


def test_grid_infotext_adds_the_plots_keys() -> None:
    sweep = expand(BASE, [parse_axis("cfg=5, 7"), parse_axis("seed=-1,9")], random.Random(3))
    first = (
        "a red fox\nNegative prompt: red blur\nSteps: 20, Sampler: Euler, CFG scale: 5.0, Seed: 1"
    )
    text = grid_infotext(sweep, first)
    info = parse_infotext(text)
    assert info.prompt == "a red fox" and info.negative_prompt == "red blur"
    assert info.params["Script"] == "X/Y/Z plot"
    assert info.params["X Type"] == "CFG Scale" and info.params["X Values"] == "5, 7"
    assert info.params["Y Type"] == "Seed" and info.params["Y Values"] == "-1,9"
    random_seed = sweep.axes[1].values[0]
    assert info.params["Fixed Y Values"] == f"{random_seed}, 9"
    assert info.steps == 20 and "Z Type" not in info.params
    # no parameter line to add to: a line of its own; nothing at all: the keys alone
    assert grid_infotext(sweep, "just a prompt").startswith("just a prompt\nScript: X/Y/Z plot, ")
    assert grid_infotext(sweep, "").startswith("Script: X/Y/Z plot, X Type: CFG Scale")


def test_grid_png_needs_one_image_per_cell() -> None:
    sweep = expand(BASE, [parse_axis("cfg=5,7")])
    with pytest.raises(ValueError, match=r"^1 images for a sweep of 2 cells$"):
        grid_png(sweep, [None])
    with pytest.raises(ValueError, match=r"^no image to make a grid of: every cell is missing$"):
        grid_png(sweep, [None, None])


def test_grid_stem_numbers_grids_in_the_folder(tmp_path: Path) -> None:
    sweep = expand(BASE, [parse_axis("cfg=5,7")])
    assert grid_stem(sweep, tmp_path / "missing") == "xyz_grid-0000-42-a-red-fox-in-the-snow"
    (tmp_path / "xyz_grid-0007-1-x.png").write_bytes(b"")
    (tmp_path / "xyz_grid-oops.png").write_bytes(b"")
    assert grid_stem(sweep, tmp_path).startswith("xyz_grid-0008-42-")


async def _run_sweep(url: str, sweep: Sweep, store: ImageStore) -> list[bytes | None]:
    """Each cell run on the demo server and saved, as the queue would; a cell whose job fails
    has no image."""
    images: list[bytes | None] = []
    async with SDClient(url) as client:
        for cell in sweep.cells:
            outcome = await generate(client, cell.request, store)
            saved = outcome.images[0]
            assert saved.path is not None
            images.append(saved.path.read_bytes())
    return images


async def test_a_sweep_on_the_demo_server_saves_its_grid_beside_the_images(
    demo_server: Any, tmp_path: Path
) -> None:
    store = ImageStore(tmp_path)
    request = GenerationRequest(prompt="a red fox", seed=-1, steps=4, width=128, height=128)
    sweep = expand(request, [parse_axis("cfg=5,9"), parse_axis("prompt=red,blue")])
    images = await _run_sweep(demo_server.url, sweep, store)
    seeds = {parse_infotext(read_parameters(i) or "").seed for i in images if i}
    assert len(seeds) == 1  # one fixed seed for the whole sweep
    images[3] = None  # as if the last job had failed
    first = read_parameters(images[0] or b"") or ""
    path = await save_grid(sweep, images, store, grid_infotext(sweep, first))

    folder = store.folder_for(datetime.now())
    assert path.parent == folder
    assert path.name == f"xyz_grid-0000-{seeds.pop()}-a-red-fox.png"
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temp file
    data = path.read_bytes()
    width, height = image_size(data)
    assert width > 2 * 128 and height > 2 * 128  # the cells and their labels
    info = parse_infotext(read_parameters(data) or "")
    assert info.prompt == "a red fox" and info.params["X Type"] == "CFG Scale"
    assert info.params["Y Values"] == "red,blue"

    again = await save_grid(sweep, images, store, "")
    assert again.name.startswith("xyz_grid-0001-") and read_parameters(again.read_bytes()) is None


async def test_save_grid_runs_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import sdtui.engine.sweep as sweep_module

    threads: list[str] = []
    real = sweep_module.grid_png

    def spy(sweep: Sweep, images: Sequence[bytes | None]) -> bytes:
        threads.append(threading.current_thread().name)
        return real(sweep, images)

    monkeypatch.setattr(sweep_module, "grid_png", spy)
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(out, "PNG")
    sweep = expand(BASE, [parse_axis("cfg=5")])
    await save_grid(
        sweep, [out.getvalue()], ImageStore(tmp_path), "x\nSteps: 1, Seed: 2, Size: 64x64"
    )
    assert threads and threads[0] != threading.main_thread().name


async def test_save_grid_goes_into_the_folder_of_the_given_day(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(out, "PNG")
    store = ImageStore(tmp_path)
    sweep = expand(BASE, [parse_axis("steps=10,20")])
    yesterday = datetime(2026, 11, 30, 23, 59)
    path = await save_grid(sweep, [out.getvalue(), None], store, "", when=yesterday)
    assert path.parent == tmp_path / "2026-11-30"
    assert path.name == "xyz_grid-0000-42-a-red-fox-in-the-snow.png"
