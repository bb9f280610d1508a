"""The fault matrix, headless half: faulty servers driven through `generate()`.

Every case runs the real engine (SDClient over loopback, ImageStore in a temporary folder) and checks
two things: the user reads one line that says what happened and what to do, and nothing is lost or
left behind (no stray PNG or temporary file, the request untouched, images kept in memory when they
could not be written).

Client-level error mapping is covered in test_api_errors.py; these cases are about what survives the
whole path from socket to disk.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import PIL.Image
import pytest

import sdtui.engine.progress
import sdtui.store.files
from sdtui.api import (
    ApiError,
    ErrorKind,
    GenerationRequest,
    ProgressUpdate,
    SDClient,
    is_unsupported,
)
from sdtui.demo import DemoServer
from sdtui.engine import GenerationOutcome, ServerModel, generate, infotext_from_request
from sdtui.engine.generate import UNKNOWN_PROGRESS
from sdtui.images import (
    MAX_IMAGE_PIXELS,
    PNG_SIGNATURE,
    image_format,
    parse_infotext,
    read_parameters,
    read_text_chunks,
)
from sdtui.store import ImageStore
from sdtui.store.files import TEMP_PREFIX, TEMP_SUFFIX, remove_stale_temps
from sdtui.store.index import HistoryIndex, HistoryQuery
from tests.faulty import FaultyServer, Handler, Reply, Seen, json_reply
from tests.faulty_servers import (
    MISSING_ENDPOINT,
    b64,
    bomb_png,
    jpeg_with_exif,
    png_bytes,
    png_with_parameters,
    txt2img_reply,
)

ROOT = Path(__file__).resolve().parents[1]
TXT2IMG = ("POST", "/sdapi/v1/txt2img")
PROGRESS = ("GET", "/sdapi/v1/progress")
TASK_PROGRESS = ("POST", "/internal/progress")
# C0 and C1 control characters (ESC, BEL, CR, LF, CSI 0x9b, NEL 0x85, ...): none may reach a message.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# -- helpers ------------------------------------------------------------------------------------


def make_request(**changes: Any) -> GenerationRequest:
    fields: dict[str, Any] = {
        "prompt": "a lighthouse at dusk, oil painting",
        "negative_prompt": "blurry",
        "seed": 1234,
        "steps": 12,
        "width": 64,
        "height": 48,
        "sampler_name": "Euler a",
    }
    fields.update(changes)
    return GenerationRequest(**fields)


def files_under(root: Path) -> list[Path]:
    """Every file below `root`, hidden ones included."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_nothing_left(root: Path) -> None:
    assert files_under(root) == [], "a failed job left files behind"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def assert_one_clean_line(message: str) -> None:
    assert message.strip()
    assert CONTROL.search(message) is None, repr(message)


async def run(
    url: str,
    request: GenerationRequest,
    store: ImageStore,
    *,
    quick_timeout: float = 5.0,
    **kwargs: Any,
) -> GenerationOutcome:
    """One job through the real engine; whatever happens, the caller's request is left as it was
    (the UI keeps it to retry or edit)."""
    before = copy.deepcopy(request)
    try:
        async with SDClient(url, quick_timeout=quick_timeout) as client:
            return await generate(client, request, store, **kwargs)
    finally:
        assert request == before, "the engine changed the caller's request"


async def run_failing(
    url: str, request: GenerationRequest, store: ImageStore, **kwargs: Any
) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await run(url, request, store, **kwargs)
    return caught.value


# -- 1, 2: the connection breaks --------------------------------------------------------------


@pytest.fixture
def demo_process() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`sdtui serve-demo` in its own process, slow enough that a job is still running when killed."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdtui", "serve-demo", "--port", str(port), "--step-delay", "0.2"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


