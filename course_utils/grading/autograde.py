"""Autograde many submissions, one after the other or side by side, with the same grades.

nbgrader grades one submission at a time, and its SQLite gradebook does not
take concurrent writers. Here every submission is graded in its own
temporary copy of the course (:func:`grade_submission`):

- ``gradebook.db``: a snapshot of the course's gradebook (assignment and
  graded cells, any manual grades), taken once before grading starts;
- ``submitted/<student>/<assignment>/<notebook>.ipynb``: the submission,
  chosen (:func:`course_utils.grading.collect.choose_notebook`) and repaired
  (:func:`course_utils.grading.audit.audit`) first;
- nbgrader's own ``autograde`` then runs in that copy, with the course's
  configuration (sandboxed kernel, limits).

Worker processes (:mod:`course_utils.grading.worker`, one more than the cores by
default; one for sequential grading) run it and return plain data; the main
process alone copies the autograded notebooks back and writes the grades
into the course's gradebook with nbgrader's ``Gradebook`` API
(:mod:`course_utils.grading.gradebook`). Sequential and parallel grading
run the very same function, so both give the same grades. A worker that
crashes or hangs is killed and replaced; its submission is retried once,
and a submission that still fails scores zero with a note.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.grading import gradebook, report
from course_utils.grading.limits import Limits

MAX_ATTEMPTS = 2
WORKER_SLACK_SECONDS = 180
"""Extra time a worker gets beyond the notebook time limit before it is considered stuck."""


@dataclass(frozen=True)
class Settings:
    """How to grade: where the course is, the limits, the isolation and the parallelism."""

    course_root: Path
    repo: Path
    limits: Limits = Limits()
    isolation: str = "auto"
    data_dir: Path | None = None
    workers: int = 1


@dataclass
class Result:
    """What :func:`grade_submission` hands back to the main process."""

    student: str
    assignment: str
    report: report.Report
    data: dict = field(default_factory=dict)
    autograded: str | None = None
    answers: dict = field(default_factory=dict)
    seconds: float = 0.0


# -- one submission, in a worker ------------------------------------------------


def _nbgrader_config(settings: Settings, job: Path):
    from traitlets.config import Config

    from course_utils.grading import config

    c = Config()
    main = Path(settings.course_root).resolve()
    config.configure(
        c,
        job,
        limits=settings.limits,
        isolation=settings.isolation,
        repo=settings.repo,
        data_dir=settings.data_dir,
        hide=tuple(str(main / entry) for entry in config.HIDDEN_COURSE_ENTRIES),
    )
    return c


def _zero(settings: Settings, snapshot: Path, assignment: str, student: str, status: str, notes: list[str]) -> Result:
    data = gradebook.zero_submission(snapshot, assignment, student)
    rep = report.Report(student, assignment, status=status, notes=notes)
    for values in data["notebooks"].values():
        for name, grade in values["grades"].items():
            rep.tests.append(report.TestResult(name, 0.0, float(grade["max_score"]), status))
            rep.max_score += float(grade["max_score"])
    return Result(student, assignment, rep, data)


def grade_submission(settings: Settings, snapshot: Path, scratch: Path, assignment: str, notebook_id: str, student: str) -> Result:
    """Grade one submission in its own copy of the course (see the module doc)."""
    from course_utils.grading import audit, collect, course, intake

    start = time.perf_counter()
    main = Path(settings.course_root).resolve()
    release = nbformat.read(main / "release" / assignment / f"{notebook_id}.ipynb", as_version=4)
    grade_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells} - {None}
    folder = main / "submitted" / student / assignment
    record = intake.load_record(folder)
    intake_flags = list(record.flags) if record else []
    if record is not None and record.status != intake.READY:
        result = _zero(settings, snapshot, assignment, student, record.status, list(record.notes))
        result.report.flags.extend(intake_flags)
        return _timed(result, start)
    if record is not None:
        chosen, notes = folder / f"{notebook_id}.ipynb", list(record.notes)
    else:
        chosen, notes = collect.choose_notebook(folder, f"{notebook_id}.ipynb", grade_ids)
    if chosen is None or not chosen.is_file():
        return _timed(_zero(settings, snapshot, assignment, student, report.MISSING, notes), start)
    try:
        checked = audit.audit(audit.read_submission(chosen), release)
    except audit.UnreadableNotebook as error:
        reason = f"{str(error)[:1].upper()}{str(error)[1:]}."
        result = _zero(settings, snapshot, assignment, student, report.UNREADABLE, [reason] + notes)
        result.report.flags.extend(intake_flags)
        return _timed(result, start)
    notes += checked.notes

    job = Path(tempfile.mkdtemp(prefix=f"{student[:20]}-", dir=scratch)).resolve()
    try:
        shutil.copy2(snapshot, job / "gradebook.db")
        (job / "source" / assignment).mkdir(parents=True)
        target = job / "submitted" / student / assignment
        target.mkdir(parents=True)
        nbformat.write(checked.notebook, target / f"{notebook_id}.ipynb")
        if (folder / "timestamp.txt").is_file():
            shutil.copy2(folder / "timestamp.txt", target / "timestamp.txt")
        outcome = course.api(job, _nbgrader_config(settings, job)).autograde(assignment, student, force=True, create=True)
        autograded = job / "autograded" / student / assignment
        notebook_path = autograded / f"{notebook_id}.ipynb"
        if not outcome["success"] or not notebook_path.is_file():
            log = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
            reason = log[-1] if log else "nbgrader failed"
            result = _zero(settings, snapshot, assignment, student, report.FAILED, notes + [f"nbgrader could not grade it ({reason})."])
            result.report.flags.append("For review: nbgrader failed on this submission; see the grading log.")
            return _timed(result, start)
        data = gradebook.read_submission(job / "gradebook.db", assignment, student)
        graded = nbformat.read(notebook_path, as_version=4)
        grades = data["notebooks"][notebook_id]["grades"]
        scores = {name: (float(g["auto_score"] or 0), float(g["max_score"])) for name, g in grades.items()}
        rep = report.Report(
            student,
            assignment,
            tests=report.test_results(graded, scores),
            notes=notes + report.execution_notes(graded),
            flags=intake_flags + list(checked.flags),
            isolation=settings.isolation,
        )
        rep.score = sum(s for s, _ in scores.values())
        rep.max_score = sum(m for _, m in scores.values())
        answers = {
            c.metadata["nbgrader"]["grade_id"]: c.metadata["course_utils"]["answers"]
            for c in graded.cells
            if "answers" in c.get("metadata", {}).get("course_utils", {}) and "nbgrader" in c.metadata
        }
        keep = scratch / "done" / f"{assignment}--{student}"
        if keep.exists():
            _rmtree(keep)
        shutil.copytree(autograded, keep)
        return _timed(Result(student, assignment, rep, data, str(keep), answers), start)
    finally:
        _rmtree(job)


def _timed(result: Result, start: float) -> Result:
    result.seconds = time.perf_counter() - start
    return result


def _rmtree(path: Path) -> None:
    def make_writable(function, name, _):
        os.chmod(name, stat.S_IRWXU)
        function(name)

    shutil.rmtree(path, onerror=make_writable)


def _safe_grade(settings, snapshot, scratch, assignment, notebook_id, student) -> Result:
    """:func:`grade_submission`, turning any exception into a zero with a note (never raises)."""
    try:
        return grade_submission(settings, snapshot, scratch, assignment, notebook_id, student)
    except Exception as error:  # one submission must never stop the others
        note = f"the grader hit an error: {type(error).__name__}: {error}"
        flag = "For review: " + traceback.format_exc(limit=3).strip().splitlines()[-1]
        try:
            result = _zero(settings, snapshot, assignment, student, report.FAILED, [note])
        except Exception:  # not even the gradebook snapshot can be read
            result = Result(student, assignment, report.Report(student, assignment, status=report.FAILED, notes=[note]))
        result.report.flags.append(flag)
        return result


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
        _rmtree(target)
    if result.autograded:
        shutil.copytree(result.autograded, target)
        _rmtree(Path(result.autograded))
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
                install(_safe_grade(*args, student))
        else:
            _grade_in_pool(settings, args, students, install)
    return sorted(results, key=lambda r: r.student)


def _grade_in_pool(settings: Settings, args: tuple, students: list[str], install) -> None:
    """Grade ``students`` on ``settings.workers`` worker processes (:mod:`course_utils.grading.worker`)."""
    from course_utils.grading import worker

    _, snapshot, scratch, assignment, notebook_id = args
    jobs = [worker.spec(settings, snapshot, scratch, assignment, notebook_id, s) for s in students]

    def failed(job: dict, reason: str) -> None:
        result = _zero(settings, snapshot, assignment, job["student"], report.FAILED, [f"the grading process failed twice ({reason})."])
        result.report.flags.append("For review: the grading process failed twice on this submission.")
        install(result)

    timeout = settings.limits.notebook_seconds + WORKER_SLACK_SECONDS
    worker.run_pool(jobs, settings.workers, timeout, install, failed, MAX_ATTEMPTS)
