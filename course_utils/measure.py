"""Small timing helpers for the measurements the notebooks show."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def best_time(run: Callable[[], object], *, repeats: int = 5, before: Callable[[], object] | None = None) -> float:
    """The shortest wall time of ``repeats`` calls of ``run``, in seconds.

    ``before`` runs ahead of each call, untimed (for example to delete what
    the previous call wrote). The minimum is the figure least disturbed by
    whatever else the machine is doing.
    """
    best = math.inf
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best
