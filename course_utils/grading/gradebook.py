"""Read and write grades with nbgrader's own ``Gradebook`` API, one writer at a time.

Parallel grading gives every submission its own copy of the gradebook
(:func:`snapshot`), so no two processes ever write the same SQLite file.
:func:`read_submission` takes the grades nbgrader saved in such a copy;
:func:`write_submission` puts them into the course's gradebook, in the one
process that owns it, exactly as ``nbgrader autograde`` would have: the
automatic scores, whether a grade needs a manual look, the automatic
comments, the late penalty and the time stamp; manual scores stay as they are.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry


def db_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite gradebook at ``path``."""
    return f"sqlite:///{Path(path).resolve()}"


def snapshot(source: Path, target: Path) -> Path:
    """A consistent copy of SQLite database ``source`` at ``target`` (the backup API, not a file copy)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def read_submission(db: Path, assignment: str, student: str) -> dict:
    """Everything ``nbgrader autograde`` saved for one submission, as plain data."""
    with Gradebook(db_url(db)) as gb:
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
    with Gradebook(db_url(db)) as gb:
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
    from sqlalchemy.exc import SAWarning

    with Gradebook(db_url(db)) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush chatter
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
    with Gradebook(db_url(db)) as gb:
        grade = gb.find_grade(grade_id, notebook, assignment, student)
        grade.auto_score = score
        gb.find_submission_notebook(notebook, assignment, student).flagged = True
        gb.db.commit()


def set_flagged(db: Path, assignment: str, notebook: str, student: str) -> None:
    """Flag one submitted notebook for review (nbgrader's formgrader shows the flag)."""
    with Gradebook(db_url(db)) as gb:
        gb.find_submission_notebook(notebook, assignment, student).flagged = True
        gb.db.commit()


def scores(db: Path, assignment: str, student: str) -> dict[str, dict[str, float]]:
    """``{notebook: {grade id: score}}`` of one submission (manual score if set, else automatic)."""
    with Gradebook(db_url(db)) as gb:
        submission = gb.find_submission(assignment, student)
        return {nb.name: {g.name: float(g.score) for g in nb.grades} for nb in submission.notebooks}
