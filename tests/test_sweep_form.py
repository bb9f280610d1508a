"""The form's sweep section (the web UI's X/Y/Z plot): folded until opened, its rows counted as
typed, bad values named, the axes read back by the form, and all of it kept across a restart.
Pilot tests against the demo backend, plus the rows' reading without a screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, Collapsible, Input, Select, Static, TextArea

from sdtui.demo import DemoServer
from sdtui.engine.sweep import MAX_CELLS, SWEEP_FIELDS, parse_values
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.ui.actions import ACTIONS
from sdtui.ui.app import SdtuiApp
from sdtui.ui.widgets.form_fields import FormError
from sdtui.ui.widgets.sweep_section import TITLE, Row, SweepSection, field_choices, read_rows
from tests.tui import SIZE, make_app, notifications, pngs, set_form, wait_for

CFG = SWEEP_FIELDS["cfg"].label
STEPS = SWEEP_FIELDS["steps"].label


async def _started(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: app.main.history.loaded)
    await app.workers.wait_for_complete()


def _section(app: SdtuiApp) -> SweepSection:
    return app.query_one(SweepSection)


def _fold(app: SdtuiApp) -> Collapsible:
    return app.query_one("#sweep-fold", Collapsible)


def _title(app: SdtuiApp) -> str:
    return str(_fold(app).title)


def _status(app: SdtuiApp) -> Static:
    return app.query_one("#sweep-status", Static)


def _status_text(app: SdtuiApp) -> str:
    return str(_status(app).render())


async def _open(pilot: Any, app: SdtuiApp) -> None:
    """Open the section as a user does: focus its title and press enter."""
    title = _fold(app).query_one("CollapsibleTitle")
    title.focus()
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: bool(app.query("#sweep-status")))
    await pilot.pause()


async def _set_row(pilot: Any, app: SdtuiApp, axis: str, field: str | None, text: str) -> None:
    select: Select[str] = app.query_one(f"#sweep-{axis}", Select)
    select.value = field if field is not None else Select.NULL
    app.query_one(f"#sweep-{axis}-values", Input).value = text
    await pilot.pause()
    await pilot.pause()


# -- the rows, read without a screen ------------------------------------------------------------


def _rows(**rows: tuple[str, str]) -> dict[str, Row]:
    return {name: Row(*rows.get(name, ("", ""))) for name in ("x", "y", "z")}


def test_rows_read_as_axes_x_first() -> None:
    reading = read_rows(_rows(x=("cfg", "5, 7, 9"), y=("steps", "10-30 (+10)")))
    assert reading.error == ""
    assert [axis.field.id for axis in reading.axes] == ["cfg", "steps"]
    assert reading.axes[0].values == parse_values(SWEEP_FIELDS["cfg"], "5, 7, 9")
    assert reading.jobs == 3 * len(parse_values(SWEEP_FIELDS["steps"], "10-30 (+10)"))


def test_a_row_left_at_nothing_is_skipped_and_none_set_is_no_sweep() -> None:
    assert read_rows(_rows(x=("", "5, 7"), y=("steps", "10, 20"))).jobs == 2
    assert read_rows(_rows()).axes == ()
    assert read_rows(_rows()).jobs == 0


def test_a_bad_row_names_its_axis_and_widget() -> None:
    with pytest.raises(ValueError) as raised:
        parse_values(SWEEP_FIELDS["steps"], "10, many")
    reading = read_rows(_rows(x=("cfg", "5"), y=("steps", "10, many")))
    assert reading.axes == ()
    assert reading.widget == "sweep-y-values"
    assert reading.error == f"Y: {raised.value}"
    empty = read_rows(_rows(x=("cfg", "  ")))
    assert empty.widget == "sweep-x-values" and CFG in empty.error
    twice = read_rows(_rows(x=("cfg", "5"), z=("cfg", "7")))
    assert twice.widget == "sweep-z" and "already the X axis" in twice.error
    overlap = read_rows(_rows(x=("size", "512x512"), y=("width", "64, 128")))
    assert overlap.widget == "sweep-y" and "both set the width" in overlap.error
    too_many = read_rows(_rows(x=("steps", "1-20"), y=("seed", "1-20"), z=("cfg", "1-2")))
    assert too_many.widget == "sweep-z-values" and f"at most {MAX_CELLS}" in too_many.error


def test_two_searches_and_replaces_may_be_swept() -> None:
    reading = read_rows(_rows(x=("prompt", "cat, dog"), y=("prompt", "red, blue, green")))
    assert reading.error == "" and reading.jobs == 6
    assert reading.axes[1].text == "red, blue, green"  # the grid's infotext records it


def test_the_choices_are_every_field_once() -> None:
    ids = [field_id for _, field_id in field_choices()]
    assert len(ids) == len(set(ids))
    assert set(ids) == {field.id for field in SWEEP_FIELDS.values()}
    assert (CFG, "cfg") in field_choices()


# -- in the TUI ---------------------------------------------------------------------------------


async def test_the_section_is_folded_and_its_rows_are_mounted_on_opening(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        assert _fold(app).collapsed
        assert _title(app) == TITLE
        assert not app.query("#sweep-x") and not app.query("#sweep-x-values")
        assert app.main.form.sweep_axes() == ()
        assert app.main.form.sweep_grid() is True
        await _open(pilot, app)
        assert not _fold(app).collapsed
        values = app.query_one("#sweep-x-values", Input)
        assert values.value == "" and "pick a field" in values.placeholder
        assert app.query_one("#sweep-grid", Checkbox).value is True
        assert app.query_one("#sweep-x", Select).is_blank()
        assert "Pick a field" in _status_text(app)


async def test_picking_fields_and_values_counts_the_jobs(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        await _open(pilot, app)
        await _set_row(pilot, app, "x", "cfg", "5, 7, 9")
        assert "5, 7, 9" in app.query_one("#sweep-x-values", Input).placeholder
        assert _status_text(app) == "3 jobs"
        assert _title(app) == f"Sweep: {CFG} (3 jobs)"
        # Typed key by key, as a user does: the line follows every key.
        values = app.query_one("#sweep-y-values", Input)
        app.query_one("#sweep-y", Select).value = "steps"
        values.focus()
        await pilot.press(*"20,30,40,50")
        await pilot.pause()
        assert values.value == "20,30,40,50"
        assert _status_text(app) == "12 jobs · 3 × 4"
        assert _title(app) == f"Sweep: {CFG} × {STEPS} (12 jobs)"
        axes = app.main.form.sweep_axes()
        assert [axis.field.id for axis in axes] == ["cfg", "steps"]
        assert axes[1].values == parse_values(SWEEP_FIELDS["steps"], "20,30,40,50")
        # Folded again, the title keeps the summary.
        _fold(app).collapsed = True
        await pilot.pause()
        assert _title(app) == f"Sweep: {CFG} × {STEPS} (12 jobs)"
        # Back to nothing: no sweep.
        await _set_row(pilot, app, "y", None, "20,30,40,50")
        await _set_row(pilot, app, "x", None, "5, 7, 9")
        assert _title(app) == TITLE
        assert app.main.form.sweep_axes() == ()


async def test_bad_values_show_the_error_and_the_form_refuses_them(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        await _open(pilot, app)
        await _set_row(pilot, app, "x", "steps", "10, lots")
        with pytest.raises(ValueError) as parsed:
            parse_values(SWEEP_FIELDS["steps"], "10, lots")
        assert _status_text(app) == f"X: {parsed.value}"
        assert _status(app).has_class("-error")
        assert _title(app) == f"Sweep: {STEPS} (fix the values)"
        with pytest.raises(FormError) as raised:
            app.main.form.sweep_axes()
        assert raised.value.field == "sweep-x-values"
        assert str(parsed.value) in raised.value.message
        # The request itself is still fine: the sweep's error is the sweep's.
        app.main.form.to_request()
        await _set_row(pilot, app, "x", "steps", "10, 20")
        assert not _status(app).has_class("-error")
        assert _status_text(app) == "2 jobs"


async def test_the_sweep_survives_a_restart_and_a_bad_row_is_found_unopened(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        await _open(pilot, app)
        await _set_row(pilot, app, "x", "cfg", "5, 7")
        await _set_row(pilot, app, "y", "steps", "10, 20, 30")
        app.query_one("#sweep-grid", Checkbox).value = False
        await pilot.pause()
        app.main.save_form()
        saved = app.main.form.state()
        axes = app.main.form.sweep_axes()
    assert saved["sweep-x"] == "cfg" and saved["sweep-y-values"] == "10, 20, 30"
    again = make_app(demo_server.url, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await _started(pilot, again)
        form = again.main.form
        # Folded and not built, it still knows its sweep.
        assert _fold(again).collapsed and not again.query("#sweep-x")
        assert _title(again) == f"Sweep: {CFG} × {STEPS} (6 jobs)"
        assert form.state() == saved
        assert form.sweep_axes() == axes
        assert form.sweep_grid() is False
        await _open(pilot, again)
        assert again.query_one("#sweep-x", Select).value == "cfg"
        assert again.query_one("#sweep-y-values", Input).value == "10, 20, 30"
        assert again.query_one("#sweep-grid", Checkbox).value is False
        assert _status_text(again) == "6 jobs · 2 × 3"
        assert form.state() == saved
    # A bad row kept from before, the section never opened: the form's error names the row,
    # and revealing it (as the screen does) opens the section and focuses the field.
    (tmp_path / "state.json").unlink(missing_ok=True)
    third = make_app(demo_server.url, tmp_path)
    async with third.run_test(size=SIZE) as pilot:
        await _started(pilot, third)
        form = third.main.form
        form.restore(saved | {"sweep-y-values": "10, x"})
        await pilot.pause()
        assert "fix the values" in _title(third)
        with pytest.raises(FormError) as raised:
            form.sweep_axes()
        form.reveal(raised.value.field)
        third.query_one(f"#{raised.value.field}").focus()
        await pilot.pause()
        await pilot.pause()
        assert not _fold(third).collapsed
        assert third.focused is third.query_one("#sweep-y-values", Input)
        assert third.focused.value == "10, x"
        assert "Y:" in _status_text(third)


async def test_a_field_no_longer_offered_comes_back_as_nothing(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        form = app.main.form
        form.restore(form.state() | {"sweep-x": "no-such-field", "sweep-x-values": "1\x1b[2J, 2"})
        await pilot.pause()
        assert form.sweep_axes() == ()
        assert form.state()["sweep-x"] == ""
        assert "\x1b" not in form.state()["sweep-x-values"]
        assert form.sweep_grid() is True  # a state without the key: the grid is drawn


#: Every app key of the main screen and the app (quit exits, so it is left out).
APP_KEYS = [
    (spec.id, key)
    for spec in ACTIONS
    if spec.scope in ("main", "app") and spec.key and spec.id != "quit"
    for key in spec.key.split(",")
]


async def test_no_app_key_edits_the_values_typed(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a fox")
        set_form(app, steps="2", width="64", height="64")
        await _open(pilot, app)
        await _set_row(pilot, app, "x", "cfg", "")
        typed = "5, 7, 9"
        for binding_id, key in APP_KEYS:
            values = app.query_one("#sweep-x-values", Input)
            values.value = typed
            values.focus()
            await pilot.pause()
            values.cursor_position = 2
            await pilot.press(key)
            await pilot.pause()
            await pilot.pause()
            while app.screen is not app.main:
                await pilot.press("escape")
                await pilot.pause()
            assert app.query_one("#sweep-x-values", Input).value == typed, (
                f"{key} ({binding_id}) edited the sweep's values"
            )
        await wait_for(pilot, lambda: not app.context.queue.busy, timeout=30)
        await app.workers.wait_for_complete()


async def test_the_generate_key_refuses_a_bad_row_and_focuses_it(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    """As other form errors: a notification, nothing queued, the folded section opened on the
    row to fix, its text kept."""
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a fox")
        set_form(app, steps="2", width="64", height="64")
        app.main.form.restore(app.main.form.state() | {"sweep-x": "cfg", "sweep-x-values": "5, ?"})
        await pilot.pause()
        assert _fold(app).collapsed
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.focused is app.query_one("#sweep-x-values"))
        assert not _fold(app).collapsed
        assert app.query_one("#sweep-x-values", Input).value == "5, ?"
        assert any(n.startswith("Sweep X: ") for n in notifications(app))
        assert not app.context.queue.busy and not app.context.queue.pending


async def test_the_generate_key_queues_a_job_per_combination(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a fox")
        set_form(app, steps="2", width="64", height="64", seed="7")
        await _open(pilot, app)
        await _set_row(pilot, app, "x", "cfg", "5, 9")
        await _set_row(pilot, app, "y", "steps", "1, 2")
        app.query_one("#sweep-grid", Checkbox).value = False
        await pilot.pause()
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(pngs(tmp_path)) == 4, timeout=30)
        await wait_for(pilot, lambda: not app.context.queue.busy)
        await app.workers.wait_for_complete()
        made = sorted(
            (p.cfg_scale, p.steps, p.seed)
            for p in (parse_infotext(read_parameters(f.read_bytes()) or "") for f in pngs(tmp_path))
        )
        assert made == [(5.0, 1, 7), (5.0, 2, 7), (9.0, 1, 7), (9.0, 2, 7)]
        # The sweep stays set for the next one, as the web UI's script does.
        assert _title(app) == f"Sweep: {CFG} × {STEPS} (4 jobs)"
