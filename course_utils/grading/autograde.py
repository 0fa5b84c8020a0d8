"""Autograde many submissions, one after the other or side by side, with the same grades.

nbgrader grades one submission at a time, and its SQLite gradebook does not
take concurrent writers. Here every submission is graded in its own
temporary copy of the course (:mod:`course_utils.grading.submission`).
Worker processes (:mod:`course_utils.grading.worker`, one more than the
cores by default; one for sequential grading) run it and return plain data;
the main process alone copies the autograded notebooks back and writes the
grades into the course's gradebook with nbgrader's ``Gradebook`` API
(:mod:`course_utils.grading.gradebook`). Sequential and parallel grading
run the very same function, so both give the same grades. A worker that
crashes or hangs is killed and replaced; its submission is retried once,
and a submission that still fails scores zero with a note.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from course_utils.grading import gradebook, report
from course_utils.grading.submission import (  # noqa: F401  (Settings, Result, grade_submission: re-exported)
    Result,
    Settings,
    grade_submission,
    rmtree,
    safe_grade,
    zero,
)

MAX_ATTEMPTS = 2
WORKER_SLACK_SECONDS = 180
"""Extra time a worker gets beyond the notebook time limit before it is considered stuck."""


# -- many submissions --------------------------------------------------------------


NO_SANDBOX_FLAG = (
    "For review: graded WITHOUT a sandbox (--isolation none): the student's code ran with the grader's "
    "rights and could have read the solutions or changed files."
)


def _install(settings: Settings, result: Result) -> None:
    """Copy one result into the course: autograded files, report, gradebook (main process only)."""
    from course_utils.grading import sandbox

    if settings.isolation == sandbox.NONE and NO_SANDBOX_FLAG not in result.report.flags:
        result.report.flags.insert(0, NO_SANDBOX_FLAG)
    main = Path(settings.course_root).resolve()
    target = main / "autograded" / result.student / result.assignment
    if target.exists():
        rmtree(target)
    if result.autograded:
        shutil.copytree(result.autograded, target)
        rmtree(Path(result.autograded))
    result.report.save(target)
    gradebook.write_submission(
        main / "gradebook.db", result.assignment, result.student, result.data, flagged=bool(result.report.flags)
    )


def autograde(settings: Settings, assignment: str, students: list[str] | None = None, *, on_result=None) -> list[Result]:
    """Grade ``students`` (default: everyone in ``submitted/``) for ``assignment``; returns the results.

    ``settings.workers`` worker processes grade that many submissions at
    once (1: one after the other; 0: in this process, for debugging). Either
    way the course's gradebook is written by this process only, and every
    submission ends with a grade. ``on_result(result)`` is called as each
    one is installed. The sandbox is checked first:
    :class:`~course_utils.grading.sandbox.IsolationUnavailable` if
    ``settings.isolation`` cannot be had.
    """
    from dataclasses import replace

    from course_utils.grading import collect, course, sandbox

    settings = replace(settings, isolation=sandbox.require(settings.isolation))
    main = Path(settings.course_root).resolve()
    found = course.find_assignment(assignment, settings.repo)
    students = list(students) if students is not None else collect.submitted_students(main, assignment)
    results: list[Result] = []
    if not students:
        return results
    from course_utils.grading import warm

    warm.ensure_warm(settings, [found])
    with tempfile.TemporaryDirectory(prefix="cg-") as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "done").mkdir()
        snapshot = gradebook.snapshot(main / "gradebook.db", scratch / "snapshot.db")
        args = (settings, snapshot, scratch, assignment, found.notebook_id)

        def install(result: Result) -> None:
            _install(settings, result)
            results.append(result)
            if on_result is not None:
                on_result(result)

        if settings.workers <= 0:  # in this process (for debugging)
            for student in students:
                install(safe_grade(*args, student))
        else:
            _grade_in_pool(settings, args, students, install)
    return sorted(results, key=lambda r: r.student)


def _grade_in_pool(settings: Settings, args: tuple, students: list[str], install) -> None:
    """Grade ``students`` on ``settings.workers`` worker processes (:mod:`course_utils.grading.worker`)."""
    from course_utils.grading import worker

    _, snapshot, scratch, assignment, notebook_id = args
    jobs = [worker.spec(settings, snapshot, scratch, assignment, notebook_id, s) for s in students]

    def failed(job: dict, reason: str) -> None:
        result = zero(settings, snapshot, assignment, job["student"], report.FAILED, [f"the grading process failed twice ({reason})."])
        result.report.flags.append("For review: the grading process failed twice on this submission.")
        install(result)

    timeout = settings.limits.notebook_seconds + WORKER_SLACK_SECONDS
    worker.run_pool(jobs, settings.workers, timeout, install, failed, MAX_ATTEMPTS)
