"""Rerun safety: what a student does to a notebook, over and over.

Students run a notebook again (Restart & Run All, in the same folder), run a
cell twice, and leave the kernel running when they are done. So, for every
notebook in ``notebooks/`` (solved, offline):

* Restart & Run All twice in a row in the same directory: no error either
  time, and the second run leaves the same files behind as the first;
* every code cell run twice in a row: no error, either run;
* when the last cell has run, the kernel holds no listening port it did not
  have at start and has no child process (a server left running); after the
  kernel is shut down nothing it started is alive. Processes are recognised
  by a marker in the environment the kernel passes on, so one that was
  orphaned (re-parented to init) is found too;
* the committed notebook has no outputs and no execution counts.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from nbclient import NotebookClient

from course_utils import authoring, runner

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SOLUTIONS = REPO / "solutions"
MARKER = "COURSE_RERUN_TEST"
EXIT_GRACE_SECONDS = 10

# Helpers the Python runtime starts once per interpreter and stops with it.
BENIGN_CHILDREN = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def _ids(path: Path) -> str:
    return path.stem


# --- committed without outputs (fast) -------------------------------------------


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        cell.get("id", index)
        for index, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} carry outputs or execution counts; "
        "clear them before committing (Edit > Clear Outputs of All Cells, then save)"
    )


# --- running, audited ---------------------------------------------------------------


@dataclass
class Audit:
    """What one run of a notebook did, beyond its outputs."""

    errors: list[str] = field(default_factory=list)
    new_ports: set = field(default_factory=set)
    children: list[str] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        found = list(self.errors)
        if self.new_ports:
            found.append(f"listening ports left open when the notebook finished: {sorted(self.new_ports)}")
        if self.children:
            found.append(f"processes still running when the notebook finished: {self.children}")
        if self.survivors:
            found.append(f"processes alive after the kernel shut down: {self.survivors}")
        return found


def _marked(marker: str) -> list[psutil.Process]:
    """Live processes whose environment carries ``MARKER=marker`` (the kernel and all it started)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(MARKER) == marker and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def _listening(processes: list[psutil.Process]) -> set:
    ports = set()
    for process in processes:
        try:
            for connection in process.net_connections(kind="inet"):
                if connection.status == psutil.CONN_LISTEN:
                    ports.add((connection.laddr.ip, connection.laddr.port))
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return ports


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:120]}"
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return str(process.pid)


def _benign(process: psutil.Process) -> bool:
    try:
        command = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return True
    return any(name in command for name in BENIGN_CHILDREN)


def _cell_errors(cell) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def run_audited(nb, workdir: Path, env: dict, *, each_cell_twice: bool = False) -> Audit:
    """Run ``nb`` in a fresh kernel in ``workdir`` and watch ports and processes.

    With ``each_cell_twice`` every code cell runs twice in a row. Errors of
    every run of every cell are collected (a second run overwrites the
    outputs of the first, so they are read after each).
    """
    marker = secrets.token_hex(8)
    audit = Audit()
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nb, timeout=runner.DEFAULT_CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        with client.setup_kernel(env={**os.environ, **env, MARKER: marker}):
            kernel = psutil.Process(client.km.provisioner.process.pid)
            baseline = _listening(_marked(marker))  # the kernel's own ZMQ ports
            for index, cell in enumerate(client.nb.cells):
                for attempt in range(2 if each_cell_twice and cell.cell_type == "code" else 1):
                    client.execute_cell(cell, index)
                    audit.errors += [f"cell {index} run {attempt + 1}: {e}" for e in _cell_errors(cell)]
            audit.new_ports = _listening(_marked(marker)) - baseline
            audit.children = [
                _describe(p) for p in _marked(marker) if p.pid != kernel.pid and not _benign(p)
            ]
    finally:
        deadline = time.monotonic() + EXIT_GRACE_SECONDS
        while (alive := _marked(marker)) and time.monotonic() < deadline:
            time.sleep(0.2)
        audit.survivors = [_describe(p) for p in alive]
        for process in alive:  # started by this test's kernel: found by its marker
            process.kill()
        psutil.wait_procs(alive, timeout=EXIT_GRACE_SECONDS)
    return audit


def _report(what: str, audit: Audit) -> str:
    return f"{what}:\n" + "\n".join(f"  - {problem.strip()[:400]}" for problem in audit.problems())


def _files(workdir: Path) -> set[str]:
    return {p.relative_to(workdir).as_posix() for p in workdir.rglob("*")}


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory):
    """Kernel environment: offline mode and a data cache shared by the module."""
    return {"COURSE_OFFLINE": "1", "COURSE_DATA_DIR": str(tmp_path_factory.mktemp("data"))}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_restart_and_run_all_twice_in_the_same_directory(path, tmp_path, offline_env):
    workdir = tmp_path / "work"
    first = run_audited(authoring.build(path, SOLUTIONS, "solved"), workdir, offline_env)
    assert not first.problems(), _report(f"first run of {path.name}", first)
    after_first = _files(workdir)
    second = run_audited(authoring.build(path, SOLUTIONS, "solved"), workdir, offline_env)
    assert not second.problems(), _report(f"second run of {path.name} in the same directory", second)
    assert _files(workdir) == after_first, (
        f"{path.name} leaves different files behind when run again: "
        f"new {sorted(_files(workdir) - after_first)}, gone {sorted(after_first - _files(workdir))}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_each_code_cell_runs_twice_in_a_row(path, tmp_path, offline_env):
    audit = run_audited(
        authoring.build(path, SOLUTIONS, "solved"), tmp_path / "work", offline_env, each_cell_twice=True
    )
    assert not audit.problems(), _report(f"{path.name}, every code cell run twice", audit)


# --- the audit itself catches what it should (fast) ------------------------------


def _notebook(*sources):
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook()
    nb.cells = [new_code_cell(source) for source in sources]
    return nb


def test_audit_finds_a_server_left_running_and_a_cell_that_fails_the_second_time(tmp_path):
    leaky = _notebook(
        "import socket, subprocess, sys\n"
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\n"
        "sleep = [sys.executable, '-c', 'import time; time.sleep(60)']\n"
        "child = subprocess.Popen(sleep, stderr=subprocess.DEVNULL)\n"
        "orphan = subprocess.Popen(sleep, stderr=subprocess.DEVNULL, start_new_session=True)",
        "import os\nos.mkdir('made_once')",
    )
    audit = run_audited(leaky, tmp_path, {}, each_cell_twice=True)
    assert len(audit.new_ports) == 1  # the first run's socket was closed when `server` was rebound
    assert len(audit.children) == 4 and all("time.sleep(60)" in c for c in audit.children)
    # The kernel's process group dies with it; a child in a session of its own outlives it.
    assert len(audit.survivors) == 2 and all("time.sleep(60)" in c for c in audit.survivors)
    assert any("FileExistsError" in error and "run 2" in error for error in audit.errors)
    assert not any("run 1" in error for error in audit.errors)
    pids = [int(entry.split()[0]) for entry in audit.survivors]
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in pids), "the audit kills what the kernel left behind"


def test_audit_passes_a_clean_notebook(tmp_path):
    clean = _notebook(
        "import socket\nwith socket.socket() as s:\n    s.bind(('127.0.0.1', 0)); s.listen()",
        "print('hello')",
    )
    assert run_audited(clean, tmp_path, {}, each_cell_twice=True).problems() == []
