"""Dropping large query results off the UI thread.

Freeing a list of 100,000 history rows (each a row object, a `Path` and a few strings) takes
~70 ms of deallocation wherever the last reference goes, and a deallocation holds the GIL from
start to end. `release_later` hands the containers to one background thread that empties them a
slice at a time, letting other threads (the event loop) in between slices.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any

#: Items freed between two chances for other threads to run (~2-4 ms of deallocation).
SLICE = 4000
#: Containers smaller than this are cheap to free where they are.
SMALL = 2000
#: How long a container may stay referenced elsewhere before it is left to its other holder.
WAIT_TRIES, WAIT_S = 50, 0.02

_queue: queue.SimpleQueue[list[Any] | dict[Any, Any]] = queue.SimpleQueue()
_started = threading.Lock()
_thread: threading.Thread | None = None


def _reaper() -> None:
    while True:
        item = _queue.get()
        # This frame's reference and getrefcount's argument: anything more is someone else's
        # (the caller's frame for a moment, as it returns), and a container still in use must
        # not be emptied under them.
        for _ in range(WAIT_TRIES):
            if sys.getrefcount(item) <= 2:
                break
            time.sleep(WAIT_S)
        else:
            del item
            continue
        if isinstance(item, dict):
            while item:
                for _ in range(min(SLICE, len(item))):
                    item.popitem()
                time.sleep(0)
        else:
            while item:
                del item[-SLICE:]
                time.sleep(0)
        del item


def release_later(*containers: list[Any] | dict[Any, Any]) -> None:
    """Give up these containers: large ones are emptied, a slice at a time, in a background
    thread (the caller must hold no other reference to them). Dicts go first, so the objects a
    list and a dict share are freed from the list, once."""
    global _thread
    big = [c for c in containers if len(c) >= SMALL]
    if not big:
        return
    with _started:
        if _thread is None:
            _thread = threading.Thread(target=_reaper, name="sdtui-release", daemon=True)
            _thread.start()
    for container in sorted(big, key=lambda c: not isinstance(c, dict)):
        _queue.put(container)
