"""course_utils.authoring: putting solutions/ into notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_utils import authoring

REPO = Path(__file__).resolve().parents[1]


def _notebook(*cells):
    nb = new_notebook()
    nb.cells = list(cells)
    return nb


def _cell(source, **nbgrader):
    cell = new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return cell


def _exercise(tmp_path, text, name="answer_one"):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return authoring.read_exercise(path)


@pytest.fixture
def student():
    return _notebook(
        _cell("x = 1"),
        _cell(f"# prompt\n{authoring.STUB}\n", solution=True, grade=False, grade_id="answer_one"),
        _cell("check(answer)", grade=True, solution=False, grade_id="answer_one_tests", points=1),
    )


def test_solved_replaces_stub_and_appends_hidden_tests(student, tmp_path):
    exercise = _exercise(tmp_path, "answer = 42\n\n# ---- hidden tests ----\nassert answer == 42\n")
    solved = authoring.fill(student, {"answer_one": exercise}, "solved")
    assert solved.cells[1].source == "# prompt\nanswer = 42\n"
    assert solved.cells[2].source == "check(answer)\n\nassert answer == 42\n"
    assert "NotImplementedError" in student.cells[1].source, "the input notebook must not change"


def test_source_uses_nbgrader_markers(student, tmp_path):
    exercise = _exercise(tmp_path, "answer = 42\n# ---- hidden tests ----\nassert answer == 42\n")
    source = authoring.fill(student, {"answer_one": exercise}, "source")
    assert source.cells[1].source == "# prompt\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\n"
    assert "### BEGIN HIDDEN TESTS\nassert answer == 42\n### END HIDDEN TESTS" in source.cells[2].source


def test_missing_solution_is_an_error(student):
    with pytest.raises(authoring.AuthoringError, match="do not match"):
        authoring.fill(student, {}, "solved")


def test_solution_without_hidden_tests_is_an_error(tmp_path):
    with pytest.raises(authoring.AuthoringError, match="hidden tests"):
        _exercise(tmp_path, "answer = 42\n")


def test_answer_cell_without_stub_is_an_error(student, tmp_path):
    student.cells[1].source = "answer = ..."
    exercise = _exercise(tmp_path, "answer = 42\n# ---- hidden tests ----\nassert answer\n")
    with pytest.raises(authoring.AuthoringError, match="stub"):
        authoring.fill(student, {"answer_one": exercise}, "solved")


def test_missing_test_cell_is_an_error(student, tmp_path):
    del student.cells[2]
    exercise = _exercise(tmp_path, "answer = 42\n# ---- hidden tests ----\nassert answer\n")
    with pytest.raises(authoring.AuthoringError, match="no test cell"):
        authoring.fill(student, {"answer_one": exercise}, "solved")


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_course_notebook_builds_in_both_modes(path):
    for mode in ("solved", "source"):
        nb = authoring.build(path, REPO / "solutions", mode)
        nbformat.validate(nb)
        assert not any(authoring.STUB in c.source for c in nb.cells)
