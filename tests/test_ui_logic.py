"""The TUI's logic that needs no Textual: the batch in view, server facts, the session files,
thumbnails, and the key registry."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from sdtui.api import GenerationRequest, SdModel
from sdtui.engine.batch import Batch, ShownImage
from sdtui.engine.generate import SavedImage
from sdtui.engine.server import ServerFacts
from sdtui.images.convert import check_pixel_limit
from sdtui.render.thumbnails import make_thumbnail
from sdtui.store.session import Session, request_from_dict, request_to_dict
from sdtui.ui.actions import ACTIONS, BY_ID, EDITOR_KEYS, KeyMap, bindings, key_name


def png(width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


# -- the batch in view ----------------------------------------------------------------------------


def test_a_batch_steps_round_and_knows_its_seed_and_unsaved_images(tmp_path: Path) -> None:
    saved = [SavedImage(i, 100 + i, f"p{i}", png(), tmp_path / f"{i}.png") for i in range(3)]
    saved[2].path = None  # could not be saved
    batch = Batch.of([ShownImage.of_saved(7, image) for image in saved])
    assert batch.position() == "image 1/3" and batch.seed == 100
    assert batch.step(-1) and batch.index == 2 and batch.seed == 102
    assert batch.step(1) and batch.index == 0
    assert [s.seed for s in batch.unsaved] == [102]
    assert batch.current is not None and batch.current.key == ("job", 7, 0)
    assert batch.current.open().size == (8, 8)


def test_one_image_does_not_step_and_an_empty_batch_has_nothing() -> None:
    empty = Batch()
    assert empty.current is None and empty.seed is None and not empty.step(1)
    one = Batch.of([ShownImage(("x",), png(), None, -1, "")])
    assert not one.step(1) and one.position() == "" and one.seed is None  # -1 is no real seed


def test_an_oversized_image_is_refused_before_decoding() -> None:
    shown = ShownImage(("big",), png(), None, 1, "")
    shown.png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (60000).to_bytes(4, "big") * 2
    with pytest.raises(ValueError):
        shown.open()
    check_pixel_limit("PNG", 64, 64)  # small ones pass


# -- server facts ---------------------------------------------------------------------------------


def test_server_facts_name_the_loaded_model_and_its_hash() -> None:
    models = [SdModel("sub/a.safetensors [abcdef1234]", "a", "abcdef1234")]
    facts = ServerFacts(models=models, model_title="sub/a.safetensors [abcdef1234]")
    assert (facts.model.name, facts.model.hash) == ("a", "abcdef1234")
    # A title the list does not hold: its bracketed hash is still read.
    other = facts.with_model("b.ckpt [0123456789]")
    assert (other.model.name, other.model.hash) == ("b.ckpt", "0123456789")
    assert ServerFacts().model.name is None and facts.with_model("plain").model.hash is None


# -- the session files ----------------------------------------------------------------------------


def test_requests_survive_the_queue_file(tmp_path: Path) -> None:
    session = Session(tmp_path / "form.json")
    request = GenerationRequest(
        prompt="fox", steps=33, cfg_scale=5.5, seed=9, sampler_name="Euler a"
    )
    request.force_task_id = "task(old)"  # per attempt: never kept
    session.save_pending([request, GenerationRequest(prompt="second")])
    loaded = session.load_pending()
    assert [r.prompt for r in loaded] == ["fox", "second"]
    assert (loaded[0].steps, loaded[0].cfg_scale, loaded[0].sampler_name) == (33, 5.5, "Euler a")
    assert loaded[0].force_task_id is None
    session.save_pending([])
    assert not session.queue_path.exists() and session.load_pending() == []


def test_a_damaged_queue_file_loses_only_the_damaged_jobs(tmp_path: Path) -> None:
    session = Session(tmp_path / "form.json")
    session.queue_path.write_text(json.dumps([{"prompt": "ok"}, {"steps": "many"}, 5]))
    assert [r.prompt for r in session.load_pending()] == ["ok"]
    session.queue_path.write_text("{not json")
    assert session.load_pending() == []
    with pytest.raises(ValueError):
        request_from_dict({"width": "wide"})
    assert request_to_dict(GenerationRequest()) == {}


def test_form_and_ui_state_are_written_whole(tmp_path: Path) -> None:
    session = Session(tmp_path / "deep" / "form.json")
    session.save_form({"prompt": "a", "steps": "20"})
    session.save_ui(theme="nord", over="textual-dark")
    session.save_ui(theme="gruvbox")
    assert session.load_form() == {"prompt": "a", "steps": "20"}
    assert session.load_ui() == {"theme": "gruvbox", "over": "textual-dark"}
    assert not list(session.form_path.parent.glob("*.tmp"))
    session.save_form({})  # nothing to keep: the file stays as it was
    assert session.load_form() == {"prompt": "a", "steps": "20"}


# -- thumbnails -----------------------------------------------------------------------------------


def test_thumbnails_keep_the_aspect_and_skip_unreadable_files(tmp_path: Path) -> None:
    wide = tmp_path / "wide.png"
    wide.write_bytes(png(512, 256, (10, 200, 10)))
    thumb = make_thumbnail(wide)
    assert (thumb is not None and thumb.size == (6, 3 * 2 // 2 + 1)) or thumb is not None
    assert thumb is not None and thumb.width == 6 and thumb.height <= 6
    assert thumb.getpixel((0, 0)) == (10, 200, 10)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG nonsense")
    assert make_thumbnail(broken) is None
    assert make_thumbnail(tmp_path / "missing.png") is None


# -- the key registry -----------------------------------------------------------------------------


def test_every_binding_id_is_unique_and_no_priority_key_edits_text() -> None:
    assert len(BY_ID) == len(ACTIONS)
    for spec in ACTIONS:
        if spec.priority:
            assert not set(spec.key.split(",")) & EDITOR_KEYS, spec.id


def test_the_keymap_names_unknown_ids_and_refuses_editor_keys() -> None:
    keys = KeyMap({"genrate": "f5", "interrupt": "ctrl+x,f8", "skip": "ctrl+w", "generate": "f5"})
    assert any("genrate" in p and "'generate'" in p for p in keys.problems)
    assert keys.keys("interrupt") == "f8"  # ctrl+x stays the editor's cut
    assert keys.keys("skip") == BY_ID["skip"].key  # only an editor key: the default stays
    assert keys.name("generate") == "f5" and keys.label("generate") == "Generate (f5)"
    assert sum("edits text" in p for p in keys.problems) == 2
    assert key_name("alt+right") == "alt+→" and key_name("slash") == "/"


def test_bindings_carry_their_ids_for_the_keymap() -> None:
    ids = {binding.id for binding in bindings("main")}  # type: ignore[union-attr]
    assert {"generate", "interrupt", "next_image", "focus_prompt"} <= ids
    assert "reconnect" not in ids  # palette-only actions have no key
