"""What users met in the TUI, each driven through Pilot against the demo backend."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from textual import events
from textual.command import CommandPalette
from textual.geometry import Region
from textual.keys import _character_to_key
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea

from sdtui.demo import DemoServer
from sdtui.engine import JobEvent
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.store import ImageStore
from sdtui.ui.app import SdtuiApp
from sdtui.ui.commands import ActionCommands
from sdtui.ui.dialogs.keys import KeysDialog
from sdtui.ui.screens.full_image import FullImageScreen
from sdtui.ui.widgets.form_fields import ServerSelect
from sdtui.ui.widgets.generation_form import DEFAULTS
from tests.tui import SIZE, job_is_sampling, make_app, notifications, pngs, set_form, wait_for


async def _started(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: app.main.history.loaded)
    await app.workers.wait_for_complete()


async def _idle(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: not app.context.queue.busy, timeout=30)
    await app.workers.wait_for_complete()
    await pilot.pause()


def _prompt(app: SdtuiApp) -> TextArea:
    return app.query_one("#prompt", TextArea)


def _record_jobs(app: SdtuiApp) -> list[JobEvent]:
    """Every job event from now on (the screen still gets them)."""
    seen: list[JobEvent] = []
    forward = app.context.listener

    def listener(event: JobEvent) -> None:
        seen.append(event)
        forward(event)

    app.context.listener = listener
    return seen


def burst(app: SdtuiApp, *keys: str) -> None:
    """Keys as a fast typist, a paste or a terminal multiplexer delivers them: all queued at once,
    none handled before the next arrives (Pilot's `press` waits for each key to be handled)."""
    for key in keys:
        char = key if len(key) == 1 else None
        name = _character_to_key(key) if char is not None else key
        event = events.Key(name, char)
        event.set_sender(app)
        app.post_message(event)


def _infotext_prompt(path: Path) -> str:
    return parse_infotext(read_parameters(path.read_bytes()) or "").prompt


def _warnings(app: SdtuiApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


# -- 7: the form state across restarts ------------------------------------------------------------


async def test_steps_typed_right_after_start_up_are_saved(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        jobs = _record_jobs(app)
        await pilot.press("tab", "tab")
        assert app.focused is app.query_one("#steps", Input)
        burst(app, "ctrl+u", "4", "ctrl+g")
        await wait_for(pilot, lambda: any(e.kind == "queued" for e in jobs))
        saved = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
        assert saved["steps"] == "4"
        assert app.query_one("#steps", Input).value == "4"
        [job] = {e.job for e in jobs}
        assert job.request.steps == 4
        await _idle(pilot, app)
    saved = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    assert saved["steps"] == "4"


async def test_a_burst_that_moves_the_focus_edits_where_the_focus_went(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    """The same keys in one burst from the prompt, Tabs included (tmux, a paste): the keys after
    a Tab belong to the field the Tab moved to. Applied to the prompt, ctrl+u wiped the prompt
    and "4" went into it."""
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        jobs = _record_jobs(app)
        await pilot.press(*"a kept prompt")
        burst(app, "tab", "tab", "ctrl+u", "4", "shift+tab", "end", *" too", "ctrl+g")
        await wait_for(pilot, lambda: any(e.kind == "queued" for e in jobs))
        await pilot.pause(0.2)
        assert app.query_one("#prompt", TextArea).text == "a kept prompt"
        assert app.query_one("#steps", Input).value == "4"
        assert app.query_one("#negative", TextArea).text == " too"
        [job] = {e.job for e in jobs}
        assert (job.request.prompt, job.request.steps) == ("a kept prompt", 4)
        await _idle(pilot, app)


@pytest.mark.parametrize("steps", ["", "abc", "500", "  "])
async def test_a_bad_saved_value_comes_back_as_the_default(
    demo_server: DemoServer, tmp_path: Path, steps: str
) -> None:
    state = {"prompt": "a kept prompt", "steps": steps, "width": "64", "height": "64"}
    (tmp_path / "state.json").write_text(json.dumps(state), encoding="utf-8")
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        assert app.query_one("#steps", Input).value == DEFAULTS["steps"]
        assert _prompt(app).text == "a kept prompt"
        assert app.main.form.error is None
        set_form(app, steps="2")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == 1, timeout=20)
        await _idle(pilot, app)
        assert not any("Not sent" in n.title for n in app._notifications)


# -- 8: the form sends what it shows --------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "keys"),
    [
        ("", [*"cat", "ctrl+g"]),
        ("", ["ctrl+a", *"cat", "ctrl+g"]),
        ("dog", ["ctrl+a", *"cat ", "ctrl+g"]),
        ("dog", ["ctrl+e", *" and cat", "ctrl+g"]),
    ],
    ids=["typed", "ctrl+a-empty", "ctrl+a-text", "ctrl+e-text"],
)
async def test_a_burst_of_keys_sends_what_the_prompt_shows(
    demo_server: DemoServer, tmp_path: Path, before: str, keys: list[str]
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        jobs = _record_jobs(app)
        set_form(app, steps="2", width="64", height="64")
        prompt = _prompt(app)
        prompt.load_text(before)
        prompt.focus()
        prompt.move_cursor((0, len(before)))
        await pilot.pause()
        burst(app, *keys)
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == 1, timeout=20)
        await _idle(pilot, app)
        shown = prompt.text
        assert "cat" in shown
        [job] = {e.job for e in jobs}
        assert job.request.prompt == shown
        assert _infotext_prompt(pngs(tmp_path)[0]) == shown.strip()


@pytest.mark.parametrize(
    ("field", "before", "cursor", "keys", "after"),
    [
        ("#prompt", "dog", 3, ["ctrl+a", *"cat "], "cat dog"),
        ("#prompt", "dog", 3, ["ctrl+u", *"cat"], "cat"),
        ("#prompt", "dog", 3, [*"s", "backspace", *"e"], "doge"),
        ("#prompt", "dog", 0, ["ctrl+e", *"s"], "dogs"),
        ("#steps", "20", 2, ["ctrl+u", "4"], "4"),
        ("#steps", "20", 2, ["backspace", "5"], "25"),
    ],
    ids=[
        "prompt-ctrl+a",
        "prompt-ctrl+u",
        "prompt-backspace",
        "prompt-ctrl+e",
        "steps-ctrl+u",
        "steps-backspace",
    ],
)
async def test_a_burst_of_editing_keys_edits_in_the_order_typed(
    demo_server: DemoServer,
    tmp_path: Path,
    field: str,
    before: str,
    cursor: int,
    keys: list[str],
    after: str,
) -> None:
    """An editing key (a binding of the editor) and the characters typed after it, arriving
    together: the characters go where the editing key left the cursor."""
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        widget = app.query_one(field)
        widget.focus()
        await pilot.pause()
        if isinstance(widget, TextArea):
            widget.load_text(before)
            widget.move_cursor((0, cursor))
        else:
            assert isinstance(widget, Input)
            widget.value = before
            widget.cursor_position = cursor
        await pilot.pause()
        burst(app, *keys)
        await pilot.pause(0.3)
        shown = widget.text if isinstance(widget, TextArea) else widget.value
        assert shown == after


# -- 9: the size preset follows the fields --------------------------------------------------------


def _preset(app: SdtuiApp) -> Select[Any]:
    return app.query_one("#size-preset", Select)


async def test_size_preset_follows_a_swap(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        set_form(app, width="512", height="768")
        await pilot.pause()
        assert _preset(app).value == (512, 768)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert (app.query_one("#width", Input).value, app.query_one("#height", Input).value) == (
            "768",
            "512",
        )
        assert _preset(app).value == (768, 512)
        assert "768×512" in str(_preset(app).query_one("SelectCurrent Static").render())
        set_form(app, width="640", height="448")
        await pilot.pause()
        assert _preset(app).is_blank()


@pytest.mark.parametrize(
    ("size", "preset"), [(("1024", "1024"), (1024, 1024)), (("640", "448"), None)]
)
async def test_size_preset_after_a_restart(
    demo_server: DemoServer,
    tmp_path: Path,
    size: tuple[str, str],
    preset: tuple[int, int] | None,
) -> None:
    state = {"prompt": "x", "width": size[0], "height": size[1]}
    (tmp_path / "state.json").write_text(json.dumps(state), encoding="utf-8")
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        assert app.query_one("#width", Input).value == size[0]
        if preset is None:
            assert _preset(app).is_blank()
        else:
            assert _preset(app).value == preset


# -- 10: batch size and batch count ---------------------------------------------------------------


async def test_batch_labels_say_size_and_count(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        size = app.query_one("#batch-size-label", Label)
        count = app.query_one("#batch-count-label", Label)
        assert str(size.render()) == "Batch size"
        assert str(count.render()) == "Batch count"
        await _started(pilot, app)


# -- 11: start-up shows the newest image ----------------------------------------------------------


def _png(color: tuple[int, int, int], infotext: str) -> bytes:
    info = PngInfo()
    info.add_text("parameters", infotext)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


async def test_start_up_shows_the_newest_image(demo_server: DemoServer, tmp_path: Path) -> None:
    infotext = "a red square\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 42, Size: 64x64"
    path = ImageStore(tmp_path / "out").save(
        _png((200, 20, 20), infotext), prompt="a red square", seed=42
    )
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        preview = app.main.preview
        await wait_for(pilot, lambda: preview.view.cell_image is not None)
        current = preview.in_view.current
        assert current is not None and current.path == path
        assert preview.view.shown_key == current.key
        cells = preview.view.cell_image
        assert cells is not None and cells.cols > 0 and cells.rows > 0


# -- 12: switching model during a job -------------------------------------------------------------


async def test_switching_model_during_a_job_warns(demo_factory: Any, tmp_path: Path) -> None:
    server = demo_factory(step_delay=0.05)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        model: Select[str] = app.query_one("#model", Select)
        titles = [v for _, v in app.query_one("#model", ServerSelect).pairs]
        assert len(titles) >= 2
        other = next(t for t in titles if t != model.value)
        await pilot.press(*"slow")
        set_form(app, steps="150", width="64", height="64")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: job_is_sampling(app))
        assert not _warnings(app)
        model.value = other
        await wait_for(pilot, lambda: bool(_warnings(app)), timeout=5)
        assert any("model" in m for m in _warnings(app))
        await pilot.press(app.context.keys.name("interrupt"))
        await _idle(pilot, app)


# -- 13: the theme ---------------------------------------------------------------------------------


async def test_theme_picked_is_kept(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        assert app.theme != "nord"
        app.theme = "nord"
        await pilot.pause()
    again = make_app(demo_server.url, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "nord"
        await _started(pilot, again)


async def test_unknown_theme_warns(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path, theme="no-such-theme")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("no-such-theme" in m for m in _warnings(app)), notifications(app)
        await _started(pilot, app)


# -- 14: the palette ------------------------------------------------------------------------------


async def _offered(app: SdtuiApp) -> list[str]:
    provider = ActionCommands(app.main)
    return [str(hit.text or hit.prompt) async for hit in provider.discover()]


async def _palette_options(pilot: Any, app: SdtuiApp, query: str) -> list[str]:
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*query)
    await pilot.pause(0.5)
    options = app.screen.query_one(OptionList)
    texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    return texts


async def test_palette_offers_only_what_applies(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        offered = await _offered(app)
        assert any(t.startswith("Generate") for t in offered)
        assert any(t.startswith("Reconnect") for t in offered)
        assert not any(
            t.startswith(("Interrupt", "Save as", "Skip", "Cancel queued")) for t in offered
        )
        texts = await _palette_options(pilot, app, "interrupt")
        assert not any("Interrupt" in t for t in texts), texts
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


@pytest.mark.parametrize(
    ("query", "said"), [("reconnect", "Connecting"), ("reload history", "Scanning")]
)
async def test_palette_entries_say_what_they_do(
    demo_server: DemoServer, tmp_path: Path, query: str, said: str
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        texts = await _palette_options(pilot, app, query)
        assert texts and texts[0].lower().startswith(query.split()[0]), texts
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(said in m for m in notifications(app)), timeout=5)
        await _idle(pilot, app)
        assert app.screen is app.main


async def test_keys_dialog_opens_and_escape_closes_it(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        await pilot.press(app.context.keys.name("show_keys"))
        await pilot.pause()
        assert isinstance(app.screen, KeysDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, KeysDialog)
        assert app.focused is _prompt(app)


# -- 15: the full view's infotext -----------------------------------------------------------------

LONG_PROMPT = ", ".join(
    f"{word} detail {n}" for n, word in enumerate(["castle", "forest", "river", "mist"] * 8)
)


async def test_full_view_wraps_the_whole_infotext(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        await _started(pilot, app)
        _prompt(app).load_text(LONG_PROMPT)
        set_form(app, steps="2", width="64", height="64", seed="7")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.main.preview.in_view.current is not None, timeout=20)
        await _idle(pilot, app)
        current = app.main.preview.in_view.current
        assert current is not None
        infotext = current.infotext
        assert infotext and len(infotext) > 200
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, FullImageScreen))
        await pilot.pause(0.2)
        caption = app.screen.query_one("#caption", Static)
        box = app.screen.query_one("#caption-box")
        width, height = caption.size
        assert height >= 3
        assert box.region.height >= height  # nothing cut off below
        lines = [strip.text.rstrip() for strip in caption.render_lines(Region(0, 0, width, height))]
        assert all(len(line) <= width for line in lines)
        shown = "".join(lines).replace(" ", "")
        for part in infotext.split("\n"):
            assert part.replace(" ", "") in shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_typing_after_a_restore_goes_on_from_the_end_of_the_prompt(
    tmp_path: Path,
) -> None:
    """The restored prompt put the cursor before its first word: what the user typed next went
    in front of the old prompt."""
    (tmp_path / "state.json").write_text(json.dumps({"prompt": "a lighthouse"}))
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        await pilot.press(*", at dusk")
        assert app.query_one("#prompt", TextArea).text == "a lighthouse, at dusk"


# -- more symptoms: status, layout, colours -------------------------------------------------------


async def test_a_server_that_dies_is_noticed_without_a_key_and_found_again(tmp_path: Path) -> None:
    """The header said "connected" long after the server died, until a generate failed. Now it
    notices within about 10 s with no key pressed, and is back once the server returns."""
    from sdtui.ui.widgets.connection_bar import ConnectionBar, ConnState

    server = DemoServer(step_delay=0.002).start()
    port = int(server.url.rsplit(":", 1)[1])
    app = make_app(server.url, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.context.connected)
            bar = app.query_one(ConnectionBar)
            server.stop()
            # The banner follows the state through a posted message: wait for both.
            await wait_for(pilot, lambda: bar.state is ConnState.OFFLINE, timeout=10)
            await wait_for(pilot, lambda: app.main.banner.has_class("-shown"), timeout=5)
            assert not [n for n in app._notifications if n.severity == "error"]  # calmly
            server = DemoServer(port=port, step_delay=0.002).start()
            await wait_for(pilot, lambda: bar.state is ConnState.CONNECTED, timeout=15)
            await wait_for(pilot, lambda: not app.main.banner.has_class("-shown"), timeout=5)
    finally:
        server.stop()


async def test_dropdowns_never_cover_the_footer(demo_server: Any, tmp_path: Path) -> None:
    """At 80x24 the form's last dropdowns opened over the footer."""
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        for select_id in ("#sampler", "#scheduler", "#model"):
            select = app.query_one(select_id, Select)
            select.focus()
            select.expanded = True
            await pilot.pause(0.2)
            overlay = select.query_one(OptionList)
            assert overlay.region.bottom <= 23, (select_id, overlay.region)  # row 23: the footer
            select.expanded = False
            await pilot.pause(0.1)


async def test_model_names_do_not_carry_their_hash_onto_a_line_of_their_own(
    demo_server: Any, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        select = app.query_one("#model", Select)
        labels = [str(prompt) for prompt, _ in select._options if prompt]  # the listed names
        assert labels and not any("[" in label for label in labels), labels


async def test_a_256_colour_terminal_is_told_once_how_to_get_truecolor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.setenv("TERM", "screen-256color")
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        hints = [n for n in notifications(app) if "256 colours" in n]
        assert len(hints) == 1 and "COLORTERM=truecolor" in hints[0]


async def test_wide_history_rows_show_full_seeds_sizes_and_models(tmp_path: Path) -> None:
    """At 200x60 the history stayed narrow and cut seeds; its rows now say seed, size, model,
    steps, sampler and CFG where there is room."""
    store = ImageStore(tmp_path / "out")
    image = io.BytesIO()
    info = PngInfo()
    info.add_text(
        "parameters",
        "a fox\nSteps: 28, Sampler: DPM++ 2M, CFG scale: 6.5, Seed: 4294967295, "
        "Size: 512x768, Model: demo-aurora",
    )
    Image.new("RGB", (512, 768), (9, 9, 9)).save(image, "PNG", pnginfo=info)
    store.save(image.getvalue(), prompt="a fox", seed=4294967295)
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        history = app.main.history
        await wait_for(pilot, lambda: history.loaded and bool(history.entries))
        await pilot.pause(0.2)
        lines = [history.list_view.render_line(y).text for y in range(3)]
        assert "4294967295 · " in lines[1] and lines[1].rstrip().endswith(" · 512×768")
        assert "demo-aurora · 28 steps · DPM++ 2M · CFG 6.5" in lines[2]


async def test_interrupt_while_another_clients_job_runs_waits_for_ours(
    demo_factory: Any, tmp_path: Path
) -> None:
    """The server's interrupt stops whatever runs. While our job waited behind another client's,
    the interrupt key would have stopped that one: it is now held until ours starts."""
    import threading

    import httpx

    server = demo_factory(step_delay=0.02)
    other: dict[str, Any] = {}

    def other_client() -> None:
        body = {"prompt": "someone else", "steps": 60, "width": 64, "height": 64}
        started = time.monotonic()
        other["answer"] = httpx.post(f"{server.url}/sdapi/v1/txt2img", json=body, timeout=60)
        other["seconds"] = time.monotonic() - started

    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        thread = threading.Thread(target=other_client, daemon=True)
        thread.start()
        progress = f"{server.url}/sdapi/v1/progress?skip_current_image=true"
        await wait_for(pilot, lambda: httpx.get(progress).json()["state"]["sampling_step"] >= 2)
        await pilot.press(*"ours")
        set_form(app, steps="150", width="64", height="64", batch_count="2")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.context.queue.current is not None)
        await wait_for(pilot, lambda: app.context.queue.current.waiting)  # type: ignore[union-attr]
        await pilot.press("f2")
        await wait_for(pilot, lambda: any("busy with another" in n for n in notifications(app)))
        await pilot.press("ctrl+n")  # skip: nothing of ours to skip yet
        await wait_for(pilot, lambda: any("nothing of ours" in n for n in notifications(app)))
        thread.join(30)
        info = json.loads(other["answer"].json()["info"])
        assert len(info["all_seeds"]) == 1
        assert parse_infotext(info["infotexts"][0]).prompt == "someone else"
        assert other["seconds"] >= 60 * 0.02 * 0.9  # it ran all its 60 steps: not interrupted
        await wait_for(pilot, lambda: not app.context.queue.busy, timeout=20)
        assert len(pngs(tmp_path)) == 1  # ours started, was interrupted at once, and was saved
        assert "interrupted" in app.main.preview.progress.status_text


async def test_the_queue_waits_while_the_quit_dialog_asks(
    demo_factory: Any, tmp_path: Path
) -> None:
    """If the running job ended while the quit dialog was open, the queued job started, and
    "finish" then waited for that one too and kept nothing, though the dialog said it would."""
    from textual.widgets import Button

    from sdtui.ui.dialogs.choice import ChoiceDialog

    server = demo_factory(step_delay=0.02)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        queue = app.context.queue
        set_form(app, steps="100", width="64", height="64")
        await pilot.press(*"first", "ctrl+g")
        await wait_for(pilot, lambda: queue.current is not None)
        await pilot.press(*" second", "ctrl+g")
        await wait_for(pilot, lambda: len(queue.pending) == 1)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await wait_for(pilot, lambda: queue.current is None, timeout=10)  # the first one ended
        await pilot.pause(0.5)
        assert queue.current is None and len(queue.pending) == 1  # the second did not start
        app.screen.query_one("#choice-finish", Button).press()
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    kept = json.loads((tmp_path / "queue.json").read_text())
    assert [job["prompt"] for job in kept] == ["first second"]
    assert len(pngs(tmp_path)) == 1
