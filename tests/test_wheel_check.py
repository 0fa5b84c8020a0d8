"""The background wheel check's own plumbing (:mod:`wheel_check`): launched once per folder, stopped whole."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

import wheel_check


@pytest.mark.package_index  # the check it launches asks the package index at once
def test_the_check_is_launched_once_per_folder_and_stop_ends_its_whole_group(tmp_path):
    folder = tmp_path / "wheel-check"
    assert wheel_check.start(folder)
    assert not wheel_check.start(folder), "a second start in the same folder must not launch another check"
    pid = int((folder / "pid").read_text())
    os.killpg(pid, 0)  # running
    wheel_check.stop(folder)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a process of the check's group is still running after stop()")


def test_a_check_that_could_not_run_is_one_clear_line(tmp_path):
    (tmp_path / "error.txt").write_text("CalledProcessError: pip wheel failed\n")
    with pytest.raises(AssertionError, match="the wheel check did not run: CalledProcessError: pip wheel failed$"):
        wheel_check.result(tmp_path, wheel_check.NO_WHEEL, timeout=1)


def test_stop_leaves_a_process_that_is_not_the_check_alone(tmp_path):
    """The check ended and its number went to another process: stop() must not touch that one."""
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        (tmp_path / "pid").write_text(str(other.pid))
        wheel_check.stop(tmp_path)
        time.sleep(0.2)
        assert other.poll() is None, "stop() killed a process that was not the check"
    finally:
        other.kill()
        other.wait()
