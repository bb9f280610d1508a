"""img2img in the TUI against the demo backend: an init image from the history or a file, its
size, denoise, resize mode and mask, the key back to txt2img."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from PIL import Image
from textual.command import CommandPalette
from textual.widgets import Input, Select, Static, TextArea

from sdtui.api import Img2ImgRequest
from sdtui.demo import DemoServer
from sdtui.images.infotext import parse_infotext
from sdtui.ui.app import SdtuiApp
from sdtui.ui.dialogs.ask_path import AskPathDialog
from tests.test_form_power import BASE, generate, infotext, values
from tests.tui import SIZE, make_app, notifications, set_form, wait_for


async def _started(pilot: Any, app: SdtuiApp) -> None:
    await wait_for(pilot, lambda: app.context.connected)
    await wait_for(pilot, lambda: app.main.history.loaded)
    await app.workers.wait_for_complete()


def _image(path: Path, size: tuple[int, int], colour: str = "red") -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


async def _set_init(pilot: Any, app: SdtuiApp, path: Path) -> None:
    app.main.form.set_init_image(path)
    await wait_for(pilot, lambda: app.main.form.img2img.active)
    await pilot.pause()


async def test_a_history_image_becomes_the_init_image_and_img2img_is_sent(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a meadow")
        set_form(app, **{**BASE, "width": "64", "height": "128"})
        source = await generate(pilot, app, tmp_path)
        set_form(app, width="512", height="512")
        await pilot.press("ctrl+f", "home", "i")
        await wait_for(pilot, lambda: app.main.form.img2img.active)
        await pilot.pause()
        section = app.main.form.img2img
        assert section.display
        shown = str(app.query_one("#init-name", Static).render())
        assert source.name in shown and "64x128" in shown
        assert values(app, "width", "height") == {"width": "64", "height": "128"}
        assert not app.query_one("#hires").display  # img2img has no hires fix
        app.query_one("#prompt").focus()
        set_form(app, i2i_denoise="0.6")
        app.query_one("#resize-mode", Select).value = 1
        request = app.main.form.to_request()
        assert isinstance(request, Img2ImgRequest)
        assert (request.denoising_strength, request.resize_mode) == (0.6, 1)
        # Encoded once, in the thread that read the file: the request takes it as it is.
        assert request.init_images == [base64.b64encode(source.read_bytes()).decode()]
        assert request.mask is None
        made = await generate(pilot, app, tmp_path)
        info = parse_infotext(infotext(made))
        assert info.get("Denoising strength") == "0.6"
        assert (info.width, info.height) == (64, 128)
        assert info.prompt == "a meadow"

        clear = app.context.keys.name("clear_init")
        await pilot.press(clear)
        await pilot.pause()
        assert not app.main.form.img2img.active and not section.display
        assert not isinstance(app.main.form.to_request(), Img2ImgRequest)
        assert any("back to txt2img" in m for m in notifications(app))


async def test_img2img_from_a_file_by_the_palette(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    picture = _image(tmp_path / "photo.png", (100, 150))
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"img2img from")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AskPathDialog))
        dialog = app.screen
        await pilot.press(*str(tmp_path / "missing.png"), "enter")
        await pilot.pause()
        assert app.screen is dialog
        assert "not found" in str(dialog.query_one("#problem", Static).render())
        dialog.query_one("#path", Input).value = str(picture)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.form.img2img.active)
        # 100x150 is not a size the server takes: the nearest multiples of 8.
        assert values(app, "width", "height") == {"width": "96", "height": "152"}
        assert "100x150 photo.png" in str(app.query_one("#init-name", Static).render())


async def test_a_file_that_is_not_an_image_is_one_line_and_no_init_image(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    app = make_app(demo_server.url, tmp_path)
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        set_form(app, width="320")
        app.main.form.set_init_image(bad)
        await wait_for(pilot, lambda: any("notes.png" in m for m in notifications(app)))
        assert not app.main.form.img2img.active
        assert values(app, "width") == {"width": "320"}  # nothing changed
        assert not isinstance(app.main.form.to_request(), Img2ImgRequest)


async def test_inpainting_with_a_mask_file(demo_server: DemoServer, tmp_path: Path) -> None:
    app = make_app(demo_server.url, tmp_path)
    init = _image(tmp_path / "init.png", (64, 64), "blue")
    mask = _image(tmp_path / "mask.png", (64, 64), "white")
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        app.query_one("#prompt", TextArea).load_text("a window")
        set_form(app, steps="3", seed="8")
        await _set_init(pilot, app, init)
        app.query_one("#mask-path", Input).value = str(tmp_path / "nope.png")
        await wait_for(pilot, lambda: "Mask not used" in _mask_status(app))
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        assert app.context.queue.current is None  # a mask typed but unreadable is not skipped
        assert app.focused is app.query_one("#mask-path")
        app.query_one("#mask-path", Input).value = str(mask)
        await wait_for(pilot, lambda: "Mask: mask.png 64x64" in _mask_status(app))
        set_form(app, mask_blur="6")
        app.query_one("#inpaint-area", Select).value = True
        request = app.main.form.to_request()
        assert isinstance(request, Img2ImgRequest) and request.mask
        assert (request.mask_blur, request.inpaint_full_res) == (6, True)
        made = await generate(pilot, app, tmp_path)
        info = parse_infotext(infotext(made))
        assert info.get("Mask blur") == "6"
        assert info.get("Inpaint area") == "Only masked"

        # Loading the inpainted image back, with an init image set, fills the img2img fields.
        app.main.form.restore({**app.main.form.state(), "mask-blur": "4", "i2i-denoise": "0.3"})
        await wait_for(pilot, lambda: app.main.form.img2img.active)
        await pilot.press("ctrl+f", "home", "l")
        await wait_for(pilot, lambda: values(app, "mask-blur") == {"mask-blur": "6"})
        assert values(app, "i2i-denoise") == {"i2i-denoise": "0.75"}


def _mask_status(app: SdtuiApp) -> str:
    return str(app.query_one("#mask-status", Static).render())


async def test_the_init_image_comes_back_after_a_restart(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    init = _image(tmp_path / "kept.png", (96, 64))
    app = make_app(demo_server.url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        await _set_init(pilot, app, init)
        set_form(app, i2i_denoise="0.4")
        app.main.save_form()
    again = make_app(demo_server.url, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await _started(pilot, again)
        await wait_for(pilot, lambda: again.main.form.img2img.active)
        assert again.main.form.init_image is not None
        assert again.main.form.init_image.path == init
        assert values(again, "i2i-denoise", "width") == {"i2i-denoise": "0.4", "width": "96"}


async def test_queued_img2img_jobs_are_kept_as_img2img(tmp_path: Path) -> None:
    from sdtui.store.session import Session

    session = Session(tmp_path / "state.json")
    job = Img2ImgRequest(prompt="kept", init_images=["aGVsbG8="], denoising_strength=0.5)
    session.save_pending([job])
    [back] = session.load_pending()
    assert isinstance(back, Img2ImgRequest)
    assert (back.init_images, back.denoising_strength, back.prompt) == (["aGVsbG8="], 0.5, "kept")


async def test_loading_an_img2img_image_keeps_its_denoise_for_an_init_image_set_later(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    from sdtui.ui.messages import InfotextPasted

    app = make_app(demo_server.url, tmp_path)
    init = _image(tmp_path / "later.png", (64, 64))
    async with app.run_test(size=SIZE) as pilot:
        await _started(pilot, app)
        text = "x\nSteps: 3, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64, Denoising strength: 0.35"
        app.main.post_message(InfotextPasted(text))
        await pilot.pause(0.2)
        assert any("made by img2img" in m for m in notifications(app))
        assert not isinstance(app.main.form.to_request(), Img2ImgRequest)
        await _set_init(pilot, app, init)
        request = app.main.form.to_request()
        assert isinstance(request, Img2ImgRequest) and request.denoising_strength == 0.35
