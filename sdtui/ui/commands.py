"""The command palette's actions: every registry action that applies now, with its key.

Only what would do something is offered (no Interrupt while idle, no Save as… with everything
saved), as the screen's `check_action` says; each entry names its key from the active keymap.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.actions import parse
from textual.command import DiscoveryHit, Hit, Hits, Provider

from sdtui.ui.actions import ACTIONS, ActionSpec, KeyMap


class ActionCommands(Provider):
    def _offered(self) -> Iterator[tuple[ActionSpec, str]]:
        screen = self.screen
        keys: KeyMap | None = getattr(getattr(screen, "context", None), "keys", None)
        if keys is None:
            return  # a screen without our actions (the full view, a dialog)
        for spec in ACTIONS:
            if not spec.palette:
                continue
            if spec.scope in ("main", "history"):
                # History actions in the palette run on the screen's history panel.
                target = screen if spec.scope == "main" else getattr(screen, "history", None)
                _, name, params = parse(spec.action)
                if target is None or target.check_action(name, params) is not True:
                    continue
            elif spec.scope != "app":
                continue
            yield spec, keys.label(spec.id)

    def _run(self, spec: ActionSpec) -> None:
        namespace = self.app if spec.scope == "app" else self.screen
        if spec.scope == "history":
            namespace = getattr(self.screen, "history", self.screen)
        self.app.call_later(self.app.run_action, spec.action, namespace)

    async def discover(self) -> Hits:
        for spec, title in self._offered():
            yield DiscoveryHit(title, partial(self._run, spec), help=spec.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec, title in self._offered():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, spec), help=spec.help)
