"""course_utils.grading.plugins.sandbox and limits: what a grading kernel can reach, and how much it may use."""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from course_utils.grading.plugins import sandbox
from course_utils.grading.limits import GIB, MIB, Limits

LINUX = sys.platform.startswith("linux")


def _in_sandbox(code: str, policy: dict, timeout: float = 60, python: str = sys.executable) -> subprocess.CompletedProcess:
    """Run ``code`` with ``python`` in a sandbox of ``policy`` (its root built in a folder of its own)."""
    scratch = tempfile.mkdtemp(prefix="cg-test-sandbox-")
    try:
        policy = {"root": os.path.join(scratch, "root"), **policy}
        command = [python, "-m", "course_utils.grading.plugins.sandbox", json.dumps(policy), "--", python, "-c", code]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_limits_have_sensible_defaults():
    limits = Limits()
    assert 60 <= limits.cell_seconds <= limits.notebook_seconds <= 1800
    assert 1 * GIB <= limits.memory_bytes <= 4 * GIB  # the notebooks need < 1 GB; Binder has 2 GB
    assert limits.output_bytes == 1 * MIB
    assert "s per cell" in limits.describe() and "256 processes" in limits.describe()
    assert limits.memory_total_bytes == 2 * limits.memory_bytes  # one process at its own limit is not stopped


def test_this_machine_has_a_sandbox():
    """Grading needs one (CI runs on Linux as root); without it every grading test below would fail anyway."""
    assert sandbox.detect() in (sandbox.NAMESPACES, sandbox.USER_NAMESPACES), sandbox.why_none()


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
    assert "grades" not in read_secret  # not there at all
    assert listing == "['bob']"  # only the way to its own directory
    assert repo_write == "OSError" and not repo_file.exists()  # read-only
    assert own_write == "2" and (writable / "answer.txt").read_text() == "42"
    assert not (tmp_path / "elsewhere.txt").exists()  # /tmp is private
    assert secret.read_text() == "grades"


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


FORKS = """
import os, sys, time
for _ in range({count}):
    if os.fork() == 0:
        hold = bytearray({mib} * 2**20) + b"x"  # every page touched
        time.sleep(2)
        open(os.path.join({folder!r}, str(os.getpid())), "w").close()  # only if still alive
        os._exit(0)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
print("every child ended on its own")
"""


def _forks(tmp_path, count: int, mib: int, **limits) -> tuple[subprocess.CompletedProcess, str]:
    """Start ``count`` children holding ``mib`` MiB each in a sandbox with ``limits``; (the run, the stop note)."""
    note = tmp_path / "stopped"
    code = FORKS.format(count=count, mib=mib, folder=str(tmp_path))
    done = _in_sandbox(code, {"isolation": sandbox.detect(), "writable": [str(tmp_path)], "stop_note": str(note),
                              **limits})
    return done, note.read_text() if note.exists() else ""


@pytest.mark.skipif(not LINUX, reason="namespaces are Linux only")
def test_a_fork_bomb_is_stopped_at_the_process_limit_with_all_its_processes(tmp_path):
    done, note = _forks(tmp_path, count=300, mib=1, processes=64)
    assert done.returncode == -9, (done.returncode, done.stderr)  # the launcher mirrors the SIGKILL
    assert note == "it started more than 64 processes at once (the limit)"
    assert "ended on its own" not in done.stdout
    assert not [p for p in tmp_path.iterdir() if p.name != "stopped"], "a child outlived the stop"


@pytest.mark.skipif(not LINUX, reason="namespaces are Linux only")
def test_processes_together_may_not_hold_more_than_the_total_memory(tmp_path):
    """RLIMIT_DATA counts one process; eight children of 200 MiB each pass it, not the total of 1 GiB."""
    done, note = _forks(tmp_path, count=8, mib=200, memory_bytes=512 * MIB, memory_total_bytes=1 * GIB)
    assert done.returncode == -9, (done.returncode, done.stderr)
    assert note.startswith("its processes together held") and note.endswith("(the limit for all of them is 1 GiB)")
    assert "ended on its own" not in done.stdout


@pytest.mark.skipif(not LINUX, reason="namespaces are Linux only")
def test_within_the_process_and_memory_limits_nothing_is_stopped(tmp_path):
    done, note = _forks(tmp_path, count=8, mib=20, processes=64, memory_total_bytes=1 * GIB)
    assert done.returncode == 0, done.stderr
    assert "every child ended on its own" in done.stdout and note == ""
    assert len(list(tmp_path.iterdir())) == 8 + 1  # eight markers, and the note the launcher opened


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


PRIVILEGES = textwrap.dedent(
    """
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    caps = [line.split()[1] for line in open("/proc/self/status") if line.startswith(("CapEff", "CapBnd"))]
    remount = libc.mount(None, b"/", None, 32 | 4096, None)  # MS_REMOUNT | MS_BIND: read-write again?
    tmpfs = libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None)
    print(repr((caps, remount, tmpfs, sorted(os.listdir("/dev")))))
    """
)


