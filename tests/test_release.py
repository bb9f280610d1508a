"""Large query results are freed off the calling thread, a slice at a time."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from sdtui.store import release
from sdtui.store.release import release_later


class Row:
    """A stand-in for a history row that says where it was freed."""

    freed_on: set[str] = set()

    def __del__(self) -> None:
        Row.freed_on.add(threading.current_thread().name)


def test_a_large_list_and_its_map_are_freed_in_the_background() -> None:
    Row.freed_on = set()
    rows = [Row() for _ in range(release.SMALL * 3)]
    by_id = {id(r): r for r in rows}
    probe = weakref.ref(rows[-1])
    release_later(by_id, rows)
    del rows, by_id
    deadline = time.monotonic() + 10
    while probe() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    gc.collect()
    assert probe() is None
    assert Row.freed_on == {"sdtui-release"}


def test_a_container_still_used_elsewhere_is_left_alone() -> None:
    kept = [Row() for _ in range(release.SMALL)]
    release_later(kept)
    time.sleep(release.WAIT_TRIES * release.WAIT_S + 0.3)
    assert len(kept) == release.SMALL  # not emptied under its holder


def test_small_containers_are_not_handed_over() -> None:
    small = [1, 2, 3]
    release_later(small)
    time.sleep(0.1)
    assert small == [1, 2, 3]
