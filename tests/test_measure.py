"""course_utils.measure, on a fake clock: no assertion depends on how busy the machine is."""

from __future__ import annotations

import time

from course_utils.measure import best_time


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_best_time_is_the_minimum_and_excludes_before():
    clock = FakeClock()
    durations = iter([0.03, 0.01, 0.02])
    calls = []

    def before():
        calls.append(1)
        clock.advance(0.05)  # untimed: must not count

    seconds = best_time(lambda: clock.advance(next(durations)), repeats=3, before=before, clock=clock)
    assert len(calls) == 3
    assert abs(seconds - 0.01) < 1e-9


def test_best_time_calls_run_repeats_times():
    calls = []
    best_time(lambda: calls.append(1), repeats=4, clock=FakeClock())
    assert len(calls) == 4


def test_best_time_on_the_real_clock_is_never_shorter_than_the_work():
    # A sleep never ends early; on a loaded machine it may end late, so no upper bound.
    assert best_time(lambda: time.sleep(0.01), repeats=2) >= 0.009
