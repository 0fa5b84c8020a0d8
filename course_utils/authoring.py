"""Put the answers from ``solutions/`` into the student notebooks.

``notebooks/`` holds the student version of every lesson: each exercise is an
answer cell ending in nbgrader's stub (``# YOUR CODE HERE`` then
``raise NotImplementedError()``) followed by a test cell with the visible
tests. ``solutions/<notebook stem>/<grade id>.py`` holds, for each answer cell,
the answer and, after the line ``# ---- hidden tests ----``, the hidden tests.
This module is the one place that combines the two:

- ``"solved"``: answers in place of the stubs, hidden tests appended to the
  test cells, ready to run (used to check that every test passes);
- ``"source"``: the instructor's nbgrader source version, with the answers
  between ``### BEGIN SOLUTION``/``### END SOLUTION`` and the hidden tests
  between ``### BEGIN HIDDEN TESTS``/``### END HIDDEN TESTS``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nbformat

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
HIDDEN_MARKER = "# ---- hidden tests ----"
TEST_SUFFIX = "_tests"

Mode = Literal["solved", "source"]


class AuthoringError(ValueError):
    """A notebook and its solutions do not fit together."""


@dataclass(frozen=True)
class Exercise:
    """One exercise's answer and hidden tests, read from its solution file."""

    grade_id: str
    answer: str
    hidden_tests: str
    path: Path


def read_exercise(path: Path) -> Exercise:
    """Read one solution file: the answer, then the hidden tests after the marker."""
    text = path.read_text(encoding="utf-8")
    answer, marker, hidden = text.partition(HIDDEN_MARKER)
    if not marker or not hidden.strip():
        raise AuthoringError(f"{path}: no hidden tests after the line {HIDDEN_MARKER!r}")
    if not answer.strip():
        raise AuthoringError(f"{path}: the answer before {HIDDEN_MARKER!r} is empty")
    return Exercise(path.stem, answer.strip(), hidden.strip(), path)


def read_exercises(notebook: Path, solutions_dir: Path) -> dict[str, Exercise]:
    """All exercises of ``notebook``, from ``solutions_dir/<notebook stem>/``, by grade id."""
    folder = Path(solutions_dir) / Path(notebook).stem
    if not folder.is_dir():
        return {}
    return {p.stem: read_exercise(p) for p in sorted(folder.glob("*.py"))}


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata, or an empty dict."""
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_cells(nb) -> dict[str, dict]:
    """Answer cells (nbgrader ``solution``) by grade id."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("solution")}


def test_cells(nb) -> dict[str, dict]:
    """Graded test cells (nbgrader ``grade`` and not ``solution``) by grade id."""
    return {
        nbgrader_meta(c)["grade_id"]: c
        for c in nb.cells
        if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")
    }


def _fill_answer(source: str, exercise: Exercise, mode: Mode) -> str:
    if source.count(STUB) != 1:
        raise AuthoringError(f"answer cell {exercise.grade_id!r} must contain the stub exactly once")
    if mode == "solved":
        return source.replace(STUB, exercise.answer)
    return source.replace(STUB, f"### BEGIN SOLUTION\n{exercise.answer}\n### END SOLUTION")


def _add_hidden(source: str, exercise: Exercise, mode: Mode) -> str:
    if mode == "solved":
        return f"{source.rstrip()}\n\n{exercise.hidden_tests}\n"
    return f"{source.rstrip()}\n\n### BEGIN HIDDEN TESTS\n{exercise.hidden_tests}\n### END HIDDEN TESTS\n"


def fill(nb, exercises: dict[str, Exercise], mode: Mode):
    """A copy of student notebook ``nb`` with ``exercises`` put in, as ``mode`` says.

    Every answer cell needs an exercise, every exercise an answer cell and a
    test cell named ``<grade id>_tests``; anything else raises
    :class:`AuthoringError`.
    """
    nb = copy.deepcopy(nb)
    answers, tests = answer_cells(nb), test_cells(nb)
    if set(answers) != set(exercises):
        raise AuthoringError(
            f"answer cells {sorted(answers)} do not match solution files {sorted(exercises)}"
        )
    for grade_id, exercise in exercises.items():
        test = tests.get(grade_id + TEST_SUFFIX)
        if test is None:
            raise AuthoringError(f"exercise {grade_id!r} has no test cell {grade_id + TEST_SUFFIX!r}")
        answers[grade_id].source = _fill_answer(answers[grade_id].source, exercise, mode)
        test.source = _add_hidden(test.source, exercise, mode)
    return nb


def build(notebook: Path, solutions_dir: Path, mode: Mode):
    """Read ``notebook`` and its solutions and return the ``mode`` version."""
    nb = nbformat.read(notebook, as_version=4)
    return fill(nb, read_exercises(notebook, solutions_dir), mode)
