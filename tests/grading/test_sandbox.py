"""course_utils.grading.sandbox and limits: what a grading kernel can reach, and how much it may use."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course_utils.grading import sandbox
from course_utils.grading.limits import GIB, MIB, Limits

LINUX = sys.platform.startswith("linux")
ISOLATED = LINUX and sandbox.detect() != sandbox.NONE
needs_namespaces = pytest.mark.skipif(not ISOLATED, reason="no namespaces here (not Linux, or not permitted)")


def _in_sandbox(code: str, policy: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "course_utils.grading.sandbox", json.dumps(policy), "--", sys.executable, "-c", code]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")


def test_limits_have_sensible_defaults():
    limits = Limits()
    assert 60 <= limits.cell_seconds <= limits.notebook_seconds <= 1800
    assert 1 * GIB <= limits.memory_bytes <= 4 * GIB  # the notebooks need < 1 GB; Binder has 2 GB
    assert limits.output_bytes == 1 * MIB
    assert "s per cell" in limits.describe()


def test_detect_names_a_known_isolation():
    assert sandbox.detect() in (sandbox.NAMESPACES, sandbox.USER_NAMESPACES, sandbox.NONE)


@pytest.mark.skipif(not LINUX, reason="RLIMIT_DATA is enforced on Linux")
def test_a_memory_hog_is_stopped_at_the_limit():
    """A kernel-like child growing without bound gets MemoryError near the limit, not the machine's memory."""
    limit = 512 * MIB
    hog = textwrap.dedent(
        """
        import resource
        hog = []
        try:
            while True:
                hog.append(bytearray(2**20) + b"x")
        except MemoryError:
            held = len(hog)
            del hog
            print("stopped", held, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        """
    )
    done = _in_sandbox(hog, {"isolation": sandbox.NONE, "memory_bytes": limit})
    assert done.returncode == 0, done.stderr
    word, held_mib, peak = done.stdout.split()
    assert word == "stopped"
    assert int(peak) < limit + 64 * MIB  # stopped at the limit
    assert int(held_mib) > 256  # and only there: it did get to use memory


@needs_namespaces
def test_the_kernel_has_no_network_but_its_own_loopback():
    with socket.socket() as listener:  # on the grader's loopback
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        code = textwrap.dedent(
            f"""
            import socket
            print([name for _, name in socket.if_nameindex()])
            for address in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
                try:
                    socket.create_connection(address, timeout=3).close()
                    print("reached")
                except OSError as error:
                    print(type(error).__name__)
            own = socket.socket(); own.bind(("127.0.0.1", 0)); own.listen()
            socket.create_connection(own.getsockname(), timeout=3).close()
            print("own loopback works")
            """
        )
        done = _in_sandbox(code, {"isolation": sandbox.detect()})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == ["['lo']", "ConnectionRefusedError", "OSError", "own loopback works"]


@needs_namespaces
def test_the_kernel_sees_a_read_only_world_with_secrets_hidden(tmp_path):
    secret = tmp_path / "course" / "gradebook.db"
    secret.parent.mkdir()
    secret.write_text("grades")
    hidden_dir = tmp_path / "course" / "submitted"
    (hidden_dir / "alice").mkdir(parents=True)
    writable = tmp_path / "course" / "submitted" / "bob" / "work"
    writable.mkdir(parents=True)
    repo_file = Path(sandbox.__file__).parent / "planted.txt"
    code = textwrap.dedent(
        f"""
        import os
        def attempt(action):
            try:
                return repr(action())
            except OSError as error:
                return type(error).__name__
        print(os.getpid())
        print(attempt(lambda: open({str(secret)!r}).read()))
        print(sorted(os.listdir({str(hidden_dir)!r})))
        print(attempt(lambda: open({str(repo_file)!r}, "w")))
        print(attempt(lambda: open({str(writable / 'answer.txt')!r}, "w").write("42")))
        print(attempt(lambda: open({str(tmp_path / 'elsewhere.txt')!r}, "w").write("x")))
        """
    )
    policy = {"isolation": sandbox.detect(), "hide": [str(secret), str(hidden_dir)], "writable": [str(writable)]}
    done = _in_sandbox(code, policy)
    assert done.returncode == 0, done.stderr
    pid, read_secret, listing, repo_write, own_write, _ = done.stdout.splitlines()
    assert pid == "1"  # its own PID namespace
    assert "grades" not in read_secret  # hidden (missing or empty)
    assert listing == "['bob']"  # only the way to its own directory
    assert repo_write == "OSError" and not repo_file.exists()  # read-only
    assert own_write == "2" and (writable / "answer.txt").read_text() == "42"
    assert not (tmp_path / "elsewhere.txt").exists()  # /tmp is private
    assert secret.read_text() == "grades"


@needs_namespaces
def test_processes_left_behind_die_with_the_kernel(tmp_path):
    """A daemon started by student code cannot outlive the sandbox (PID namespace)."""
    marker = tmp_path / "alive"
    code = textwrap.dedent(
        f"""
        import os, subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import time, pathlib\\nwhile True:\\n    pathlib.Path({str(marker)!r}).touch(); time.sleep(0.1)"], start_new_session=True)
        import time; time.sleep(0.5)
        """
    )
    done = _in_sandbox(code, {"isolation": sandbox.detect(), "writable": [str(tmp_path)]})
    assert done.returncode == 0, done.stderr
    assert marker.exists()
    import time

    marker.unlink()
    time.sleep(0.6)
    assert not marker.exists()


def test_without_namespaces_python_code_still_cannot_leave_the_machine():
    """The fallback (no namespaces): a guard on PYTHONPATH refuses non-local connections."""
    guard = Path(sandbox.__file__).with_name("netguard")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        code = textwrap.dedent(
            f"""
            import socket
            socket.create_connection(("127.0.0.1", {listener.getsockname()[1]}), timeout=3).close()
            print("local ok")
            try:
                socket.create_connection(("10.255.255.1", 80), timeout=3)
            except OSError as error:
                print("refused:", error)
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"PYTHONPATH": str(guard)}
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["local ok", "refused: [Errno 101] network access is disabled while grading: 10.255.255.1"]
