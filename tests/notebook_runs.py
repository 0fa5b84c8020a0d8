"""Every notebook executed once per mode and per test session, shared by the tests that read it.

Running a notebook is the expensive part of the suite, so a test never runs
one itself when it only needs to look at a run. It asks the session fixture
``notebook_runs`` (see ``tests/conftest.py``) instead::

    from notebook_runs import notebook_params

    @pytest.mark.parametrize("path", notebook_params())
    def test_something_about_the_solved_run(path, notebook_runs):
        run = notebook_runs.solved(path)   # executed on first use, then cached
        run.nb        # the executed notebook (outputs of every cell)
        run.audit     # ports, processes and errors the run left (see Audit)
        run.outputs   # a copy of its working directory taken before its clean-up cells ran

    notebook_runs.blank(path).nb           # the blank notebook (as students get it), executed

Two runs per notebook, keyed by notebook and mode:

* ``solved``: the answers and hidden tests from ``solutions/`` put in, run
  offline in a fresh kernel, audited (:func:`run_audited`). Just before the
  first cell tagged ``cleanup`` the working directory is copied to
  ``outputs`` (as hard links, see :func:`copy_tree`), so what the notebook
  wrote can be checked after its clean-up removed it. The working directory is kept too: ``tests/test_rerun.py`` runs
  the notebook a second time in it.
* ``blank``: the notebook as a student gets it, every cell run even after one
  fails (the exercises raise ``NotImplementedError`` until answered).

``notebook_params()`` gives each notebook an ``xdist_group`` of its own, so
with ``pytest-xdist --dist loadgroup`` one worker owns a notebook: all its
tests run there and share its two runs. A run that fails to complete (the
kernel died, a timeout) is remembered and raised again to every test that
asks for it, never retried.

Nothing here reads a notebook's content: notebooks are found by the glob
``notebooks/*.ipynb``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from nbclient import NotebookClient

from course_utils import authoring, runner

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO / "notebooks"
SOLUTIONS = REPO / "solutions"
#: Cells with this tag undo what the notebook wrote; ``outputs`` is taken before the first.
CLEANUP_TAG = "cleanup"
#: The environment variable that marks the kernel of an audited run and everything it starts.
MARKER = "COURSE_RERUN_TEST"
EXIT_GRACE_SECONDS = 10
#: Helpers the Python runtime starts once per interpreter and stops with it.
BENIGN_CHILDREN = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def notebooks() -> list[Path]:
    """Every lesson notebook, in order: ``notebooks/*.ipynb``."""
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def group(path: Path) -> str:
    """The ``xdist_group`` of the tests of notebook ``path``."""
    return f"notebook-{Path(path).stem}"


def notebook_params() -> list:
    """``pytest.param`` per notebook: id its stem, in the notebook's ``xdist_group``."""
    return [pytest.param(path, id=path.stem, marks=pytest.mark.xdist_group(group(path))) for path in notebooks()]


def blank_run_problems(nb) -> list[str]:
    """What is wrong with a run of the blank notebook ``nb``, one line each (empty: nothing).

    Every code cell ran, in order; lesson cells have no error; each answer
    cell fails with ``NotImplementedError`` (not answered yet) and each test
    cell with the course's friendly ``AnswerError``.
    """
    problems = []
    code = [(index, cell) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    not_run = [index for index, cell in code if cell.get("execution_count") is None]
    if not_run:
        problems.append(f"cells {not_run} never ran")
    counts = [cell.execution_count for _, cell in code if cell.get("execution_count") is not None]
    if counts != sorted(counts):
        problems.append(f"cells ran out of order: {counts}")
    answers = {id(cell) for cell in authoring.answer_cells(nb).values()}
    tests = {id(cell) for cell in authoring.test_cells(nb).values()}
    if not tests:
        problems.append("no graded test cells")
    failures = runner.errors(nb)
    lessons = {i: e for i, e in failures.items() if id(nb.cells[i]) not in answers | tests}
    if lessons:
        problems.append(f"lesson cells failed: {lessons}")
    for index, cell in code:
        failure = failures.get(index, "")
        if id(cell) in answers and not failure.startswith("NotImplementedError"):
            problems.append(f"answer cell {index} did not fail with NotImplementedError: {failure!r}")
        if id(cell) in tests and not failure.startswith("AnswerError"):
            problems.append(f"test cell {index} did not fail with the friendly AnswerError: {failure!r}")
    return problems


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

    def report(self, what: str) -> str:
        """``what``, then one line per problem: an assertion message."""
        return f"{what}:\n" + "\n".join(f"  - {problem.strip()[:400]}" for problem in self.problems())


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


def _is_cleanup(cell) -> bool:
    return CLEANUP_TAG in cell.get("metadata", {}).get("tags", [])


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, destination)


def copy_tree(source: Path, destination: Path) -> Path:
    """``source`` copied to ``destination`` as hard links: instant, and immune to deletion.

    A notebook's clean-up removes what it wrote; the links keep the files.
    A file rewritten in place later (not replaced) changes in both places.
    """
    shutil.copytree(source, destination, symlinks=True, copy_function=_link_or_copy)
    return destination


def run_audited(
    nb, workdir: Path, env: dict, *, each_cell_twice: bool = False, snapshot: Path | None = None
) -> Audit:
    """Run ``nb`` in a fresh kernel in ``workdir`` and watch ports and processes.

    With ``each_cell_twice`` every code cell runs twice in a row. Errors of
    every run of every cell are collected (a second run overwrites the
    outputs of the first, so they are read after each). With ``snapshot``,
    ``workdir`` is copied there just before the first cell tagged
    ``cleanup`` runs (after the last cell when there is none). When the last
    cell has run, the kernel must hold no listening port it did not have at
    start and have no child process; after it is shut down nothing it started
    may be alive (found by a marker in the environment, so orphans too). What
    is still alive is killed.
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
                if snapshot is not None and not snapshot.exists() and _is_cleanup(cell):
                    copy_tree(workdir, snapshot)
                for attempt in range(2 if each_cell_twice and cell.cell_type == "code" else 1):
                    client.execute_cell(cell, index)
                    audit.errors += [f"cell {index} run {attempt + 1}: {e}" for e in _cell_errors(cell)]
            if snapshot is not None and not snapshot.exists():
                copy_tree(workdir, snapshot)
            audit.new_ports = _listening(_marked(marker)) - baseline
            audit.children = [
                _describe(p) for p in _marked(marker) if p.pid != kernel.pid and not _benign(p)
            ]
    finally:
        deadline = time.monotonic() + EXIT_GRACE_SECONDS
        while (alive := _marked(marker)) and time.monotonic() < deadline:
            time.sleep(0.2)
        audit.survivors = [_describe(p) for p in alive]
        for process in alive:  # started by this run's kernel: found by its marker
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=EXIT_GRACE_SECONDS)
    return audit


def files(workdir: Path) -> set[str]:
    """Every path under ``workdir``, relative, as POSIX strings."""
    return {p.relative_to(workdir).as_posix() for p in workdir.rglob("*")}


# --- the session's runs ------------------------------------------------------------------


@dataclass
class SolvedRun:
    """One audited run of a solved notebook (see the module docstring)."""

    path: Path
    nb: object
    audit: Audit
    workdir: Path
    files: set[str]
    outputs: Path
    seconds: float


@dataclass
class AgainRun:
    """The solved notebook run again in the first run's directory, each code cell twice in a row.

    ``audit.errors`` name the run of each cell: ``run 1`` errors are what a
    second Restart & Run All in the same folder meets, ``run 2`` errors what
    running a cell again right away meets. ``files`` is what the folder holds after.
    """

    path: Path
    audit: Audit
    files: set[str]
    seconds: float

    def run_all_again_errors(self) -> list[str]:
        """Errors of each cell's first run: a second Restart & Run All in the same directory."""
        return [error for error in self.audit.errors if " run 1: " in error]


@dataclass
class BlankRun:
    """One run of a blank notebook, every cell run even after one failed."""

    path: Path
    nb: object
    seconds: float


class NotebookRuns:
    """The session's cache of executed notebooks, keyed by notebook and mode.

    ``env`` is the kernels' extra environment (offline mode, the session's
    data cache); ``root`` the folder the runs' working directories go under;
    ``prepare`` is called once before the first run (it warms the data cache).
    """

    def __init__(self, root: Path, env: dict, prepare=None):
        self.root = Path(root)
        self.env = dict(env)
        self._prepare = prepare
        self._runs: dict[tuple[str, str], object] = {}

    def _get(self, path: Path, mode: str, execute):
        key = (str(Path(path).resolve()), mode)
        if key not in self._runs:
            if self._prepare is not None:
                prepare, self._prepare = self._prepare, None
                prepare()
            try:
                self._runs[key] = execute(Path(path), self.root / f"{Path(path).stem}-{mode}")
            except BaseException as error:  # remembered: every test that needs this run fails the same way
                if isinstance(error, KeyboardInterrupt):
                    raise
                self._runs[key] = error
        found = self._runs[key]
        if isinstance(found, BaseException):
            raise RuntimeError(f"the shared {mode} run of {Path(path).name} did not complete") from found
        return found

    def solved(self, path: Path) -> SolvedRun:
        """The audited run of ``path`` with the solutions put in (run on first use)."""
        return self._get(path, "solved", self._run_solved)

    def blank(self, path: Path) -> BlankRun:
        """The run of ``path`` as students get it (run on first use)."""
        return self._get(path, "blank", self._run_blank)

    def again(self, path: Path) -> AgainRun:
        """The solved run repeated in its own directory, each code cell twice (after :meth:`solved`)."""
        return self._get(path, "again", self._run_again)

    def _run_solved(self, path: Path, home: Path) -> SolvedRun:
        workdir, outputs = home / "work", home / "outputs"
        nb = authoring.build(path, SOLUTIONS, "solved")
        start = time.perf_counter()
        audit = run_audited(nb, workdir, self.env, snapshot=outputs)
        seconds = time.perf_counter() - start
        return SolvedRun(path, nb, audit, workdir, files(workdir), outputs, seconds)

    def _run_again(self, path: Path, home: Path) -> AgainRun:
        first = self.solved(path)
        nb = authoring.build(path, SOLUTIONS, "solved")
        start = time.perf_counter()
        audit = run_audited(nb, first.workdir, self.env, each_cell_twice=True)
        return AgainRun(path, audit, files(first.workdir), time.perf_counter() - start)

    def _run_blank(self, path: Path, home: Path) -> BlankRun:
        start = time.perf_counter()
        nb = runner.execute(runner.read(path), home / "work", allow_errors=True, env=self.env)
        return BlankRun(path, nb, time.perf_counter() - start)
