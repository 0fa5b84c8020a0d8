"""What the grading tests share besides fixtures: the course, its test limits, settings.

A module of its own (not ``conftest``): several test folders have a
``conftest.py``, and ``from conftest import ...`` gets whichever was loaded last.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from course_utils.grading import course
from course_utils.grading.autograde import Settings
from course_utils.grading.limits import GIB, Limits

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01_store_interface"

GRADED_NOTEBOOKS = [p for p in sorted((REPO / "notebooks").glob("*.ipynb")) if (REPO / "solutions" / p.stem).is_dir()]
"""Every notebook of the course with exercises (whatever notebooks there are)."""

TEST_LIMITS = Limits(cell_seconds=20, notebook_seconds=300, memory_bytes=2 * GIB)
"""Short enough that the infinite loops end quickly, roomy enough for notebook 01."""


def settings_for(root: Path, data_dir: Path, workers: int) -> Settings:
    """Grading settings for a test course."""
    return Settings(course_root=root, repo=REPO, limits=TEST_LIMITS, data_dir=data_dir, workers=workers)


def copy_course(source: Path, destination: Path, limits: Limits | None = TEST_LIMITS) -> Path:
    """A copy of the course at ``source``, with a config of its own (``limits``; None: the defaults)."""
    shutil.copytree(source, destination)
    course.write_config(destination, REPO, limits)
    return destination
