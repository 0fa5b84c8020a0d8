"""Warm the caches every grading kernel starts from, once per notebook version.

A fresh home directory makes a kernel recompile ngff-zarr's WebAssembly
downsamplers and rebuild matplotlib's font list: about half a minute, per
submission. Grading kernels instead start from a copy of a warm *template*
home (:func:`course_utils.grading.plugins.config.grading_home`) and a warm data
cache (the synthetic stand-ins, :func:`course_utils.grading.plugins.config.grading_data`).
:func:`ensure_warm` fills both by running each assignment's solved notebook
once, offline, and leaves a marker so the next grading run skips it. The
same run checks that the second look confirms every solution
(:mod:`course_utils.grading.selfcheck`); if it does not, grading stops with
:class:`~course_utils.grading.selfcheck.SolutionNotConfirmed` before any
student loses points to it.

A dask worker on another machine has caches of its own: each job carries a
:func:`recipe` (the solved notebook and the name of its marker), and
:func:`warm_from` runs it once per machine and notebook version, under a
lock, before the first submission of that notebook is graded there. A
worker that shares this machine's cache finds the client's marker and skips it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import nbformat

from course_utils import authoring, runner
from course_utils.grading import selfcheck
from course_utils.grading.plugins import config

MARKERS = ".course-utils-warm"
WORKER_SUFFIX = ".worker"
"""A worker's marker: warm, without the self-check (which the client did)."""


def marker_name(notebook: Path, solutions: Path) -> str:
    """The marker of one notebook version (the notebook, its solutions, the Python version)."""
    digest = hashlib.sha256(notebook.read_bytes())
    for path in sorted((solutions / notebook.stem).glob("*.py")):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return f"{notebook.stem}-{digest.hexdigest()[:16]}"


def _marker(home: Path, notebook: Path, solutions: Path) -> Path:
    return home / MARKERS / marker_name(notebook, solutions)


def _run(nb, home: Path, data_dir: Path) -> None:
    """Run ``nb`` offline with ``home`` as its home and ``data_dir`` as its data cache (fills both)."""
    home.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "COURSE_OFFLINE": "1",
        "COURSE_DATA_DIR": str(data_dir),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
        "IPYTHONDIR": str(home / ".ipython"),
    }
    with tempfile.TemporaryDirectory() as workdir:
        runner.execute(nb, Path(workdir), allow_errors=True, env=env)


def ensure_warm(settings, assignments) -> list[str]:
    """Run the solved notebook of each assignment not yet warm; returns the ones it ran.

    Raises :class:`~course_utils.grading.selfcheck.SolutionNotConfirmed` if
    the second look would not confirm one of its solutions.
    """
    home, data_dir = config.grading_home(settings.data_dir), config.grading_data(settings.data_dir)
    solutions = Path(settings.repo) / "solutions"
    ran = []
    for assignment in assignments:
        marker = _marker(home, assignment.notebook, solutions)
        if marker.exists():
            continue
        nb = selfcheck.checked_notebook(assignment.notebook, solutions)
        _run(nb, home, data_dir)
        found = selfcheck.verdicts(nb)
        problems = selfcheck.unconfirmed(found)
        if problems:
            raise selfcheck.SolutionNotConfirmed(selfcheck.describe(assignment.notebook, problems))
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(found))
        ran.append(assignment.name)
    return ran


def verdicts(settings, assignment) -> dict | None:
    """The second look's verdicts on ``assignment``'s solutions from its warm-up run, if it ran (else None)."""
    home = config.grading_home(settings.data_dir)
    marker = _marker(home, assignment.notebook, Path(settings.repo) / "solutions")
    try:
        return json.loads(marker.read_text()) if marker.is_file() else None
    except ValueError:
        return None


def recipe(settings, assignment) -> dict:
    """What a worker needs to warm its own caches for ``assignment``: the solved notebook and its marker's name."""
    solutions = Path(settings.repo) / "solutions"
    return {
        "marker": marker_name(assignment.notebook, solutions),
        "notebook": nbformat.writes(authoring.build(assignment.notebook, solutions, "solved")),
    }


def warm_from(recipe: dict, data_dir: Path | None = None) -> bool:
    """On a worker: run ``recipe`` (from :func:`recipe`) unless this machine is warm for it; True if it ran.

    Worker processes of one machine share the cache, so one of them runs it
    while the others wait (a file lock), and then find the marker.
    """
    home, cache = config.grading_home(data_dir), config.grading_data(data_dir)
    markers = home / MARKERS
    own = markers / (recipe["marker"] + WORKER_SUFFIX)
    if (markers / recipe["marker"]).exists() or own.exists():
        return False
    markers.mkdir(parents=True, exist_ok=True)
    with open(markers / (recipe["marker"] + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (markers / recipe["marker"]).exists() or own.exists():
            return False
        _run(nbformat.reads(recipe["notebook"], as_version=4), home, cache)
        own.write_text("{}")
    return True
