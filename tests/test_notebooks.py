"""Every notebook, run top to bottom in a fresh kernel, offline.

Blank (as a student gets it): only the exercises' answer and test cells may
fail, and every test cell must fail with the course's friendly AnswerError.
Where tests/test_browser.py runs the same blank notebook in JupyterLab (it
checks it the same way), the blank run here is skipped, saying so.
Solved (answers and hidden tests from solutions/ put in): every cell runs,
every test cell passes, and no test cell writes to stderr (nbgrader would
give it zero points).

Both runs are the session's shared runs (``tests/notebook_runs.py``): the
solved one also serves tests/test_rerun.py and tests/test_course_outputs.py.
"""

from __future__ import annotations

import pytest

from course_utils import authoring, runner

import chromium
from notebook_runs import blank_run_problems, notebook_params, notebooks


def _stderr(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


def test_there_are_notebooks():
    assert notebooks(), "no notebooks in notebooks/"


JUPYTERLAB_TEST = "test_browser.py::test_notebook_runs_in_jupyterlab_and_gives_friendly_feedback"


def _checked_in_jupyterlab(request, path) -> str | None:
    """Why this run would repeat the browser test's (None when that test will not run this notebook).

    The browser test runs the same blank notebook with Run All in JupyterLab
    and checks its saved file with :func:`notebook_runs.blank_run_problems`;
    it runs when it was collected for this notebook and Chromium can be had.
    """
    wanted = f"{JUPYTERLAB_TEST}[{path.stem}]"
    if chromium.unavailable() or not any(item.nodeid.endswith(wanted) for item in request.session.items):
        return None
    return f"{wanted} runs this blank notebook in JupyterLab and checks it the same way"


@pytest.mark.parametrize("path", notebook_params())
def test_blank_notebook_runs_and_every_exercise_test_fails(path, notebook_runs, request):
    if reason := _checked_in_jupyterlab(request, path):
        pytest.skip(reason)
    problems = blank_run_problems(notebook_runs.blank(path).nb)
    assert not problems, f"{path.name}, blank:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", notebook_params())
def test_solved_notebook_passes_every_visible_and_hidden_test(path, notebook_runs):
    nb = notebook_runs.solved(path).nb
    assert runner.errors(nb) == {}
    for grade_id, cell in authoring.test_cells(nb).items():
        printed = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        assert "✓" in printed, f"{grade_id} printed no tick: {printed!r}"
        assert _stderr(cell) == "", f"{grade_id} wrote to stderr (nbgrader scores that 0): {_stderr(cell)!r}"
