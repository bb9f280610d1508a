"""The fast path for big answers: base64 fields cut out of the JSON must give exactly what a full
JSON parse gives, and anything unusual must fall back to the full parse."""

from __future__ import annotations

import base64
import json
import os

import pytest

from sdtui.api.types import (
    B64_SLICE,
    BadImageData,
    GenerationResult,
    ProgressUpdate,
    decode_b64,
    split_base64_field,
)


def answer(images: list[bytes], **extra: object) -> dict[str, object]:
    info = {"all_seeds": [7 + i for i in range(len(images))], "infotexts": ["t"] * len(images)}
    return {
        "images": [base64.b64encode(i).decode() for i in images],
        "parameters": {"prompt": 'say "images": [1]'},
        "info": json.dumps(info),
        **extra,
    }


@pytest.mark.parametrize("indent", [None, 2])
def test_split_matches_the_full_parse(indent: int | None) -> None:
    images = [os.urandom(1000), os.urandom(B64_SLICE)]  # one above a slice, to cross slices
    content = json.dumps(answer(images), indent=indent).encode()
    fast = GenerationResult.from_bytes(content)
    slow = GenerationResult.from_json(json.loads(content))
    assert fast == slow
    assert fast.images == images and fast.seeds == [7, 8]


def test_odd_layouts_fall_back_to_the_full_parse() -> None:
    escaped = b'{"images": ["QUJD\\/"], "info": ""}'  # an escaped slash: not the simple layout
    assert split_base64_field(escaped, "images") is None
    nested_first = json.dumps(
        {"parameters": {"images": ["QUJD"]}, "images": ["REVG"], "info": ""}
    ).encode()
    assert split_base64_field(nested_first, "images") is None
    assert GenerationResult.from_bytes(nested_first).images == [b"DEF"]
    assert split_base64_field(b'{"images": 5}', "images") is None


def test_progress_preview_is_cut_out_too() -> None:
    preview = os.urandom(5000)
    body = {
        "progress": 0.5,
        "state": {"job_count": 1},
        "current_image": base64.b64encode(preview).decode(),
    }
    update = ProgressUpdate.from_bytes(json.dumps(body).encode())
    assert update.current_image == preview and update.progress == 0.5
    body["current_image"] = None
    assert ProgressUpdate.from_bytes(json.dumps(body).encode()).current_image is None


def test_sliced_decoding_rejects_bad_base64_anywhere() -> None:
    good = base64.b64encode(os.urandom(B64_SLICE))
    assert decode_b64(good) == base64.b64decode(good)
    bad = good[: B64_SLICE + 10] + b"!" + good[B64_SLICE + 11 :]
    with pytest.raises(BadImageData):
        decode_b64(bad)
    with pytest.raises(BadImageData):
        decode_b64(good[:-3])  # cut short
