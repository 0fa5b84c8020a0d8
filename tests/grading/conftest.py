"""Fixtures for the grading tests: a private data cache, limits for tests, built courses.

Modelled on nbgrader's own ``tests/apps``: every test gets a fresh course
directory, runs real nbgrader on real notebooks, and reads the gradebook
with nbgrader's ``Gradebook`` API. The grading kernels' warm caches live in
one directory per test session, so ngff-zarr's WebAssembly is compiled once.
"""

from __future__ import annotations

import shutil

import pytest

from course_utils import authoring
from course_utils.grading import course, selfcheck, warm
from course_utils.grading.autograde import Settings

import session_data
from grading_course import ASSIGNMENT, GRADED_NOTEBOOKS, REPO, TEST_LIMITS


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """``COURSE_DATA_DIR`` for the whole session (kernels and workers inherit it)."""
    with session_data.data_dir_set(tmp_path_factory.mktemp("grading-data")) as path:
        yield path


@pytest.fixture(scope="session")
def template_course(tmp_path_factory, data_dir):
    """A course with assignment 01 released and its grading caches warm; copy it, do not change it."""
    root = tmp_path_factory.mktemp("template") / "course"
    course.generate(root, REPO, [ASSIGNMENT], limits=TEST_LIMITS)
    warm.ensure_warm(Settings(root, REPO, limits=TEST_LIMITS, data_dir=data_dir), [course.find_assignment(ASSIGNMENT)])
    return root


@pytest.fixture(scope="session")
def every_assignment_course(tmp_path_factory, data_dir, template_course):
    """A course with every notebook released, warmed for grading one notebook after another.

    Returns ``(root, unconfirmed)``: ``unconfirmed`` maps a notebook whose
    solutions the second look would not confirm to why (warming stops there
    for it); the others' verdicts are in the warm-up's markers
    (:func:`course_utils.grading.warm.verdicts`). Copy the course, do not change it.
    """
    root = tmp_path_factory.mktemp("every-assignment") / "course"
    names = [path.stem for path in GRADED_NOTEBOOKS]
    course.generate(root, REPO, names, limits=TEST_LIMITS)
    settings = Settings(root, REPO, limits=TEST_LIMITS, data_dir=data_dir)
    unconfirmed = {}
    for name in names:  # 01 is warm already (template_course shares the data cache)
        try:
            warm.ensure_warm(settings, [course.find_assignment(name)])
        except selfcheck.SolutionNotConfirmed as error:
            unconfirmed[name] = str(error)
    return root, unconfirmed


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


@pytest.fixture(scope="session")
def adversarial_class(tmp_path_factory, template_course, release, exercises, data_dir):
    """Every hard case of :mod:`grading_submissions` plus two ordinary full solutions, graded in one parallel run.

    Session-scoped: ``test_adversarial`` asserts on it, and ``test_parallel``
    compares its grades with a sequential run.
    """
    import hashlib
    import socket

    from course_utils.grading import pipeline

    import grading_submissions as subs
    from grading_course import settings_for

    def digest(path):
        return hashlib.sha256(path.read_bytes()).hexdigest()

    root = tmp_path_factory.mktemp("adversarial") / "course"
    shutil.copytree(template_course, root)
    course.write_config(root, REPO)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    submitted = root / "submitted"
    context = {
        "gradebook": root / "gradebook.db",
        "others": str(submitted / "*" / "*" / "*.ipynb"),
        "victim": submitted / subs.BYSTANDERS[0] / ASSIGNMENT / subs.NOTEBOOK,
        "source": root / "source" / ASSIGNMENT / subs.NOTEBOOK,
        "checks": subs.CHECKS_FILE,
        "port": listener.getsockname()[1],
    }
    for case in subs.CASES:
        case.write(submitted / case.name / ASSIGNMENT, release, exercises, context)
    for name in subs.BYSTANDERS:
        subs.BY_NAME["full"].write(submitted / name / ASSIGNMENT, release, exercises, context)
    protected = [context["victim"], context["source"], subs.CHECKS_FILE, *sorted((REPO / "solutions").rglob("*.py"))]
    before = {path: digest(path) for path in protected}
    results, _ = pipeline.autograde_and_verify(settings_for(root, data_dir, workers=2), ASSIGNMENT)
    listener.close()
    after = {path: digest(path) for path in protected}
    return {"root": root, "results": {r.student: r for r in results}, "before": before, "after": after}
