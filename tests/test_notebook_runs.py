"""The test infrastructure itself: the session's data cache and its shared notebook runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

import notebook_runs
import session_data
from notebook_runs import NotebookRuns, notebook_params, run_audited


def test_the_data_cache_is_one_folder_for_the_whole_run(pytestconfig, offline_env):
    # os.environ may point elsewhere for a while: a fixture may set its own cache (tests/grading does).
    path = pytestconfig._course_data_dir
    assert path == Path(offline_env[session_data.DATA_VARIABLE])
    assert path.is_dir()
    if not os.environ.get(session_data.OVERRIDE_VARIABLE):
        assert path.name == "course-data"  # under the run's base temporary directory, never the user's cache


def test_every_stand_in_of_course_utils_is_built_by_the_warm_up():
    names = set(session_data.builders())
    assert {"synthetic smartspim-mip", "stand-in aind_smartspim", "stand-in idr_6001240"} <= names


def test_each_notebook_has_an_xdist_group_of_its_own():
    params = notebook_params()
    assert [p.values[0] for p in params] == notebook_runs.notebooks()
    groups = [mark.args[0] for p in params for mark in p.marks if mark.name == "xdist_group"]
    assert len(groups) == len(set(groups)) == len(params)


def test_the_working_directory_is_copied_before_the_cleanup_cell(tmp_path):
    nb = new_notebook()
    nb.cells = [
        new_code_cell("from pathlib import Path\nPath('made.txt').write_text('kept')"),
        new_code_cell("Path('made.txt').unlink()", metadata={"tags": ["cleanup"]}),
    ]
    audit = run_audited(nb, tmp_path / "work", {}, snapshot=tmp_path / "outputs")
    assert audit.problems() == []
    assert not (tmp_path / "work" / "made.txt").exists()
    assert (tmp_path / "outputs" / "made.txt").read_text() == "kept"


def test_a_run_happens_once_and_a_failed_run_is_not_retried(tmp_path, monkeypatch):
    calls = []

    def fake_run(path, home):
        calls.append(path.name)
        if path.name == "broken.ipynb":
            raise TimeoutError("a cell took too long")
        return f"ran {path.name}"

    prepared = []
    runs = NotebookRuns(tmp_path, {}, prepare=lambda: prepared.append(1))
    monkeypatch.setattr(runs, "_run_solved", fake_run)
    assert runs.solved(Path("good.ipynb")) == runs.solved(Path("good.ipynb")) == "ran good.ipynb"
    for _ in range(2):
        with pytest.raises(RuntimeError, match="shared solved run of broken.ipynb") as caught:
            runs.solved(Path("broken.ipynb"))
        assert isinstance(caught.value.__cause__, TimeoutError)
    assert calls == ["good.ipynb", "broken.ipynb"] and prepared == [1]


def test_xdist_knows_this_tests_group(request):
    """The groups the workers wrote for the scheduler (see tests/conftest.py) include this test's."""
    folder = getattr(request.config, "workerinput", {}).get("course_xdist_groups")
    if not folder or not getattr(request.config.option, "loadgroup", False):
        pytest.skip("runs only in a pytest-xdist worker with --dist loadgroup")
    written = json.loads((Path(folder) / f"{request.config.workerinput['workerid']}.json").read_text())
    assert written[request.node.nodeid] == "tests/test_notebook_runs.py"
    for nodeid, group in written.items():  # a folder with its own conftest.py is one group
        if nodeid.startswith(("tests/grading/", "tests/inspect/")):
            assert group == "/".join(nodeid.split("/")[:2]) or not group.startswith("tests/"), nodeid


def test_a_run_again_separates_the_rerun_errors_from_the_repeat_errors(tmp_path):
    """A cell that fails only when repeated at once is not a Restart & Run All error, and the reverse."""
    workdir = tmp_path / "work"
    nb = new_notebook(cells=[
        new_code_cell("import os\nif os.path.exists('left-by-run-1'): raise RuntimeError('folder not clean')"),
        new_code_cell("os.mkdir('made-once')"),
        new_code_cell("open('left-by-run-1', 'w').close()"),
    ])
    workdir.mkdir()
    (workdir / "left-by-run-1").touch()  # as the first Restart & Run All left it
    again = notebook_runs.AgainRun(tmp_path, run_audited(nb, workdir, {}, each_cell_twice=True), set(), 0.0)
    assert [e.split(":")[0] for e in again.run_all_again_errors()] == ["cell 0 run 1"]
    assert {e.split(":")[0] for e in again.audit.errors} == {"cell 0 run 1", "cell 0 run 2", "cell 1 run 2"}


def _blank_run(answer_error: str, lesson_error: str | None = None):
    """A run of a blank notebook by hand: a lesson cell, an answer cell and its test cell, with their outputs."""
    from nbformat.v4 import new_output

    def error(text):
        name, _, value = text.partition(": ")
        return [new_output("error", ename=name, evalue=value, traceback=[])]

    lesson = new_code_cell("x = 1", execution_count=1, outputs=error(lesson_error) if lesson_error else [])
    answer = new_code_cell("answer = ...", execution_count=2, outputs=error(answer_error),
                           metadata={"nbgrader": {"grade_id": "q", "solution": True, "grade": False}})
    test = new_code_cell("check.q(globals())", execution_count=3, outputs=error("AnswerError: q is not defined yet"),
                         metadata={"nbgrader": {"grade_id": "q_tests", "grade": True, "solution": False, "points": 1}})
    nb = new_notebook()
    nb.cells = [lesson, answer, test]
    return nb


def test_a_blank_run_with_only_the_expected_failures_has_no_problem():
    assert notebook_runs.blank_run_problems(_blank_run("NotImplementedError: answer here")) == []


def test_a_blank_run_names_a_failing_lesson_cell_and_an_answer_that_failed_otherwise():
    problems = notebook_runs.blank_run_problems(_blank_run("NameError: np", lesson_error="ValueError: bad"))
    assert any(p.startswith("lesson cells failed: {0: 'ValueError: bad'") for p in problems), problems
    assert any(p.startswith("answer cell 1 did not fail with NotImplementedError") for p in problems), problems
