"""Autograding in the command's own process (``workers=0``): Ctrl-C stops the run and costs nobody a grade."""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil
import pytest
from nbgrader.api import Gradebook

from course_utils.grading import dispatch, gradebook
from course_utils.grading.autograde import autograde

import grading_submissions as subs
from grading_course import ASSIGNMENT, settings_for

pytestmark = pytest.mark.slow


def _interrupt_once_a_kernel_runs() -> threading.Thread:
    """Send this process SIGINT (what Ctrl-C sends) from a thread, once a grading kernel runs under a SIGINT handler.

    Only under a handler other than Python's default, so that a grader
    without one fails this test instead of interrupting the whole session.
    """

    def kernel_runs() -> bool:
        try:
            return any("ipykernel" in " ".join(child.cmdline()) for child in psutil.Process().children(recursive=True))
        except psutil.Error:  # a child gone while being read
            return False

    def interrupt():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if signal.getsignal(signal.SIGINT) is not signal.default_int_handler and kernel_runs():
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()
    return thread


def test_ctrl_c_stops_an_in_process_run_and_the_next_run_grades_the_student(course_dir, release, exercises, data_dir):
    """nbgrader's API turns Ctrl-C into a failed autograde; the run must stop instead, keeping no zero."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    subs.BY_NAME["full"].write(course_dir / "submitted" / "ann" / ASSIGNMENT, release, exercises, {})
    settings = settings_for(course_dir, data_dir, 0)
    _interrupt_once_a_kernel_runs()
    with pytest.raises(dispatch.RunStopped) as stopped:
        autograde(settings, ASSIGNMENT)
    assert stopped.value.reason == "interrupted (Ctrl-C)" and stopped.value.left == ["ann"]
    assert not (course_dir / "autograded" / "ann").exists()
    with Gradebook(gradebook.db_url(course_dir / "gradebook.db")) as gb:
        assert [s.id for s in gb.students] == []
    (result,) = autograde(settings, ASSIGNMENT)  # the same command again
    assert result.report.score == subs.MAX_SCORE, result.report.summary()
