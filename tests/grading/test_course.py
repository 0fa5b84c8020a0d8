"""course_utils.grading.course: the nbgrader course is derived from notebooks/ + solutions/."""

from __future__ import annotations

import nbformat
import pytest
from nbgrader.api import Gradebook

from course_utils import authoring
from course_utils.grading import course, gradebook

from grading_course import ASSIGNMENT, REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_each_notebook_is_its_own_assignment_named_after_its_stem():
    found = course.assignments(REPO)
    assert [a.name for a in found] == [p.stem for p in NOTEBOOKS]
    assert all(a.notebook_id == a.name for a in found)
    with pytest.raises(ValueError, match="the course has"):
        course.find_assignment("no_such_notebook", REPO)


def test_generate_makes_every_notebook_an_assignment(generated_course):
    assert generated_course[1] == [path.stem for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_generate_assignment_gives_back_exactly_the_student_notebook(path, generated_course):
    """nbgrader generate_assignment on the generated source version == notebooks/ (cell types and sources)."""
    root = generated_course[0]
    source = nbformat.read(root / "source" / path.stem / path.name, as_version=4)
    release = nbformat.read(root / "release" / path.stem / path.name, as_version=4)
    student = nbformat.read(path, as_version=4)

    assert [(c.cell_type, c.source) for c in release.cells] == [(c.cell_type, c.source) for c in student.cells]
    tests = authoring.test_cells(source)
    exercises = authoring.read_exercises(path, REPO / "solutions")
    for grade_id, exercise in exercises.items():
        assert "### BEGIN SOLUTION" in authoring.answer_cells(source)[grade_id].source
        assert exercise.hidden_tests in tests[grade_id + authoring.TEST_SUFFIX].source
    with Gradebook(gradebook.db_url(root / "gradebook.db")) as gb:  # nbgrader keeps the hidden tests
        for grade_id, exercise in exercises.items():
            cell = gb.find_source_cell(grade_id + authoring.TEST_SUFFIX, path.stem, path.stem)
            assert "### BEGIN HIDDEN TESTS" in cell.source and exercise.hidden_tests in cell.source
            assert cell.locked


def test_a_course_outside_the_repository_gets_its_own_config(tmp_path):
    root = tmp_path / "elsewhere"
    config = course.write_config(root, REPO)
    text = config.read_text()
    assert "config.configure(c, Path(__file__).resolve().parent" in text and repr(str(REPO)) in text
    loaded = course.load_config(root)
    assert loaded.CourseDirectory.root == str(root.resolve())
    assert loaded.OverwriteCells.add_missing_cells is True
    assert [p.__name__ for p in loaded.Autograde.autograde_preprocessors][:2] == ["GradingExecute", "StderrIsNotFailure"]


def test_the_repository_config_makes_the_repository_the_course():
    loaded = course.load_config(REPO)
    assert loaded.CourseDirectory.root == str(REPO)
    assert str(REPO / "solutions") in loaded.SandboxedKernelManager.hide
    assert str(REPO / "gradebook.db") in loaded.SandboxedKernelManager.hide
    answer_names = loaded.GradingExecute.answer_names[ASSIGNMENT]
    assert answer_names == {
        "key_counts_tests": ["key_counts"],
        "scale0_chunk_keys_tests": ["label_chunk_keys", "scale0_chunk_keys"],
        "why_many_keys_tests": ["why_many_keys"],
    }


def test_source_layout_survives_a_test_cell_ending_in_a_newline(tmp_path):
    """However the visible test ends, nbgrader's removal of the hidden block restores it exactly."""
    from nbgrader.preprocessors import ClearHiddenTests

    for visible in ("check(x)", "check(x)\n", "check(x)\n\n"):
        cell = nbformat.v4.new_code_cell(f"{visible}\n{course.HIDDEN_BEGIN}\nassert x\n{course.HIDDEN_END}")
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "solution": False, "locked": True}
        ClearHiddenTests()._remove_hidden_test_region(cell)
        assert cell.source == visible


def test_a_course_configured_by_an_earlier_version_is_configured_again_with_its_limits(tmp_path):
    """A course directory whose config names the modules before they moved to grading.plugins still loads."""
    root = tmp_path / "old"
    root.mkdir()
    old = (course.CONFIG_HEADER + "\n\nfrom pathlib import Path\n\nfrom course_utils.grading import config\n"
           "from course_utils.grading.limits import Limits\n\nc = get_config()  # noqa: F821\n"
           f"config.configure(c, Path(__file__).resolve().parent, repo=Path({str(REPO)!r}), "
           "limits=Limits(**{'cell_seconds': 33, 'notebook_seconds': 99, 'memory_bytes': 1073741824, "
           "'file_bytes': 1073741824, 'output_bytes': 1048576, 'scratch_bytes': 536870912}))\n")
    (root / "nbgrader_config.py").write_text(old)
    loaded = course.load_config(root)
    assert loaded.GradingExecute.timeout == 33 and loaded.GradingExecute.notebook_timeout == 99
    assert "course_utils.grading.plugins" in (root / "nbgrader_config.py").read_text()
