"""Command line: the TUI launcher and the headless commands.

Textual is imported only when the TUI starts, so `sdtui generate` and `sdtui info` stay quick to
start and usable in scripts on machines where no terminal UI is wanted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdtui import __version__
from sdtui.cli_history import add_history_parser, cmd_history
from sdtui.config import (
    DEFAULT_URL,
    ConfigError,
    ServerProfile,
    Settings,
    config_path,
    load_settings,
)
from sdtui.engine import limits
from sdtui.engine.progress import HeldInterrupt
from sdtui.text import one_line, strip_control

if TYPE_CHECKING:
    from sdtui.api import GenerationRequest, ProgressUpdate, PromptStyle
    from sdtui.api.client import SDClient
    from sdtui.engine import GenerationOutcome
    from sdtui.engine.img2img import SourceImage
    from sdtui.engine.reuse import Reused
    from sdtui.engine.server import ServerFacts

GENERATE_DESCRIPTION = """\
Generate images and print each saved PNG's path (or JSON with --json).

Sampler, scheduler and model names are matched ignoring case: exact names, aliases, file names
and hashes first, then a unique prefix (for models also a unique part of the name).

Several servers (--url given more than once, or the config's [servers.NAME] tables): a batch
count N becomes N jobs with the seeds one server would give them (seed, seed+1, ...), each server
runs one job at a time, so a faster one takes more. A server that does not answer is left out (a
warning); one that drops out mid-job has its job run again on another. --sweep makes a job a
combination of values (the web UI's X/Y/Z plot), spread the same way; --grid draws them.

Ctrl-C or SIGTERM interrupts the server's job (every server's): the images made so far are saved
and their paths printed, then sdtui exits 130 (SIGINT) or 143 (SIGTERM). A second one quits at once.
exit status: 0 done, 1 failed (a job that could run nowhere, or failed), 2 bad arguments,
130/143 interrupted, 141 output pipe closed."""

UPSCALE_DESCRIPTION = """\
Upscale images through the server's Extras (one file: extra-single-image; several: one
extra-batch-images call) and print each saved PNG's path.

