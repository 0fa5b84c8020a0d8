"""Start a student's kernel in a sandbox: no network, a private view of the files, limits.

nbgrader runs every cell of a submission in a Jupyter kernel, so student code
can do anything the grading user can. :class:`~course_utils.grading.limits.SandboxedKernelManager`
starts each grading kernel through this module::

    python -m course_utils.grading.sandbox POLICY_JSON -- python -m ipykernel_launcher -f ...

On Linux, as root or with unprivileged user namespaces, the kernel gets its own

- **network namespace**: only a loopback interface (brought up, so local
  servers a lesson starts still work); nothing outside the machine, and not
  even the grader's own loopback, can be reached;
- **PID namespace**: the kernel is process 1, so every process it starts
  (even a daemon that detaches itself) dies with it;
- **mount namespace**: the whole file system is read-only, ``/tmp`` and
  ``/dev/shm`` are private and empty, the paths in ``policy["hide"]`` (the
  gradebook, other students' submissions, the instructor's source and
  solutions) are covered by empty read-only directories, and only the
  paths in ``policy["writable"]`` (the submission's own scratch copy) can be
  written.

Resource limits (``RLIMIT_DATA`` for memory, ``RLIMIT_FSIZE`` for file size,
no core dumps) apply in every mode. The kernel talks to the grader over
Unix-domain (IPC) sockets in a writable directory, not TCP, so it needs no
network at all. :func:`detect` says which isolation works on this machine;
where none does (macOS, Windows, containers without the privilege) the
kernel runs with the limits only and :mod:`course_utils.grading.netguard`
refuses network connections from inside Python (best effort).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import functools
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys

NAMESPACES = "namespaces"
USER_NAMESPACES = "user-namespaces"
NONE = "none"

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000

_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18

_PR_SET_PDEATHSIG = 1
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_SYS_MOUNT_SETATTR = 442  # the same number on every Linux architecture

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

PROBE_EXIT_OK = 0


class SandboxError(OSError):
    """The sandbox could not be set up."""


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise SandboxError(code, f"{what}: {os.strerror(code)}")


def _mount(libc, source, target, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def loopback_up() -> None:
    """Bring the loopback interface of the current network namespace up."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | _IFF_UP))


def _make_readonly(libc) -> None:
    """Make every mount read-only (mount_setattr, Linux 5.12+, else one remount each)."""
    attr = struct.pack("QQQQ", _MOUNT_ATTR_RDONLY, 0, 0, 0)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    if libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, b"/", _AT_RECURSIVE, buffer, len(attr)) == 0:
        return
    locked = {"nosuid": _MS_NOSUID, "nodev": _MS_NODEV, "noexec": _MS_NOEXEC}
    with open("/proc/self/mountinfo") as handle:
        mounts = [line.split() for line in handle]
    for fields in sorted(mounts, key=lambda f: f[4].count("/")):
        target = fields[4].replace("\\040", " ")
        flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
        for option in fields[5].split(","):
            flags |= locked.get(option, 0)
        libc.mount(None, os.fsencode(target), None, flags, None)  # best effort per mount


def _private_tmpfs(libc, path: str, mode: str = "1777") -> None:
    _mount(libc, "tmpfs", path, "tmpfs", _MS_NOSUID | _MS_NODEV, f"mode={mode}")


def _hide(libc, path: str) -> None:
    """Cover ``path`` with something empty (a directory's cover is made read-only later)."""
    if os.path.isdir(path):
        _private_tmpfs(libc, path, mode="755")
    elif os.path.lexists(path):
        _mount(libc, "/dev/null", path, None, _MS_BIND)
        libc.mount(None, os.fsencode(path), None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None)


