"""Every notebook, run top to bottom in a fresh kernel, offline.

Blank (as a student gets it): only the exercises' answer and test cells may
fail, and every test cell must fail with the course's friendly AnswerError.
Solved (answers and hidden tests from solutions/ put in): every cell runs,
every test cell passes, and no test cell writes to stderr (nbgrader would
give it zero points).

Both runs are the session's shared runs (``tests/notebook_runs.py``): the
solved one also serves tests/test_rerun.py and tests/test_course_outputs.py.
"""

from __future__ import annotations

import pytest

from course_utils import authoring, runner
from notebook_runs import notebook_params, notebooks


def _stderr(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


def test_there_are_notebooks():
    assert notebooks(), "no notebooks in notebooks/"


@pytest.mark.parametrize("path", notebook_params())
def test_blank_notebook_runs_and_every_exercise_test_fails(path, notebook_runs):
    nb = notebook_runs.blank(path).nb
    answers = {id(c) for c in authoring.answer_cells(nb).values()}
    tests = {id(c) for c in authoring.test_cells(nb).values()}
    assert tests, f"{path.name} has no graded test cells"
    failures = runner.errors(nb)
    lesson_failures = {i: e for i, e in failures.items() if id(nb.cells[i]) not in answers | tests}
    assert not lesson_failures, f"lesson cells failed: {lesson_failures}"
    for index, cell in enumerate(nb.cells):
        if id(cell) in answers:
            assert failures.get(index, "").startswith("NotImplementedError"), (index, failures.get(index))
        if id(cell) in tests:
            assert failures.get(index, "").startswith("AnswerError"), (
                f"test cell {index} of a blank notebook did not fail with the friendly AnswerError: "
                f"{failures.get(index)}"
            )


@pytest.mark.parametrize("path", notebook_params())
def test_solved_notebook_passes_every_visible_and_hidden_test(path, notebook_runs):
    nb = notebook_runs.solved(path).nb
    assert runner.errors(nb) == {}
    for grade_id, cell in authoring.test_cells(nb).items():
        printed = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        assert "✓" in printed, f"{grade_id} printed no tick: {printed!r}"
        assert _stderr(cell) == "", f"{grade_id} wrote to stderr (nbgrader scores that 0): {_stderr(cell)!r}"