Each result keeps its source's parameters and gains the web UI's postprocessing text. It is saved
in the output folder beside its source when the source lies there, else in today's folder, named
after its source (NAME-2x.png, NAME-1024x768.png). Without --scale or --width/--height: 2x.
exit status: 0 done, 1 failed (any image), 2 bad arguments, 130/143 interrupted."""

#: The fields --sweep takes, as its help names them (engine.sweep.SWEEP_FIELDS has them all,
#: and their aliases; not imported here: building the parser must stay quick).
SWEEP_HELP = (
    "seed, subseed, subseed_strength, steps, hr_steps, cfg, prompt, sampler, hr_sampler, "
    "scheduler, model, size (WxH), width, height, denoise, clip_skip, hr_scale, hr_upscaler, "
    "styles, vae"
)

SWEEP_DESCRIPTION = """\
A job for every combination of up to three fields' values, run over every server.
Values as the web UI takes them: 5,7,9 · 1-5 · 10-30 (+5) · 1-2 [5] · "a, b",c (a value
with a comma is quoted); names are matched to the server's. prompt=fox,cat,dog is Prompt
S/R: fox in the prompt is replaced by each value in turn (the first is the prompt as it is).
A seed of -1 becomes one random seed for every cell.
example: --sweep cfg=5,7,9 --sweep steps=20,30 --grid   (6 jobs and their grid)"""

#: `--resize-mode` choices, in the order of the API's numbers (0-3); see engine.img2img.
RESIZE_MODE_CHOICES = ("just-resize", "crop-and-resize", "resize-and-fill", "latent")

EPILOG = f"""\
examples:
  sdtui --demo                        try everything with the built-in demo server (no GPU)
  sdtui --url http://127.0.0.1:7860   the TUI against a web UI started with --api
  sdtui generate "a red fox at dusk, oil painting" --steps 30 --seed 42
  sdtui generate "lighthouse in a storm" --batch-size 4 --json --url http://gpu-box:7860
  sdtui generate "castle" --style Cinematic --hires --hr-upscaler Latent --denoise 0.5
  sdtui generate --from old.png --seed -1            the image's parameters, a new seed
  sdtui generate "a red fox" --url gpu1 --url http://10.0.0.6:7860 --batch-count 8
  sdtui generate "a red fox" --sweep cfg=5,7,9 --sweep steps=20,30 --grid
  sdtui generate "a red door" --init-image photo.png --mask door.png --denoise 0.6
  sdtui upscale ~/Pictures/sdtui/2026-11-25/*.png --upscaler "R-ESRGAN 4x+" --scale 2
  sdtui info ~/Pictures/sdtui/2026-11-25/*.png
  sdtui servers                       each server of the config: online? model? busy?
  sdtui history --search "red fox" --since 3d --limit 10
  sdtui history --history-dir ~/stable-diffusion-webui/outputs --model sdxl --json
  sdtui serve-demo --port 7860        an API-compatible demo server for other clients

settings: command line > environment (SDTUI_URL, SDTUI_USER, SDTUI_PASSWORD, SDTUI_OUT)
          > config file > defaults.  config file: {config_path()}
servers:  [servers.NAME] tables in the config (url = "http://host:7860", user = "me",
          password_env = "VARIABLE"); --url NAME picks one, --url URL adds any other.
"""


#: Exit status after a broken pipe (`sdtui info *.png | head`): 128 + SIGPIPE, as tools killed by
#: it report.
BROKEN_PIPE_STATUS = 128 + 13


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1."""

    status = 1


class BadArgument(CliError):
    """Arguments that cannot work (an unreadable file, flags that do not go together, an unknown
    style): printed as one line, exit status 2, nothing sent."""

    status = 2


def _warn(message: str) -> None:
    print(f"sdtui: {one_line(message, 600)}", file=sys.stderr, flush=True)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Epilogs as written; each option's default after its help, where it has a real one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == "":
            return action.help
        return super()._get_help_string(action)


def _limited(field: str) -> Callable[[str], int | float]:
    """An argparse type for a numeric flag: the form's range for `field`, and its wording."""

    def convert(text: str) -> int | float:
        try:
            return limits.parse(field, text)
        except limits.LimitError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = field
    return convert


def _limited_option(
    parser: argparse._ActionsContainer, flag: str, field: str, *, optional: bool = False
) -> None:
    """A numeric flag with the form's range. `optional`: no default (nothing is sent unless the
    flag is given)."""
    limit = limits.LIMITS[field]
    text = limit.help[:1].lower() + limit.help[1:]  # "Sampling steps (1-150)"
    metavar = "N" if limit.whole else "F"
    if optional:
        parser.add_argument(flag, type=_limited(field), metavar=metavar, help=text)
        return
    text = text[:-1] + ", default %(default)s)" if text.endswith(")") else text
    parser.add_argument(
        flag, type=_limited(field), default=limit.default, metavar=metavar, help=text
    )


def _connection_options(parser: argparse.ArgumentParser, *, several: str = "") -> None:
    """The server flags. `several`: what giving more than one server does for this command."""
    group = parser.add_argument_group("server")
    group.add_argument(
        "--url",
        action="append",
        metavar="URL|NAME",
        help="a server: its URL (may hold a path prefix and user:pass@) or the name of a "
        f"[servers.NAME] table in the config; repeatable{several} (default: the config's "
        f"servers, else its url, else {DEFAULT_URL})",
    )
    group.add_argument(
        "--server",
        action="append",
        dest="url",
        metavar="NAME",
        help="the same as --url, for a config's server by name",
    )
    group.add_argument("--demo", action="store_true", help="use the built-in demo server")
    group.add_argument("--user", help="user name for a server started with --api-auth")
    group.add_argument("--password", help="password (prefer SDTUI_PASSWORD: not kept in history)")
    parser.add_argument("--out", type=Path, help="output folder (default: your pictures folder)")


def _generate_options(gen: argparse.ArgumentParser) -> None:
    """The flags of `generate` beyond the basic ones: the web UI's txt2img tab, img2img and
    --from."""
    gen.add_argument(
        "--style",
        action="append",
        metavar="NAME",
        help="a style of the server's to apply to the prompts (repeatable, applied in order)",
    )
    gen.add_argument(
        "--from",
        dest="from_file",
        type=Path,
        metavar="FILE",
        help="take the parameters of a saved image (PNG, JPEG or WebP); flags given override "
        "them, and the prompt given replaces its prompt",
    )
    hires = gen.add_argument_group("hires fix (any --hr-* flag turns it on)")
    hires.add_argument("--hires", action="store_true", help="turn on the hires fix")
    _limited_option(hires, "--hr-scale", "hr_scale", optional=True)
    hires.add_argument(
        "--hr-upscaler",
        metavar="NAME",
        help="hires upscaler: a latent mode (Latent, ...) or an upscaler (R-ESRGAN 4x+, ...)",
    )
    _limited_option(hires, "--hr-steps", "hr_steps", optional=True)
    _limited_option(hires, "--hr-width", "hr_width", optional=True)
    _limited_option(hires, "--hr-height", "hr_height", optional=True)
    hires.add_argument("--hr-sampler", metavar="NAME", help="sampler of the second pass")
    hires.add_argument("--hr-prompt", metavar="TEXT", help="prompt of the second pass")
    hires.add_argument("--hr-negative", metavar="TEXT", help="negative prompt of the second pass")
    _limited_option(hires, "--denoise", "denoise", optional=True)
    more = gen.add_argument_group("variations and the rest of the txt2img tab")
    _limited_option(more, "--subseed", "subseed", optional=True)
    _limited_option(more, "--subseed-strength", "subseed_strength", optional=True)
    _limited_option(more, "--clip-skip", "clip_skip", optional=True)
    more.add_argument("--restore-faces", action="store_true", help="restore faces")
    more.add_argument("--tiling", action="store_true", help="make a seamless tile")
    more.add_argument("--refiner", metavar="NAME", help="refiner checkpoint (as --model takes)")
    _limited_option(more, "--refiner-switch-at", "refiner_switch_at", optional=True)
    more.add_argument("--vae", metavar="NAME", help="VAE for this job (Automatic, None or a file)")
    img = gen.add_argument_group("img2img (with --init-image)")
    img.add_argument(
        "--init-image",
        type=Path,
        metavar="FILE",
        help="make the image from this one (without --width/--height, at its own size)",
    )
    img.add_argument(
        "--resize-mode",
        choices=list(RESIZE_MODE_CHOICES),
        help="how the init image is fitted to the size (default just-resize)",
    )
    img.add_argument("--mask", type=Path, metavar="FILE", help="inpaint: repaint the white part")
    _limited_option(img, "--mask-blur", "mask_blur", optional=True)
    img.add_argument(
        "--inpaint-area",
        choices=["whole", "masked"],
        help="inpaint the whole picture or only the masked part (default masked)",
    )
    img.add_argument("--invert-mask", action="store_true", help="repaint the black part instead")
    sweep = gen.add_argument_group(
        "sweeps (the web UI's X/Y/Z plot)",
        SWEEP_DESCRIPTION,
    )
    sweep.add_argument(
        "--sweep",
        action="append",
        metavar="FIELD=V1,V2,...",
        help=f"an axis: x, then y, then z (repeatable, up to 3); FIELD is one of {SWEEP_HELP}",
    )
    sweep.add_argument(
        "--grid",
        action="store_true",
        help="also save the labelled grid of the results beside them (its path printed last)",
    )


def _upscale_parser(commands: Any) -> None:
    up = commands.add_parser(
        "upscale",
        help="upscale images through the server's extras and print the saved paths",
        description=UPSCALE_DESCRIPTION,
        formatter_class=_HelpFormatter,
    )
    up.add_argument("files", nargs="+", type=Path, help="image files (PNG, JPEG, WebP)")
    up.add_argument(
        "--upscaler",
        required=True,
        metavar="NAME",
        help="upscaler name, e.g. Lanczos, 'R-ESRGAN 4x+' (as the server lists them)",
    )
    up.add_argument(
        "--upscaler-2",
        metavar="NAME",
        help="a second upscaler blended in (at visibility 0.5 unless given)",
    )
    _limited_option(up, "--upscaler-2-visibility", "upscaler_2_visibility", optional=True)
    _limited_option(up, "--scale", "upscale_by", optional=True)
    _limited_option(up, "--width", "upscale_width", optional=True)
    _limited_option(up, "--height", "upscale_height", optional=True)
    up.add_argument(
        "--no-crop",
        action="store_true",
        help="with --width/--height: scale to cover the size and keep the whole image, "
        "instead of cropping it to the size",
    )
    _connection_options(up, several=": the first one is used")


def build_parser(*, explicit_only: bool = False) -> argparse.ArgumentParser:
    """The command line. `explicit_only`: `generate`'s flags get no defaults, so a parse tells
    which were given (what --from lets flags override)."""
    parser = argparse.ArgumentParser(
        prog="sdtui",
        description="A keyboard-driven terminal client for Stable Diffusion web UI servers.",
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sdtui {__version__}")
    _connection_options(parser, several=": the TUI runs queued jobs on all of them")
    parser.add_argument("--theme", help="a Textual theme name (e.g. textual-dark, nord, gruvbox)")
    parser.add_argument(
        "--history-dir",
        action="append",
        type=Path,
        dest="history_dirs",
        metavar="DIR",
        help="a folder of existing images (the web UI's outputs) to show in the history, "
        "read-only (repeatable; replaces the config's history_dirs)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gen = commands.add_parser(
        "generate",
        help="generate images without the TUI and print the saved paths",
        description=GENERATE_DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    gen.add_argument("prompt", nargs="?", help="the prompt (optional with --from)")
    gen.add_argument("--negative", default="", help="negative prompt")
    _limited_option(gen, "--steps", "steps")
    _limited_option(gen, "--seed", "seed")
    gen.add_argument(
        "--sampler",
        help="sampler name or alias, e.g. 'Euler a', 'DPM++ 2M' (default: the server's)",
    )
    gen.add_argument("--scheduler", help="schedule type, e.g. Karras (default: the sampler's own)")
    _limited_option(gen, "--cfg", "cfg")
    _limited_option(gen, "--width", "width")
    _limited_option(gen, "--height", "height")
    _limited_option(gen, "--batch-size", "batch_size")
    _limited_option(gen, "--batch-count", "batch_count")
    gen.add_argument(
        "--model",
        help="checkpoint for this job: title, file name, hash or a unique part of the name "
        "(default: the loaded model)",
    )
    gen.add_argument("--json", action="store_true", help="print one JSON object instead of paths")
    _generate_options(gen)
    _connection_options(gen, several=": the jobs are spread over all of them")
    if explicit_only:
        for action in gen._actions:
            if action.option_strings:
                action.default = argparse.SUPPRESS
    _upscale_parser(commands)

    info = commands.add_parser(
        "info",
        help="print the generation parameters stored in images",
        description="Print the parameters stored in PNG, JPEG or WebP files (the web UI's PNG Info).",
        formatter_class=_HelpFormatter,
    )
    info.add_argument("files", nargs="+", type=Path, help="image files")
    info.add_argument("--json", action="store_true", help="print a JSON array, one object a file")

    servers = commands.add_parser(
        "servers",
        help="show whether each server answers, its model and what it offers",
        description=_servers_description(),
        formatter_class=_HelpFormatter,
    )
    servers.add_argument("--json", action="store_true", help="print a JSON array, one a server")
    _connection_options(servers, several=": each one is shown")

    serve = commands.add_parser(
        "serve-demo",
        help="run the built-in demo server (an API-compatible stand-in, synthetic images)",
        description="Serve the web UI API with synthetic images, for trying sdtui and other clients.",
        formatter_class=_HelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=7860, help="port (0 picks a free one)")
    serve.add_argument("--step-delay", type=float, default=0.05, help="seconds per sampling step")
    serve.add_argument("--api-auth", help="require HTTP Basic auth, USER:PASS[,USER2:PASS2]")
    add_history_parser(commands, _HelpFormatter)
    return parser


def _servers_description() -> str:
    from sdtui.cli_servers import SERVERS_DESCRIPTION

    return SERVERS_DESCRIPTION


def _cmd_servers(args: argparse.Namespace) -> int:
    from sdtui.cli_servers import cmd_servers

    return cmd_servers(args)


def resolve_settings(args: argparse.Namespace) -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    urls = getattr(args, "url", None)
    return settings.merged(
        urls=tuple(urls) if urls else None,
        user=getattr(args, "user", None),
        password=getattr(args, "password", None),
        out=getattr(args, "out", None),
        theme=getattr(args, "theme", None),
        history_dirs=tuple(args.history_dirs) if getattr(args, "history_dirs", None) else None,
    )


def server_profiles(settings: Settings) -> tuple[ServerProfile, ...]:
    """The servers the command line and config ask for; BadArgument (one line) for a --url that
    is neither a URL nor a config's server, or a password variable that is unset."""
    try:
        return settings.server_profiles()
    except ConfigError as exc:
        raise BadArgument(str(exc)) from None


def first_server(settings: Settings) -> ServerProfile:
    """The server a one-server command (upscale) talks to: the first one asked for."""
    return server_profiles(settings)[0]


def demo_settings(settings: Settings, url: str) -> Settings:
    """The settings with the demo server as the one server (no credentials sent to it)."""
    return settings.merged(url=url, urls=(url,), user="", password="")


@contextlib.contextmanager
def demo_backend(step_delay: float = 0.05) -> Iterator[str]:
    """Run the demo server on a free loopback port for the duration of a command."""
    from sdtui.demo import DemoServer

    server = DemoServer("127.0.0.1", 0, step_delay=step_delay).start()
    try:
        yield server.url
    finally:
        server.stop()


# -- generate -------------------------------------------------------------------------------------


class _ProgressLine:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def __call__(self, update: ProgressUpdate) -> None:
        if not self.enabled:
            return
        if update.unknown:
            line = "generating (this server reports no progress)…"
        elif update.waiting:
            line = " · ".join(update.describe())  # busy with another client's job
        elif not update.active:
            line = "waiting for the server…"
        else:
            width = 24
            filled = round(update.progress * width)
            bar = "█" * filled + "░" * (width - filled)
            line = " · ".join([f"{bar} {update.progress:4.0%}", *update.describe()])
        self.show(line)

    def show(self, line: str) -> None:
        """Draw `line` over the previous one."""
        sys.stderr.write("\r\x1b[2K" + line)
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
            self.shown = False


class _Stopper:
    """What SIGINT and SIGTERM do while `generate` runs.

    The first one asks the server to interrupt its job and lets the request finish: the server
    answers with the images made so far, which are saved as usual. A second one (or a first one
    before the job was sent, or when the server cannot interrupt) quits at once. Saving is atomic,
    so quitting mid-save leaves either a whole image or nothing.
    """

    def __init__(self, client: SDClient, progress: _ProgressLine) -> None:
        self.client = client
        self.progress = progress
        self.signum: int | None = None
        self.quitting = False
        self.said_why = False  # a line already told the user why it quits
        self.job_sent = False
        self.work: asyncio.Task[Any] | None = None
        self.held = HeldInterrupt()
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def status(self) -> int:
        """The exit status a signal calls for: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum if self.signum is not None else 0

    def __call__(self, signum: int) -> None:
        first = self.signum is None
        self.signum = signum
        if not first or not self.job_sent:
            self.quit()
            return
        self.progress.clear()
        if not self.held.request():
            # The server's interrupt would stop another client's job, which runs now.
            print(
                "our job waits behind another client's: it is interrupted as soon as it starts "
                "(Ctrl-C again to quit)",
                file=sys.stderr,
                flush=True,
            )
            return
        print(
            "interrupting: the images made so far will be saved (Ctrl-C again to quit)",
            file=sys.stderr,
            flush=True,
        )
        self._send_interrupt()

    def progressed(self, update: ProgressUpdate) -> None:
        """Every progress update: shown, and a held interrupt sent once our job runs."""
        self.progress(update)
        if self.held.progressed(update):
            self._send_interrupt()

    def _send_interrupt(self) -> None:
        task = asyncio.get_running_loop().create_task(self._interrupt())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _interrupt(self) -> None:
        from sdtui.api import ApiError, ErrorKind

        try:
            await self.client.interrupt()
        except ApiError as exc:
            self.progress.clear()
            if exc.kind in (ErrorKind.NOT_FOUND, ErrorKind.API_DISABLED):
                reason = "this server cannot interrupt a job (it has no /sdapi/v1/interrupt)"
            else:
                reason = f"cannot interrupt the job: {exc.message}"
            print(f"sdtui: {one_line(reason)}; quitting", file=sys.stderr, flush=True)
            self.said_why = True
            self.quit()

    def quit(self) -> None:
        self.quitting = True
        if self.work is not None:
            self.work.cancel()

    def installed(self) -> contextlib.AbstractContextManager[None]:
        return signal_handlers(self)


@contextlib.contextmanager
def signal_handlers(handler: Callable[[int], None]) -> Iterator[None]:
    """SIGINT and SIGTERM call `handler(signum)` on the event loop while the block runs."""
    loop = asyncio.get_running_loop()
    signums = (signal.SIGINT, signal.SIGTERM)
    for signum in signums:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, handler, signum)
    try:
        yield
    finally:
        for signum in signums:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)


# -- generate: from flags (and --from, --init-image) to a request -------------------------------

#: Flags that turn the hires fix on by being given.
_HIRES_FLAGS = (
    "hr_scale",
    "hr_upscaler",
    "hr_steps",
    "hr_width",
    "hr_height",
    "hr_sampler",
    "hr_prompt",
    "hr_negative",
)
#: img2img-only flags, and the inpainting ones among them.
_IMG2IMG_FLAGS = {"resize_mode": "--resize-mode", "mask": "--mask"}
_MASK_FLAGS = {
    "mask_blur": "--mask-blur",
    "inpaint_area": "--inpaint-area",
    "invert_mask": "--invert-mask",
}
#: Flags with a default, and the request fields they set (--from keeps the image's value unless
#: the flag is given).
_DEFAULTED = (
    ("negative", "negative_prompt"),
    ("steps", "steps"),
    ("seed", "seed"),
    ("cfg", "cfg_scale"),
    ("width", "width"),
    ("height", "height"),
    ("batch_size", "batch_size"),
    ("batch_count", "n_iter"),
)
#: Flags without a default, and the request fields they set when given.
_OPTIONAL = (
    ("subseed", "subseed"),
    ("subseed_strength", "subseed_strength"),
    ("clip_skip", "clip_skip"),
    ("refiner_switch_at", "refiner_switch_at"),
    ("hr_scale", "hr_scale"),
    ("hr_steps", "hr_second_pass_steps"),
    ("hr_width", "hr_resize_x"),
    ("hr_height", "hr_resize_y"),
    ("hr_prompt", "hr_prompt"),
    ("hr_negative", "hr_negative_prompt"),
)
#: img2img fields that mean something only with a mask.
_MASK_FIELDS = (
    "mask_blur",
    "inpaint_full_res",
    "inpaint_full_res_padding",
    "inpainting_fill",
    "inpainting_mask_invert",
)


@dataclass
class _Inputs:
    """The files `generate` was given, read (and checked) before anything is sent."""

    from_text: str | None = None
    init: SourceImage | None = None
    mask: SourceImage | None = None


def _hires_wanted(args: argparse.Namespace) -> bool:
    return bool(args.hires) or any(getattr(args, dest) is not None for dest in _HIRES_FLAGS)


def _check_flags(args: argparse.Namespace) -> None:
    """Flags that cannot go together: BadArgument before anything is read or sent."""
    if args.prompt is None and args.from_file is None:
        raise BadArgument("give a prompt, or --from FILE to take one from a saved image")
    if args.init_image is None:
        for dest, flag in {**_IMG2IMG_FLAGS, **_MASK_FLAGS}.items():
            if getattr(args, dest):
                raise BadArgument(f"{flag} is for img2img: give --init-image FILE too")
        if args.denoise is not None and not _hires_wanted(args) and args.from_file is None:
            raise BadArgument(
                "--denoise is for the hires fix (--hires) and img2img (--init-image FILE)"
            )
    else:
        if _hires_wanted(args):
            raise BadArgument(
                "the hires fix is txt2img's: drop --hires and --hr-* or drop --init-image"
            )
        if args.mask is None:
            for dest, flag in _MASK_FLAGS.items():
                if getattr(args, dest):
                    raise BadArgument(f"{flag} is for inpainting: give --mask FILE too")
    if args.refiner_switch_at is not None and not args.refiner and args.from_file is None:
        raise BadArgument("--refiner-switch-at needs --refiner NAME")


def _read_inputs(args: argparse.Namespace) -> _Inputs:
    """Read --from, --init-image and --mask (BadArgument, one line, for a file that will not do)."""
    from sdtui.engine.img2img import InputImageError, read_source_image
    from sdtui.images.convert import read_parameters
    from sdtui.images.png import ImageDataError

    inputs = _Inputs()
    try:
        if args.from_file is not None:
            source = read_source_image(args.from_file)
            shown = source.name
            try:
                text = read_parameters(source.data)
            except ImageDataError as exc:
                raise BadArgument(f"--from {shown}: {exc}") from None
            if not text:
                raise BadArgument(
                    f"--from {shown}: the image carries no generation parameters "
                    "(saved without them, or stripped)"
                )
            inputs.from_text = text
        if args.init_image is not None:
            inputs.init = read_source_image(args.init_image)
        if args.mask is not None:
            inputs.mask = read_source_image(args.mask)
    except InputImageError as exc:
        raise BadArgument(str(exc)) from None
    return inputs


def _explicit(args: argparse.Namespace) -> set[str]:
    """The flags given on the command line, not just defaulted (parsed again without
    defaults)."""
    return set(vars(build_parser(explicit_only=True).parse_args(args.argv)))


def _apply_flags(
    request: GenerationRequest, args: argparse.Namespace, explicit: set[str] | None
) -> None:
    """Set what the flags say. `explicit`: with --from, the flags given (the others keep the
    image's values); None: every flag counts."""
    if args.prompt is not None:
        request.prompt = args.prompt
    for dest, name in _DEFAULTED:
        if explicit is None or dest in explicit:
            setattr(request, name, getattr(args, dest))
    for dest, name in _OPTIONAL:
        value = getattr(args, dest)
        if value is not None:
            setattr(request, name, value)
    if args.restore_faces:
        request.restore_faces = True
    if args.tiling:
        request.tiling = True
    if _hires_wanted(args):
        request.enable_hr = True
    if args.denoise is not None:
        request.denoising_strength = args.denoise


class _Lists:
    """The server's lists, each fetched once and only when a flag needs it."""

    def __init__(self, client: SDClient) -> None:
        self.client = client
        self._got: dict[str, list[Any]] = {}

    def preset(self, name: str, items: Sequence[Any]) -> None:
        """A list already known (fetched with the server's facts): not asked for again."""
        self._got[name] = list(items)

    async def get(self, name: str) -> list[Any]:
        if name not in self._got:
            self._got[name] = list(await getattr(self.client, name)())
        return self._got[name]

    async def offered(self, name: str) -> list[Any] | None:
        """The list, or None where the server has no such list (an older or compatible one)."""
        from sdtui.api import ApiError, is_unsupported

        try:
            return await self.get(name)
        except ApiError as exc:
            if is_unsupported(exc):
                return None
            raise


def _pick_styles(wanted: Sequence[str], styles: Sequence[PromptStyle]) -> list[str]:
    """The server's names for the styles asked for (ignoring case); BadArgument for one it does
    not have, naming the close ones."""
    import difflib

    names = [s.name for s in styles]
    by_lower = {n.lower(): n for n in names}
    picked = []
    for name in wanted:
        found = by_lower.get(name.strip().lower())
        if found is None:
            close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
            close += [n for n in names if name.lower() in n.lower() and n not in close]
            shown = one_line(name, 60)
            if close:
                raise BadArgument(f"unknown style '{shown}'; did you mean: {', '.join(close[:5])}")
            raise BadArgument(
                f"unknown style '{shown}'; the server has: {', '.join(names) or 'none'}"
            )
        picked.append(found)
    return picked


async def _resolve_names(
    lists: _Lists, args: argparse.Namespace, request: GenerationRequest
) -> None:
    """The server's own names for what the flags name: an unknown one is a CliError listing
    the server's names. (Names from --from's image are fitted by engine.reuse.fit_to_server.)"""
    from sdtui.engine.names import (
        UnknownName,
        match_model,
        match_name,
        match_sampler,
        match_scheduler,
    )

    try:
        if args.style:
            styles = await lists.offered("prompt_styles")
            if styles is None:
                raise CliError("this server offers no styles (no /sdapi/v1/prompt-styles)")
            request.styles = _pick_styles(args.style, styles)
        if args.sampler:
            request.sampler_name = match_sampler(args.sampler, await lists.get("samplers"))
        if args.scheduler:
            request.scheduler = match_scheduler(args.scheduler, await lists.get("schedulers"))
        if args.hr_sampler:
            request.hr_sampler_name = match_sampler(args.hr_sampler, await lists.get("samplers"))
        if args.hr_upscaler:
            latent = await lists.offered("latent_upscale_modes") or []
            upscalers = await lists.offered("upscalers") or []
            names = [*latent, *(u.name for u in upscalers if u.name and u.name != "None")]
            request.hr_upscaler = (
                match_name(args.hr_upscaler, "hires upscaler", names) if names else args.hr_upscaler
            )
        if args.model:
            request.model = match_model(args.model, await lists.get("sd_models"))
        if args.refiner:
            request.refiner_checkpoint = match_model(args.refiner, await lists.get("sd_models"))
        if request.refiner_checkpoint and request.refiner_switch_at is None:
            request.refiner_switch_at = 0.8  # the web UI's default
        if args.vae:
            overrides = dict(request.override_settings or {})
            vaes = await lists.offered("sd_vaes")
            if vaes is None:
                overrides["sd_vae"] = args.vae  # no list to check against: the server decides
            else:
                names = ["Automatic", "None", *(v.model_name for v in vaes)]
                overrides["sd_vae"] = match_name(args.vae, "VAE", names)
            request.override_settings = overrides
    except UnknownName as exc:
        raise CliError(exc.message) from None


async def _facts_for_image(lists: _Lists) -> ServerFacts:
    """The server's lists an image's names are fitted to (empty where it has no such list)."""
    from sdtui.engine.server import ServerFacts

    return ServerFacts(
        samplers=await lists.offered("samplers") or [],
        schedulers=await lists.offered("schedulers") or [],
        models=await lists.offered("sd_models") or [],
        upscalers=await lists.offered("upscalers") or [],
        latent_upscale_modes=await lists.offered("latent_upscale_modes") or [],
        vaes=await lists.offered("sd_vaes") or [],
    )


def _drop_overridden(reused: Reused, args: argparse.Namespace) -> None:
    """Names the flags give replace the image's: those are not looked for on the server."""
    request = reused.request
    if args.model:
        reused.model_name = reused.model_hash = None
    if args.vae:
        reused.vae = None
    for flag, field in (
        ("sampler", "sampler_name"),
        ("scheduler", "scheduler"),
        ("hr_sampler", "hr_sampler_name"),
        ("hr_upscaler", "hr_upscaler"),
        ("refiner", "refiner_checkpoint"),
    ):
        if getattr(args, flag):
            setattr(request, field, None)


def _img2img(
    request: GenerationRequest,
    args: argparse.Namespace,
    inputs: _Inputs,
    reused: Reused | None,
    explicit: set[str],
) -> GenerationRequest:
    """The img2img job for --init-image: the image's own size unless one was given (one side
    given: the other from the init image's shape)."""
    from sdtui.engine.img2img import INPAINT_AREAS, RESIZE_MODES, img2img_request

    assert inputs.init is not None
    fields: dict[str, Any] = dict(reused.img2img) if reused is not None else {}
    if request.enable_hr:
        _warn("the image's hires fix is left out: img2img has none")
        request.enable_hr = False
        if args.denoise is None:
            request.denoising_strength = None  # the hires pass's, not an img2img strength
    if args.denoise is not None:
        fields["denoising_strength"] = args.denoise
    if args.resize_mode:
        fields["resize_mode"] = RESIZE_MODES[args.resize_mode]
    if inputs.mask is None:
        for name in _MASK_FIELDS:
            fields.pop(name, None)
    else:
        if args.mask_blur is not None:
            fields["mask_blur"] = args.mask_blur
        if args.inpaint_area:
            fields["inpaint_full_res"] = INPAINT_AREAS[args.inpaint_area]
        if args.invert_mask:
            fields["inpainting_mask_invert"] = 1
    init = inputs.init
    width_given, height_given = "width" in explicit, "height" in explicit
    size_given = (reused is not None and "Size" in reused.read) or (width_given and height_given)
    if not size_given and (width_given or height_given):
        # One side given: the other follows the init image's shape.
        top, low = int(limits.LIMITS["width"].maximum), int(limits.LIMITS["width"].minimum)
        if width_given:
            side = request.width * init.height / init.width
        else:
            side = request.height * init.width / init.height
        rounded = min(top, max(low, round(side / 8) * 8))
        if width_given:
            request.height = rounded
        else:
            request.width = rounded
        size_given = True
    return img2img_request(request, init, mask=inputs.mask, size_given=size_given, **fields)


async def _prepare_request(
    lists: _Lists, args: argparse.Namespace, inputs: _Inputs, explicit: set[str]
) -> GenerationRequest:
    """The request the flags, --from's image and --init-image describe, in the server's names."""
    from sdtui.api import GenerationRequest
    from sdtui.engine.reuse import fit_to_server, request_from_infotext

    reused = None
    if inputs.from_text is not None:
        styles = await lists.offered("prompt_styles") or []
        reused = request_from_infotext(inputs.from_text, styles=styles)
        if reused.ignored:
            _warn(
                f"--from {strip_control(args.from_file.name, keep_newlines=False)}: "
                f"{reused.ignored_line}"
            )
        if reused.from_img2img and inputs.init is None:
            _warn(
                "the image was made by img2img: without --init-image FILE this makes one "
                "from the prompt alone"
            )
        _drop_overridden(reused, args)
        for line in fit_to_server(reused, await _facts_for_image(lists)):
            _warn(line)
        request = reused.request
        _apply_flags(request, args, explicit)
    else:
        request = GenerationRequest()
        _apply_flags(request, args, None)
    if inputs.init is None and args.denoise is not None and not request.enable_hr:
        raise BadArgument(
            "--denoise is for the hires fix (--hires) and img2img (--init-image FILE)"
        )
    await _resolve_names(lists, args, request)
    if inputs.init is not None:
        return _img2img(request, args, inputs, reused, explicit)
    return request


def _print_outcome(args: argparse.Namespace, outcome: GenerationOutcome) -> None:
    if args.json:
        print(
            json.dumps(
                {
                    "images": [
                        {
                            "path": str(i.path) if i.path else None,
                            "seed": i.seed,
                            "infotext": i.infotext,
                            "error": i.error,
                        }
                        for i in outcome.images
                    ],
                    "interrupted": outcome.interrupted,
                    "expected": outcome.expected,
                    "stopped_early": outcome.cut_short,
                    "summary": outcome.summary(),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for image in outcome.images:
            if image.path is not None:
                print(image.path)
    sys.stdout.flush()
    for error in outcome.errors:
        print(f"sdtui: {one_line(error)}", file=sys.stderr)
    if not outcome.complete:  # fewer images than asked, or interrupted: say how it ended
        print(f"sdtui: {outcome.summary()}", file=sys.stderr)


async def _run_generate(args: argparse.Namespace, settings: Settings, server: ServerProfile) -> int:
    from sdtui.api import ApiError, SDClient
    from sdtui.engine import ServerModel, generate
    from sdtui.store import ImageStore

    _check_flags(args)
    inputs = await asyncio.to_thread(_read_inputs, args)
    explicit = _explicit(args) if args.from_file or args.init_image else set()
    store = ImageStore(settings.output_dir)
    progress = _ProgressLine()
    async with SDClient(server.url, user=server.user, password=server.password) as client:
        stopper = _Stopper(client, progress)

        async def work() -> GenerationOutcome:
            request = await _prepare_request(_Lists(client), args, inputs, explicit)
            stopper.job_sent = True
            return await generate(
                client,
                request,
                store,
                on_progress=stopper.progressed,
                poll_interval=settings.poll_interval,
                previews=False,
                model=ServerModel(),
                server=server.name,
            )

        with stopper.installed():
            stopper.work = task = asyncio.get_running_loop().create_task(work())
            try:
                await asyncio.wait([task])
            finally:
                progress.clear()
            if task.cancelled():  # only the stopper cancels it
                if not stopper.said_why:
                    print("sdtui: stopped", file=sys.stderr)
                return stopper.status
            interrupted = stopper.signum is not None
            try:
                outcome = task.result()
            except ApiError as exc:
                if interrupted:
                    print(f"sdtui: {exc.message}", file=sys.stderr)
                    return stopper.status
                raise CliError(exc.message) from None

    if not outcome.images:
        if interrupted:
            print("sdtui: interrupted before the server made any image", file=sys.stderr)
            return stopper.status
        raise CliError("the server returned no images")
    outcome.interrupted = interrupted
    _print_outcome(args, outcome)
    if interrupted:
        return stopper.status
    return 0 if not outcome.errors and not outcome.cut_short else 1


def cmd_generate(args: argparse.Namespace) -> int:
    settings = resolve_settings(args)
    if args.demo:
        with demo_backend() as url:
            return _generate_on(args, demo_settings(settings, url))
    return _generate_on(args, settings)


def _generate_on(args: argparse.Namespace, settings: Settings) -> int:
    """One server and no sweep: one request, as it always ran; else a job a batch (or a sweep's
    cell) spread over every server."""
    if args.grid and not args.sweep:
        raise BadArgument("--grid draws a sweep: give --sweep FIELD=V1,V2,... too")
    servers = server_profiles(settings)
    if len(servers) == 1 and not args.sweep:
        return asyncio.run(_run_generate(args, settings, servers[0]))
    from sdtui.cli_generate import parse_sweeps, run_jobs

    parse_sweeps(args)  # a bad --sweep: one line, before any file is read or server asked

    return asyncio.run(run_jobs(args, settings, servers))


# -- upscale --------------------------------------------------------------------------------------


def _upscale_options(args: argparse.Namespace) -> Any:
    """The upscale the flags describe (BadArgument for flags that do not go together)."""
    from sdtui.engine.upscale import UpscaleOptions

    if (args.width is None) != (args.height is None):
        raise BadArgument("give both --width and --height (or --scale)")
    to_size = args.width is not None
    if to_size and args.scale is not None:
        raise BadArgument("give --scale or --width/--height, not both")
    if args.no_crop and not to_size:
        raise BadArgument("--no-crop is for --width/--height")
    if args.upscaler_2_visibility is not None and not args.upscaler_2:
        raise BadArgument("--upscaler-2-visibility needs --upscaler-2 NAME")
    visibility = args.upscaler_2_visibility
    if args.upscaler_2 and visibility is None:
        visibility = 0.5
    return UpscaleOptions(
        upscaler=args.upscaler,
        scale=args.scale if args.scale is not None else 2.0,
        width=args.width,
        height=args.height,
        crop=not args.no_crop,
        upscaler_2=args.upscaler_2,
        upscaler_2_visibility=visibility or 0.0,
    )


async def _run_upscale(args: argparse.Namespace, settings: Settings) -> int:
    import dataclasses

    from sdtui.api import ApiError, SDClient
    from sdtui.engine.names import UnknownName, match_name
    from sdtui.engine.upscale import upscale_files
    from sdtui.store import ImageStore

    options = _upscale_options(args)
    server = first_server(settings)
    store = ImageStore(settings.output_dir)
    async with SDClient(server.url, user=server.user, password=server.password) as client:
        try:
            offered = await _Lists(client).offered("upscalers")
            if offered is not None:
                names = [u.name for u in offered if u.name]
                options = dataclasses.replace(
                    options,
                    upscaler=match_name(options.upscaler, "upscaler", names),
                    upscaler_2=match_name(options.upscaler_2, "upscaler", names)
                    if options.upscaler_2
                    else None,
                )
            results = await upscale_files(client, args.files, options, store)
        except UnknownName as exc:
            raise CliError(exc.message) from None
        except ApiError as exc:
            raise CliError(exc.message) from None
    status = 0
    for result in results:
        if result.path is not None:
            print(result.path)
    sys.stdout.flush()
    for result in results:
        if result.error:
            _warn(result.error)
            status = 1
    return status


def cmd_upscale(args: argparse.Namespace) -> int:
    settings = resolve_settings(args)
    if args.demo:
        with demo_backend() as url:
            return asyncio.run(_run_upscale(args, demo_settings(settings, url)))
    return asyncio.run(_run_upscale(args, settings))


# -- info -----------------------------------------------------------------------------------------


def _postprocessing(data: bytes) -> str | None:
    """A PNG's `postprocessing` text (the web UI's extras write it), or None."""
    from sdtui.images.png import ImageDataError, read_text_chunks

    if not data.startswith(b"\x89PNG"):
        return None
    try:
        return read_text_chunks(data).get("postprocessing") or None
    except ImageDataError:
        return None


def cmd_info(args: argparse.Namespace) -> int:
    from sdtui.images.convert import read_parameters
    from sdtui.images.infotext import parse_infotext
    from sdtui.images.png import ImageDataError

    status = 0
    records: list[dict[str, Any]] = []
    for n, path in enumerate(args.files):
        try:
            data = path.read_bytes()
            text = read_parameters(data)
        except OSError as exc:
            print(f"sdtui: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
            status = 1
            continue
        except ImageDataError as exc:
            print(f"sdtui: {path}: {one_line(str(exc))}", file=sys.stderr)
            status = 1
            continue
        if args.json:
            record: dict[str, Any] = {"path": str(path), "parameters": text}
            if text is not None:
                parsed = parse_infotext(text)
                record.update(
                    prompt=parsed.prompt,
                    negative_prompt=parsed.negative_prompt,
                    params=parsed.params,
                )
            postprocessing = _postprocessing(data)
            if postprocessing:
                record["postprocessing"] = postprocessing  # what extras did to it
            records.append(record)
            continue
        if len(args.files) > 1:
            print(("\n" if n else "") + f"== {strip_control(str(path), keep_newlines=False)}")
        if text is None:
            print("(no generation parameters stored)")
        else:
            print(strip_control(text))
    if args.json:  # always an array, so scripts read one file and many the same way
        print(json.dumps(records, ensure_ascii=False, indent=2))
    return status


# -- serve-demo -----------------------------------------------------------------------------------


def cmd_serve_demo(args: argparse.Namespace) -> int:
    from sdtui.demo import DemoServer

    try:
        server = DemoServer(
            args.host, args.port, step_delay=args.step_delay, api_auth=args.api_auth
        )
        print(
            f"sdtui demo server on http://{args.host}:{args.port} (Ctrl-C stops it)",
            file=sys.stderr,
        )
        server.serve_forever()
    except ValueError as exc:  # a malformed --api-auth
        raise CliError(f"{exc} (expected --api-auth USER:PASS[,USER2:PASS2])") from None
    except OSError as exc:
        raise CliError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc} "
            "(is another server using that port? try --port)"
        ) from None
    except KeyboardInterrupt:
        pass
    return 0


# -- the TUI --------------------------------------------------------------------------------------


def cmd_tui(args: argparse.Namespace) -> int:
    settings = resolve_settings(args)
    if not args.demo:
        server_profiles(settings)  # a --url that names nothing: one line, before the UI starts
    # Importing and composing the UI allocates a great deal and frees almost nothing: collections
    # then only cost start-up time. The app turns them back on once its first frame is painted.
    gc.disable()
    from sdtui.ui.app import run_app

    if args.demo:
        with demo_backend() as url:
            return run_app(demo_settings(settings, url), demo=True)
    return run_app(settings)


def _quiet_broken_pipe() -> int:
    """The reader of stdout went away (`sdtui info *.png | head`): stop quietly, as Python's docs
    advise, pointing stdout at devnull so the final flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return BROKEN_PIPE_STATUS


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:
            sys.stdout.flush()  # --help into a closed pipe fails here, not at exit
            raise
        args.argv = list(argv) if argv is not None else sys.argv[1:]
        handlers = {
            "generate": cmd_generate,
            "info": cmd_info,
            "history": cmd_history,
            "serve-demo": cmd_serve_demo,
            "servers": _cmd_servers,
            "upscale": cmd_upscale,
        }
        try:
            status = handlers.get(args.command, cmd_tui)(args)
        except CliError as exc:
            print(f"sdtui: {one_line(str(exc), 600)}", file=sys.stderr)
            status = exc.status
        except KeyboardInterrupt:
            print("sdtui: stopped", file=sys.stderr)
            status = 130
        sys.stdout.flush()
    except BrokenPipeError:
        return _quiet_broken_pipe()
    return status
