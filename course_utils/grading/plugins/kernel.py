"""The kernel manager nbgrader's execute step uses while grading: a kernel in the sandbox, with the limits.

:class:`~course_utils.grading.limits.Limits` holds what one submission may
use: seconds per cell and per notebook, memory, file size, output, scratch
space. The defaults suit the course (every notebook runs in well under 30 s
and 1 GB); change them in ``nbgrader_config.py`` or with the ``course-utils
autograde`` options.

:class:`SandboxedKernelManager` is the kernel manager nbgrader's execute step
uses while grading (``c.GradingExecute.kernel_manager_class``). It starts
each kernel through :mod:`course_utils.grading.plugins.sandbox` with

- its own scratch directory (connection file, Unix sockets, a home directory
  copied from a warm template so compiled caches need not be rebuilt, a copy
  of the course's synthetic data), the only place besides the notebook's own
  folder it may write;
- the memory, file-size and scratch-space limits;
- no network, a file system of its own built from an allow-list, no
  privileges and a PID namespace, in the isolation asked for
  (:func:`course_utils.grading.plugins.sandbox.require`: ``auto`` takes the
  strongest that works and fails if none does); only ``none``, asked for by
  name, runs the kernel with the limits alone, an in-Python network guard
  and offline mode.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, Int, List, Unicode

from course_utils.grading.limits import Limits
from course_utils.grading.plugins import sandbox

HOME_CACHE_DIRS = (".cache/itkwasm", ".cache/wasmtime", ".cache/matplotlib", ".config/matplotlib")
"""Parts of a warm home directory copied into each grading kernel's home (compiled code, font lists)."""

