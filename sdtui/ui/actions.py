"""Every action the TUI offers, in one registry: the keys, the footer, the palette, help, README.

Each `ActionSpec` names a binding id (what `[keys]` in the config remaps), the Textual action it
runs, its default key(s), where it applies and how it is described. Bindings are built from here,
the command palette and the keys panel list from here, the README's key table is generated from
here (a test keeps them equal), and every key name shown to the user is looked up in the active
`KeyMap`, so a remapped key is what the screen tells you to press.

App keys are chosen to be free in the prompt editor and the number fields (Textual's TextArea
and Input bind ctrl+a/e/k/u/w/x/c/v/z/y/d, ctrl+←/→, f6 and f7) and to reach the app over SSH and
through tmux (no ctrl+b, tmux's prefix).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

Scope = Literal["app", "main", "history", "list", "full", "dialog"]

SCOPE_TITLES: dict[Scope, str] = {
    "main": "Anywhere on the main screen",
    "history": "In the history",
    "list": "In the history list",
    "full": "In the full view",
    "dialog": "In a dialog",
    "app": "Everywhere",
}


@dataclass(frozen=True)
class ActionSpec:
    id: str  # binding id: what [keys] remaps
    action: str  # the Textual action it runs
    key: str  # default key(s), comma-separated
    label: str  # the footer's word
    help: str  # one line for the palette, the keys panel and the README
    scope: Scope
    show: bool = True  # in the footer
    priority: bool = False  # before the focused widget (only for keys no editor uses)
    palette: bool = True  # offered in the command palette
    narrow: bool = True  # in the footer under 120 columns too (the rest: f1 lists them)


# fmt: off
ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("generate", "generate", "ctrl+g", "Generate", "Send the form to the server; while a job runs, the new one queues behind it", "main", priority=True),
    ActionSpec("interrupt", "interrupt", "f2", "Interrupt", "Stop the running job: the images made so far are kept and saved", "main", priority=True),
    ActionSpec("skip", "skip", "ctrl+n", "Skip", "End the current batch and start the next (batch count > 1)", "main", priority=True, narrow=False),
    ActionSpec("reuse", "reuse", "ctrl+r", "Reuse", "Load the parameters of the image in view into the form", "main", priority=True, narrow=False),
    ActionSpec("last_seed", "last_seed", "ctrl+s", "Last seed", "Put the seed of the image in view into the form", "main", show=False, priority=True),
    ActionSpec("random_seed", "random_seed", "ctrl+l", "Random seed", "Set the seed to -1 (random)", "main", show=False, priority=True),
    ActionSpec("swap_size", "swap_size", "ctrl+t", "Swap W×H", "Swap width and height", "main", show=False, priority=True),
    ActionSpec("full_view", "full_view", "ctrl+o", "Full view", "Show the image in view full-screen, with its parameters", "main", priority=True, narrow=False),
    ActionSpec("focus_history", "focus_history", "ctrl+f", "History", "Go to the history list", "main", priority=True),
    ActionSpec("focus_prompt", "focus_prompt", "escape", "Prompt", "Back to the prompt (in the history: clear the search first)", "main", show=False),
    ActionSpec("next_image", "step_image(1)", "alt+right", "Next image", "Next image of the batch in view", "main", show=False, priority=True),
    ActionSpec("previous_image", "step_image(-1)", "alt+left", "Previous image", "Previous image of the batch in view", "main", show=False, priority=True),
    ActionSpec("save_as", "save_as", "f3", "Save as…", "Save images that could not be saved into another folder", "main", show=False, priority=True),
    ActionSpec("show_keys", "show_keys", "f1", "Keys", "List every key", "main", priority=True),
    ActionSpec("cancel_queued", "cancel_queued", "", "Cancel queued jobs", "Drop every job waiting behind the running one", "main", show=False),
    ActionSpec("reconnect", "reconnect", "", "Reconnect", "Ask the server again for its models and samplers", "main", show=False),
    ActionSpec("reload_history", "reload_history", "", "Reload history", "Read the output folder again", "main", show=False),
    ActionSpec("command_palette", "command_palette", "ctrl+p", "palette", "The command palette: every action that applies now, themes, screenshot", "app", show=False, priority=True, palette=False),
    ActionSpec("quit", "quit", "ctrl+q", "Quit", "Quit (asks first while a job runs)", "app", priority=True),
    ActionSpec("history.reuse", "reuse", "l", "Load", "Load the entry's parameters into the form", "history", palette=False),
    ActionSpec("history.rerun", "rerun", "r", "Re-run", "Generate the entry again (same seed)", "history", palette=False),
    ActionSpec("history.copy_seed", "copy_seed", "c", "Seed", "Copy the entry's seed", "history", palette=False),
    ActionSpec("history.copy_path", "copy_path", "y", "Path", "Copy the entry's file path", "history", palette=False),
    ActionSpec("history.delete", "delete", "d,delete", "Delete", "Delete the entry's file (asks first)", "history", palette=False),
    ActionSpec("history.search", "search", "slash", "Search", "Search prompts and seeds as you type", "history", palette=False),
    ActionSpec("history.leave", "leave", "escape", "Back", "Clear the search, then back to the prompt", "history", show=False, palette=False),
    ActionSpec("history.cursor_up", "cursor_up", "up", "Up", "Previous entry", "list", show=False, palette=False),
    ActionSpec("history.cursor_down", "cursor_down", "down", "Down", "Next entry", "list", show=False, palette=False),
    ActionSpec("history.page_up", "page_up", "pageup", "Page up", "A page up", "list", show=False, palette=False),
    ActionSpec("history.page_down", "page_down", "pagedown", "Page down", "A page down", "list", show=False, palette=False),
    ActionSpec("history.first", "first", "home", "First", "Newest entry", "list", show=False, palette=False),
    ActionSpec("history.last", "last", "end", "Last", "Oldest entry", "list", show=False, palette=False),
    ActionSpec("history.open", "select", "enter", "Open", "Full view of the entry", "list", show=False, palette=False),
    ActionSpec("full.close", "app.pop_screen", "escape,q,ctrl+o", "Close", "Back to the main screen", "full", palette=False),
    ActionSpec("full.previous", "step(-1)", "left,[", "Previous", "Previous image", "full", palette=False),
    ActionSpec("full.next", "step(1)", "right,]", "Next", "Next image", "full", palette=False),
    ActionSpec("dialog.cancel", "cancel", "escape", "Cancel", "Close the dialog without doing anything", "dialog", palette=False),
)
# fmt: on

BY_ID: dict[str, ActionSpec] = {spec.id: spec for spec in ACTIONS}

EDITOR_KEYS = frozenset(
    [
        "ctrl+a",
        "ctrl+e",
        "ctrl+k",
        "ctrl+u",
        "ctrl+w",
        "ctrl+x",
        "ctrl+c",
        "ctrl+v",
        "ctrl+z",
        "ctrl+y",
        "ctrl+d",
        "ctrl+h",
        "ctrl+left",
        "ctrl+right",
        "ctrl+shift+left",
        "ctrl+shift+right",
        "ctrl+backspace",
        "alt+backspace",
        "ctrl+shift+k",
        "ctrl+shift+a",
        "home",
        "end",
        "pageup",
        "pagedown",
        "f6",
        "f7",
        "up",
        "down",
        "left",
        "right",
        "delete",
        "backspace",
        "enter",
        "tab",
    ]
)
"""Keys the prompt editor and the number fields use for editing: an app key must not take them."""

_SYMBOLS = {"left": "←", "right": "→", "up": "↑", "down": "↓", "slash": "/", "escape": "esc"}


def key_name(key: str) -> str:
    """A key as prose names it: "ctrl+g", "alt+→", "/", "esc"."""
    *mods, last = key.split("+")
    return "+".join([*mods, _SYMBOLS.get(last, last)])


class KeyMap:
    """The defaults with the user's `[keys]` applied: the keys in force, and what was wrong."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self.overrides: dict[str, str] = {}
        self.problems: list[str] = []
        for binding_id, keys in (overrides or {}).items():
            if binding_id not in BY_ID:
                close = difflib.get_close_matches(binding_id, list(BY_ID), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.problems.append(f"[keys] has an unknown binding id '{binding_id}'{hint}")
                continue
            keys = ",".join(k.strip() for k in keys.split(",") if k.strip())
            if not keys:
                self.problems.append(f"[keys] {binding_id} names no key")
                continue
            spec = BY_ID[binding_id]
            taken = [k for k in keys.split(",") if k in EDITOR_KEYS]
            if spec.priority and taken:
                # A key that runs before the focused widget would take an editing key away
                # from the prompt: it is left to the editor.
                self.problems.append(
                    f"[keys] {binding_id} = '{keys}': {taken[0]} edits text in the prompt, "
                    "so it stays the editor's"
                )
                keys = ",".join(k for k in keys.split(",") if k not in EDITOR_KEYS)
                if not keys:
                    continue
            self.overrides[binding_id] = keys

    def keys(self, binding_id: str) -> str:
        return self.overrides.get(binding_id, BY_ID[binding_id].key)

    def name(self, binding_id: str) -> str:
        """The first key of an action as prose shows it ("ctrl+g"); "" for none."""
        first = self.keys(binding_id).split(",")[0]
        return key_name(first) if first else ""

    def label(self, binding_id: str) -> str:
        """ "Generate (ctrl+g)", or the plain label for an action with no key."""
        name = self.name(binding_id)
        spec = BY_ID[binding_id]
        return f"{spec.label} ({name})" if name else spec.label


def bindings(scope: Scope) -> list[BindingType]:
    """The Textual bindings of one scope, with their ids (so the keymap can remap them)."""
    return [
        Binding(
            spec.key,
            spec.action,
            spec.label,
            show=spec.show,
            priority=spec.priority,
            id=spec.id,
            tooltip=spec.help,
        )
        for spec in ACTIONS
        if spec.scope == scope and spec.key
    ]


def in_scope(scope: Scope) -> Iterable[ActionSpec]:
    return (spec for spec in ACTIONS if spec.scope == scope)


def readme_table() -> str:
    """The README's key table (defaults), generated from the registry."""
    lines = ["| where | key | does | binding id |", "|---|---|---|---|"]
    for scope in ("main", "app", "history", "list", "full", "dialog"):
        for spec in in_scope(scope):
            keys = " / ".join(key_name(k) for k in spec.key.split(",")) if spec.key else "palette"
            lines.append(f"| {SCOPE_TITLES[scope]} | {keys} | {spec.help} | `{spec.id}` |")
    return "\n".join(lines)
