"""Each saved image names the server that made it: an `sdtui-server` text chunk spliced beside
`parameters` (the infotext and the pixels untouched), read back by the metadata reader, the
history index and `sdtui history`; files without it show no server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from sdtui.api import GenerationRequest, ProgressUpdate, SDClient
from sdtui.cli import main
from sdtui.demo import DemoServer
from sdtui.engine import generate
from sdtui.engine.generate import mark_server, save_result
from sdtui.images.convert import read_parameters
from sdtui.images.png import iter_chunks, read_chunks, read_text_chunks, set_text_chunk
from sdtui.store import ImageStore, read_image_metadata
from sdtui.store.index import HistoryIndex, HistoryQuery
from sdtui.store.metadata import SERVER_KEY
from tests.history_files import exif_image_bytes, infotext, png_bytes, write

API = "/sdapi/v1"
DAY = "2026-11-30"


def small_request(**changes: object) -> GenerationRequest:
    request = GenerationRequest(prompt="a lighthouse, ünïcode", steps=3, width=64, height=64)
    for key, value in changes.items():
        setattr(request, key, value)
    return request


def pixel_chunks(png: bytes) -> list[bytes]:
    return [chunk.data for chunk in read_chunks(png, (b"IDAT",))]


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDTUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("SDTUI_HISTORY_DIRS", raising=False)
    monkeypatch.delenv("SDTUI_OUT", raising=False)


# -- writing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("watch", [False, True], ids=["plain", "with-progress"])
async def test_generate_names_the_server_beside_an_unchanged_infotext(
    demo_server: DemoServer, tmp_path: Path, watch: bool
) -> None:
    updates: list[ProgressUpdate] = []
    on_progress: Callable[[ProgressUpdate], None] | None = updates.append if watch else None
    async with SDClient(demo_server.url) as client:
        outcome = await generate(
            client,
            small_request(batch_size=2),
            ImageStore(tmp_path),
            server="gpu1",
            on_progress=on_progress,
            poll_interval=0.01,
        )
    assert len(outcome.images) == 2 and not outcome.errors
    for saved, sent in zip(outcome.images, outcome.result.images, strict=True):
        assert saved.path is not None
        data = saved.path.read_bytes()
        list(iter_chunks(data))  # whole, every CRC right
        texts = read_text_chunks(data)
        assert texts[SERVER_KEY] == "gpu1"
        # The infotext is the server's own, byte for byte, as the web UI's PNG Info reads it.
        assert texts["parameters"] == saved.infotext == read_parameters(sent)
        assert read_parameters(data) == saved.infotext
        assert pixel_chunks(data) == pixel_chunks(sent)  # spliced, never re-encoded
        # The name sits in the header, before the pixels, where the history reads.
        assert read_image_metadata(saved.path).server == "gpu1"


async def test_without_a_server_no_chunk_is_written(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    async with SDClient(demo_server.url) as client:
        outcome = await generate(client, small_request(), ImageStore(tmp_path))
    assert outcome.images[0].path is not None
    data = outcome.images[0].path.read_bytes()
    assert SERVER_KEY not in read_text_chunks(data)
    assert data == outcome.images[0].png
    assert read_image_metadata(outcome.images[0].path).server is None


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
async def test_jpeg_and_webp_answers_are_saved_as_png_naming_the_server(
    demo_server: DemoServer, tmp_path: Path, fmt: str
) -> None:
    httpx.post(f"{demo_server.url}{API}/options", json={"samples_format": fmt})
    async with SDClient(demo_server.url) as client:
        outcome = await generate(client, small_request(), ImageStore(tmp_path), server="box:7860")
    saved = outcome.images[0]
    assert not saved.png.startswith(outcome.result.images[0][:4])  # it was not a PNG
    assert saved.path is not None and saved.path.suffix == ".png"
    texts = read_text_chunks(saved.path.read_bytes())
    assert texts[SERVER_KEY] == "box:7860"
    assert texts["parameters"] == read_parameters(outcome.result.images[0]) == saved.infotext


async def test_save_result_takes_the_server_too(demo_server: DemoServer, tmp_path: Path) -> None:
    async with SDClient(demo_server.url) as client:
        result = await client.generate(small_request())
    images = await save_result(result, small_request(), ImageStore(tmp_path), server="gpu2")
    assert images[0].path is not None
    assert read_text_chunks(images[0].path.read_bytes())[SERVER_KEY] == "gpu2"
    assert read_text_chunks(images[0].png)[SERVER_KEY] == "gpu2"  # what save-as would write


def test_the_name_is_one_clean_line_and_a_second_mark_replaces_the_first() -> None:
    png = png_bytes(infotext("a fox"))
    marked = mark_server(png, "gpu\x1b]0;pwned\x07 one\r\n")
    assert read_text_chunks(marked)[SERVER_KEY] == "gpu one"
    again = mark_server(marked, "gpu2")
    assert read_text_chunks(again) == {"parameters": infotext("a fox"), SERVER_KEY: "gpu2"}
    assert mark_server(png, None) == png and mark_server(png, " \x07 ") == png
    assert read_text_chunks(mark_server(png, "κουτί-1"))[SERVER_KEY] == "κουτί-1"  # iTXt


# -- reading: metadata, index, history ------------------------------------------------------------


def test_metadata_reads_the_server_and_strips_control_characters(tmp_path: Path) -> None:
    plain = png_bytes(infotext("a fox"))
    write(tmp_path / "new.png", set_text_chunk(plain, SERVER_KEY, "\x1b[31mgpu1\x07"))
    write(tmp_path / "old.png", plain)
    write(tmp_path / "photo.jpg", exif_image_bytes(infotext("a fox"), "JPEG"))
    new = read_image_metadata(tmp_path / "new.png")
    assert new.server == "gpu1" and new.infotext == infotext("a fox")
    assert read_image_metadata(tmp_path / "old.png").server is None
    assert read_image_metadata(tmp_path / "photo.jpg").server is None


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Two images sdtui saved on two servers, one saved before images named their server."""
    out = tmp_path / "out"
    for n, server in enumerate(["gpu1", "10.0.0.7:7860", None]):
        made = datetime(2026, 11, 30, 10, n).timestamp()
        data = mark_server(png_bytes(infotext(f"a red fox number {n}", n)), server)
        write(out / DAY / f"{n:05d}-{n}.png", data, made)
    return out


