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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdtui import __version__
from sdtui.cli_history import add_history_parser, cmd_history
from sdtui.config import DEFAULT_URL, ConfigError, Settings, config_path, load_settings
from sdtui.engine import limits
from sdtui.engine.progress import HeldInterrupt
from sdtui.text import one_line, strip_control

if TYPE_CHECKING:
    from sdtui.api import GenerationRequest, ProgressUpdate
    from sdtui.api.client import SDClient
    from sdtui.engine import GenerationOutcome

GENERATE_DESCRIPTION = """\
Generate images and print each saved PNG's path (or JSON with --json).

Sampler, scheduler and model names are matched ignoring case: exact names, aliases, file names
and hashes first, then a unique prefix (for models also a unique part of the name).

Ctrl-C or SIGTERM interrupts the server's job: the images made so far are saved and their paths
printed, then sdtui exits 130 (SIGINT) or 143 (SIGTERM). A second one quits at once.
exit status: 0 done, 1 failed, 2 bad arguments, 130/143 interrupted, 141 output pipe closed."""

EPILOG = f"""\
examples:
  sdtui --demo                        try everything with the built-in demo server (no GPU)
  sdtui --url http://127.0.0.1:7860   the TUI against a web UI started with --api
  sdtui generate "a red fox at dusk, oil painting" --steps 30 --seed 42
  sdtui generate "lighthouse in a storm" --batch-size 4 --json --url http://gpu-box:7860
  sdtui info ~/Pictures/sdtui/2026-11-25/*.png
  sdtui serve-demo --port 7860        an API-compatible demo server for other clients

settings: command line > environment (SDTUI_URL, SDTUI_USER, SDTUI_PASSWORD, SDTUI_OUT)
          > config file > defaults.  config file: {config_path()}
"""


#: Exit status after a broken pipe (`sdtui info *.png | head`): 128 + SIGPIPE, as tools killed by
#: it report.
BROKEN_PIPE_STATUS = 128 + 13


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1."""


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


def _limited_option(parser: argparse.ArgumentParser, flag: str, field: str) -> None:
    limit = limits.LIMITS[field]
    text = limit.help[:1].lower() + limit.help[1:]  # "Sampling steps (1-150)"
    text = text[:-1] + ", default %(default)s)" if text.endswith(")") else text
    parser.add_argument(flag, type=_limited(field), default=limit.default, metavar="N", help=text)


def _connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server")
    group.add_argument(
        "--url",
        help=f"server URL, may hold a path prefix and user:pass@ (default {DEFAULT_URL})",
    )
    group.add_argument("--demo", action="store_true", help="use the built-in demo server")
    group.add_argument("--user", help="user name for a server started with --api-auth")
    group.add_argument("--password", help="password (prefer SDTUI_PASSWORD: not kept in history)")
    parser.add_argument("--out", type=Path, help="output folder (default: your pictures folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdtui",
        description="A keyboard-driven terminal client for Stable Diffusion web UI servers.",
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sdtui {__version__}")
    _connection_options(parser)
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
    gen.add_argument("prompt", help="the prompt")
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
    _connection_options(gen)

    info = commands.add_parser(
        "info",
        help="print the generation parameters stored in images",
        description="Print the parameters stored in PNG, JPEG or WebP files (the web UI's PNG Info).",
        formatter_class=_HelpFormatter,
    )
    info.add_argument("files", nargs="+", type=Path, help="image files")
    info.add_argument("--json", action="store_true", help="print a JSON array, one object a file")

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


def resolve_settings(args: argparse.Namespace) -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    return settings.merged(
        url=getattr(args, "url", None),
        user=getattr(args, "user", None),
        password=getattr(args, "password", None),
        out=getattr(args, "out", None),
        theme=getattr(args, "theme", None),
        history_dirs=tuple(args.history_dirs) if getattr(args, "history_dirs", None) else None,
    )


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

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        signums = (signal.SIGINT, signal.SIGTERM)
        for signum in signums:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self, signum)
        try:
            yield
        finally:
            for signum in signums:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)


def _request_from_args(args: argparse.Namespace) -> GenerationRequest:
    from sdtui.api import GenerationRequest

    return GenerationRequest(
        prompt=args.prompt,
        negative_prompt=args.negative,
        steps=args.steps,
        seed=args.seed,
        cfg_scale=args.cfg,
        width=args.width,
        height=args.height,
        batch_size=args.batch_size,
        n_iter=args.batch_count,
    )


async def _resolve_names(client: SDClient, args: argparse.Namespace, request: Any) -> None:
    """Turn --sampler, --scheduler and --model into the server's own names (CliError if unknown)."""
    from sdtui.engine.names import UnknownName, match_model, match_sampler, match_scheduler

    try:
        if args.sampler:
            request.sampler_name = match_sampler(args.sampler, await client.samplers())
        if args.scheduler:
            request.scheduler = match_scheduler(args.scheduler, await client.schedulers())
        if args.model:
            request.model = match_model(args.model, await client.sd_models())
    except UnknownName as exc:
        raise CliError(exc.message) from None


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


async def _run_generate(args: argparse.Namespace, settings: Settings, url: str) -> int:
    from sdtui.api import ApiError, SDClient
    from sdtui.engine import ServerModel, generate
    from sdtui.store import ImageStore

    request = _request_from_args(args)
    store = ImageStore(settings.output_dir)
    progress = _ProgressLine()
    async with SDClient(url, user=settings.user, password=settings.password) as client:
        stopper = _Stopper(client, progress)

        async def work() -> GenerationOutcome:
            await _resolve_names(client, args, request)
            stopper.job_sent = True
            return await generate(
                client,
                request,
                store,
                on_progress=stopper.progressed,
                poll_interval=settings.poll_interval,
                previews=False,
                model=ServerModel(),
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
            return asyncio.run(_run_generate(args, settings, url))
    return asyncio.run(_run_generate(args, settings, settings.url))


# -- info -----------------------------------------------------------------------------------------


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
    # Importing and composing the UI allocates a great deal and frees almost nothing: collections
    # then only cost start-up time. The app turns them back on once its first frame is painted.
    gc.disable()
    from sdtui.ui.app import run_app

    if args.demo:
        with demo_backend() as url:
            return run_app(settings.merged(url=url, user="", password=""), demo=True)
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
        handlers = {"generate": cmd_generate, "info": cmd_info, "serve-demo": cmd_serve_demo}
        handlers["history"] = cmd_history
        try:
            status = handlers.get(args.command, cmd_tui)(args)
        except CliError as exc:
            print(f"sdtui: {one_line(str(exc), 600)}", file=sys.stderr)
            status = 1
        except KeyboardInterrupt:
            print("sdtui: stopped", file=sys.stderr)
            status = 130
        sys.stdout.flush()
    except BrokenPipeError:
        return _quiet_broken_pipe()
    return status
