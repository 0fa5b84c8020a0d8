"""The second look never costs an honest answer its points: every solution of every notebook is confirmed.

For each notebook in notebooks/ (whatever notebooks there are: this runs
on the ones added later too), the solved notebook runs once with, after
each test cell, exactly what the second look does with a student's answer
(:mod:`course_utils.grading.selfcheck`): the answer variables read out as
plain data under the read-out's size limit, decoded, and the hidden tests
run on them. Every test must be confirmed. That run is the grading warm-up
of every notebook (fixture ``every_assignment_course``), which the
every-notebook cluster test then grades against.
"""

from __future__ import annotations

import pytest

from course_utils import authoring
from course_utils.grading import answers, course, selfcheck, warm
from course_utils.grading.job import Settings

from grading_course import GRADED_NOTEBOOKS, REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def confirmed(every_assignment_course, data_dir):
    """``{notebook stem: {test: [outcome, message]}}`` from the grading warm-up of every notebook.

    The warm-up runs each solved notebook once with the second look's steps
    (:func:`course_utils.grading.warm.ensure_warm`); a notebook whose
    solutions it would not confirm maps to the warm-up's reason instead.
    """
    root, unconfirmed = every_assignment_course
    found = {}
    for path in GRADED_NOTEBOOKS:
        verdicts = warm.verdicts(Settings(root, REPO, data_dir=data_dir), course.find_assignment(path.stem))
        found[path.stem] = unconfirmed.get(path.stem, verdicts)
    return found


def test_every_notebook_with_exercises_is_checked():
    assert GRADED_NOTEBOOKS and all(authoring.read_exercises(p, REPO / "solutions") for p in GRADED_NOTEBOOKS)


@pytest.mark.parametrize("path", GRADED_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_solution_is_confirmed_by_the_second_look(confirmed, path):
    found = confirmed[path.stem]
    assert not isinstance(found, str), found  # the warm-up's SolutionNotConfirmed
    tests = {g + authoring.TEST_SUFFIX for g in authoring.read_exercises(path, REPO / "solutions")}
    assert set(found) == tests
    assert selfcheck.unconfirmed(found) == []


@pytest.mark.parametrize("path", GRADED_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_answer_variables_to_read_out(path):
    """An exercise whose answer names cannot be found would have nothing to re-check: all withheld."""
    for grade_id, exercise in authoring.read_exercises(path, REPO / "solutions").items():
        assert answers.answer_names(exercise.answer, exercise.hidden_tests), grade_id


def test_a_solution_the_second_look_cannot_read_is_reported(tmp_path):
    """The self-check itself: an answer that is not plain data is not confirmed (and says why)."""
    found = {"x_tests": [answers.UNAVAILABLE, "`x` could not be read as plain data (function)"],
             "y_tests": [answers.PASS, ""]}
    assert selfcheck.unconfirmed(found) == ["x_tests: unavailable (`x` could not be read as plain data (function))"]
    assert "every honest answer there would lose its points" in selfcheck.describe(tmp_path / "nb.ipynb", ["x"])
