"""Every notebook, run top to bottom in a fresh kernel, offline.

Blank (as a student gets it): only the exercises' answer and test cells may
fail, and every test cell must fail with the course's friendly AnswerError.
Solved (answers and hidden tests from solutions/ put in): every cell runs,
every test cell passes, and no test cell writes to stderr (nbgrader would
give it zero points).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils import authoring, runner

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SOLUTIONS = REPO / "solutions"


@pytest.fixture(scope="session")
def offline_env(tmp_path_factory):
    """Kernel environment: offline mode and a data cache shared by the session."""
    return {"COURSE_OFFLINE": "1", "COURSE_DATA_DIR": str(tmp_path_factory.mktemp("data"))}


def _grading_cells(nb):
    return set(authoring.answer_cells(nb).values()), set(authoring.test_cells(nb).values())


def _stderr(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_blank_notebook_runs_and_every_exercise_test_fails(path, tmp_path, offline_env):
    nb = runner.execute(runner.read(path), tmp_path, allow_errors=True, env=offline_env)
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solved_notebook_passes_every_visible_and_hidden_test(path, tmp_path, offline_env):
    nb = authoring.build(path, SOLUTIONS, "solved")
    nb = runner.execute(nb, tmp_path, allow_errors=True, env=offline_env)
    assert runner.errors(nb) == {}
    for grade_id, cell in authoring.test_cells(nb).items():
        printed = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        assert "✓" in printed, f"{grade_id} printed no tick: {printed!r}"
        assert _stderr(cell) == "", f"{grade_id} wrote to stderr (nbgrader scores that 0): {_stderr(cell)!r}"
