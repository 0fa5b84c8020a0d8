"""Before a class is graded: does the second look confirm the course's own solutions?

The second look (:mod:`course_utils.grading.verify`) withholds the points of
any passing test whose answer it cannot check again, so an exercise whose
right answer cannot travel as plain data (:mod:`course_utils.grading.answers`)
would cost every honest student its points. :func:`checked_notebook` builds
the solved notebook with, after each test cell, the very steps the second
look takes with a student's answer: read the answer variables out as plain
data (JSON, with the size limit of the real read-out), decode them, run the
hidden tests on them in a copy of the namespace. :func:`verdicts` reads the
outcomes back from the run notebook, and :func:`unconfirmed` lists the tests
whose solution was not confirmed.

:func:`course_utils.grading.warm.ensure_warm` runs this once per notebook
version, before any class is graded (it runs the solved notebook anyway),
and stops grading with :class:`SolutionNotConfirmed` if a solution would be
withheld; ``tests/grading/test_second_look.py`` runs it on every notebook.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from course_utils import authoring
from course_utils.grading import answers

CHECK_TAG = "course-utils-self-check"


class SolutionNotConfirmed(RuntimeError):
    """The second look would withhold the points of the course's own solution."""


CHECK_CELL = """import json as _cu_json
from course_utils.grading import answers as _cu_answers
_cu_payload = _cu_json.dumps(_cu_answers.collect(globals(), {names!r}))
if not {names!r}:
    print(_cu_answers.RESULT_MARKER + _cu_json.dumps({{"solution": ["unavailable", "no answer variable is known"]}}))
elif len(_cu_payload) > _cu_answers.MAX_ENCODED_CHARS:
    print(_cu_answers.RESULT_MARKER + _cu_json.dumps({{"solution": ["unavailable", "the answer is too large to read out"]}}))
else:
    _cu_answers.verify(globals(), {hidden!r}, _cu_json.dumps({{"solution": _cu_json.loads(_cu_payload)}}))
"""


def checked_notebook(notebook: Path, solutions: Path):
    """The solved ``notebook`` with a self-check cell after each test cell (tagged :data:`CHECK_TAG`)."""
    nb = authoring.build(notebook, solutions, "solved")
    exercises = authoring.read_exercises(notebook, solutions)
    by_test = {grade_id + authoring.TEST_SUFFIX: ex for grade_id, ex in exercises.items()}
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in by_test:
            exercise = by_test[grade_id]
            code = CHECK_CELL.format(names=answers.answer_names(exercise.answer, exercise.hidden_tests),
                                     hidden=exercise.hidden_tests)
            check = nbformat.v4.new_code_cell(code)
            check.metadata[CHECK_TAG] = grade_id
            cells.append(check)
    nb.cells = cells
    return nb


def verdicts(nb) -> dict[str, list[str]]:
    """``{test grade id: [outcome, message]}`` from a run :func:`checked_notebook`."""
    found = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get(CHECK_TAG)
        if not grade_id:
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
        errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        result = answers.parse_verified(text)
        found[grade_id] = (result or {}).get("solution") or [answers.ERROR, errors[0] if errors else "no verdict"]
    return found


def unconfirmed(found: dict[str, list[str]]) -> list[str]:
    """One line per test whose solution the second look did not confirm."""
    return [f"{test}: {outcome} ({message})" for test, (outcome, message) in sorted(found.items())
            if outcome != answers.PASS]


def describe(notebook: Path, problems: list[str]) -> str:
    """The error message for a notebook whose solutions are not confirmed."""
    return (f"The second look cannot confirm the course's own solution in {Path(notebook).name} "
            f"({'; '.join(problems)}): every honest answer there would lose its points. "
            "Fix the exercise (its answer must be plain data: numbers, strings, lists, dicts, numpy arrays) "
            "before grading.")