def _enter_namespaces(policy: dict) -> None:
    """unshare, fork; the parent waits and mirrors the child's exit; the child returns."""
    libc = _libc()
    user = policy["isolation"] == USER_NAMESPACES
    uid, gid = os.getuid(), os.getgid()
    cwd = os.getcwd()
    flags = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID | (_CLONE_NEWUSER if user else 0)
    _check(libc.unshare(flags), "unshare")
    if user:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")

    child = os.fork()
    if child:
        _wait_and_mirror(child)  # never returns

    # The child: process 1 of the new PID namespace. Die with the launcher.
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
    _mount(libc, "proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    loopback_up()
    writable = [  # opened in the new mount namespace, before /tmp is covered
        (os.path.abspath(path), os.open(path, os.O_PATH | os.O_DIRECTORY))
        for path in policy.get("writable", [])
        if os.path.isdir(path)
    ]
    _make_readonly(libc)
    for path in ("/tmp", "/dev/shm"):
        if os.path.isdir(path):
            _private_tmpfs(libc, path)
    covered = [path for path in policy.get("hide", []) if os.path.lexists(path)]
    for path in covered:  # covered first, so that writable paths inside can be re-exposed
        _hide(libc, path)
    for path, fd in writable:
        os.makedirs(path, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        _mount(libc, None, path, None, _MS_REMOUNT | _MS_BIND)  # read-write again
        os.close(fd)
    for path in covered:
        if os.path.isdir(path):
            _mount(libc, None, path, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    try:
        os.chdir(cwd)
    except OSError:  # the working directory is not among the visible ones
        os.chdir("/tmp")


def _wait_and_mirror(child: int) -> None:
    """Wait for ``child``; exit the way it exited. Interrupts reach it through the process group."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), lambda signum, frame: os.kill(child, signal.SIGKILL))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        code = os.WTERMSIG(status)
        if code not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(code, signal.SIG_DFL)
        os.kill(os.getpid(), code)
        os._exit(128 + code)
    os._exit(os.waitstatus_to_exitcode(status))


def apply_limits(policy: dict) -> None:
    """Set the resource limits of ``policy`` on this process (inherited by the kernel)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, limit in (("memory_bytes", resource.RLIMIT_DATA), ("file_size_bytes", resource.RLIMIT_FSIZE)):
        value = policy.get(key)
        if value:
            resource.setrlimit(limit, (int(value), int(value)))


def launch(policy: dict, command: list[str]) -> None:
    """Set up ``policy`` and replace this process with ``command`` (the kernel).

    The launcher (and so the kernel) is killed if the grader that started it dies.
    """
    if sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if policy.get("isolation", NONE) in (NAMESPACES, USER_NAMESPACES):
        _enter_namespaces(policy)
    apply_limits(policy)
    os.environ.update(policy.get("env", {}))
    for path in policy.get("make_dirs", []):
        os.makedirs(path, exist_ok=True)
    os.execvp(command[0], command)


def _probe() -> int:
    """Inside a sandbox: exit 0 if only loopback exists and / is read-only."""
    names = [name for _, name in socket.if_nameindex()]
    try:
        with open("/sandbox-probe", "w"):
            pass
        writable_root = True
    except OSError:
        writable_root = False
    return PROBE_EXIT_OK if names == ["lo"] and not writable_root and os.getpid() == 1 else 3


@functools.lru_cache(maxsize=None)
def detect() -> str:
    """The strongest isolation that works here: ``"namespaces"``, ``"user-namespaces"`` or ``"none"``."""
    if not sys.platform.startswith("linux"):
        return NONE
    candidates = [NAMESPACES] if os.geteuid() == 0 else []
    candidates.append(USER_NAMESPACES)
    for isolation in candidates:
        policy = json.dumps({"isolation": isolation})
        try:
            done = subprocess.run(
                [sys.executable, "-m", __name__, policy, "--", sys.executable, "-m", __name__, "--probe"],
                capture_output=True,
                timeout=60,
                cwd="/",
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == PROBE_EXIT_OK:
            return isolation
    return NONE


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.grading.sandbox POLICY_JSON -- COMMAND...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--probe"]:
        return _probe()
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m course_utils.grading.sandbox POLICY_JSON -- COMMAND...", file=sys.stderr)
        return 2
    try:
        launch(json.loads(argv[0]), argv[2:])
    except OSError as error:
        print(f"course_utils.grading.sandbox: {error}", file=sys.stderr)
        return 125
    return 0  # not reached: launch execs


if __name__ == "__main__":
    sys.exit(main())
