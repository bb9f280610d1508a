"""The footer: a steady order of keys, and no re-composition when nothing it shows changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets._footer import FooterKey

from sdtui.ui.app import SdtuiApp
from sdtui.ui.widgets.footer import Footer
from sdtui.ui.widgets.job_progress import JobProgress
from tests.tui import SIZE, job_is_sampling, make_app, notifications, set_form, wait_for

APP_KEYS = [
    "Generate",
    "Interrupt",
    "Skip",
    "Reuse",
    "Full view",
    "History",
    "Queue",
    "Keys",
    "Quit",
]


def footer_keys(app: SdtuiApp) -> list[FooterKey]:
    return list(app.query_one(Footer).query(FooterKey))


def shown(app: SdtuiApp) -> list[tuple[str, bool]]:
    """(description, enabled) of each key in the footer, left to right, palette excluded."""
    return [
        (key.description, not key.has_class("-disabled"))
        for key in footer_keys(app)
        if not key.has_class("-command-palette")
    ]


async def test_app_keys_keep_their_declared_order_whatever_has_focus(tmp_path: Path) -> None:
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        # The prompt editor has focus and binds ctrl+x and ctrl+q itself: Textual's footer
        # would list Interrupt and Quit first because of that.
        assert app.focused is app.query_one("#prompt")
        assert [name for name, _ in shown(app)] == APP_KEYS
        assert footer_keys(app)[-1].has_class("-command-palette")

        app.main.history.list_view.focus()
        await pilot.pause(0.1)
        names = [name for name, _ in shown(app)]
        # The focused history's own keys first, then the app's, in the same order as before.
        assert names[: names.index("Generate")][:7] == [
            "Load",
            "Re-run",
            "Seed",
            "Path",
            "Delete",
            "Star",
            "Search",
        ]
        # At 140 columns the history's keys and all the app's do not fit: the less used app
        # keys go (f1 lists them), never Keys or Quit.
        assert names[names.index("Generate") :] == [
            k for k in APP_KEYS if k not in ("Skip", "Reuse", "Full view")
        ]


@pytest.mark.parametrize("width", [80, 100, 140, 200])
async def test_the_footer_fits_and_always_shows_quit_and_keys(tmp_path: Path, width: int) -> None:
    """At 80x24 the footer lost Quit; with the history focused at 140 columns it lost Keys and
    Quit. Whatever has focus, every key shown fits the width, Quit and Keys among them."""
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=(width, 40)) as pilot:
        for focus in ("#prompt", "#history-list"):
            if focus == "#history-list":
                app.main.history.focus_list()  # opens it over the preview on narrow terminals
            else:
                app.query_one(focus).focus()
            await pilot.pause(0.2)
            names = [name for name, _ in shown(app)]
            assert "Quit" in names and "Keys" in names, (focus, names)
            palette = footer_keys(app)[-1]
            assert all(k.region.right <= palette.region.x for k in footer_keys(app)[:-1])
            if width >= 200:
                assert names[-len(APP_KEYS) :] == APP_KEYS


async def test_a_job_restyles_interrupt_in_place_without_recomposing(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = demo_factory(step_delay=0.03)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.pause(0.1)
        before = footer_keys(app)
        assert ("Interrupt", False) in shown(app) and ("Skip", False) in shown(app)

        set_form(app, steps="30", width="64", height="64", batch_count="2")
        await pilot.press(*"a fox", "ctrl+g")
        await wait_for(pilot, lambda: app.context.queue.current is not None)
        await wait_for(pilot, lambda: ("Interrupt", True) in shown(app))
        assert ("Skip", True) in shown(app)  # a batch count of 2: skipping means something
        assert footer_keys(app) == before  # the very same widgets: restyled, not re-composed

        await wait_for(pilot, lambda: not app.context.queue.busy, timeout=10)
        await wait_for(pilot, lambda: ("Interrupt", False) in shown(app))
        assert ("Skip", False) in shown(app)
        assert footer_keys(app) == before


async def test_clicking_interrupt_acts_only_while_a_job_runs(
    demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """FooterKey decides on a click from its own record of being disabled: restyling in place
    must keep that record right, both ways."""
    server = demo_factory(step_delay=0.05)
    app = make_app(server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.context.connected)
        await pilot.pause(0.1)
        [interrupt] = [k for k in footer_keys(app) if k.action == "interrupt"]
        await pilot.click(interrupt)
        await pilot.pause(0.1)
        assert notifications(app) == []  # dimmed: a bell, nothing else

        set_form(app, steps="150", width="64", height="64")
        await pilot.press(*"storm", "ctrl+g")
        await wait_for(pilot, lambda: job_is_sampling(app))
        await wait_for(pilot, lambda: ("Interrupt", True) in shown(app))
        await pilot.click(interrupt)
        await wait_for(pilot, lambda: not app.context.queue.busy, timeout=5)
        await pilot.pause(0.2)
        assert "interrupted" in app.query_one(JobProgress).status_text
        assert ("Interrupt", False) in shown(app)


async def test_nothing_changed_means_nothing_happens(tmp_path: Path) -> None:
    app = make_app("http://127.0.0.1:9", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        before = footer_keys(app)
        for _ in range(3):
            app.refresh_bindings()
            await pilot.pause(0.05)
        assert footer_keys(app) == before
