"""`sdtui servers`: whether each server answers, what it runs now and what it offers.

Every server is asked at once (the config's `[servers.*]`, or those `--url` names). The listing is
one block a server for people, or with --json one array, an object a server with a `server` key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sdtui.cli import demo_backend, demo_settings, resolve_settings, server_profiles
from sdtui.config import ServerProfile
from sdtui.text import strip_control

if TYPE_CHECKING:
    from sdtui.api import ProgressUpdate
    from sdtui.engine.server import ServerFacts

SERVERS_DESCRIPTION = """\
Ask every server at once whether it answers, which model it has loaded, whether it is busy and
what it offers (models, samplers, schedulers, upscalers, styles, VAEs).

The servers are those --url names (repeatable: URLs or the config's [servers.NAME] tables), else
every [servers.NAME] table in the config, else its url.
exit status: 0 every server answers, 1 one or more does not, 2 bad arguments."""


@dataclass
class _Report:
    profile: ServerProfile
    facts: ServerFacts | None = None
    busy: ProgressUpdate | None = None
    error: str | None = None


async def _ask(profile: ServerProfile) -> _Report:
    from sdtui.api import ApiError, SDClient
    from sdtui.engine.server import fetch_server_facts

    report = _Report(profile)
    async with SDClient(profile.url, user=profile.user, password=profile.password) as client:
        try:
            report.facts = await fetch_server_facts(client)
        except ApiError as exc:
            report.error = exc.message
            return report
        try:
            update = await client.progress(skip_current_image=True)
        except ApiError:
            return report  # answers the lists but not /progress: "busy" stays unknown
        report.busy = update if update.job_count else None
    return report


def _names(facts: ServerFacts) -> dict[str, list[str]]:
    return {
        "models": [m.title for m in facts.models],
        "samplers": [s.name for s in facts.samplers],
        "schedulers": [s.label or s.name for s in facts.schedulers],
        "upscalers": [u.name for u in facts.upscalers if u.name],
        "styles": [s.name for s in facts.styles],
        "vaes": [v.model_name for v in facts.vaes],
    }


def _record(report: _Report) -> dict[str, Any]:
    record: dict[str, Any] = {
        "server": report.profile.name,
        "url": report.profile.url,
        "online": report.facts is not None,
        "error": report.error,
    }
    if report.facts is not None:
        record["model"] = report.facts.model_title
        record["busy"] = report.busy is not None
        record.update(_names(report.facts))
    return record


def _plural(count: int, word: str) -> str:
    return f"{count} {word if count == 1 else word + 's'}"


def _clean(text: str) -> str:
    return strip_control(text, keep_newlines=False)


def _show(report: _Report) -> list[str]:
    profile = report.profile
    clean = _clean
    head = f"{clean(profile.name)}  {clean(profile.url)}"
    if report.facts is None:
        return [f"{head}  offline", f"  {clean(report.error or '')}"]
    facts = report.facts
    state = "busy" if report.busy is not None else "online"
    if report.busy is not None:
        parts = report.busy.describe()
        state += f" ({clean(parts[0])})" if parts else ""
    names = _names(facts)
    lines = [f"{head}  {state}", f"  model: {clean(facts.model_title or 'unknown')}"]
    counts = [
        _plural(len(names["models"]), "model"),
        _plural(len(names["samplers"]), "sampler"),
        _plural(len(names["schedulers"]), "scheduler"),
        _plural(len(names["upscalers"]), "upscaler"),
        _plural(len(names["styles"]), "style"),
        _plural(len(names["vaes"]), "VAE"),
    ]
    lines.append("  " + ", ".join(counts))
    return lines


async def _run(profiles: Sequence[ServerProfile], as_json: bool) -> int:
    reports = await asyncio.gather(*(_ask(profile) for profile in profiles))
    if as_json:
        print(json.dumps([_record(r) for r in reports], ensure_ascii=False, indent=2))
    else:
        for n, report in enumerate(reports):
            if n:
                print()
            print("\n".join(_show(report)))
    sys.stdout.flush()
    return 0 if all(r.facts is not None for r in reports) else 1


def cmd_servers(args: argparse.Namespace) -> int:
    settings = resolve_settings(args)
    if args.demo:
        with demo_backend() as url:
            return asyncio.run(_run(server_profiles(demo_settings(settings, url)), args.json))
    return asyncio.run(_run(server_profiles(settings), args.json))
