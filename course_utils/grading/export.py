"""What leaves the grader: a grades CSV for the LMS, and a feedback page per student.

:func:`export_grades` writes one row per student and assignment, with
nbgrader's own export columns first (so the file reads like ``nbgrader
export``'s) and then ``status``, ``feedback`` (the one-line summary of what
happened) and ``flags`` (what an instructor should look at).

:func:`generate_feedback` runs ``nbgrader generate_feedback`` (the autograded
notebook as HTML, test results in place) and puts the summary at the top of
each page; a submission that could not be run (missing, unreadable, too
large...) gets a page with the summary alone. Pages land in
``feedback/<student>/<assignment>/``. No page can run script: the content is
sanitised and each page carries a strict Content-Security-Policy
(:mod:`course_utils.grading.plugins.safe_html`).
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

from nbgrader.api import MissingEntry

from course_utils.grading import gradebook, intake, report
from course_utils.grading.plugins import safe_html

NBGRADER_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)
COLUMNS = NBGRADER_COLUMNS + ("status", "feedback", "flags", "lms_name")
"""nbgrader's columns, then what happened (``status``, ``feedback``), what to look at (``flags``) and
the student's name as the LMS wrote it (``lms_name``: the id is a transliteration)."""


def export_grades(course_root: Path, target: Path, assignments: list[str] | None = None) -> Path:
    """Write the grades CSV of every (or each named) assignment to ``target``."""
    course_root = Path(course_root).resolve()
    rows = []
    with gradebook.open_gradebook(course_root / "gradebook.db") as gb:
        for assignment in gb.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for student in gb.students:
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except MissingEntry:  # nothing submitted
                    submission = None
                rep = report.load(course_root / "autograded" / student.id / assignment.name)
                if submission is None:
                    row = {"score": 0.0, "raw_score": 0.0, "late_submission_penalty": 0.0, "timestamp": ""}
                    status, summary = report.MISSING, f"0/{assignment.max_score:g}: nothing was submitted."
                else:
                    penalty = submission.late_submission_penalty or 0.0
                    row = {  # as nbgrader's CsvExportPlugin computes them
                        "score": max(0.0, submission.score - penalty),
                        "raw_score": submission.score,
                        "late_submission_penalty": penalty,
                        "timestamp": submission.timestamp or "",
                    }
                    status = rep.status if rep else "graded"
                    summary = rep.summary() if rep else ""
                row.update(
                    assignment=assignment.name,
                    duedate=assignment.duedate or "",
                    student_id=student.id,
                    last_name=student.last_name or "",
                    first_name=student.first_name or "",
                    email=student.email or "",
                    max_score=assignment.max_score,
                    status=status,
                    feedback=summary,
                    flags=" ".join(rep.flags) if rep else "",
                    lms_name=_lms_name(course_root, student.id, assignment.name),
                )
                rows.append(row)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return target


def _lms_name(course_root: Path, student: str, assignment: str) -> str:
    record = intake.load_record(course_root / "submitted" / student / assignment)
    return record.name if record else ""


def banner(rep: report.Report) -> str:
    """The HTML summary put at the top of a feedback page."""
    items = "".join(
        f"<li>{html.escape(t.grade_id)}: {t.score:g}/{t.max_score:g}"
        + (f" &mdash; {html.escape(t.reason)}" if t.reason else "")
        + "</li>"
        for t in rep.tests
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in rep.notes)
    return (
        '<div id="course-utils-grading-report" style="border:2px solid #888;padding:1em;margin:1em;'
        'font-family:sans-serif">'
        f"<h2>{html.escape(rep.assignment)}: {rep.score:g} / {rep.max_score:g}</h2>"
        f"<p>{html.escape(rep.summary())}</p>"
        f"<ul>{items}</ul>" + (f"<p>Notes:</p><ul>{notes}</ul>" if notes else "") + "</div>"
    )


def put_banner(page: Path, rep: report.Report) -> None:
    """Put (or replace) the summary of ``rep`` at the top of feedback ``page``, and its Content-Security-Policy."""
    text = page.read_text(encoding="utf-8")
    if "course-utils-grading-report" in text:
        text = re.sub(r'<div id="course-utils-grading-report".*?</div>', "", text, count=1, flags=re.S)
    match = re.search(r"<body[^>]*>", text)
    position = match.end() if match else 0
    page.chmod(0o644)
    page.write_text(safe_html.with_policy(text[:position] + banner(rep) + text[position:]), encoding="utf-8")


def generate_feedback(course_root: Path, assignment: str, students: list[str] | None = None) -> list[Path]:
    """Feedback HTML for every graded student of ``assignment``; returns the pages written."""
    from course_utils.grading import course

    course_root = Path(course_root).resolve()
    graded = course_root / "autograded"
    if students is None:
        students = sorted(p.name for p in graded.iterdir() if (p / assignment).is_dir()) if graded.is_dir() else []
    if any((graded / s / assignment).glob("*.ipynb") for s in students):
        result = course.api(course_root).generate_feedback(assignment, force=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_feedback {assignment} failed:\n{result.get('log', '')}")
    pages = []
    for student in students:
        rep = report.load(graded / student / assignment)
        folder = course_root / "feedback" / student / assignment
        found = sorted(folder.glob("*.html")) if folder.is_dir() else []
        if rep is None:
            pages += found
            continue
        if not found:
            folder.mkdir(parents=True, exist_ok=True)
            page = folder / f"{assignment}.html"
            page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(assignment)}</title></head><body></body></html>", encoding="utf-8")
            rep.save(folder)
            found = [page]
        for page in found:
            put_banner(page, rep)
        pages += found
    return pages
