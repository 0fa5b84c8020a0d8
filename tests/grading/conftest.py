"""Fixtures for the grading tests: a private data cache, limits for tests, built courses.

Modelled on nbgrader's own ``tests/apps``: every test gets a fresh course
directory, runs real nbgrader on real notebooks, and reads the gradebook
with nbgrader's ``Gradebook`` API. The grading kernels' warm caches live in
one directory per test session, so ngff-zarr's WebAssembly is compiled once.
"""

from __future__ import annotations

import os
import shutil

import pytest

from course_utils import authoring
from course_utils.grading import course, warm
from course_utils.grading.autograde import Settings

from grading_course import ASSIGNMENT, REPO, TEST_LIMITS


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """``COURSE_DATA_DIR`` for the whole session (kernels and workers inherit it)."""
    path = tmp_path_factory.mktemp("grading-data")
    old = os.environ.get("COURSE_DATA_DIR")
    os.environ["COURSE_DATA_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("COURSE_DATA_DIR", None)
    else:
        os.environ["COURSE_DATA_DIR"] = old


@pytest.fixture(scope="session")
def template_course(tmp_path_factory, data_dir):
    """A course with assignment 01 released and its grading caches warm; copy it, do not change it."""
    root = tmp_path_factory.mktemp("template") / "course"
    course.generate(root, REPO, [ASSIGNMENT], limits=TEST_LIMITS)
    warm.ensure_warm(Settings(root, REPO, limits=TEST_LIMITS, data_dir=data_dir), [course.find_assignment(ASSIGNMENT)])
    return root


@pytest.fixture
def course_dir(tmp_path, template_course):
    """A fresh copy of the released course for one test."""
    root = tmp_path / "course"
    shutil.copytree(template_course, root)
    course.write_config(root, REPO, TEST_LIMITS)  # its own path in the config
    return root


@pytest.fixture(scope="session")
def release(template_course):
    """The student version of notebook 01 that ``nbgrader generate_assignment`` wrote."""
    return course.release_notebook(template_course, course.find_assignment(ASSIGNMENT))


@pytest.fixture(scope="session")
def exercises():
    """Answers and hidden tests of notebook 01, from solutions/."""
    return authoring.read_exercises(REPO / "notebooks" / f"{ASSIGNMENT}.ipynb", REPO / "solutions")


@pytest.fixture(scope="session")
def messy_download(tmp_path_factory, release, exercises):
    """The messy class's LMS download (:mod:`messy_class`), built once."""
    import messy_class

    return messy_class.build(tmp_path_factory.mktemp("messy-download"), release, exercises, REPO)
