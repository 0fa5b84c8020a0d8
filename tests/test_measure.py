"""course_utils.measure."""

from __future__ import annotations

import time

from course_utils.measure import best_time


def test_best_time_is_the_minimum_and_excludes_before():
    delays = iter([0.03, 0.01, 0.02])
    calls = []
    seconds = best_time(lambda: time.sleep(next(delays)), repeats=3, before=lambda: (calls.append(1), time.sleep(0.05)))
    assert len(calls) == 3
    assert 0.009 <= seconds < 0.02
