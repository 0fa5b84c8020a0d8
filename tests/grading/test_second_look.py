"""The second look never costs an honest answer its points: every solution of every notebook is confirmed.

For each notebook in notebooks/ (whatever notebooks there are: this runs
on the ones added later too), the solved notebook runs once with, after
each test cell, exactly what the second look does with a student's answer
(:mod:`course_utils.grading.selfcheck`): the answer variables read out as
plain data under the read-out's size limit, decoded, and the hidden tests
run on them. Every test must be confirmed. Two notebooks run at a time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from course_utils import authoring, runner
from course_utils.grading import answers, course, selfcheck, warm
from course_utils.grading.job import Settings

from grading_course import REPO

NOTEBOOKS = [p for p in sorted((REPO / "notebooks").glob("*.ipynb")) if (REPO / "solutions" / p.stem).is_dir()]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def confirmed(tmp_path_factory, data_dir, template_course):
    """``{notebook stem: {test: [outcome, message]}}``, every notebook run once (two at a time).

    A notebook the session's grading warm-up already checked (01, for the
    template course) is not run again: its verdicts are in the warm-up's marker.
    """

    def run(path):
        earlier = warm.verdicts(Settings(template_course, REPO, data_dir=data_dir), course.find_assignment(path.stem))
        if earlier is not None:
            return path.stem, earlier
        nb = selfcheck.checked_notebook(path, REPO / "solutions")
        workdir = tmp_path_factory.mktemp(f"second-look-{path.stem}")
        runner.execute(nb, workdir, allow_errors=True,
                       env={"COURSE_OFFLINE": "1", "COURSE_DATA_DIR": str(data_dir)})
        return path.stem, selfcheck.verdicts(nb)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run, NOTEBOOKS))


def test_every_notebook_with_exercises_is_checked():
    assert NOTEBOOKS and all(authoring.read_exercises(p, REPO / "solutions") for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_solution_is_confirmed_by_the_second_look(confirmed, path):
    found = confirmed[path.stem]
    tests = {g + authoring.TEST_SUFFIX for g in authoring.read_exercises(path, REPO / "solutions")}
    assert set(found) == tests
    assert selfcheck.unconfirmed(found) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
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
