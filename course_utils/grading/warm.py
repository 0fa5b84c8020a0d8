"""Warm the caches every grading kernel starts from, once per notebook version.

A fresh home directory makes a kernel recompile ngff-zarr's WebAssembly
downsamplers and rebuild matplotlib's font list: about half a minute, per
submission. Grading kernels instead start from a copy of a warm *template*
home (:func:`course_utils.grading.config.grading_home`) and a warm data
cache (the synthetic stand-ins, :func:`course_utils.grading.config.grading_data`).
:func:`ensure_warm` fills both by running each assignment's solved notebook
once, offline, and leaves a marker so the next grading run skips it. The
same run checks that the second look confirms every solution
(:mod:`course_utils.grading.selfcheck`); if it does not, grading stops with
:class:`~course_utils.grading.selfcheck.SolutionNotConfirmed` before any
student loses points to it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

from course_utils import runner
from course_utils.grading import config, selfcheck

MARKERS = ".course-utils-warm"


def _marker(home: Path, notebook: Path, solutions: Path) -> Path:
    digest = hashlib.sha256(notebook.read_bytes())
    for path in sorted((solutions / notebook.stem).glob("*.py")):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return home / MARKERS / f"{notebook.stem}-{digest.hexdigest()[:16]}"


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
        home.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        nb = selfcheck.checked_notebook(assignment.notebook, solutions)
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
