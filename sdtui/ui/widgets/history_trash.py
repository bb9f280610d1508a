"""The history's safe delete: files go to a trash folder inside their own root, with an undo.

`TrashActions` is the part of the history panel that deletes (after asking), undoes deletes of
this session (latest first) and empties the trash (after asking, with the count). The file moves
run in thread workers through `Trash`; imported folders refuse unless the config allows it, with
the one line `TrashError` says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.containers import Vertical

from sdtui.store.index import IndexRow
from sdtui.text import one_line
from sdtui.ui.dialogs.choice import ChoiceDialog

if TYPE_CHECKING:
    from sdtui.store.trash import Trashed
    from sdtui.ui.context import AppContext
    from sdtui.ui.widgets.history_list import HistoryList


class TrashActions(Vertical):
    """Delete, undo delete, empty trash: mixed into `HistoryPanel` (which provides the rest)."""

    context: AppContext
    _list: HistoryList
    total: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.undo_stack: list[list[Trashed]] = []
        """What this session deleted, oldest first: `u` puts the latest back."""

    def _update_title(self) -> None:
        raise NotImplementedError

    def ask(self, question: str, confirm: str, then: Callable[[], object]) -> None:
        """A yes/no question in the choice dialog; `then()` runs on yes."""
        choices = [("cancel", "Keep", "default"), ("yes", confirm, "error")]

        def answer(choice: str | None) -> None:
            if choice == "yes":
                then()

        self.app.push_screen(ChoiceDialog(question, choices), answer)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_delete":
            return bool(self.undo_stack) or None
        return True

    def action_delete(self) -> None:
        row = self._list.highlighted_row
        if row is None:
            return
        question = f"Move {one_line(row.path.name, 60)} to the trash?\n{one_line(row.title, 70)}"
        self.ask(question, "Delete", lambda: self._delete(row))

    @work(thread=True, group="delete", exit_on_error=False, description="deleting")
    def _delete(self, row: IndexRow) -> None:
        from sdtui.store.trash import TrashError

        try:
            moved = self.context.trash.delete([row.path])
        except TrashError as exc:
            self.app.call_from_thread(
                self.notify, one_line(str(exc), 200), severity="error", timeout=8
            )
            return
        self.app.call_from_thread(self._deleted, row, moved)

    def _deleted(self, row: IndexRow, moved: list[Trashed]) -> None:
        if row.path in {item.original for item in moved} or not row.path.exists():
            if self._list.row_for(row.path) is not None:
                self._list.remove_path(row.path)
                self.total = max(0, self.total - 1)
            self._update_title()
        if not moved:
            return
        self.undo_stack.append(moved)
        self.refresh_bindings()
        key = self.context.keys.name("history.undo_delete")
        self.notify(f"Moved {one_line(row.path.name, 60)} to the trash · {key} undoes", timeout=8)

    def action_undo_delete(self) -> None:
        if not self.undo_stack:
            self.notify("Nothing deleted in this session to put back", timeout=3)
            return
        self._undo(self.undo_stack.pop())
        self.refresh_bindings()

    @work(thread=True, group="delete", exit_on_error=False, description="undoing a delete")
    def _undo(self, items: list[Trashed]) -> None:
        from sdtui.store.trash import TrashError

        try:
            restored = self.context.trash.undo(items)
        except (TrashError, OSError) as exc:
            self.app.call_from_thread(
                self.notify, f"Cannot put it back: {one_line(str(exc), 160)}", severity="error"
            )
            return
        rows = self.context.index.add(restored)
        self.app.call_from_thread(self._restored, restored, rows)

    def _restored(self, restored: list[Path], rows: list[IndexRow]) -> None:
        if not restored:
            self.notify("The file is no longer in the trash", severity="warning", timeout=4)
            return
        self.restored(rows)
        names = ", ".join(one_line(p.name, 40) for p in restored[:3])
        self.notify(f"Put back {names}", timeout=3)

    def restored(self, rows: list[IndexRow]) -> None:
        """Rows back from the trash: shown again (the panel decides how)."""
        raise NotImplementedError

    def action_empty_trash(self) -> None:
        self._count_trash()

    @work(thread=True, group="trash", exit_on_error=False, description="counting the trash")
    def _count_trash(self) -> None:
        count = self.context.trash.trash_count()
        self.app.call_from_thread(self._confirm_empty, count)

    def _confirm_empty(self, count: int) -> None:
        if not count:
            self.notify("The trash is empty", timeout=3)
            return
        files = "1 file" if count == 1 else f"{count:,} files"
        question = f"Empty the trash: delete {files} for good?\nThis cannot be undone."
        self.ask(question, "Empty trash", self._empty)

    @work(thread=True, group="trash", exit_on_error=False, description="emptying the trash")
    def _empty(self) -> None:
        try:
            removed = self.context.trash.empty()
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, f"Cannot empty the trash: {one_line(str(exc))}", severity="error"
            )
            return
        self.app.call_from_thread(self._emptied, removed)

    def _emptied(self, removed: int) -> None:
        self.undo_stack.clear()
        self.refresh_bindings()
        files = "1 file" if removed == 1 else f"{removed:,} files"
        self.notify(f"Emptied the trash: {files} deleted for good", timeout=4)
