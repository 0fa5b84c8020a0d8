"""Start a student's kernel in a sandbox: no network, a file system of its own, no privileges, limits.

nbgrader runs every cell of a submission in a Jupyter kernel, so student code
can do anything the grading user can. :class:`~course_utils.grading.plugins.kernel.SandboxedKernelManager`
starts each grading kernel through this module::

    python -m course_utils.grading.plugins.sandbox POLICY_JSON -- python -m ipykernel_launcher -f ...

On Linux, as root or with unprivileged user namespaces, the kernel gets its own

- **network namespace**: only a loopback interface (brought up, so local
  servers a lesson starts still work); nothing outside the machine, and not
  even the grader's own loopback, can be reached;
- **PID namespace**: the kernel is process 1, so every process it starts
  (even a daemon that detaches itself) dies with it;
- **file system, built from an allow-list** (:mod:`course_utils.grading.plugins.view`):
  a new root holding, read-only, the system's programs and libraries
  (``/usr``, ``/etc``...), the Python environment the kernel runs in
  (wherever it is installed: a venv or conda under ``/tmp``, the home
  directory, the repository...) and the ``course_utils`` package, and,
  writable, only the submission's own working copy and scratch directory.
  The course repository itself (``solutions/``, ``.git``), the gradebook,
  ``source/``, other students' files, the feedback and everything else on
  the machine are simply not there. ``/dev`` holds ``null``, ``zero``,
  ``random`` and the like, no disks. ``/tmp``, ``/var/tmp`` and ``/dev/shm``
  share one private file system in memory of ``policy["scratch_bytes"]``;
- **no privileges**: every capability is dropped (and cannot come back
  through ``exec`` or setuid programs), so the kernel cannot mount, remount,
  unmount or leave its root, even though it may run as user 0.

Resource limits (``RLIMIT_DATA`` for memory, ``RLIMIT_FSIZE`` for file size,
no core dumps) apply in every mode. In the namespace modes the launcher also
watches the kernel from outside (:func:`over_limits`, every
:data:`WATCH_SECONDS`): more processes than ``policy["processes"]`` (a fork
bomb) or more memory than ``policy["memory_total_bytes"]`` for all of them
together (``RLIMIT_DATA`` counts one process at a time) and it stops the
whole namespace, writing why to ``policy["stop_note"]``. The kernel talks to
the grader over Unix-domain (IPC) sockets in its scratch directory, not TCP,
so it needs no network at all.

:func:`detect` says which isolation works here (by starting a probe in a
real sandbox, with this very interpreter); :func:`require` turns a requested
isolation into one that works, or raises :class:`IsolationUnavailable` with
the reason: a sandbox that was asked for is never quietly left out. Only
``isolation="none"`` (asked for by name) runs a kernel with the limits
alone, and then :mod:`course_utils.grading.plugins.netguard` refuses network
connections from inside Python (best effort).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import functools
import json
import os
import platform
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

NAMESPACES = "namespaces"
USER_NAMESPACES = "user-namespaces"
NONE = "none"
AUTO = "auto"
ISOLATIONS = (AUTO, NAMESPACES, USER_NAMESPACES, NONE)

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
_MNT_DETACH = 2

_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_PR_SET_SECUREBITS = 28
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_SECURE_NOROOT_ALL = 0b101111  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED and their locks
_CAPABILITY_VERSION_3 = 0x20080522

_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_SYS_MOUNT_SETATTR = 442  # the same number on every Linux architecture
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "ppc64le": 203, "ppc64": 203,
                   "s390x": 217, "i686": 217, "i386": 217, "armv7l": 218}
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91, "arm64": 91, "riscv64": 91, "ppc64le": 184, "ppc64": 184,
               "s390x": 185, "i686": 185, "i386": 185, "armv7l": 185}

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
"""The only device files a sandboxed kernel sees (no disks, no memory devices)."""

PROBE_EXIT_OK = 0


class SandboxError(OSError):
    """The sandbox could not be set up."""


class IsolationUnavailable(RuntimeError):
    """The isolation asked for cannot be had on this machine (the message says why and what to do)."""


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
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


# -- the new root ---------------------------------------------------------------


def _inside(root: str, path: str) -> str:
    return os.path.join(root, os.path.abspath(path).lstrip("/"))


def _mountpoint(root: str, path: str, is_dir: bool) -> str:
    """Make the (empty) directory or file at ``path`` inside ``root`` for a bind mount; its path."""
    target = _inside(root, path)
    if is_dir:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            open(target, "w").close()
    return target


def _make_readonly(libc, root: str) -> None:
    """Make every mount at or below ``root`` read-only (mount_setattr, Linux 5.12+, else one remount each)."""
    attr = struct.pack("QQQQ", _MOUNT_ATTR_RDONLY, 0, 0, 0)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    if libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, os.fsencode(root), _AT_RECURSIVE, buffer, len(attr)) == 0:
        return
    locked = {"nosuid": _MS_NOSUID, "nodev": _MS_NODEV, "noexec": _MS_NOEXEC}
    with open("/proc/self/mountinfo") as handle:
        mounts = [line.split() for line in handle]
    for fields in sorted(mounts, key=lambda f: f[4].count("/")):
        target = fields[4].replace("\\040", " ")
        if target != root and not target.startswith(root.rstrip("/") + "/"):
            continue
        flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
        for option in fields[5].split(","):
            flags |= locked.get(option, 0)
        _check(libc.mount(None, os.fsencode(target), None, flags, None), f"read-only {target}")


def _hide(libc, root: str, path: str) -> None:
    """Cover ``path`` (inside the new root) with something empty and read-only."""
    target = _inside(root, path)
    if os.path.isdir(target) and not os.path.islink(target):
        _mount(libc, "tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_RDONLY, "size=4k,mode=555")
    elif os.path.lexists(target) and not os.path.islink(target):
        _mount(libc, "/dev/null", target, None, _MS_BIND)


def _build_root(libc, policy: dict, readable: list[str]) -> str:
    """Assemble the kernel's file system under ``policy["root"]`` (see the module doc); the root's path.

    In order: what may be read is bound in and made read-only; then come
    ``/proc``, the scratch file system (``/tmp``, ``/var/tmp``, ``/dev/shm``),
    the device files and what may be written; last, what may be read but
    lives under ``/tmp`` or ``/var/tmp`` (a venv there), bound into the
    scratch file system and made read-only in turn.
    """
    from course_utils.grading.plugins import view

    if not policy.get("root"):
        raise SandboxError(0, "the policy names no folder to build the kernel's root in ('root')")
    root = os.path.abspath(policy["root"])
    os.makedirs(root, exist_ok=True)
    _mount(libc, "tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=4m,mode=755")
    writable = [os.path.abspath(p) for p in policy.get("writable", []) if os.path.isdir(p)]
    shown = [p for p in view.outermost(readable)
             if os.path.abspath(p) not in SCRATCH_DIRS and not view.contains(p, root) and not view.contains(root, p)
             and not any(view.contains(p, w) for w in writable)]  # what may be written is never covered read-only
    later = [p for p in shown if _in_scratch(p) and not os.path.islink(p)]
    for path in shown:
        if path in later:
            continue
        if os.path.islink(path):
            link = _inside(root, path)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink(os.readlink(path), link)
        elif os.path.exists(path):
            _mount(libc, path, _mountpoint(root, path, os.path.isdir(path)), None, _MS_BIND | _MS_REC)
    hide = [p for p in policy.get("hide", []) if not _in_scratch(p)]
    for path in hide:
        if os.path.lexists(_inside(root, path)):
            _hide(libc, root, path)
    # Mount points of what comes after the read-only step, made while the new root can still be written
    # (those under /tmp, /var/tmp and /dev/shm are made in the scratch file system, once it is there).
    for path in writable:
        if not _in_scratch(path):
            _mountpoint(root, path, True)
    for name in ("proc", "tmp", "dev/shm", "var/tmp", "sys"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    for device in DEVICES:
        if os.path.exists(f"/dev/{device}"):
            _mountpoint(root, f"/dev/{device}", False)
    for name, destination in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                              ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        if not os.path.lexists(os.path.join(root, "dev", name)):
            os.symlink(destination, os.path.join(root, "dev", name))
    if os.path.isdir("/sys"):
        _mount(libc, "/sys", os.path.join(root, "sys"), None, _MS_BIND | _MS_REC)
    _make_readonly(libc, root)

    _mount(libc, "proc", os.path.join(root, "proc"), "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    scratch = int(policy.get("scratch_bytes") or 0)
    size = f"size={scratch}," if scratch > 0 else ""
    tmp = os.path.join(root, "tmp")
    _mount(libc, "tmpfs", tmp, "tmpfs", _MS_NOSUID | _MS_NODEV, f"{size}nr_inodes=65536,mode=1777")
    for shared, inside in ((".dev-shm", "dev/shm"), (".var-tmp", "var/tmp")):
        os.makedirs(os.path.join(tmp, shared), mode=0o1777, exist_ok=True)
        os.chmod(os.path.join(tmp, shared), 0o1777)
        _mount(libc, os.path.join(tmp, shared), os.path.join(root, inside), None, _MS_BIND)
    for device in DEVICES:
        if os.path.exists(f"/dev/{device}"):
            _mount(libc, f"/dev/{device}", os.path.join(root, "dev", device), None, _MS_BIND)
    for path in writable:
        _mount(libc, path, _mountpoint(root, path, True), None, _MS_BIND)
    for path in later:
        if os.path.exists(path):
            target = _mountpoint(root, path, os.path.isdir(path))
            _mount(libc, path, target, None, _MS_BIND | _MS_REC)
            _make_readonly(libc, target)
    for path in policy.get("hide", []):
        if _in_scratch(path) and any(view.contains(shown_path, path) for shown_path in later):
            _hide(libc, root, path)
    return root


SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
"""Where the kernel's private scratch file system is mounted."""


