"""Read and write grades with nbgrader's own ``Gradebook`` API, one writer at a time.

Parallel grading gives every submission its own copy of the gradebook
(:func:`assignment_only`: the assignments and their cells, no student), so
no two processes ever write the same SQLite file, and a job sent to a dask
worker carries no other student's data.
:func:`read_submission` takes the grades nbgrader saved in such a copy;
:func:`write_submission` puts them into the course's gradebook, in the one
process that owns it, exactly as ``nbgrader autograde`` would have: the
automatic scores, whether a grade needs a manual look, the automatic
comments, the late penalty and the time stamp; manual scores stay as they are.
"""

from __future__ import annotations

import contextlib
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from course_utils.grading.limits import scripts_on_path

STUDENT_TABLES = ("grade", "comment", "submitted_notebook", "submitted_assignment", "student")
"""nbgrader's tables that hold students and what they submitted (children first)."""


@contextlib.contextmanager
def open_gradebook(path: Path) -> Iterator[Gradebook]:
    """nbgrader's ``Gradebook`` on the SQLite file ``path`` (created if need be: nbgrader then runs ``alembic``).

    SQLAlchemy's warnings about nbgrader's own autoflush use are silenced:
    they say nothing about the grades.
    """
    from sqlalchemy.exc import SAWarning

    scripts_on_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(db_url(path)) as gb:
            yield gb


def db_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite gradebook at ``path``."""
    return f"sqlite:///{Path(path).resolve()}"


def snapshot(source: Path, target: Path) -> Path:
    """A consistent copy of SQLite database ``source`` at ``target`` (the backup API, not a file copy)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def assignment_only(source: Path, target: Path) -> Path:
    """A copy of gradebook ``source`` at ``target`` without any student: what grading one submission needs.

    nbgrader's autograde reads the assignment, its notebooks and their cells
    (hidden tests included) from the gradebook; other students' grades it
    does not need, and a job sent to another machine should not carry them.
    """
    snapshot(source, target)
    with sqlite3.connect(target) as db:
        for table in STUDENT_TABLES:
            db.execute(f"DELETE FROM {table}")  # noqa: S608  (fixed table names)
    db = sqlite3.connect(target)
    try:
        db.execute("VACUUM")
    finally:
        db.close()
    return target


def extensions(db: Path, assignment: str) -> dict[str, float]:
    """``{student: seconds}`` of the extensions given for ``assignment`` in gradebook ``db``."""
    with open_gradebook(db) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            return {}
        return {s.student.id: s.extension.total_seconds() for s in found.submissions if s.extension}


def submitted_students(db: Path, assignment: str) -> set[str]:
    """The students gradebook ``db`` has a submission of ``assignment`` for."""
    with open_gradebook(db) as gb:
        try:
            return {s.student.id for s in gb.find_assignment(assignment).submissions}
        except MissingEntry:
            return set()


def give_extension(db: Path, assignment: str, student: str, seconds: float) -> None:
    """Record an extension of ``seconds`` for ``student`` in gradebook ``db`` (a job's copy), as nbgrader keeps it."""
    import datetime

    with open_gradebook(db) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, extension=datetime.timedelta(seconds=seconds))


def read_submission(db: Path, assignment: str, student: str) -> dict:
    """Everything ``nbgrader autograde`` saved for one submission, as plain data."""
    with open_gradebook(db) as gb:
        submission = gb.find_submission(assignment, student)
        notebooks = {}
        for nb in submission.notebooks:
            notebooks[nb.name] = {
                "late_submission_penalty": nb.late_submission_penalty,
                "grades": {
                    g.name: {"auto_score": g.auto_score, "max_score": g.max_score, "needs_manual_grade": g.needs_manual_grade}
                    for g in nb.grades
                },
                "comments": {c.name: c.auto_comment for c in nb.comments},
            }
        return {
            "timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
            "notebooks": notebooks,
        }


def zero_submission(db: Path, assignment: str, student: str) -> dict:
    """The data of a submission that scores zero everywhere (missing or unreadable notebook)."""
    with open_gradebook(db) as gb:
        found = gb.find_assignment(assignment)
        return {
            "timestamp": None,
            "notebooks": {
                nb.name: {
                    "late_submission_penalty": None,
                    "grades": {
                        cell.name: {"auto_score": 0.0, "max_score": cell.max_score, "needs_manual_grade": False}
                        for cell in nb.grade_cells
                    },
                    "comments": {},
                }
                for nb in found.notebooks
            },
        }


def write_submission(db: Path, assignment: str, student: str, data: dict, *, flagged: bool = False) -> None:
    """Put one submission's results (from :func:`read_submission`) into gradebook ``db``."""
    from dateutil.parser import isoparse

    with open_gradebook(db) as gb:
        gb.update_or_create_student(student)
        kwargs = {"timestamp": isoparse(data["timestamp"])} if data.get("timestamp") else {}
        gb.update_or_create_submission(assignment, student, **kwargs)
        for notebook, values in data["notebooks"].items():
            submitted = gb.find_submission_notebook(notebook, assignment, student)
            submitted.late_submission_penalty = values.get("late_submission_penalty")
            submitted.flagged = bool(flagged)
            for name, grade_data in values["grades"].items():
                grade = gb.find_grade(name, notebook, assignment, student)
                grade.auto_score = grade_data["auto_score"]
                grade.needs_manual_grade = bool(grade_data["needs_manual_grade"]) or grade.manual_score is not None
            for name, text in values.get("comments", {}).items():
                try:
                    gb.find_comment(name, notebook, assignment, student).auto_comment = text
                except MissingEntry:
                    pass
        gb.db.commit()


def set_auto_score(db: Path, assignment: str, notebook: str, student: str, grade_id: str, score: float) -> None:
    """Change one automatic score (used when a re-check on a clean kernel fails)."""
    with open_gradebook(db) as gb:
        grade = gb.find_grade(grade_id, notebook, assignment, student)
        grade.auto_score = score
        gb.find_submission_notebook(notebook, assignment, student).flagged = True
        gb.db.commit()


def set_flagged(db: Path, assignment: str, notebook: str, student: str) -> None:
    """Flag one submitted notebook for review (nbgrader's formgrader shows the flag)."""
    with open_gradebook(db) as gb:
        gb.find_submission_notebook(notebook, assignment, student).flagged = True
        gb.db.commit()


def scores(db: Path, assignment: str, student: str) -> dict[str, dict[str, float]]:
    """``{notebook: {grade id: score}}`` of one submission (manual score if set, else automatic)."""
    with open_gradebook(db) as gb:
        submission = gb.find_submission(assignment, student)
        return {nb.name: {g.name: float(g.score) for g in nb.grades} for nb in submission.notebooks}
