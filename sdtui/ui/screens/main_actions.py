"""The main screen's actions on images: load and re-run their parameters, fill the form from an
infotext with an undo, img2img from an image, upscaling.

MainScreen builds on this screen class; it keeps the layout and the job routing, this keeps what
the user does with an image. Parameters are read by engine.reuse, the one reading `sdtui generate
--from` shares.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.screen import Screen

from sdtui.api import ApiError
from sdtui.engine.reuse import (
    Reused,
    fit_to_server,
    match_reused_model,
    request_from_infotext,
)
from sdtui.engine.upscale import UpscaleOptions, upscale_files
from sdtui.text import one_line
from sdtui.ui.context import AppContext
from sdtui.ui.dialogs.ask_path import AskPathDialog
from sdtui.ui.dialogs.upscale import UpscaleDialog
from sdtui.ui.messages import InfotextPasted, ReuseParameters
from sdtui.ui.widgets.connection_bar import ConnectionBar
from sdtui.ui.widgets.generation_form import GenerationForm
from sdtui.ui.widgets.history_panel import HistoryPanel
from sdtui.ui.widgets.img2img_section import Img2ImgSection
from sdtui.ui.widgets.preview_pane import PreviewPane


class ImageActionsScreen(Screen[None]):
    """What MainScreen does with images and their parameters (see the module's docstring)."""

    context: AppContext
    form: GenerationForm
    bar: ConnectionBar
    history: HistoryPanel
    preview: PreviewPane
    fill_undo: dict[str, str] | None = None  # the form before the last fill from an infotext

    def _key(self, binding_id: str) -> str:
        return self.context.keys.name(binding_id)

    def _image_path(self) -> Path | None:
        """The highlighted history entry's file when the history has focus, else the image in
        view's."""
        if self.history.list_view.has_focus:
            row = self.history.selected_row
            return row.path if row is not None else None
        shown = self.preview.in_view.current
        return shown.path if shown is not None else None

    def image_action_allowed(self, action: str) -> bool | None:
        """check_action's answer for this class's actions (True for any other action)."""
        if action == "undo_fill":
            return self.fill_undo is not None or None
        if action == "clear_init":
            return self.form.img2img.active or None
        if action == "clear_overrides":
            advanced = self.form.advanced
            return bool(advanced.overrides or advanced.seed_resize) or None
        return True

    # -- parameters from an image ---------------------------------------------------------------

    @on(ReuseParameters)
    def _reuse(self, message: ReuseParameters) -> None:
        if not message.infotext:
            self.notify("This image carries no parameters", severity="warning")
            return
        if message.rerun:
            self.rerun(message.infotext)
        else:
            self.fill_from(message.infotext, "Parameters loaded into the form")

    @on(InfotextPasted)
    def _pasted(self, message: InfotextPasted) -> None:
        self.fill_from(message.text, "Parameters read from the pasted text")

    def fill_from(self, text: str, done: str) -> None:
        """Fill the form from an infotext, keeping the form as it was for the undo key."""
        # The server's styles found in the prompt come back as picked styles, as in the web UI.
        filled = self.form.apply_infotext(text, self.context.facts.styles)
        self.fill_undo = filled.before
        self.refresh_bindings()
        lines = [f"{done} · {self._key('undo_fill')} undoes"]
        model, missing = self._model_of(filled.reused)
        if missing:
            lines.append(missing)
        elif model and model != self.context.facts.model_title:
            self.form.set_current_model(model)
            self.post_message(GenerationForm.ModelChanged(model))
        if filled.reused.from_img2img and not self.form.img2img.active:
            lines.append(
                "It was made by img2img: its denoise applies once an init image is set "
                f"({self._key('history.use_init')} in the history)"
            )
        if filled.reused.ignored_line:
            lines.append(filled.reused.ignored_line)
        self.notify("\n".join(lines), timeout=6 if len(lines) > 1 else 3, markup=False)

    def _model_of(self, reused: Reused) -> tuple[str | None, str | None]:
        """The server's title for the image's model, or a line saying it is not there."""
        facts = self.context.facts
        title = match_reused_model(reused, facts.models)
        if title or not (reused.model_name or reused.model_hash):
            return title, None
        wanted = one_line(reused.model_name or reused.model_hash or "", 60)
        kept = one_line(facts.model_title or "the loaded model", 60)
        return None, f"The image's model {wanted} is not on this server: {kept} is kept"

    def rerun(self, text: str) -> None:
        """One image like the one the infotext describes, on its model; the form is left as
        it is (its batch count too)."""
        facts = self.context.facts
        reused = request_from_infotext(text, styles=facts.styles)
        request = reused.request
        # The image's names in the server's words; what it lacks is dropped (an unknown hires
        # upscaler would fail the job) and said. Its model is this job's only.
        missing = [line[0].upper() + line[1:] for line in fit_to_server(reused, facts)]
        if request.model == facts.model_title:
            request.model = None
        queue = self.context.queue
        ahead = len(queue.pending) + (queue.current is not None)
        lines = [
            f"Re-running the image (queued behind {ahead} job(s))"
            if ahead
            else "Re-running the image"
        ]
        lines.extend(missing)
        if reused.from_img2img:
            lines.append("It was made by img2img: re-run as txt2img, without its init image")
        if reused.ignored_line:
            lines.append(reused.ignored_line)
        queue.submit(request)
        self.notify("\n".join(lines), timeout=6 if len(lines) > 1 else 2, markup=False)

    def action_undo_fill(self) -> None:
        if self.fill_undo is None:
            self.notify("No fill from an image's parameters to undo", timeout=3)
            return
        before, self.fill_undo = self.fill_undo, None
        self.form.restore(before)
        self.refresh_bindings()
        self.notify("The form is back as it was before the fill", timeout=3)

    def action_clear_overrides(self) -> None:
        if self.form.advanced.clear_overrides():
            self.notify("The settings kept from the image are dropped", timeout=3)
        else:
            self.notify("No settings kept from an image", timeout=2)

    # -- img2img --------------------------------------------------------------------------------

    def action_use_init(self) -> None:
        path = self._image_path()
        if path is None:
            self.notify("No image to use as the init image", severity="warning", timeout=3)
            return
        self.form.set_init_image(path)

    def action_img2img_file(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.form.set_init_image(path)

        self.app.push_screen(
            AskPathDialog("img2img from which image file?", self.context.keys), chosen
        )

    def action_clear_init(self) -> None:
        if self.form.clear_init_image():
            self.notify("Init image cleared: back to txt2img", timeout=3)
        else:
            self.notify("No init image to clear", timeout=2)

    @on(Img2ImgSection.Loaded)
    def _init_loaded(self, message: Img2ImgSection.Loaded) -> None:
        self.refresh_bindings()
        image = message.image
        self.notify(
            f"img2img from {one_line(image.name, 40)} ({image.width}x{image.height}) · "
            f"{self._key('clear_init')} goes back to txt2img",
            timeout=4,
            markup=False,
        )

    @on(Img2ImgSection.Failed)
    def _init_failed(self, message: Img2ImgSection.Failed) -> None:
        self.notify(
            one_line(message.message, 200), title="No init image", severity="error", markup=False
        )

    # -- upscaling ------------------------------------------------------------------------------

    def action_upscale(self) -> None:
        path = self._image_path()
        if path is None:
            self.notify("No image to upscale", severity="warning", timeout=3)
            return
        names = [u.name for u in self.context.facts.upscalers]

        def chosen(options: UpscaleOptions | None) -> None:
            if options is not None:
                self.notify(f"Upscaling {one_line(path.name, 40)}…", timeout=3, markup=False)
                self._upscale(path, options)

        self.app.push_screen(UpscaleDialog(path.name, names, self.context.keys), chosen)

    @work(group="upscale", exit_on_error=False, description="upscaling")
    async def _upscale(self, path: Path, options: UpscaleOptions) -> None:
        context = self.context
        try:
            [result] = await upscale_files(context.client, [path], options, context.store)
        except ApiError as exc:
            self.notify(exc.message, title="Not upscaled", severity="error", markup=False)
            return
        if result.path is None:
            error = result.error or "not saved"
            self.notify(one_line(error, 200), title="Not upscaled", severity="error", markup=False)
            return
        self.history.add_paths([result.path])
        self.notify(f"Upscaled: {one_line(result.path.name, 60)}", timeout=4, markup=False)