@pytest.mark.parametrize("isolation", [sandbox.NAMESPACES, sandbox.USER_NAMESPACES])
def test_the_kernel_has_no_privileges_and_no_disks(isolation):
    """Even as user 0 it cannot mount, remount or see a block device: the view is final."""
    if isolation == sandbox.NAMESPACES and os.geteuid() != 0:
        isolation = sandbox.USER_NAMESPACES
    done = _in_sandbox(PRIVILEGES, {"isolation": isolation})
    assert done.returncode == 0, done.stderr
    caps, remount, tmpfs, devices = ast.literal_eval(done.stdout)
    assert caps == ["0000000000000000", "0000000000000000"]
    assert remount == -1 and tmpfs == -1
    assert devices == sorted([*sandbox.DEVICES, "fd", "shm", "stdin", "stdout", "stderr"])


def test_scratch_space_counts_against_its_limit(tmp_path):
    """/tmp, /var/tmp and /dev/shm share one file system of scratch_bytes: filling one fills all."""
    code = textwrap.dedent(
        """
        import errno
        def fill(path, mib):
            try:
                with open(path, "wb") as handle:
                    for _ in range(mib):
                        handle.write(b"x" * 2**20)
                return "ok"
            except OSError as error:
                return errno.errorcode[error.errno]
        print(fill("/tmp/a", 20), fill("/dev/shm/b", 20), fill("/var/tmp/c", 20))
        """
    )
    done = _in_sandbox(code, {"isolation": sandbox.detect(), "scratch_bytes": 48 * MIB})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "ok", "ENOSPC"]


def _venv_under(base: Path) -> Path:
    """A real Python environment under ``base`` that reaches this one's packages through a .pth file."""
    import sysconfig

    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site_packages = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    Path(site_packages, "course-environment.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n"
    )
    return python


KERNEL_IN_SANDBOX = textwrap.dedent(
    """
    import asyncio, sys
    from course_utils.grading.plugins.kernel import SandboxedKernelManager

    async def main(workdir, secret):
        manager = SandboxedKernelManager(isolation="auto")
        await manager.start_kernel(cwd=workdir)
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        code = f"import os, sys; print(sys.executable, os.getpid(), os.path.exists({secret!r}))"
        printed = []
        reply = await client.execute_interactive(code, timeout=60, output_hook=lambda m: printed.append(
            m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
        print(manager.resolved_isolation(), reply["content"]["status"], "".join(printed).strip())

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.mark.parametrize("base", ["/tmp", "/var/tmp"])
def test_a_kernel_starts_in_the_sandbox_from_an_environment_under(base, tmp_path):
    """The interpreter under /tmp or /var/tmp (hidden by the kernel's private scratch) is still there for it."""
    work = Path(tempfile.mkdtemp(prefix="cg-test-venv-", dir=base))
    try:
        python = _venv_under(work)
        (work / "cwd").mkdir()
        secret = Path(__file__).resolve().parents[2] / "solutions"
        done = subprocess.run([str(python), "-c", KERNEL_IN_SANDBOX, str(work / "cwd"), str(secret)],
                              capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    isolation, status, executable, pid, sees_solutions = done.stdout.split()
    assert isolation in (sandbox.NAMESPACES, sandbox.USER_NAMESPACES) and status == "ok"
    assert executable == str(python) and pid == "1"  # that interpreter, in its own PID namespace
    assert sees_solutions == "False"


def test_asking_for_an_isolation_that_does_not_work_is_an_error(monkeypatch):
    """No quiet fallback: a named mode must work, auto must find one; only 'none' by name grades without."""
    monkeypatch.setattr(sandbox, "_detected", lambda: (sandbox.NONE, ("user-namespaces: disabled here",)))
    monkeypatch.setattr(sandbox, "probe", lambda isolation: "disabled here")
    with pytest.raises(sandbox.IsolationUnavailable, match="disabled here.*--isolation none"):
        sandbox.require("auto")
    with pytest.raises(sandbox.IsolationUnavailable, match="user-namespaces sandbox does not work here"):
        sandbox.require("user-namespaces")
    with pytest.raises(sandbox.IsolationUnavailable, match="unknown isolation"):
        sandbox.require("chroot")
    assert sandbox.require("none") == sandbox.NONE


def test_a_project_folder_on_the_path_shows_only_the_course_package(monkeypatch, tmp_path):
    """A repository on sys.path (PYTHONPATH, an old-style editable install) is never shown whole."""
    from course_utils.grading.plugins import view

    repo = tmp_path / "repo"
    (repo / "course_utils").mkdir(parents=True)
    (repo / "solutions").mkdir()
    (repo / ".git").mkdir()
    plain = tmp_path / "plain-packages"
    plain.mkdir()
    monkeypatch.setattr(sys, "path", [str(repo), str(plain), *sys.path])
    shown = view.kernel_view()
    assert str(repo / "course_utils") in shown and str(repo) not in shown
    assert str(plain) in shown
    assert "/" not in shown and not any(view.contains(p, str(repo / "solutions")) for p in shown)
