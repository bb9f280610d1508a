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
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdtui import __version__
from sdtui.config import DEFAULT_URL, ConfigError, Settings, config_path, load_settings
from sdtui.text import one_line, strip_control

if TYPE_CHECKING:
    from sdtui.api import ProgressUpdate

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


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


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
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sdtui {__version__}")
    _connection_options(parser)
    parser.add_argument("--theme", help="a Textual theme name (e.g. textual-dark, nord, gruvbox)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gen = commands.add_parser(
        "generate",
        help="generate images without the TUI and print the saved paths",
        description="Generate images and print each saved PNG's path (or JSON with --json).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gen.add_argument("prompt", help="the prompt")
    gen.add_argument("--negative", default="", help="negative prompt")
    gen.add_argument("--steps", type=_positive, default=20)
    gen.add_argument("--seed", type=int, default=-1, help="-1 for a random seed (default)")
    gen.add_argument("--sampler", help="sampler name, e.g. 'Euler a', 'DPM++ 2M'")
    gen.add_argument("--scheduler", help="schedule type, e.g. Karras")
    gen.add_argument("--cfg", type=float, default=7.0, help="CFG scale (default 7.0)")
    gen.add_argument("--width", type=_positive, default=512)
    gen.add_argument("--height", type=_positive, default=512)
    gen.add_argument("--batch-size", type=_positive, default=1, help="images per batch")
    gen.add_argument("--batch-count", type=_positive, default=1, help="number of batches")
    gen.add_argument("--model", help="checkpoint for this job (title, name or hash)")
    gen.add_argument("--json", action="store_true", help="print one JSON object instead of paths")
    _connection_options(gen)

    info = commands.add_parser(
        "info",
        help="print the generation parameters stored in images",
        description="Print the parameters stored in PNG, JPEG or WebP files (the web UI's PNG Info).",
    )
    info.add_argument("files", nargs="+", type=Path)
    info.add_argument("--json", action="store_true")

    serve = commands.add_parser(
        "serve-demo",
        help="run the built-in demo server (an API-compatible stand-in, synthetic images)",
        description="Serve the web UI API with synthetic images, for trying sdtui and other clients.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--step-delay", type=float, default=0.05, help="seconds per sampling step")
    serve.add_argument("--api-auth", help="require HTTP Basic auth, USER:PASS[,USER2:PASS2]")
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


def _match_name(wanted: str, options: dict[str, list[str]], what: str) -> str:
    """Find `wanted` among names (case-insensitive, aliases allowed) or fail listing the choices."""
    lowered = wanted.lower()
    for name, aliases in options.items():
        if lowered == name.lower() or lowered in (a.lower() for a in aliases):
            return name
    choices = ", ".join(sorted(options)) or "none"
    raise CliError(
        f"unknown {what} '{one_line(wanted, 60)}'; the server has: {one_line(choices, 600)}"
    )


async def _run_generate(args: argparse.Namespace, settings: Settings, url: str) -> int:
    from sdtui.api import ApiError, GenerationRequest, SDClient
    from sdtui.engine import ServerModel, generate
    from sdtui.store import ImageStore

    request = GenerationRequest(
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
    store = ImageStore(settings.output_dir)
    progress = _ProgressLine()
    async with SDClient(url, user=settings.user, password=settings.password) as client:
        loop = asyncio.get_running_loop()
        interrupted = False
        pending: set[asyncio.Task[None]] = set()

        def on_sigint() -> None:
            nonlocal interrupted
            if interrupted:
                raise KeyboardInterrupt
            interrupted = True
            progress.clear()
            print(
                "interrupting: the images made so far will be saved (Ctrl-C again to quit)",
                file=sys.stderr,
            )
            task = loop.create_task(client.interrupt())
            pending.add(task)
            task.add_done_callback(pending.discard)

        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            model = ServerModel()
            try:
                if args.sampler:
                    samplers = await client.samplers()
                    request.sampler_name = _match_name(
                        args.sampler, {s.name: s.aliases for s in samplers}, "sampler"
                    )
                if args.scheduler:
                    schedulers = await client.schedulers()
                    request.scheduler = _match_name(
                        args.scheduler,
                        {s.label: [s.name] for s in schedulers},
                        "scheduler",
                    )
                if args.model:
                    models = await client.sd_models()
                    request.model = _match_name(
                        args.model,
                        {m.title: [m.model_name, m.hash or "", m.sha256 or ""] for m in models},
                        "model",
                    )
                outcome = await generate(
                    client,
                    request,
                    store,
                    on_progress=progress,
                    poll_interval=settings.poll_interval,
                    previews=False,
                    model=model,
                )
            except ApiError as exc:
                raise CliError(exc.message) from None
            finally:
                progress.clear()
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)

    saved = [i for i in outcome.images if i.path is not None]
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
                    "interrupted": interrupted,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for image in saved:
            print(image.path)
    for error in outcome.errors:
        print(f"sdtui: {one_line(error)}", file=sys.stderr)
    if not outcome.images:
        raise CliError("the server returned no images")
    return 0 if not outcome.errors else 1


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
    if args.json:
        payload: Any = records if len(args.files) > 1 else (records[0] if records else None)
        print(json.dumps(payload, ensure_ascii=False, indent=2))
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"generate": cmd_generate, "info": cmd_info, "serve-demo": cmd_serve_demo}
    try:
        return handlers.get(args.command, cmd_tui)(args)
    except CliError as exc:
        print(f"sdtui: {one_line(str(exc), 600)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sdtui: stopped", file=sys.stderr)
        return 130
