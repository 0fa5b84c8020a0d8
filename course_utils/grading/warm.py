"""Warm the caches every grading kernel starts from, once per notebook version.

A fresh home directory makes a kernel recompile ngff-zarr's WebAssembly
downsamplers and rebuild matplotlib's font list: about half a minute, per
submission. Grading kernels instead start from a copy of a warm *template*
home (:func:`course_utils.grading.config.grading_home`) and a warm data
cache (the synthetic stand-ins, :func:`course_utils.grading.config.grading_data`).
:func:`ensure_warm` fills both by running each assignment's solved notebook
once, offline, and leaves a marker so the next grading run skips it.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

from course_utils import authoring, runner
from course_utils.grading import config

MARKERS = ".course-utils-warm"


def _marker(home: Path, notebook: Path, solutions: Path) -> Path:
    digest = hashlib.sha256(notebook.read_bytes())
    for path in sorted((solutions / notebook.stem).glob("*.py")):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return home / MARKERS / f"{notebook.stem}-{digest.hexdigest()[:16]}"


def ensure_warm(settings, assignments) -> list[str]:
    """Run the solved notebook of each assignment not yet warm; returns the ones it ran."""
    home, data_dir = config.grading_home(settings.data_dir), config.grading_data(settings.data_dir)
    solutions = Path(settings.repo) / "solutions"
    ran = []
    for assignment in assignments:
        marker = _marker(home, assignment.notebook, solutions)
        if marker.exists():
            continue
        home.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        nb = authoring.build(assignment.notebook, solutions, "solved")
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
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        ran.append(assignment.name)
    return ran