def test_the_index_fills_its_server_column(out: Path) -> None:
    with HistoryIndex([out]) as index:
        index.scan()
        servers = {image.path.name: image.server for image in index.records(HistoryQuery())}
    assert servers == {"00000-0.png": "gpu1", "00001-1.png": "10.0.0.7:7860", "00002-2.png": None}


def test_an_image_added_after_saving_carries_its_server(out: Path) -> None:
    later = out / DAY / "00003-3.png"
    with HistoryIndex([out]) as index:
        index.scan()
        write(later, mark_server(png_bytes(infotext("an owl", 3)), "gpu2"))
        index.add([later])
        record = index.get(later)
        assert record is not None and record.server == "gpu2"


def test_an_infotext_server_key_is_the_fallback(tmp_path: Path) -> None:
    text = infotext("a fox") + ", Server: old\x1b[2Jbox"
    write(tmp_path / "a.png", png_bytes(text))
    write(tmp_path / "b.png", mark_server(png_bytes(text), "gpu1"))
    with HistoryIndex([tmp_path]) as index:
        index.scan()
        a, b = index.get(tmp_path / "a.png"), index.get(tmp_path / "b.png")
    assert a is not None and a.server == "oldbox"
    assert b is not None and b.server == "gpu1"  # the chunk wins


def test_history_json_has_the_server(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--out", str(out), "--json", "--oldest"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [item["server"] for item in data] == ["gpu1", "10.0.0.7:7860", None]


def test_history_listing_shows_the_server_when_set(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--out", str(out), "--oldest"]) == 0
    head, *lines = capsys.readouterr().out.splitlines()
    assert head.split() == ["TIME", "SEED", "SIZE", "MODEL", "SERVER", "PATH", "PROMPT"]
    column = head.index("SERVER")
    assert [line[column:].split()[0] for line in lines[:2]] == ["gpu1", "10.0.0.7:7860"]
    assert lines[2][column:].split()[0].endswith("00002-2.png")  # none: the path follows


def test_history_listing_without_servers_has_no_server_column(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--out", str(out), "--search", "number 2"]) == 0
    head, *lines = capsys.readouterr().out.splitlines()
    assert "SERVER" not in head and len(lines) == 1


def test_history_listing_cuts_a_long_server_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "a-very-long-server-name-from-a-profile.example.org:7860"
    write(tmp_path / "out" / DAY / "x.png", mark_server(png_bytes(infotext("a fox")), name))
    assert main(["history", "--out", str(tmp_path / "out")]) == 0
    head, line = capsys.readouterr().out.splitlines()
    column = head.index("SERVER")
    shown = line[column:].split()[0]
    assert shown.endswith("…") and len(shown) <= 24 and name.startswith(shown[:-1])