def _in_scratch(path: str) -> bool:
    path = os.path.abspath(path)
    return any(path == d or path.startswith(d + "/") for d in SCRATCH_DIRS)


def _pivot(libc, root: str) -> None:
    """Make ``root`` the root of this mount namespace and drop the old one entirely."""
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise SandboxError(0, f"pivot_root: unknown system call number on {platform.machine()}")
    os.chdir(root)
    _check(libc.syscall(number, b".", b"."), "pivot_root")
    _check(libc.umount2(b".", _MNT_DETACH), "detach the old root")
    os.chdir("/")


def _drop_privileges(libc, last_cap: int) -> None:
    """Give up every capability, for good: none now, none after ``exec``, none from setuid programs."""
    for cap in range(last_cap + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _check(libc.prctl(_PR_SET_SECUREBITS, _SECURE_NOROOT_ALL, 0, 0, 0), "securebits")
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    number = _SYS_CAPSET.get(platform.machine())
    if number is None:
        raise SandboxError(0, f"capset: unknown system call number on {platform.machine()}")
    header = struct.pack("Ii", _CAPABILITY_VERSION_3, 0)
    data = ctypes.create_string_buffer(struct.pack("IIIIII", 0, 0, 0, 0, 0, 0), 24)
    _check(libc.syscall(number, ctypes.create_string_buffer(header, 8), data), "capset")


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 63


def _enter_namespaces(policy: dict, command: list[str]) -> None:
    """unshare, fork; the parent waits and mirrors the child's exit; the child returns, sandboxed."""
    from course_utils.grading.plugins import view

    libc = _libc()
    user = policy["isolation"] == USER_NAMESPACES
    uid, gid = os.getuid(), os.getgid()
    cwd = os.getcwd()
    readable = view.kernel_view(command, policy.get("readable", []))
    last_cap = _last_capability()
    flags = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID | (_CLONE_NEWUSER if user else 0)
    _check(libc.unshare(flags), "unshare")
    if user:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")

    # The kernel's file system will replace this side's too (one mount namespace): open what the
    # watch needs now, the machine's /proc and the note for the grader.
    proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    note = os.open(policy["stop_note"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600) \
        if policy.get("stop_note") else None
    child = os.fork()
    if child:
        _wait_and_mirror(child, policy, proc, note)  # never returns
    for handle in (proc, note):  # the kernel never gets them
        if handle is not None:
            os.close(handle)

    # The child: process 1 of the new PID namespace. Die with the launcher.
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
    loopback_up()
    root = _build_root(libc, policy, readable)
    _pivot(libc, root)
    _drop_privileges(libc, last_cap)
    try:
        os.chdir(cwd)
    except OSError:  # the working directory is not among the visible ones
        os.chdir("/tmp")


WATCH_SECONDS = 0.25
"""How often the launcher counts the sandbox's processes and their memory."""


def namespace_processes(init: int, proc: int) -> list[int]:
    """``init`` and every process below it, read from ``/proc/PID/task/TID/children``.

    ``proc``: a descriptor of the ``/proc`` whose PIDs ``init`` is in (the
    launcher opens the machine's before the kernel's file system replaces
    it). In a PID namespace, a process whose parent ends is adopted by the
    namespace's first process, so from ``init`` down this is every process
    of the namespace.
    """
    found, pending = [], [init]
    while pending:
        pid = pending.pop()
        found.append(pid)
        try:
            tasks = _listdir(f"{pid}/task", proc)
        except OSError:  # gone meanwhile
            continue
        for task in tasks:
            try:
                pending.extend(int(child) for child in _read(f"{pid}/task/{task}/children", proc).split())
            except (OSError, ValueError):
                continue
    return found


def _listdir(path: str, directory: int) -> list[str]:
    handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=directory)
    try:
        return os.listdir(handle)
    finally:
        os.close(handle)


def _read(path: str, directory: int) -> str:
    def opener(name: str, flags: int) -> int:
        return os.open(name, flags | os.O_CLOEXEC, dir_fd=directory)

    with open(path, encoding="ascii", opener=opener) as handle:
        return handle.read()


def _rss_bytes(pid: int, proc: int) -> int:
    """Resident memory of ``pid``, shared pages counted in full (cheap to read), 0 if unknown."""
    try:
        return int(_read(f"{pid}/statm", proc).split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _pss_bytes(pid: int, proc: int) -> int:
    """Memory of ``pid`` with the pages it shares divided among their sharers (``Pss``), 0 if unknown."""
    try:
        for line in _read(f"{pid}/smaps_rollup", proc).splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def over_limits(init: int, policy: dict, proc: int) -> str | None:
    """Why the processes from ``init`` down exceed ``policy``'s ``processes`` or ``memory_total_bytes``, or None."""
    pids = namespace_processes(init, proc)
    most = int(policy.get("processes") or 0)
    if most and len(pids) > most:
        return f"it started more than {most} processes at once (the limit)"
    total_limit = int(policy.get("memory_total_bytes") or 0)
    # Pss (shared pages split among their sharers: a fork is not counted twice) is slow to read;
    # the resident sizes, never below it, usually show there is no need.
    if total_limit and sum(_rss_bytes(pid, proc) for pid in pids) > total_limit:
        total = sum(_pss_bytes(pid, proc) for pid in pids)
        if total > total_limit:
            return (f"its processes together held {total / 2**30:.1f} GiB of memory "
                    f"(the limit for all of them is {total_limit / 2**30:g} GiB)")
    return None


def _wait_and_mirror(child: int, policy: dict, proc: int, note: int | None) -> None:
    """Wait for ``child``, stopping it at ``policy``'s process and memory limits; exit the way it exited.

    Interrupts reach it through the process group. Stopping ``child``
    (process 1 of the namespace) ends every process of the namespace; the
    reason goes to ``note`` (``policy["stop_note"]``, opened) for the grader.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), lambda signum, frame: os.kill(child, signal.SIGKILL))
    watch = bool(policy.get("processes") or policy.get("memory_total_bytes"))
    ended = None  # a pidfd: readable once the child has ended, so the wait between two looks ends at once
    if watch:
        with contextlib.suppress(AttributeError, OSError):  # before Linux 5.3: sleep between looks
            ended = os.pidfd_open(child)
    while True:
        try:
            pid, status = os.waitpid(child, os.WNOHANG if watch else 0)
        except InterruptedError:
            continue
        if pid:
            break
        reason = over_limits(child, policy, proc)
        if reason:
            if note is not None:
                with contextlib.suppress(OSError):
                    os.write(note, reason.encode())
            os.kill(child, signal.SIGKILL)
            watch = False  # now only wait for it
            continue
        if ended is not None:
            select.select([ended], [], [], WATCH_SECONDS)
        else:
            time.sleep(WATCH_SECONDS)
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
    isolation = policy.get("isolation", NONE)
    if isolation in (NAMESPACES, USER_NAMESPACES):
        _enter_namespaces(policy, command)
    elif isolation != NONE:
        raise SandboxError(0, f"unknown isolation {isolation!r}")
    apply_limits(policy)
    for name in policy.get("unset", []):
        os.environ.pop(name, None)
    os.environ.update(policy.get("env", {}))
    for path in policy.get("make_dirs", []):
        os.makedirs(path, exist_ok=True)
    os.execvp(command[0], command)


# -- what works here --------------------------------------------------------------


def _probe() -> int:
    """Inside a sandbox: exit 0 if it is one (own PID 1, loopback only, read-only root, no privileges)."""
    problems = []
    names = [name for _, name in socket.if_nameindex()]
    if names != ["lo"]:
        problems.append(f"network interfaces {names}")
    if os.getpid() != 1:
        problems.append(f"process id {os.getpid()}, not 1")
    try:
        with open("/sandbox-probe", "w"):
            pass
        problems.append("the root can be written")
    except OSError:
        pass
    libc = _libc()
    if libc.mount(None, b"/", None, _MS_REMOUNT | _MS_BIND, None) == 0:
        problems.append("the root can be remounted")
    with open("/proc/self/status") as handle:
        capabilities = [line.split()[1] for line in handle if line.startswith("CapEff:")]
    if capabilities and int(capabilities[0], 16):
        problems.append(f"capabilities {capabilities[0]}")
    if problems:
        print("not a sandbox: " + "; ".join(problems), file=sys.stderr)
        return 3
    return PROBE_EXIT_OK


@functools.lru_cache(maxsize=None)
def probe(isolation: str) -> str | None:
    """Start a probe in a real sandbox of kind ``isolation``; None if it works, else why not (one line)."""
    if not sys.platform.startswith("linux"):
        return f"{sys.platform} has no Linux namespaces"
    if isolation == NAMESPACES and os.geteuid() != 0:
        return "namespaces without a user namespace need root"
    with tempfile.TemporaryDirectory(prefix="cg-probe-") as scratch:
        policy = json.dumps({"isolation": isolation, "root": os.path.join(scratch, "root"), "writable": [scratch]})
        command = [sys.executable, "-m", __name__, policy, "--", sys.executable, "-m", __name__, "--probe"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=scratch)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"the probe did not run ({error})"
    if done.returncode == PROBE_EXIT_OK:
        return None
    lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
    return lines[-1] if lines else f"the probe exited with code {done.returncode}"


@functools.lru_cache(maxsize=None)
def _detected() -> tuple[str, tuple[str, ...]]:
    tried = []
    candidates = [NAMESPACES] if sys.platform.startswith("linux") and os.geteuid() == 0 else []
    candidates.append(USER_NAMESPACES)
    for isolation in candidates:
        why = probe(isolation)
        if why is None:
            return isolation, ()
        tried.append(f"{isolation}: {why}")
    return NONE, tuple(tried)


def detect() -> str:
    """The strongest isolation that works here: ``"namespaces"``, ``"user-namespaces"`` or ``"none"``."""
    return _detected()[0]


def why_none() -> str:
    """Why :func:`detect` found no isolation (empty if it found one)."""
    return "; ".join(_detected()[1])


def require(isolation: str) -> str:
    """The isolation to grade with, for ``isolation`` as asked (``auto``, a mode, or ``none``).

    ``auto`` is the strongest that works; a named mode must work. Either way
    :class:`IsolationUnavailable` says why when it cannot be had: grading
    without a sandbox happens only when ``none`` is asked for by name.
    """
    if isolation not in ISOLATIONS:
        raise IsolationUnavailable(f"unknown isolation {isolation!r}; choose one of {', '.join(ISOLATIONS)}")
    if isolation == NONE:
        return NONE
    if isolation == AUTO:
        found = detect()
        if found != NONE:
            return found
        raise IsolationUnavailable(
            "No kernel sandbox works on this machine (" + (why_none() or "unknown reason") + "). "
            "Student code would run with the grader's rights: it could read the solutions and rewrite the "
            "gradebook. Grade on Linux as root or with unprivileged user namespaces enabled "
            "(sysctl kernel.unprivileged_userns_clone=1), or pass --isolation none to grade without a sandbox anyway."
        )
    why = probe(isolation)
    if why is not None:
        raise IsolationUnavailable(f"The {isolation} sandbox does not work here: {why}.")
    return isolation


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.grading.plugins.sandbox POLICY_JSON -- COMMAND...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--probe"]:
        return _probe()
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m course_utils.grading.plugins.sandbox POLICY_JSON -- COMMAND...", file=sys.stderr)
        return 2
    try:
        launch(json.loads(argv[0]), argv[2:])
    except OSError as error:
        print(f"course_utils.grading.plugins.sandbox: {error}", file=sys.stderr)
        return 125
    return 0  # not reached: launch execs


if __name__ == "__main__":
    sys.exit(main())
