"""The UI layer's shape, held: a small app shell, files a reader can take in, no work in the app.

(The layers themselves, widgets never importing screens or the app, are an import-linter
contract in pyproject.toml.)"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import sdtui.ui
from sdtui.ui.app import SdtuiApp

UI = Path(sdtui.ui.__file__).parent


def test_the_app_is_a_small_shell_and_no_ui_file_sprawls() -> None:
    sizes = {
        p.relative_to(UI).as_posix(): len(p.read_text().splitlines()) for p in UI.rglob("*.py")
    }
    assert sizes["app.py"] <= 200
    too_long = {
        name: n for name, n in sizes.items() if n > 350 and name != "widgets/history_list.py"
    }
    assert not too_long


def test_the_app_has_no_worker_and_no_handler_for_a_widgets_message() -> None:
    tree = ast.parse(inspect.getsource(SdtuiApp))
    [cls] = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        decorators = [ast.unparse(d) for d in node.decorator_list]
        assert not any(d.startswith(("work", "on(")) for d in decorators), node.name
        if node.name.startswith("on_") and node.name not in (
            "on_mount",
            "on_ready",
            "on_unmount",
            "on_worker_state_changed",  # the one funnel for every worker's failure
        ):
            raise AssertionError(f"the app handles a message itself: {node.name}")