OFFLINE_ENV = {
    "COURSE_OFFLINE": "1",
    # Anything that still tries HTTP goes to a closed local port and fails at once.
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "no_proxy": "localhost,127.0.0.1,::1",
    "NO_PROXY": "localhost,127.0.0.1,::1",
    # One thread per library pool: submissions are graded side by side.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMCODECS_BLOSC_NTHREADS": "1",
    "BLOSC_NTHREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
"""Environment of every grading kernel."""
UNSET_ENV = ("MALLOC_TRIM_THRESHOLD_",)
"""Variables a grading kernel must not inherit: a dask nanny sets this one in its workers
(``distributed.nanny.pre-spawn-environ``), and it changes how glibc hands memory back, so a
kernel under the memory limit would behave differently on a dask worker than elsewhere."""


def copy_home(template: Path, home: Path) -> None:
    """Copy the warm caches of ``template`` (see :data:`HOME_CACHE_DIRS`) into ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    for part in HOME_CACHE_DIRS:
        source = Path(template) / part
        if source.is_dir():
            shutil.copytree(source, home / part, dirs_exist_ok=True, symlinks=True)


def copy_data(data_dir: Path, target: Path) -> None:
    """Copy the synthetic stand-in files of ``data_dir`` into ``target`` (the kernel's own cache)."""
    from course_utils import data

    target.mkdir(parents=True, exist_ok=True)
    if Path(data_dir).is_dir():
        for path in Path(data_dir).glob(f"{data.SYNTHETIC_PREFIX}*"):
            if path.is_file():
                shutil.copy2(path, target / path.name)


class SandboxedKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` that starts the kernel inside the grading sandbox."""

    isolation = Unicode(
        "auto",
        help="'auto' (the strongest that works; an error if none does), 'namespaces', 'user-namespaces', "
        "or 'none' (no sandbox: only the limits).",
    ).tag(config=True)
    memory_bytes = Int(Limits.memory_bytes, help="RLIMIT_DATA of the kernel (0: no limit).").tag(config=True)
    file_bytes = Int(Limits.file_bytes, help="RLIMIT_FSIZE of the kernel (0: no limit).").tag(config=True)
    scratch_bytes = Int(Limits.scratch_bytes, help="Size of the kernel's private /tmp, /var/tmp and /dev/shm together.").tag(
        config=True
    )
    hide = List(Unicode(), help="Paths the kernel must not see (covered by empty read-only mounts).").tag(
        config=True
    )
    writable = List(Unicode(), help="Directories the kernel may write besides its own.").tag(config=True)
    home_template = Unicode("", help="A warm home directory whose caches each kernel gets a copy of.").tag(
        config=True
    )
    data_dir = Unicode("", help="The course data cache whose synthetic files each kernel gets a copy of.").tag(
        config=True
    )
    processes = Int(Limits.processes, help="Processes the kernel may run at once, itself included (0: no limit). "
                    "Needs namespaces.").tag(config=True)
    memory_total_bytes = Int(Limits().memory_total_bytes, help="Memory all the kernel's processes may hold together "
                             "(0: no limit). Needs namespaces.").tag(config=True)
    extra_env = Dict(help="More environment variables for the kernel.").tag(config=True)

    _scratch: str | None = None

    def resolved_isolation(self) -> str:
        """The isolation this manager uses; :class:`sandbox.IsolationUnavailable` if it cannot be had."""
        return sandbox.require(self.isolation)

    def _prepare_scratch(self, cwd: str | None) -> dict:
        self._scratch = tempfile.mkdtemp(prefix="cgk-")
        scratch = Path(self._scratch)
        home, data_copy = scratch / "home", scratch / "data"
        if self.home_template:
            copy_home(Path(self.home_template), home)
        if self.data_dir:
            copy_data(Path(self.data_dir), data_copy)
        isolation = self.resolved_isolation()
        env = {
            **OFFLINE_ENV,
            "HOME": str(home),
            "IPYTHONDIR": str(home / ".ipython"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
            "TMPDIR": "/tmp",
            "COURSE_DATA_DIR": str(data_copy),
            **{str(k): str(v) for k, v in self.extra_env.items()},
        }
        if isolation == sandbox.NONE:
            # No namespaces here: refuse non-local connections from inside Python instead.
            guard = Path(__file__).with_name("netguard")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(guard), os.environ.get("PYTHONPATH", "")]))
        return {
            "isolation": isolation,
            "root": str(scratch / "root"),
            "memory_bytes": self.memory_bytes,
            "file_size_bytes": self.file_bytes,
            "scratch_bytes": self.scratch_bytes,
            "processes": self.processes,
            "memory_total_bytes": self.memory_total_bytes,
            "stop_note": self._stop_note(),
            "writable": [str(scratch), *([cwd] if cwd else []), *self.writable],
            "hide": list(self.hide),
            "env": env,
            "unset": list(UNSET_ENV),
            "make_dirs": [str(home), str(data_copy), str(home / ".config" / "matplotlib")],
        }

    async def _async_pre_start_kernel(self, **kw):
        policy = self._prepare_scratch(kw.get("cwd"))
        if policy["isolation"] in (sandbox.NAMESPACES, sandbox.USER_NAMESPACES):
            # The kernel has its own network namespace: talk over Unix sockets in its scratch dir.
            self.transport = "ipc"
            self.connection_file = os.path.join(self._scratch, "kernel.json")
            self.ip = os.path.join(self._scratch, "k")
        self._sandbox_policy = policy
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        """The kernel's command, prefixed with the sandbox launcher."""
        command = super().format_kernel_cmd(extra_arguments)
        policy = json.dumps(getattr(self, "_sandbox_policy", {"isolation": sandbox.NONE}))
        return [sys.executable, "-m", sandbox.__name__, policy, "--", *command]

    def _stop_note(self) -> str:
        # beside the scratch directory, not in it: outside everything the kernel can see or write
        return f"{self._scratch}.stopped"

    def stop_reason(self) -> str | None:
        """Why the sandbox stopped this kernel (too many processes, too much memory in all), or None."""
        if not self._scratch:
            return None
        try:
            return Path(self._stop_note()).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            with contextlib.suppress(OSError):
                os.unlink(self._stop_note())
            self._scratch = None

    cleanup_resources = _async_cleanup_resources  # what nbclient calls for a kernel that died
