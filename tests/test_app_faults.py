"""Faults as the TUI shows them: one clear message, nothing lost, never a crash."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from textual.widgets import Input, ProgressBar, TextArea

from sdtui.images.png import set_text_chunk
from sdtui.store import ImageStore
from sdtui.ui.app import SdtuiApp
from sdtui.ui.dialogs.choice import ChoiceDialog
from sdtui.ui.widgets import history_panel as history_module
from sdtui.ui.widgets.connection_bar import ConnectionBar, ConnState
from sdtui.ui.widgets.job_progress import JobProgress
from sdtui.ui.widgets.server_banner import ServerBanner
from tests.faulty import FaultyServer, Reply, Seen, json_reply
from tests.tui import SIZE, make_app, notifications, set_form, wait_for

MODEL = "model.safetensors [abcdef1234]"


def api_routes(**overrides: Any) -> dict[tuple[str, str], Any]:
    """The calls the app makes on connecting, answered like a working server."""
    routes: dict[tuple[str, str], Any] = {
        ("GET", "/sdapi/v1/options"): json_reply({"sd_model_checkpoint": MODEL}),
        ("GET", "/sdapi/v1/sd-models"): json_reply(
            [{"title": MODEL, "model_name": "model", "hash": "abcdef1234"}]
        ),
        ("GET", "/sdapi/v1/samplers"): json_reply([{"name": "Euler a", "aliases": []}]),
        ("GET", "/sdapi/v1/schedulers"): json_reply([{"name": "automatic", "label": "Automatic"}]),
    }
    for key, value in overrides.items():
        method, _, name = key.partition("_")
        routes[(method.upper(), f"/sdapi/v1/{name.replace('_', '-')}")] = value
    return routes


def png_bytes(size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def banner_text(app: SdtuiApp) -> str:
    return str(app.query_one("#banner", ServerBanner).render())


async def test_api_not_enabled_says_add_api(tmp_path: Path) -> None:
    with FaultyServer() as server:
        app = make_app(server.url, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.query_one("#banner").has_class("-shown"))
            assert "start the web UI with --api" in banner_text(app)


async def test_unresolvable_host_names_it(tmp_path: Path) -> None:
    app = make_app("http://no-such-host.invalid:7860", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one("#banner").has_class("-shown"))
        assert "no-such-host.invalid" in banner_text(app)
        assert app.query_one(ConnectionBar).state is ConnState.OFFLINE


@pytest.mark.parametrize(
    ("credentials", "words"),
    [({}, "needs a user name and password"), ({"user": "me", "password": "hunter2"}, "refused")],
)
async def test_auth_failures_say_which_and_never_show_the_password(
    demo_factory: Callable[..., Any], tmp_path: Path, credentials: dict[str, str], words: str
) -> None:
    server = demo_factory(api_auth="me:right-one")
    app = make_app(server.url, tmp_path, **credentials)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one("#banner").has_class("-shown"))
        assert words in banner_text(app)
        await pilot.press(*"a prompt")
        screen_text = str(app.query_one(ConnectionBar).render())
        assert "hunter2" not in screen_text and "hunter2" not in banner_text(app)
    state = (tmp_path / "state.json").read_text()
    assert "hunter2" not in state and json.loads(state)["prompt"] == "a prompt"


async def test_server_failure_keeps_the_form_and_says_why(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.0)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.press(*"too big")
        set_form(app, width="2048", height="2048", batch_size="8")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: any("CUDA out of memory" in n for n in notifications(app)))
        assert app.query_one("#prompt", TextArea).text == "too big"
        assert app.query_one("#batch-size", Input).value == "8"
        assert "failed" in app.query_one(JobProgress).status_text
        assert not list((tmp_path / "out").rglob("*.png"))


async def test_busy_server_offers_a_retry(tmp_path: Path) -> None:
    busy = json_reply({"detail": {"msg": "Server is busy", "type": "service_unavailable"}}, 503)
    with FaultyServer(api_routes(post_txt2img=busy)) as server:
        app = make_app(server.url, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.context.connected)
            await pilot.press(*"x", "ctrl+g")
            await wait_for(pilot, lambda: any("busy" in n for n in notifications(app)))
            message = next(n for n in notifications(app) if "busy" in n)
            assert "ctrl+g tries again" in message


async def test_dropped_connection_mid_job_keeps_everything(tmp_path: Path) -> None:
    dropped = Reply(200, b'{"images": ["' + b"A" * 4000 + b'"]}', drop_after=50)
    with FaultyServer(api_routes(post_txt2img=dropped)) as server:
        app = make_app(server.url, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.context.connected)
            await pilot.press(*"my precious prompt", "ctrl+g")
            await wait_for(pilot, lambda: any("broke" in n for n in notifications(app)))
            assert app.query_one("#prompt", TextArea).text == "my precious prompt"
    assert not list(tmp_path.rglob("*.png")) and not list(tmp_path.rglob("*.tmp"))


async def test_server_without_progress_shows_an_indeterminate_bar(tmp_path: Path) -> None:
    import base64

    image = base64.b64encode(png_bytes()).decode()

    def slow_txt2img(seen: Seen) -> Reply:
        reply = json_reply({"images": [image], "parameters": {}, "info": ""})
        reply.delay = 1.0
        return reply

    with FaultyServer(api_routes(post_txt2img=slow_txt2img)) as server:
        app = make_app(server.url, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.context.connected)
            await pilot.press(*"kobold", "ctrl+g")
            bar = app.query_one("#progress-bar", ProgressBar)
            await wait_for(pilot, lambda: bar.total is None)
            assert "no progress" in app.query_one(JobProgress).status_text
            await wait_for(pilot, lambda: not app.context.queue.busy)
            await wait_for(pilot, lambda: len(app.main.history.entries) == 1)
            assert app.main.history.entries[0].title == "kobold"  # infotext built from the request


async def test_server_text_never_drives_the_terminal(tmp_path: Path) -> None:
    evil = "[bold]evil[/] \x1b]0;pwned\x07\x1b[2Jmodel [abc]"
    routes = api_routes(
        get_options=json_reply({"sd_model_checkpoint": evil}),
        get_sd_models=json_reply([{"title": evil, "model_name": "m"}]),
        post_txt2img=json_reply({"error": "X", "detail": "bad \x1b]0;t\x07 [red]thing[/red]"}, 500),
    )
    with FaultyServer(routes) as server:
        app = make_app(server.url, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.context.connected)
            bar_text = str(app.query_one(ConnectionBar).render())
            assert (
                "[bold]evil[/]" in bar_text and "\x1b" not in bar_text and "pwned" not in bar_text
            )
            await pilot.press(*"x", "ctrl+g")
            await wait_for(pilot, lambda: any("thing" in n for n in notifications(app)))
            shown = next(n for n in app._notifications if "thing" in n.message)
            assert "[red]thing[/red]" in shown.message and "\x1b" not in shown.message
            assert shown.markup is False  # shown as the literal text


async def test_history_lists_corrupt_files_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "2026-01-01"
    folder.mkdir(parents=True)
    (folder / "good.png").write_bytes(
        set_text_chunk(png_bytes(), "parameters", "good one\nSteps: 2, Seed: 5, Size: 64x64")
    )
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        # A file with no readable header is still listed (so it can be seen and deleted).
        await wait_for(pilot, lambda: len(app.main.history.entries) == 2)
        titles = sorted(e.title for e in app.main.history.entries)
        assert titles == ["bad.png", "good one"]


async def test_images_saved_by_another_instance_appear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "RESCAN_SECONDS", 0.2)
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        other = ImageStore(tmp_path / "out")
        path = other.save(
            set_text_chunk(
                png_bytes(), "parameters", "from elsewhere\nSteps: 2, Seed: 9, Size: 64x64"
            ),
            prompt="from elsewhere",
            seed=9,
        )
        await wait_for(pilot, lambda: any(e.path == path for e in app.main.history.entries))
        path.unlink()
        await wait_for(pilot, lambda: not app.main.history.entries)


async def test_quit_during_a_job_asks_and_can_interrupt(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.05)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        set_form(app, steps="150", width="64", height="64")
        await pilot.press(*"long", "ctrl+g")
        await wait_for(pilot, lambda: app.context.queue.current is not None)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("escape")  # keep working
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceDialog))
        assert app.is_running
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.click("#choice-interrupt")
        await wait_for(pilot, lambda: not app.is_running, timeout=5)
    import httpx

    state = httpx.get(f"{server.url}/sdapi/v1/progress").json()
    for _ in range(50):
        if state["state"]["job_count"] == 0:
            break
        await asyncio.sleep(0.05)
        state = httpx.get(f"{server.url}/sdapi/v1/progress").json()
    assert state["state"]["job_count"] == 0  # the server's job was interrupted


async def test_resizing_while_rendering_does_not_crash(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.01)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        set_form(app, width="1024", height="1024", steps="10")
        await pilot.press(*"resize me", "ctrl+g")
        for size in ((100, 30), (60, 20), (200, 60), (30, 10), (140, 45)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.05)
        await wait_for(pilot, lambda: not app.context.queue.busy, timeout=20)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert app.main.preview.view.cell_image is not None
        assert app.is_running
