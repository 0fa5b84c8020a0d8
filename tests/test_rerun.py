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

The first Restart & Run All is the session's shared solved run
(``tests/notebook_runs.py``, where the audit lives); the second runs here, in
its working directory.
"""

from __future__ import annotations

import json

import psutil
import pytest

from course_utils import authoring
from notebook_runs import SOLUTIONS, files, notebook_params, run_audited

# --- committed without outputs (fast) -------------------------------------------


@pytest.mark.parametrize("path", notebook_params())
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


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_params())
def test_restart_and_run_all_twice_in_the_same_directory(path, notebook_runs, offline_env):
    first = notebook_runs.solved(path)  # the session's solved run is the first run
    assert not first.audit.problems(), first.audit.report(f"first run of {path.name}")
    second = run_audited(authoring.build(path, SOLUTIONS, "solved"), first.workdir, offline_env)
    assert not second.problems(), second.report(f"second run of {path.name} in the same directory")
    after_second = files(first.workdir)
    assert after_second == first.files, (
        f"{path.name} leaves different files behind when run again: "
        f"new {sorted(after_second - first.files)}, gone {sorted(first.files - after_second)}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_params())
def test_each_code_cell_runs_twice_in_a_row(path, tmp_path, offline_env):
    audit = run_audited(
        authoring.build(path, SOLUTIONS, "solved"), tmp_path / "work", offline_env, each_cell_twice=True
    )
    assert not audit.problems(), audit.report(f"{path.name}, every code cell run twice")


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
