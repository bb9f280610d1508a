"""The TUI over several servers: each in the header, a batch spread over them, a server that
drops out mid-job, the queue kept on disk on every change."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from textual.widgets import Button, TextArea

from sdtui.engine.links import LinkState
from sdtui.images.infotext import parse_infotext
from sdtui.images.png import read_text_chunks
from sdtui.ui.dialogs.choice import ChoiceDialog
from sdtui.ui.widgets.connection_bar import ConnectionBar
from tests.tui import make_app, set_form, wait_for

SIZE = (140, 45)


def saved(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "out").rglob("*.png"))


def made_by(path: Path) -> tuple[str | None, int | None]:
    texts = read_text_chunks(path.read_bytes())
    return texts.get("sdtui-server"), parse_infotext(texts.get("parameters", "")).seed


def bar_text(app: Any) -> str:
    return str(app.query_one(ConnectionBar).render())


async def test_each_server_is_in_the_header_with_its_state(
    demo_factory: Any, tmp_path: Path
) -> None:
    a, b = demo_factory(), demo_factory()
    b.stop()  # the second box is down
    app = make_app(a.url, tmp_path, urls=(a.url, b.url))
    async with app.run_test(size=SIZE) as pilot:
        links = app.context.servers
        await wait_for(pilot, lambda: links[0].state is LinkState.CONNECTED)
        await wait_for(pilot, lambda: links[1].state is LinkState.OFFLINE)
        text = bar_text(app)
        assert links[0].name in text and links[1].name in text
        assert "offline" in text
        # One server answers: no banner (the header says which one is down).
        assert not app.main.banner.has_class("-shown")


async def test_a_batch_count_is_spread_over_both_servers_with_one_servers_seeds(
    demo_factory: Any, tmp_path: Path
) -> None:
    a, b = demo_factory(step_delay=0.02), demo_factory(step_delay=0.02)
    app = make_app(a.url, tmp_path, urls=(a.url, b.url))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(link.connected for link in app.context.servers))
        set_form(app, steps="6", seed="100", batch_count="4")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(saved(tmp_path)) == 4, timeout=30)
        await app.context.queue.wait_idle()
        made = [made_by(path) for path in saved(tmp_path)]
        assert sorted(seed for _, seed in made) == [100, 101, 102, 103]
        servers = Counter(server for server, _ in made)
        assert set(servers) == {link.name for link in app.context.servers}, servers


async def test_a_server_that_drops_out_mid_job_has_its_job_run_on_the_other(
    demo_factory: Any, tmp_path: Path
) -> None:
    a, b = demo_factory(step_delay=0.01), demo_factory(step_delay=0.2)
    app = make_app(a.url, tmp_path, urls=(a.url, b.url))
    async with app.run_test(size=SIZE) as pilot:
        queue = app.context.queue
        links = app.context.servers
        await wait_for(pilot, lambda: all(link.connected for link in links))
        set_form(app, steps="20", seed="7", batch_count="2")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: links[1].job is not None and links[1].job.started is not None)
        b.kill()  # the slow box dies with a job on it
        await wait_for(pilot, lambda: len(saved(tmp_path)) == 2, timeout=30)
        await queue.wait_idle()
        assert sorted(seed for _, seed in map(made_by, saved(tmp_path))) == [7, 8]
        assert {server for server, _ in map(made_by, saved(tmp_path))} == {links[0].name}
        await wait_for(pilot, lambda: links[1].state is LinkState.OFFLINE)
        assert any("dropped" in job.note for job in queue.finished), [
            j.note for j in queue.finished
        ]


async def test_the_queue_is_on_disk_as_it_changes_not_only_at_quit(
    demo_factory: Any, tmp_path: Path
) -> None:
    slow = demo_factory(step_delay=0.2)
    app = make_app(slow.url, tmp_path)
    queue_file = tmp_path / "queue.json"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        prompt = app.query_one("#prompt", TextArea)
        set_form(app, steps="30")
        prompt.load_text("first")
        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        prompt.load_text("second")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.context.queue.current is not None)

        def kept() -> list[str]:
            data = json.loads(queue_file.read_text()) if queue_file.exists() else []
            return [item.get("prompt", "") for item in data]

        # Written as the queue changes, not only at quit: a killed process loses nothing.
        await wait_for(pilot, lambda: kept() == ["first", "second"])
        app.context.queue.cancel_pending()
        await wait_for(pilot, lambda: kept() == ["first"])


async def test_a_sweep_over_two_servers_saves_its_labelled_grid_in_the_history(
    demo_factory: Any, tmp_path: Path
) -> None:
    a, b = demo_factory(step_delay=0.01), demo_factory(step_delay=0.01)
    app = make_app(a.url, tmp_path, urls=(a.url, b.url))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(link.connected for link in app.context.servers))
        app.query_one("#prompt", TextArea).load_text("a fox")
        set_form(app, steps="3", width="64", height="64", seed="5")
        form = app.main.form
        form.restore(
            form.state()
            | {
                "sweep-x": "cfg",
                "sweep-x-values": "5, 9",
                "sweep-y": "steps",
                "sweep-y-values": "2, 3",
            }
        )
        await pilot.pause()
        await pilot.press("ctrl+g")
        grids = lambda: [p for p in saved(tmp_path) if p.name.startswith("xyz_grid")]  # noqa: E731
        await wait_for(pilot, lambda: len(grids()) == 1, timeout=30)
        cells = [p for p in saved(tmp_path) if not p.name.startswith("xyz_grid")]
        assert len(cells) == 4
        assert {made_by(p)[0] for p in cells} == {link.name for link in app.context.servers}
        texts = read_text_chunks(grids()[0].read_bytes())
        assert "Script: X/Y/Z plot" in texts["parameters"]
        assert "X Type: CFG Scale" in texts["parameters"]
        history = app.main.history
        await wait_for(pilot, lambda: any(e.path == grids()[0] for e in history.entries))


async def test_boxes_with_other_models_loaded_each_make_the_batch_on_the_forms_model(
    demo_factory: Any, tmp_path: Path
) -> None:
    a, b = demo_factory(step_delay=0.01), demo_factory(step_delay=0.01)
    httpx.post(f"{b.url}/sdapi/v1/options", json={"sd_model_checkpoint": "demo-aurora"})
    app = make_app(a.url, tmp_path, urls=(a.url, b.url))
    async with app.run_test(size=SIZE) as pilot:
        links = app.context.servers
        await wait_for(pilot, lambda: all(link.connected for link in links))
        assert links[1].facts.model_title != links[0].facts.model_title
        set_form(app, steps="3", width="64", height="64", seed="1", batch_count="4")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(saved(tmp_path)) == 4, timeout=30)
        await app.context.queue.wait_idle()
        infos = [
            parse_infotext(read_text_chunks(p.read_bytes())["parameters"]) for p in saved(tmp_path)
        ]
        assert {info.model for info in infos} == {"demo-dusk"}
        assert {made_by(p)[0] for p in saved(tmp_path)} == {link.name for link in links}


async def test_a_killed_session_offers_its_running_and_waiting_jobs_at_the_next_start(
    demo_factory: Any, tmp_path: Path
) -> None:
    """What a kill -9 leaves: the queue file as it was mid-run. The next start offers those
    jobs (the running one too: its images were never saved) and runs them."""
    slow = demo_factory(step_delay=0.05)
    queue_file = tmp_path / "queue.json"
    app = make_app(slow.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        prompt = app.query_one("#prompt", TextArea)
        set_form(app, steps="40", width="64", height="64")
        for text in ("one", "two", "three"):
            prompt.load_text(text)
            await pilot.press("ctrl+g")
            await pilot.pause(0.05)
        await wait_for(pilot, lambda: app.context.queue.current is not None)
        await wait_for(
            pilot, lambda: queue_file.exists() and len(json.loads(queue_file.read_text())) == 3
        )
        on_disk = queue_file.read_text()  # the state a kill would leave
        await app.context.queue.interrupt()
    queue_file.write_text(on_disk)
    for png in saved(tmp_path):
        png.unlink()

    app = make_app(slow.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        question = str(app.screen.query_one("#question").render())
        assert "3 job(s) were waiting" in question and "one" in question
        app.screen.query_one("#choice-run", Button).press()
        await wait_for(pilot, lambda: len(saved(tmp_path)) == 3, timeout=40)
        await app.context.queue.wait_idle()
    prompts = sorted(
        parse_infotext(read_text_chunks(p.read_bytes())["parameters"]).prompt
        for p in saved(tmp_path)
    )
    assert prompts == ["one", "three", "two"]


async def test_quitting_with_jobs_on_two_boxes_names_them_and_interrupting_saves_both(
    demo_factory: Any, tmp_path: Path
) -> None:
    a, b = demo_factory(step_delay=0.1), demo_factory(step_delay=0.1)
    app = make_app(a.url, tmp_path, urls=(a.url, b.url))
    async with app.run_test(size=SIZE) as pilot:
        links = app.context.servers
        await wait_for(pilot, lambda: all(link.connected for link in links))
        set_form(app, steps="60", width="64", height="64", batch_count="2")
        await pilot.press("ctrl+g")
        await wait_for(
            pilot,
            lambda: (
                all(j.last_progress is not None for j in app.context.queue.running)
                and len(app.context.queue.running) == 2
            ),
        )
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        question = str(app.screen.query_one("#question").render())
        assert "2 jobs are running" in question
        assert all(link.name in question for link in links)
        app.screen.query_one("#choice-interrupt", Button).press()
        await wait_for(pilot, lambda: not app.is_running, timeout=20)
    assert len(saved(tmp_path)) == 2
    assert {made_by(p)[0] for p in saved(tmp_path)} == {link.name for link in links}
