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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, cast

from textual.binding import Binding, BindingType

Scope = Literal[
    "app", "main", "prompt", "complete", "history", "list", "queue", "full", "dialog", "styles"
]

SCOPE_TITLES: dict[Scope, str] = {
    "main": "Anywhere on the main screen",
    "prompt": "In the prompt editors",
    "complete": "While the completion list is open",
    "styles": "In the styles dialog",
    "history": "In the history",
    "list": "In the history list",
    "queue": "In the queue panel",
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
    narrow: bool = True  # kept in a footer too narrow for every key (the rest: f1 lists them)


# One action a line: binding id, Textual action, default key(s) ("-": palette only), footer label,
# flags, help. Flags: ! runs before the focused widget (priority), h not in the footer, x not in
# the palette, w left out of a footer too narrow for every key. Columns are two or more spaces apart.
_TABLE = """
[main]
generate             generate         ctrl+g           Generate            !    Send the form to the server; while a job runs, the new one queues behind it
interrupt            interrupt        f2               Interrupt           !    Stop the running job: the images made so far are kept and saved
skip                 skip             ctrl+n           Skip                !w   End the current batch and start the next (batch count > 1)
reuse                reuse            ctrl+r           Reuse               !w   Load the parameters of the image in view into the form
last_seed            last_seed        ctrl+s           Last seed           !h   Put the seed of the image in view into the form
random_seed          random_seed      ctrl+l           Random seed         !h   Set the seed to -1 (random)
swap_size            swap_size        ctrl+t           Swap W×H            !h   Swap width and height
full_view            full_view        ctrl+o           Full view           !w   Show the image in view full-screen, with its parameters
focus_history        focus_history    ctrl+f           History             !    Go to the history list
toggle_queue         toggle_queue     ctrl+j           Queue               !    Open the queue panel: every job, waiting, running and ended (again: close it)
focus_prompt         focus_prompt     escape           Prompt              h    Back to the prompt (in the history: clear the search first)
next_image           step_image(1)    alt+right        Next image          !h   Next image of the batch in view
previous_image       step_image(-1)   alt+left         Previous image      !h   Previous image of the batch in view
save_as              save_as          f3               Save as…            !h   Save images that could not be saved into another folder
show_keys            show_keys        f1               Keys                !    List every key
cancel_queued        cancel_queued    -                Cancel queued jobs  h    Drop every job waiting behind the running one
reconnect            reconnect        -                Reconnect           h    Ask the server again for its models and samplers
reload_history       reload_history   -                Reload history      h    Read the output folder again
undo_fill            undo_fill        f5               Undo fill           !h   Put the form back as it was before an image's parameters were loaded or pasted into it
clear_init           clear_init       f8               txt2img             !h   Clear the init image: the form sends txt2img again
img2img_file         img2img_file     -                img2img from file…  h    Use an image file as the init image (img2img), by its path
use_init             use_init         -                Use as init image   h    Use the image in view as the init image (img2img)
upscale              upscale          -                Upscale…            h    Upscale the image in view through the server's extras; the result joins the history
clear_overrides      clear_overrides  -                Drop kept settings  h    Drop the settings an image's parameters brought that have no field (ENSD, RNG, seed resize...)
png_info             png_info         f4               PNG Info            !h   Open an image file by path, read its parameters and load them into the form
pick_styles          pick_styles      f9               Styles              !h   Pick the server's styles for the job, in the order they apply
complete_prompt      complete_prompt  -                Complete            h    Offer the server's LoRAs and embeddings at the prompt's cursor
pause_queue          pause_queue      -                Pause queue         h    Pause the queue (no new job starts; running ones finish), or resume it
queue_model          queue_model      -                Job checkpoint…     h    Give the job highlighted in the queue panel a checkpoint of its own
[prompt]
prompt.weight_up     weight(1)        ctrl+up,alt+up   Weight +            hx   Raise the weight of the LoRA tag, (emphasis) or word at the cursor (or the selection)
prompt.weight_down   weight(-1)       ctrl+down,alt+down  Weight -         hx   Lower the weight of the LoRA tag, (emphasis) or word at the cursor (or the selection)
prompt.complete      complete         ctrl+@           Complete            hx   Offer the server's LoRAs and embeddings for the word at the cursor
[complete]
complete.next        next             down             Next                hx   Next suggestion
complete.previous    previous         up               Previous            hx   Previous suggestion
complete.accept      accept           enter,tab        Accept              hx   Put the suggestion into the prompt
complete.close       close            escape           Close               hx   Close the list, keeping what was typed
[app]
command_palette      command_palette  ctrl+p           palette             !hx  The command palette: every action that applies now, themes, screenshot
quit                 quit             ctrl+q           Quit                !    Quit (asks first while a job runs)
[history]
history.reuse        reuse            l                Load                x    Load the entry's parameters into the form
history.rerun        rerun            r                Re-run              x    Generate the entry again (same seed)
history.copy_seed    copy_seed        c                Seed                x    Copy the entry's seed
history.copy_path    copy_path        y                Path                x    Copy the entry's file path
history.delete       delete           d,delete         Delete              x    Move the entry's file to the trash (asks first; Undo delete puts it back)
history.undo_delete  undo_delete      u                Undo delete         h    Put back the file deleted last in this session
history.empty_trash  empty_trash      -                Empty trash         h    Delete the files in the trash for good (asks first, with the count)
history.star         star             s                Star                xw   Star or unstar the entry (is:fav lists the starred)
history.copy_folder  copy_folder      o                Folder              xhw  Copy the entry's folder path
history.search       search           slash            Search              x    Search as you type: words, model:, since:, until:, size:WxH, is:fav, sort:oldest
history.use_init     screen.use_init  i                img2img             x    Use the entry as the init image (img2img)
history.upscale      screen.upscale   U                Upscale…            x    Upscale the entry through the server's extras; the result is saved beside it
history.leave        leave            escape           Back                hx   Clear the search, then back to the prompt
[list]
history.cursor_up    cursor_up        up               Up                  hx   Previous entry
history.cursor_down  cursor_down      down             Down                hx   Next entry
history.page_up      page_up          pageup           Page up             hx   A page up
history.page_down    page_down        pagedown         Page down           hx   A page down
history.first        first            home             First               hx   Newest entry
history.last         last             end              Last                hx   Oldest entry
history.open         select           enter            Open                hx   Full view of the entry
[queue]
queue.cancel         cancel           x,delete         Cancel              x    Cancel the waiting job; a running one is interrupted (the images made so far are saved)
queue.edit           edit             e                Edit                x    Take the waiting job out of the queue and into the form
queue.pause          pause            p,space          Pause               x    Pause the whole queue (running jobs finish, no new one starts), or resume it
queue.move_up        move(-1)         shift+up,K       Up                  x    Move the waiting job one place up: it starts sooner
queue.move_down      move(1)          shift+down,J     Down                x    Move the waiting job one place down
queue.top            move_top         t                Top                 x    Move the waiting job to the top: it starts next
queue.duplicate      duplicate        d                Duplicate           x    Queue the same job again, right behind it
queue.retry          retry            r                Retry               x    Queue a failed, cancelled or interrupted job again
queue.model          model            m                Checkpoint          x    Give the waiting job a checkpoint of its own (sent as override_settings), or the server's again
queue.clear          clear            c                Clear ended         x    Take the ended jobs off the list
queue.cursor_up      cursor_up        up               Up                  hx   Previous job
queue.cursor_down    cursor_down      down             Down                hx   Next job
queue.page_up        page_up          pageup           Page up             hx   A page up
queue.page_down      page_down        pagedown         Page down           hx   A page down
queue.first          first            home             First               hx   First job
queue.last           last             end              Last                hx   Last job
[full]
full.close           app.pop_screen   escape,q,ctrl+o  Close               x    Back to the main screen
full.previous        step(-1)         left,[           Previous            x    Previous image
full.next            step(1)          right,]          Next                x    Next image
[dialog]
dialog.cancel        cancel           escape           Cancel              x    Close the dialog without doing anything
[styles]
styles.apply         apply            enter            Apply               x    Use the ticked styles, in the order they were ticked (space ticks)
"""


def _parse(table: str) -> tuple[ActionSpec, ...]:
    specs: list[ActionSpec] = []
    scope: Scope = "main"
    for line in table.strip().splitlines():
        if line.startswith("["):
            scope = cast(Scope, line.strip("[]"))
            continue
        binding_id, action, key, label, flags, help_text = re.split(r"\s{2,}", line, maxsplit=5)
        specs.append(
            ActionSpec(
                binding_id, action, "" if key == "-" else key, label, help_text, scope,
                show="h" not in flags, priority="!" in flags, palette="x" not in flags,
                narrow="w" not in flags,
            )
        )  # fmt: skip
    return tuple(specs)


ACTIONS: tuple[ActionSpec, ...] = _parse(_TABLE)

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
        "ctrl+up",
        "ctrl+down",
        "alt+up",
        "alt+down",
        "ctrl+@",
    ]
)
"""Keys the prompt editor and the number fields use for editing: an app key must not take them."""

FOCUS_KEYS = {"tab": "focus_next", "shift+tab": "focus_previous"}
"""Textual's keys that move the focus (the screen's own bindings), and the methods they call."""

_SYMBOLS = {"left": "←", "right": "→", "up": "↑", "down": "↓", "slash": "/", "escape": "esc"}
_SYMBOLS["@"] = "space"  # terminals send ctrl+space as ctrl+@ (NUL)


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
    for scope in ("main", "prompt", "complete", "app", "history", "list", "queue", "full",
                  "dialog", "styles"):  # fmt: skip
        for spec in in_scope(scope):
            keys = " / ".join(key_name(k) for k in spec.key.split(",")) if spec.key else "palette"
            lines.append(f"| {SCOPE_TITLES[scope]} | {keys} | {spec.help} | `{spec.id}` |")
    return "\n".join(lines)
