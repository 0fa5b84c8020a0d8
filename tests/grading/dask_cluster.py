"""A real dask cluster for the grading tests: a scheduler and workers, each started with the ``dask`` command.

Every process binds 127.0.0.1 on a free port, runs in a process group of its
own, and is stopped by its PID (never by name). :meth:`Cluster.stop` also
checks that nothing it started is left: no scheduler, nanny, worker,
sandbox launcher or kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

DASK = str(Path(sys.executable).with_name("dask"))


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 (see the module doc)."""

    def __init__(self, folder: Path, env: dict | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **(env or {})}
        self.processes: list[subprocess.Popen] = []
        self.seen: dict[int, float] = {}
        """Every process of the cluster ever seen (pid: start time), to check they all end."""
        self.address = ""

    def _start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**self.env, **(env or {})},
                                   cwd=self.folder, start_new_session=True)
        process.log = log
        self.processes.append(process)
        return process

    def start_scheduler(self) -> str:
        file = self.folder / "scheduler.json"
        self._start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(file)])
        deadline = time.monotonic() + 60
        while not file.is_file() or not file.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError("the dask scheduler did not start: " + (self.folder / "scheduler.log").read_text())
            time.sleep(0.1)
        self.address = json.loads(file.read_text())["address"]
        return self.address

    def start_worker(self, name: str, env: dict | None = None) -> subprocess.Popen:
        """``dask worker ADDRESS`` with one process of one thread (its nanny restarts it if it dies)."""
        return self._start(name, [DASK, "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                                  "--host", "127.0.0.1", "--no-dashboard", "--name", name, "--death-timeout", "60"],
                           env)

    def client(self):
        from distributed import Client

        return Client(self.address, set_as_default=False)

    def wait_for_workers(self, count: int, timeout: float = 120) -> dict:
        """``{address: info}`` once ``count`` workers are connected."""
        with self.client() as client:
            client.wait_for_workers(count, timeout=timeout)
            return client.scheduler_info(n_workers=-1)["workers"]

    def remember(self) -> None:
        """Note every process of the cluster now (kernels included), to check at the end that they all ended."""
        for process in self.processes:
            try:
                root = psutil.Process(process.pid)
                for each in [root, *root.children(recursive=True)]:
                    self.seen[each.pid] = each.create_time()
            except psutil.NoSuchProcess:
                continue

    def ours(self, pid: int) -> bool:
        """True if process ``pid`` was started by this cluster (a descendant of one of its processes)."""
        try:
            return any(parent.pid in {p.pid for p in self.processes} for parent in psutil.Process(pid).parents())
        except psutil.NoSuchProcess:
            return False

    def stop_process(self, process: subprocess.Popen) -> None:
        """Stop one process group this cluster started (by its PID), gently then not."""
        self.remember()
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=20)
        process.log.close()

    def stop(self) -> list[str]:
        """Stop everything; the processes still alive afterwards (should be none)."""
        for process in reversed(self.processes):
            self.stop_process(process)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            left = [pid for pid, started in self.seen.items() if _alive(pid, started)]
            if not left:
                return []
            time.sleep(0.2)
        left = []
        for pid, started in self.seen.items():
            if _alive(pid, started):
                left.append(" ".join(psutil.Process(pid).cmdline())[:200])
        return left

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _alive(pid: int, started: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.create_time() == started and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def mismatched_course(folder: Path) -> Path:
    """A copy of ``course_utils`` with one line added: what a worker with another version of the course has.

    Put on a worker's ``PYTHONPATH``, it is imported instead of the installed one.
    """
    import course_utils

    target = Path(folder) / "course_utils"
    shutil.copytree(Path(course_utils.__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / "checks" / "__init__.py", "a") as handle:
        handle.write("\n# a worker whose course is not the client's\n")
    return Path(folder)
