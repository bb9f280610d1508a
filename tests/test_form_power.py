"""The form's hires fix and the rest of the txt2img tab, against the demo backend: what the TUI
sends is what the saved PNG says, and loading that PNG back fills the same fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Checkbox, Collapsible, Input, Static, TextArea

from sdtui.demo import DemoServer
from sdtui.images.convert import read_parameters
from sdtui.images.infotext import parse_infotext
from sdtui.ui.app import SdtuiApp
from sdtui.ui.widgets.form_fields import ServerSelect
from tests.tui import SIZE, make_app, notifications, pngs, set_form, wait_for

BASE = {"steps": "3", "width": "64", "height": "64", "seed": "4242"}


async def _started(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: app.main.history.loaded)
    await app.workers.wait_for_complete()


async def generate(pilot: Any, app: SdtuiApp, tmp_path: Path, count: int = 1) -> Path:
    """Generate from the form as it is; the newest saved PNG."""
    before = len(pngs(tmp_path))
    await pilot.press("ctrl+g")
    await wait_for(pilot, lambda: len(pngs(tmp_path)) >= before + count, timeout=20)
    await wait_for(pilot, lambda: not app.context.queue.busy)
    await app.workers.wait_for_complete()
    await wait_for(pilot, lambda: len(app.main.history.entries) >= before + count)
    return max(pngs(tmp_path), key=lambda p: p.stat().st_mtime_ns)


def infotext(path: Path) -> str:
    return read_parameters(path.read_bytes()) or ""


def values(app: SdtuiApp, *ids: str) -> dict[str, str]:
    return {i: app.query_one(f"#{i}", Input).value for i in ids}


def chosen(app: SdtuiApp, select_id: str) -> str | None:
    return app.query_one(f"#{select_id}", ServerSelect).chosen


def checked(app: SdtuiApp, check_id: str) -> bool:
    return app.query_one(f"#{check_id}", Checkbox).value


async def reset_and_load(pilot: Any, app: SdtuiApp) -> None:
    """Put every field back to its default, then load the newest history entry ("l")."""
    form = app.main.form
    form.restore({})
    await pilot.pause()
    await pilot.press("ctrl+f")
    await pilot.press("home", "l")
    await pilot.pause(0.2)
    form.query_one("#prompt").focus()


async def test_hires_fix_round_trips_through_the_png(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a castle")
        set_form(app, **BASE)
        app.query_one("#hr-enable", Checkbox).value = True
        await pilot.pause()
        assert app.query_one("#hr-fields").display
        set_form(app, hr_scale="1.5", hr_steps="2", hr_denoise="0.45")
        app.query_one("#hr-upscaler", ServerSelect).want("Lanczos")
        app.query_one("#hr-prompt", Input).value = "a castle, sharp"
        await pilot.pause()
        size = str(app.query_one("#hr-size", Static).render())
        assert "64x64 → 96x96" in size
        request = app.main.form.to_request()
        payload = request.to_payload()
        assert payload["enable_hr"] is True
        assert (payload["hr_scale"], payload["denoising_strength"]) == (1.5, 0.45)
        path = await generate(pilot, app, tmp_path)
        info = parse_infotext(infotext(path))
        assert info.get("Hires upscale") == "1.5"
        assert info.get("Hires steps") == "2"
        assert info.get("Hires upscaler") == "Lanczos"
        assert info.get("Denoising strength") == "0.45"
        assert info.get("Hires prompt") == "a castle, sharp"
        assert (info.width, info.height) == (64, 64)  # Size: stays the first pass's

        await reset_and_load(pilot, app)
        assert checked(app, "hr-enable")
        assert values(app, "hr-scale", "hr-steps", "hr-denoise") == {
            "hr-scale": "1.5",
            "hr-steps": "2",
            "hr-denoise": "0.45",
        }
        assert chosen(app, "hr-upscaler") == "Lanczos"
        assert app.query_one("#hr-prompt", Input).value == "a castle, sharp"
        again = app.main.form.to_request()
        assert (again.hr_scale, again.denoising_strength, again.hr_upscaler) == (
            1.5,
            0.45,
            "Lanczos",
        )


async def test_hires_resize_to_a_size_round_trips(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a bridge")
        set_form(app, **BASE)
        app.query_one("#hr-enable", Checkbox).value = True
        set_form(app, hr_width="128", hr_height="96")
        await pilot.pause()
        assert "64x64 → 128x96" in str(app.query_one("#hr-size", Static).render())
        path = await generate(pilot, app, tmp_path)
        info = parse_infotext(infotext(path))
        assert info.get("Hires resize") == "128x96"
        await reset_and_load(pilot, app)
        assert values(app, "hr-width", "hr-height") == {"hr-width": "128", "hr-height": "96"}


async def test_the_rest_of_txt2img_round_trips(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        facts = app.context.facts
        assert facts.vaes and len(facts.models) >= 2
        vae = facts.vaes[0].model_name
        refiner = next(m.title for m in facts.models if m.title != facts.model_title)
        app.query_one("#prompt", TextArea).load_text("a harbour")
        set_form(app, **BASE)
        set_form(app, subseed="99", subseed_strength="0.3", clip_skip="2", refiner_switch="0.6")
        app.query_one("#restore-faces", Checkbox).value = True
        app.query_one("#tiling", Checkbox).value = True
        app.query_one("#refiner", ServerSelect).want(refiner)
        app.query_one("#vae", ServerSelect).want(vae)
        await pilot.pause()
        title = str(app.query_one("#more", Collapsible).title)
        assert "variation" in title and "clip skip 2" in title and "VAE" in title
        payload = app.main.form.to_request().to_payload()
        assert payload["override_settings"]["CLIP_stop_at_last_layers"] == 2
        assert payload["override_settings"]["sd_vae"] == vae
        assert (payload["subseed"], payload["subseed_strength"]) == (99, 0.3)
        path = await generate(pilot, app, tmp_path)
        info = parse_infotext(infotext(path))
        assert info.get("Variation seed") == "99"
        assert info.get("Variation seed strength") == "0.3"
        assert info.get("Clip skip") == "2"
        assert info.get("Face restoration")
        assert info.get("Tiling") == "True"
        assert info.get("VAE") == vae
        assert (info.get("Refiner") or "").startswith(refiner.split(".")[0])
        assert info.get("Refiner switch at") == "0.6"

        await reset_and_load(pilot, app)
        assert values(app, "subseed", "subseed-strength", "clip-skip", "refiner-switch") == {
            "subseed": "99",
            "subseed-strength": "0.3",
            "clip-skip": "2",
            "refiner-switch": "0.6",
        }
        assert checked(app, "restore-faces") and checked(app, "tiling")
        assert chosen(app, "vae") == vae
        assert chosen(app, "refiner") == refiner  # the infotext's "name [hash]" is the title


async def test_a_bad_hires_value_is_explained_and_not_sent(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("x")
        set_form(app, **BASE)
        app.query_one("#hr-enable", Checkbox).value = True
        await pilot.pause()
        app.query_one("#hr-denoise", Input).focus()
        await pilot.press("ctrl+u", *"1.5")
        await pilot.pause(0.1)
        error = str(app.query_one("#form-error", Static).render())
        assert "Denoising strength must be a number from 0 to 1" in error
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        assert app.context.queue.current is None and not pngs(tmp_path)
        assert app.focused is app.query_one("#hr-denoise")


async def test_the_sections_come_back_after_a_restart(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#hr-enable", Checkbox).value = True
        set_form(app, hr_scale="1.25", clip_skip="3", subseed_strength="0.2")
        app.query_one("#hr-upscaler", ServerSelect).want("Nearest")
        app.query_one("#tiling", Checkbox).value = True
        await pilot.pause()
        app.main.save_form()
        saved = app.main.form.state()
    again = make_app(demo_server.url, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await _started(pilot, again)
        assert again.main.form.state() == saved
        assert checked(again, "hr-enable") and checked(again, "tiling")
        assert chosen(again, "hr-upscaler") == "Nearest"
        assert again.main.form.to_request().clip_skip == 3


async def test_the_hires_upscalers_are_the_latent_modes_then_the_upscalers(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        offered = [v for _, v in app.query_one("#hr-upscaler", ServerSelect).pairs]
        assert offered == app.context.facts.hires_upscalers
        assert offered[0].startswith("Latent") and "Lanczos" in offered


async def test_a_pasted_infotext_fills_the_form_and_the_undo_key_puts_it_back(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    from sdtui.ui.messages import InfotextPasted

    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("my own prompt")
        set_form(app, steps="33", seed="5", clip_skip="1")
        await pilot.pause()
        before = app.main.form.state()
        text = (
            "a lake at dawn\nNegative prompt: fog\nSteps: 12, Sampler: Euler, CFG scale: 5, "
            "Seed: 777, Size: 320x256, Clip skip: 2, Denoising strength: 0.4, "
            "Hires upscale: 2, Hires upscaler: Latent, ControlNet 0: foo"
        )
        app.main.post_message(InfotextPasted(text))
        await pilot.pause(0.2)
        assert app.query_one("#prompt", TextArea).text == "a lake at dawn"
        assert values(app, "steps", "seed", "width", "height", "clip-skip") == {
            "steps": "12",
            "seed": "777",
            "width": "320",
            "height": "256",
            "clip-skip": "2",
        }
        assert checked(app, "hr-enable")
        said = "\n".join(notifications(app))
        undo = app.context.keys.name("undo_fill")
        assert f"{undo} undoes" in said
        assert "ignored: ControlNet 0" in said
        await pilot.press(undo)
        await pilot.pause(0.2)
        assert app.main.form.state() == before
        assert app.query_one("#prompt", TextArea).text == "my own prompt"
        assert not checked(app, "hr-enable")


async def test_a_bad_value_in_the_folded_section_opens_it_and_takes_the_focus(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("x")
        set_form(app, clip_skip="40")
        await pilot.pause()
        assert app.query_one("#more", Collapsible).collapsed
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        assert not app.query_one("#more", Collapsible).collapsed
        assert app.focused is app.query_one("#clip-skip")
        assert any("Clip skip must be" in m for m in notifications(app))
        assert app.context.queue.current is None


async def test_every_field_is_reachable_by_tab_and_in_view_at_80x24(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _started(pilot, app)
        app.query_one("#hr-enable", Checkbox).value = True
        app.query_one("#more", Collapsible).collapsed = False
        await pilot.pause()
        form = app.main.form
        wanted = {"hr-denoise", "hr-negative", "clip-skip", "vae", "tiling", "restore-faces"}
        seen: set[str] = set()
        app.query_one("#prompt").focus()
        for _ in range(60):
            await pilot.press("tab")
            await pilot.pause()
            focused = app.focused
            if focused is None or form not in focused.ancestors:
                continue
            seen.add(focused.id or "")
            region = focused.region
            assert region.height and form.region.contains_region(region), focused.id
        assert wanted <= seen


async def test_a_bad_value_in_a_section_that_is_off_does_not_stop_a_job(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("x")
        set_form(app, **BASE)
        app.query_one("#hr-enable", Checkbox).value = True
        set_form(app, hr_scale="9")
        await pilot.pause()
        error = app.query_one("#form-error", Static)
        assert "Hires upscale must be" in str(error.render())
        app.query_one("#hr-enable", Checkbox).value = False
        await pilot.pause()
        assert not error.has_class("-shown")
        assert app.main.form.to_request().enable_hr is False
        await generate(pilot, app, tmp_path)
        app.query_one("#hr-enable", Checkbox).value = True
        await pilot.pause()
        assert error.has_class("-shown")


async def test_hires_schedule_and_checkpoint_and_other_overrides_round_trip(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    from sdtui.ui.messages import InfotextPasted

    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        facts = app.context.facts
        other = next(m.title for m in facts.models if m.title != facts.model_title)
        schedule = next(s.label for s in facts.schedulers if s.label not in ("Automatic",))
        app.query_one("#prompt", TextArea).load_text("a quay")
        set_form(app, **BASE)
        app.query_one("#hr-enable", Checkbox).value = True
        app.query_one("#hr-scheduler", ServerSelect).want(schedule)
        app.query_one("#hr-checkpoint", ServerSelect).want(other)
        await pilot.pause()
        # An override the form has no field for arrives with an image's parameters.
        text = "x\nSteps: 3, Sampler: Euler, CFG scale: 7, Seed: 4242, Size: 64x64, RNG: CPU"
        app.main.post_message(InfotextPasted(text))
        await pilot.pause(0.2)
        assert app.main.form.advanced.overrides == {"randn_source": "CPU"}
        assert "overrides" in str(app.query_one("#more", Collapsible).title)
        app.query_one("#prompt", TextArea).load_text("a quay")
        app.query_one("#hr-enable", Checkbox).value = True
        app.query_one("#hr-scheduler", ServerSelect).want(schedule)
        app.query_one("#hr-checkpoint", ServerSelect).want(other)
        await pilot.pause()
        request = app.main.form.to_request()
        assert request.override_settings == {"randn_source": "CPU"}
        assert (request.hr_scheduler, request.hr_checkpoint_name) == (schedule, other)
        path = await generate(pilot, app, tmp_path)
        info = parse_infotext(infotext(path))
        assert info.get("RNG") == "CPU"
        assert info.get("Hires schedule type") == schedule
        assert (info.get("Hires checkpoint") or "").startswith(other.split(".")[0])

        await reset_and_load(pilot, app)
        assert app.main.form.advanced.overrides == {"randn_source": "CPU"}
        assert chosen(app, "hr-scheduler") == schedule
        assert chosen(app, "hr-checkpoint") == other
        saved = app.main.form.state()
        app.main.form.restore({})
        assert app.main.form.advanced.overrides == {}
        app.main.form.restore(saved)
        assert app.main.form.to_request().override_settings == {"randn_source": "CPU"}


async def test_seed_resize_is_kept_from_an_image_and_can_be_dropped(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    from sdtui.ui.messages import InfotextPasted

    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        text = (
            "x\nSteps: 3, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64, Variation seed: 5, "
            "Variation seed strength: 0.2, Seed resize from: 96x96, RNG: CPU"
        )
        app.main.post_message(InfotextPasted(text))
        await pilot.pause(0.2)
        request = app.main.form.to_request()
        assert (request.seed_resize_from_w, request.seed_resize_from_h) == (96, 96)
        assert (request.subseed, request.subseed_strength) == (5, 0.2)
        assert app.main.check_action("clear_overrides", ()) is True
        app.main.action_clear_overrides()
        await pilot.pause()
        request = app.main.form.to_request()
        assert request.seed_resize_from_w is None and request.override_settings is None
        assert app.main.check_action("clear_overrides", ()) is None
