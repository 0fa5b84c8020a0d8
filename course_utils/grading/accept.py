"""``course-utils accept``: give back points the second look withheld, once the instructor has looked.

When a passing test's answer cannot be checked again on a clean copy of the
lesson (:mod:`course_utils.grading.verify`), its points are withheld and the
submission is flagged, with the command to run in the flag.
:func:`accept` gives the withheld points of one student back (all of them,
or those of the tests named): in the gradebook, in the saved report (the
feedback line no longer mentions them; a note says they were accepted), and
in the student's feedback page. Tests that failed the second look outright
(a wrong answer) are not touched: there is nothing to accept.
"""

from __future__ import annotations

from pathlib import Path

from course_utils.grading import gradebook, report


class NothingToAccept(ValueError):
    """The student has no withheld points (in the tests named)."""


def accept(course_root: Path, assignment: str, student: str, tests: list[str] | None = None) -> report.Report:
    """Give ``student`` back the withheld points of ``assignment`` (of ``tests`` only, if given); the new report."""
    from course_utils.grading import course

    course_root = Path(course_root).resolve()
    folder = course_root / "autograded" / student / assignment
    rep = report.load(folder)
    if rep is None:
        raise NothingToAccept(f"{student} has no graded submission of {assignment} in {course_root}")
    chosen = [t for t in rep.tests if t.withheld > 0 and (not tests or t.grade_id in tests)]
    if not chosen:
        withheld = [t.grade_id for t in rep.tests if t.withheld > 0]
        detail = f"only in: {', '.join(withheld)}" if withheld else "none at all"
        raise NothingToAccept(f"{student} has no withheld points to accept in {assignment} ({detail})")
    notebook_id = course.find_assignment(assignment).notebook_id
    for test in chosen:
        gradebook.set_auto_score(course_root / "gradebook.db", assignment, notebook_id, student, test.grade_id,
                                 test.withheld)
        rep.score += test.withheld
        test.score += test.withheld
        test.withheld = 0.0
        test.reason = ""
        rep.flags = [f for f in rep.flags if not (f.startswith(f"For review: {test.grade_id} ") and "withheld" in f)]
    names = ", ".join(t.grade_id for t in chosen)
    rep.notes.append(f"The instructor accepted {names} after a look: the points are given.")
    rep.save(folder)
    _refresh_feedback(course_root, assignment, student, rep)
    return rep


def _refresh_feedback(course_root: Path, assignment: str, student: str, rep: report.Report) -> None:
    from course_utils.grading import export

    folder = course_root / "feedback" / student / assignment
    for page in sorted(folder.glob("*.html")) if folder.is_dir() else []:
        export.put_banner(page, rep)
