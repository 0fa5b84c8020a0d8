"""Small timing helpers for the measurements the notebooks show."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def best_time(
    run: Callable[[], object],
    *,
    repeats: int = 5,
    before: Callable[[], object] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """The shortest wall time of ``repeats`` calls of ``run``, in seconds.

    ``before`` runs ahead of each call, untimed (for example to delete what
    the previous call wrote). The minimum is the figure least disturbed by
    whatever else the machine is doing. ``clock`` reads the time in seconds
    (tests pass a fake one).
    """
    best = math.inf
    for _ in range(repeats):
        if before is not None:
            before()
        start = clock()
        run()
        best = min(best, clock() - start)
    return best