async def wait_until_serving(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with SDClient(url, quick_timeout=1.0, connect_timeout=1.0) as client:
        deadline = time.monotonic() + 15
        while True:
            try:
                await client.get_options()
                return
            except ApiError:
                assert proc.poll() is None, "the demo server exited on start"
                assert time.monotonic() < deadline, "the demo server never answered"
                await asyncio.sleep(0.05)


async def test_server_killed_mid_job_reports_a_broken_connection_and_saves_nothing(
    demo_process: tuple[subprocess.Popen[bytes], str], tmp_path: Path
) -> None:
    proc, url = demo_process
    await wait_until_serving(url, proc)
    request = make_request(steps=50)
    running = asyncio.Event()

    def on_progress(update: ProgressUpdate) -> None:
        if update.sampling_step >= 1:
            running.set()

    store = ImageStore(tmp_path / "out")
    job = asyncio.create_task(run(url, request, store, on_progress=on_progress, poll_interval=0.05))
    await asyncio.wait_for(running.wait(), timeout=15)
    assert not job.done()
    os.kill(proc.pid, signal.SIGKILL)
    with pytest.raises(ApiError) as caught:
        await asyncio.wait_for(job, timeout=15)
    error = caught.value
    assert error.kind in (ErrorKind.DROPPED, ErrorKind.UNREACHABLE)
    assert "connection" in error.message and "broke" in error.message
    assert url in error.message and "try again" in error.message
    assert_one_clean_line(error.message)
    assert_nothing_left(tmp_path / "out")


@pytest.mark.parametrize(
    "drop_at", [0.0, 0.001, 0.5, 0.999], ids=["headers", "start", "half", "end"]
)
async def test_connection_dropped_mid_response_saves_nothing(
    tmp_path: Path, drop_at: float
) -> None:
    image = b64(png_bytes((256, 256), noise=True))
    request = make_request()
    reply = txt2img_reply([image])
    reply.drop_after = int(len(json.dumps(reply.body)) * drop_at)
    with FaultyServer({TXT2IMG: reply}) as server:
        error = await run_failing(server.url, request, ImageStore(tmp_path))
    assert error.kind is ErrorKind.DROPPED
    assert "broke during /sdapi/v1/txt2img" in error.message and "try again" in error.message
    assert_one_clean_line(error.message)
    assert_nothing_left(tmp_path)


async def test_garbled_gzip_body_is_an_api_error_not_a_crash(tmp_path: Path) -> None:
    """A1111 gzips large answers; a proxy that mangles them must not surface as a raw exception."""
    good = zlib.compress(b'{"images": [], "info": ""}')
    reply = Reply(body=b"\x1f\x8b\x08\x00" + good[2:40], headers={"Content-Encoding": "gzip"})
    request = make_request()
    with FaultyServer({TXT2IMG: reply}) as server:
        error = await run_failing(server.url, request, ImageStore(tmp_path))
    assert error.kind is ErrorKind.NOT_API
    assert "compressed" in error.message and "try again" in error.message
    assert_one_clean_line(error.message)
    assert_nothing_left(tmp_path)


async def test_redirect_loop_is_an_api_error_not_a_crash(tmp_path: Path) -> None:
    loop = Reply(307, b"", headers={"Location": "/sdapi/v1/txt2img"})
    with FaultyServer({TXT2IMG: loop}) as server:
        error = await run_failing(server.url, make_request(), ImageStore(tmp_path))
    assert error.kind is ErrorKind.NOT_API
    assert "redirects /sdapi/v1/txt2img in a loop" in error.message and "--url" in error.message
    assert_one_clean_line(error.message)
    assert_nothing_left(tmp_path)


# -- 3, 5: long jobs and missing progress -----------------------------------------------------


async def test_job_longer_than_the_quick_timeout_completes_with_rising_progress(
    tmp_path: Path,
) -> None:
    polls = 0

    def progress(_: Seen) -> Reply:
        nonlocal polls
        polls += 1
        value = min(0.05 * polls, 0.95)
        state = {"job_count": 1, "sampling_step": polls, "sampling_steps": 30}
        return json_reply({"progress": value, "eta_relative": 1.0, "state": state})

    image = png_bytes()
    reply = txt2img_reply([b64(image)], delay=1.5)
    seen: list[float] = []
    request = make_request()
    with FaultyServer({TXT2IMG: reply, PROGRESS: progress}) as server:
        outcome = await run(
            server.url,
            request,
            ImageStore(tmp_path),
            quick_timeout=0.3,
            on_progress=lambda u: seen.append(u.progress),
            poll_interval=0.1,
        )
    assert len(seen) >= 4
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    [saved] = outcome.images
    assert saved.error is None and saved.path is not None and saved.path.exists()


@pytest.mark.parametrize(
    "missing",
    [
        json_reply({"detail": "Not Found"}, 404),
        Reply(404, "Not Found", content_type="text/plain"),
    ],
    ids=["fastapi-404", "plain-404"],
)
async def test_no_progress_endpoint_reports_unknown_once_and_stops_polling(
    tmp_path: Path, missing: Reply
) -> None:
    updates: list[ProgressUpdate] = []
    reply = txt2img_reply([b64(png_bytes())], delay=0.6)
    with FaultyServer({TXT2IMG: reply, PROGRESS: missing}) as server:
        outcome = await run(
            server.url,
            make_request(),
            ImageStore(tmp_path),
            on_progress=updates.append,
            poll_interval=0.05,
        )
        progress_hits = sum(1 for s in server.seen if s.path == PROGRESS[1])
    assert updates == [UNKNOWN_PROGRESS] and updates[0].job_count == -1
    assert progress_hits == 1
    [saved] = outcome.images
    assert saved.error is None and saved.path is not None


def hits(server: FaultyServer, route: tuple[str, str]) -> int:
    return sum(1 for s in server.seen if (s.method, s.path) == route)


@pytest.mark.parametrize("status", sorted(MISSING_ENDPOINT))
async def test_a_server_without_progress_endpoints_is_asked_once_for_all_jobs(
    tmp_path: Path, status: int
) -> None:
    """404, 405 or 501 (KoboldCpp, sd.cpp, proxies): one question each, then "progress unknown",
    and later jobs on the same client ask nothing."""
    missing = MISSING_ENDPOINT[status]
    routes: dict[tuple[str, str], Reply | Handler] = {
        TXT2IMG: txt2img_reply([b64(png_bytes())], delay=0.3),
        PROGRESS: missing,
        TASK_PROGRESS: missing,
    }
    with FaultyServer(routes) as server:
        async with SDClient(server.url, quick_timeout=5) as client:
            for _ in range(2):
                updates: list[ProgressUpdate] = []
                await generate(
                    client,
                    make_request(),
                    ImageStore(tmp_path),
                    on_progress=updates.append,
                    poll_interval=0.02,
                )
                assert updates == [UNKNOWN_PROGRESS]
        assert hits(server, PROGRESS) == 1 and hits(server, TASK_PROGRESS) == 1


@pytest.mark.parametrize("status", sorted(MISSING_ENDPOINT))
async def test_without_internal_progress_the_poller_falls_back_once(
    tmp_path: Path, status: int
) -> None:
    polls = 0

    def progress(_: Seen) -> Reply:
        nonlocal polls
        polls += 1
        state = {"job_count": 1, "sampling_step": min(polls, 12), "sampling_steps": 12}
        return json_reply({"progress": min(polls / 12, 1), "eta_relative": 1, "state": state})

    routes: dict[tuple[str, str], Reply | Handler] = {
        TXT2IMG: txt2img_reply([b64(png_bytes())], delay=0.4),
        PROGRESS: progress,
        TASK_PROGRESS: MISSING_ENDPOINT[status],
    }
    updates: list[ProgressUpdate] = []
    with FaultyServer(routes) as server:
        await run(
            server.url,
            make_request(),
            ImageStore(tmp_path),
            on_progress=updates.append,
            poll_interval=0.02,
        )
        assert hits(server, TASK_PROGRESS) == 1
        assert hits(server, PROGRESS) >= 5
    steps = [u.sampling_step for u in updates if u.active]
    assert steps and steps == sorted(steps)


async def test_a_server_that_ignores_force_task_id_gets_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/internal/progress answers, but never knows our task (a fork that drops force_task_id):
    after a few polls the job is followed through /sdapi/v1/progress instead."""
    monkeypatch.setattr(sdtui.engine.progress, "UNKNOWN_TASK_SECONDS", 0.1)
    nobody = json_reply({"active": False, "queued": False, "completed": False, "textinfo": ""})
    state = {"job_count": 1, "sampling_step": 3, "sampling_steps": 12}
    routes: dict[tuple[str, str], Reply | Handler] = {
        TXT2IMG: txt2img_reply([b64(png_bytes())], delay=0.6),
        PROGRESS: json_reply({"progress": 0.25, "eta_relative": 1, "state": state}),
        TASK_PROGRESS: nobody,
    }
    updates: list[ProgressUpdate] = []
    with FaultyServer(routes) as server:
        await run(
            server.url,
            make_request(),
            ImageStore(tmp_path),
            on_progress=updates.append,
            poll_interval=0.02,
        )
    assert any(u.active and u.sampling_step == 3 for u in updates)
    assert not any(u.waiting for u in updates)


@pytest.mark.parametrize("status", sorted(MISSING_ENDPOINT))
async def test_missing_endpoint_errors_say_so(status: int) -> None:
    with FaultyServer({PROGRESS: MISSING_ENDPOINT[status]}) as server:
        async with SDClient(server.url) as client:
            with pytest.raises(ApiError) as caught:
                await client.progress()
            with pytest.raises(ApiError) as again:
                await client.progress()  # remembered: not asked again
        assert hits(server, PROGRESS) == 1
    assert is_unsupported(caught.value) and is_unsupported(again.value)
    assert "does not offer /sdapi/v1/progress" in caught.value.message
    assert_one_clean_line(caught.value.message)


async def test_a_job_that_ended_early_on_the_server_says_so(tmp_path: Path) -> None:
    """Three images asked, one sent back (the server was stopped mid-batch)."""
    request = make_request(n_iter=3)
    with FaultyServer({TXT2IMG: txt2img_reply([b64(png_bytes())])}) as server:
        outcome = await run(server.url, request, ImageStore(tmp_path))
    assert outcome.summary() == "1 of 3 images saved · the server stopped early"
    assert not outcome.complete


# -- 4, 6: what the saved PNG says ------------------------------------------------------------


@pytest.mark.parametrize("info", ["", "not json {", "null"], ids=["empty", "garbage", "null"])
async def test_no_info_json_saves_the_infotext_built_from_the_request(
    tmp_path: Path, info: str
) -> None:
    request = make_request()
    with FaultyServer({TXT2IMG: txt2img_reply([b64(png_bytes())], info=info)}) as server:
        outcome = await run(server.url, request, ImageStore(tmp_path))
    [saved] = outcome.images
    assert saved.path is not None and saved.error is None
    expected = infotext_from_request(request, 1234)
    assert saved.infotext == expected
    stored = read_text_chunks(saved.path.read_bytes())["parameters"]
    assert stored == expected
    parsed = parse_infotext(stored)
    assert parsed.prompt == request.prompt and parsed.negative_prompt == "blurry"
    assert (parsed.seed, parsed.steps, parsed.width, parsed.height) == (1234, 12, 64, 48)
    assert files_under(tmp_path) == [saved.path]


@pytest.mark.parametrize("samples_format", ["jpg", "webp"])
async def test_demo_jpeg_and_webp_are_saved_as_png_with_the_server_infotext(
    demo_server: DemoServer, tmp_path: Path, samples_format: str
) -> None:
    request = make_request(steps=2)
    before = copy.deepcopy(request)
    async with SDClient(demo_server.url) as client:
        await client.set_options({"samples_format": samples_format})
        outcome = await generate(client, request, ImageStore(tmp_path))
    assert request == before
    [sent] = outcome.result.images
    assert image_format(sent) == ("jpeg" if samples_format == "jpg" else "webp")
    [saved] = outcome.images
    assert saved.path is not None and saved.error is None
    data = saved.path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and saved.path.suffix == ".png"
    server_infotext = outcome.result.infotexts[0]
    assert server_infotext and "Seed: 1234" in server_infotext
    assert read_text_chunks(data)["parameters"] == server_infotext == read_parameters(sent)
    assert files_under(tmp_path) == [saved.path]


@pytest.mark.parametrize("make", [jpeg_with_exif, png_with_parameters], ids=["jpeg", "png"])
async def test_infotext_inside_the_image_is_kept_when_info_is_empty(
    tmp_path: Path, make: Callable[[str], bytes]
) -> None:
    """KoboldCpp-style `info: ""` with an image that carries its own infotext: the image wins over
    anything rebuilt from the request (which cannot know the server's model or real seed)."""
    embedded = (
        "a red fox, Ünïcode\nNegative prompt: ugly\n"
        "Steps: 30, Sampler: DPM++ 2M, Seed: 77, Size: 64x48, Model: fox-xl"
    )
    request = make_request(seed=-1)
    with FaultyServer({TXT2IMG: txt2img_reply([b64(make(embedded))], info="")}) as server:
        outcome = await run(server.url, request, ImageStore(tmp_path))
    [saved] = outcome.images
    assert saved.path is not None and saved.error is None
    assert saved.infotext == embedded
    assert saved.seed == 77 and "-77-" in saved.path.name  # the real seed, not the request's -1
    data = saved.path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert read_text_chunks(data)["parameters"] == embedded
    assert files_under(tmp_path) == [saved.path]


# -- 7, 8, 9: image data that is not an image -------------------------------------------------


async def test_truncated_base64_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    text = b64(png_bytes())
    cut = text[: len(text) // 2 + 1]
    assert len(cut) % 4  # a cut that base64 itself can detect
    request = make_request()
    with FaultyServer({TXT2IMG: txt2img_reply([cut])}) as server:
        error = await run_failing(server.url, request, ImageStore(tmp_path))
    assert error.kind is ErrorKind.NOT_API
    assert "not valid base64" in error.message and "cut short" in error.message
    assert "try again" in error.message
    assert_one_clean_line(error.message)
    assert_nothing_left(tmp_path)


async def test_base64_cut_on_a_block_boundary_names_the_truncated_png(tmp_path: Path) -> None:
    """Base64 cut at a multiple of 4 decodes fine: the PNG walk catches the missing end."""
    data = png_bytes()
    cut = b64(data[: len(data) - 30])
    with FaultyServer({TXT2IMG: txt2img_reply([cut])}) as server:
        outcome = await run(server.url, make_request(), ImageStore(tmp_path))
    [saved] = outcome.images
    assert saved.path is None and saved.png == b""
    assert saved.error is not None and "truncated" in saved.error
    assert_one_clean_line(saved.error)
    assert_nothing_left(tmp_path)


async def test_bytes_that_are_no_image_give_an_error_and_no_file(tmp_path: Path) -> None:
    good = png_bytes()
    images = [b64(b"hello"), b64(good)]
    with FaultyServer({TXT2IMG: txt2img_reply(images)}) as server:
        outcome = await run(server.url, make_request(batch_size=2), ImageStore(tmp_path))
    bad, fine = outcome.images
    assert bad.path is None and bad.png == b""
    assert bad.error is not None
    assert "image 1" in bad.error and "not a PNG, JPEG or WebP image" in bad.error
    assert_one_clean_line(bad.error)
    # The good image of the same batch is still saved.
    assert fine.error is None and fine.path is not None
    assert files_under(tmp_path) == [fine.path]


async def test_decompression_bomb_is_refused_before_any_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = bomb_png(60000, 60000)
    assert len(bomb) < 200

    def no_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("a decoder was asked to open the bomb")

    monkeypatch.setattr(PIL.Image, "open", no_decode)  # the only decoder entry convert uses
    with FaultyServer({TXT2IMG: txt2img_reply([b64(bomb)])}) as server:
        outcome = await run(server.url, make_request(), ImageStore(tmp_path))
    [saved] = outcome.images
    assert saved.path is None and saved.png == b""
    assert saved.error is not None
    assert "60000x60000" in saved.error
    assert f"{MAX_IMAGE_PIXELS // 1_000_000} megapixel limit" in saved.error
    assert_one_clean_line(saved.error)
    assert_nothing_left(tmp_path)


# -- 10, 11: the disk -------------------------------------------------------------------------


class _DiskFillsUp:
    """`os` as seen by the store, except that the second write finds the disk full."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, fd: int, data: bytes | memoryview) -> int:
        self.writes += 1
        if self.writes > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data[: max(1, len(data) // 2)])

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


async def test_disk_full_keeps_the_image_in_memory_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = _DiskFillsUp()
    monkeypatch.setattr(sdtui.store.files, "os", disk)
    request = make_request()
    with FaultyServer({TXT2IMG: txt2img_reply([b64(png_bytes())])}) as server:
        outcome = await run(server.url, request, ImageStore(tmp_path / "out"))
    assert disk.writes == 2  # half the bytes landed before the disk filled
    [saved] = outcome.images
    assert saved.path is None
    assert saved.error is not None
    assert "disk" in saved.error and "full" in saved.error and "save elsewhere" in saved.error
    assert_one_clean_line(saved.error)
    assert saved.png.startswith(PNG_SIGNATURE)
    assert read_text_chunks(saved.png)["parameters"] == saved.infotext
    assert_nothing_left(tmp_path / "out")
    assert outcome.errors == [saved.error]


_SAVE_AND_STALL = textwrap.dedent(
    """
    import io, os, sys, time
    from pathlib import Path
    from PIL import Image
    from sdtui.store import ImageStore

    side = 768
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)

    def stall(fd):
        print("mid-save", flush=True)
        time.sleep(60)

    os.fsync = stall
    ImageStore(Path(sys.argv[1])).save(out.getvalue(), prompt="big", seed=1)
    print("finished", flush=True)
    """
)


def test_process_killed_during_a_save_leaves_only_a_hidden_temp_that_is_swept(
    tmp_path: Path,
) -> None:
    root = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SAVE_AND_STALL, str(root)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == b"mid-save\n", proc.stderr.read() if proc.stderr else line
    finally:
        proc.kill()
        proc.wait(timeout=10)
    files = files_under(root)
    assert [p for p in files if not p.name.startswith(".")] == []
    [temp] = files
    assert temp.name.startswith(TEMP_PREFIX) and temp.name.endswith(TEMP_SUFFIX)
    assert temp.stat().st_size > 1_000_000  # the bytes were written; only the final link was not

    index = HistoryIndex([root])
    index.scan()
    assert index.query(HistoryQuery()) == []  # the history never lists a temp
    index.close()
    assert temp.exists()  # a fresh temp may belong to a save still running elsewhere
    old = time.time() - 2 * 3600
    os.utime(temp, (old, old))
    assert remove_stale_temps(temp.parent) == 1
    assert files_under(root) == []


# -- 12: hostile text from the server ---------------------------------------------------------

# An OSC title change, a CSI clear screen, a hyperlink, 8-bit CSI and NEL, BEL, CR/LF, Rich markup.
EVIL = "boom\x1b]0;pwned\x07 \x1b[2J[bold red]red[/]\x9b31m \x85\r\nnext \x1b]8;;http://x\x07link"


@pytest.mark.parametrize(
    "reply",
    [
        json_reply({"error": "RuntimeError", "detail": "", "body": "", "errors": EVIL}, 500),
        json_reply({"detail": [{"loc": ["body", "steps"], "msg": EVIL, "type": "x"}]}, 422),
        json_reply({"detail": {"msg": EVIL, "type": "service_unavailable"}}, 503),
        json_reply({"error": "server_error", "message": EVIL}, 500),
        json_reply({"error": EVIL}, 400),
    ],
    ids=["a1111-wrapper", "pydantic-422", "kobold-503", "sdcpp-500", "sdcpp-400"],
)
async def test_error_messages_never_carry_control_characters(tmp_path: Path, reply: Reply) -> None:
    with FaultyServer({TXT2IMG: reply}) as server:
        error = await run_failing(server.url, make_request(), ImageStore(tmp_path))
    assert_one_clean_line(error.message)
    assert CONTROL.search(error.detail) is None
    assert "pwned" not in error.message and "boom" in error.message and "next" in error.message
    # Rich markup is plain text at this level; escaping it is the display's job.
    assert "[bold red]red[/]" in error.message
    assert_nothing_left(tmp_path)


async def test_model_titles_are_kept_verbatim_in_data_but_not_in_messages() -> None:
    title = "evil\x1b]0;pwned\x07[blink]x.safetensors [abc123]"
    models = [{"title": title, "model_name": "evil", "hash": "abc123", "filename": "/m/x"}]

    def set_options(seen: Seen) -> Reply:
        wanted = seen.json()["sd_model_checkpoint"]
        body = {"error": "RuntimeError", "detail": f"model {wanted!r} not found"}
        return json_reply({**body, "body": "", "errors": ""}, 500)

    routes: dict[tuple[str, str], Reply | Handler] = {
        ("GET", "/sdapi/v1/sd-models"): json_reply(models),
        ("POST", "/sdapi/v1/options"): set_options,
    }
    with FaultyServer(routes) as server:
        async with SDClient(server.url) as client:
            [model] = await client.sd_models()
            with pytest.raises(ApiError) as caught:
                await client.set_model(model.title)
    assert model.title == title
    assert server.seen[-1].json() == {"sd_model_checkpoint": title}
    assert_one_clean_line(caught.value.message)
    assert "not found" in caught.value.message
    infotext = infotext_from_request(make_request(), 5, ServerModel(name=model.title))
    assert infotext.endswith("Model: evil\x1b]0;pwned\x07[blink]x")


async def test_infotext_values_are_kept_verbatim_in_saved_files_and_history(
    tmp_path: Path,
) -> None:
    prompt = "a fox \x1b[2J[red]x[/red]\x9b1m"
    infotext = f"{prompt}\nSteps: 20, Sampler: Euler\x1b]0;t\x07, Seed: 5, Size: 64x48"
    info = {"infotexts": [infotext], "all_seeds": [5], "seed": 5}
    reply = txt2img_reply([b64(png_bytes())], info=json.dumps(info))
    store = ImageStore(tmp_path)
    with FaultyServer({TXT2IMG: reply}) as server:
        outcome = await run(server.url, make_request(), store)
    [saved] = outcome.images
    assert saved.path is not None and saved.infotext == infotext
    assert read_text_chunks(saved.path.read_bytes())["parameters"] == infotext
    index = HistoryIndex([tmp_path])
    index.scan()
    [row] = index.query(HistoryQuery())
    entry = index.get(row.id)
    index.close()
    assert entry is not None and entry.prompt == prompt
    assert entry.sampler == "Euler\x1b]0;t\x07"
    assert entry.seed == 5
