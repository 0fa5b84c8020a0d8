"""Grade one submission in its own copy of the course: what a worker does with each job.

:func:`grade_submission` builds a temporary nbgrader course for one student:

- ``gradebook.db``: a snapshot of the course's gradebook (assignment and
  graded cells, any manual grades), taken once before grading starts;
- ``submitted/<student>/<assignment>/<notebook>.ipynb``: the notebook intake
  chose (:mod:`course_utils.grading.intake`; or, for a ``submitted/``
  folder that did not come through intake,
  :func:`course_utils.grading.collect.choose_notebook`), repaired
  (:func:`course_utils.grading.audit.audit`) first;
- nbgrader's own ``autograde`` then runs in that copy, with the course's
  configuration (sandboxed kernel, limits).

It returns plain data (:class:`Result`); the main process alone writes the
course's gradebook (:mod:`course_utils.grading.autograde`). A submission
intake already settled (too large, not a notebook...) scores zero with
intake's words, without a kernel. :func:`safe_grade` never raises: any
error of the grader becomes that one submission's zero, with a note.
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
from course_utils.grading.quota import Limits


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


def zero(settings: Settings, snapshot: Path, assignment: str, student: str, status: str, notes: list[str]) -> Result:
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
        result = zero(settings, snapshot, assignment, student, record.status, list(record.notes))
        result.report.flags.extend(intake_flags)
        return _timed(result, start)
    if record is not None:
        chosen, notes = folder / f"{notebook_id}.ipynb", list(record.notes)
    else:
        chosen, notes = collect.choose_notebook(folder, f"{notebook_id}.ipynb", grade_ids)
    if chosen is None or not chosen.is_file():
        return _timed(zero(settings, snapshot, assignment, student, report.MISSING, notes), start)
    try:
        checked = audit.audit(audit.read_submission(chosen), release)
    except audit.UnreadableNotebook as error:
        reason = f"{str(error)[:1].upper()}{str(error)[1:]}."
        result = zero(settings, snapshot, assignment, student, report.UNREADABLE, [reason] + notes)
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
            result = zero(settings, snapshot, assignment, student, report.FAILED, notes + [f"nbgrader could not grade it ({reason})."])
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
            rmtree(keep)
        shutil.copytree(autograded, keep)
        return _timed(Result(student, assignment, rep, data, str(keep), answers), start)
    finally:
        rmtree(job)


def _timed(result: Result, start: float) -> Result:
    result.seconds = time.perf_counter() - start
    return result


def rmtree(path: Path) -> None:
    def make_writable(function, name, _):
        os.chmod(name, stat.S_IRWXU)
        function(name)

    shutil.rmtree(path, onerror=make_writable)


def safe_grade(settings, snapshot, scratch, assignment, notebook_id, student) -> Result:
    """:func:`grade_submission`, turning any exception into a zero with a note (never raises)."""
    try:
        return grade_submission(settings, snapshot, scratch, assignment, notebook_id, student)
    except Exception as error:  # one submission must never stop the others
        note = f"the grader hit an error: {type(error).__name__}: {error}"
        flag = "For review: " + traceback.format_exc(limit=3).strip().splitlines()[-1]
        try:
            result = zero(settings, snapshot, assignment, student, report.FAILED, [note])
        except Exception:  # not even the gradebook snapshot can be read
            result = Result(student, assignment, report.Report(student, assignment, status=report.FAILED, notes=[note]))
        result.report.flags.append(flag)
        return result
