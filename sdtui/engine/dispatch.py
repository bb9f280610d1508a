"""Spreading work over servers: a batch count becomes one job per batch.

The web UI runs a batch count of N as N batches, one after another, on one server. Split into N
jobs of one batch each, the queue runs them on every free server at once, and a fast server
takes more of them than a slow one. Each job is given the seeds that batch would have had on one
server, so the images are the same ones, whichever server makes them.
"""

from __future__ import annotations

import dataclasses
import random

from sdtui.api import GenerationRequest

#: A random seed is drawn below this, as the web UI's `get_fixed_seed` does.
SEED_BOUND = 4294967294


def split_batch(
    request: GenerationRequest, rng: random.Random | None = None
) -> list[GenerationRequest]:
    """One request per batch of `request`'s batch count (`n_iter`), each with `n_iter=1`.

    Seeds follow the web UI's: image `k` of the whole run has seed `base + k`, so batch `i` starts
    at `base + i * batch_size` (`base` is the request's seed, or one random seed drawn here for
    all when it is -1). With a variation (`subseed_strength` > 0) the web UI keeps the seed and
    steps the variation seed instead: then each batch has the same seed and subseed `sub + i *
    batch_size`. A batch count of 1 returns `[request]` as it is (a random seed stays -1 for the
    server to draw). No part keeps a `force_task_id`: a task id names one task."""
    count = request.n_iter
    if count <= 1:
        return [request]
    draw = rng if rng is not None else random.Random()
    size = max(1, request.batch_size)
    base = request.seed if request.seed >= 0 else draw.randrange(SEED_BOUND)
    varied = (request.subseed_strength or 0) > 0
    sub = request.subseed
    if varied and (sub is None or sub < 0):
        sub = draw.randrange(SEED_BOUND)
    parts = []
    for i in range(count):
        step = i * size
        parts.append(
            dataclasses.replace(
                request,
                n_iter=1,
                seed=base if varied else base + step,
                subseed=sub + step if varied and sub is not None else request.subseed,
                force_task_id=None,
            )
        )
    return parts
