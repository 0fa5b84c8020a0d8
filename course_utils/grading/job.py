"""Grade one submission: the job a dask worker runs, what it carries, and what it hands back.

- :class:`Settings`: how a run grades (where the course is, the limits, the
  sandbox, the workers or the scheduler); the client's.
- :class:`Package`: what every submission of one assignment shares: the
  released notebook, a copy of the gradebook with the assignment and no
  student (:func:`course_utils.grading.gradebook.assignment_only`), the
  answer names the second look reads out, the limits, the sandbox, the
  client's :func:`~course_utils.grading.identity.identity`, and the recipe
  that warms a worker's caches (:func:`course_utils.grading.warm.recipe`).
- :class:`Job`: one submission: the package, the student, the bytes of the
  notebook intake chose (:mod:`course_utils.grading.intake`; or, for a
  ``submitted/`` folder that did not come through intake,
  :func:`course_utils.grading.collect.choose_notebook`), intake's notes and
  flags, nbgrader's ``timestamp.txt``, the student's extension. Plain data:
  a worker needs nothing from the course directory, which may be on
  another machine.
- :func:`run`: what a worker does with a job (only a worker that matches
  the client gets one: :class:`course_utils.grading.dispatch.Admission`).
  It warms that machine's caches once, then :func:`grade`: the notebook is read and
  repaired (:func:`course_utils.grading.audit.audit`), put into a temporary
  nbgrader course of its own, and nbgrader's own ``autograde`` runs there
  with the course's configuration (sandboxed kernel, limits).
- :class:`Result`: plain data back to the client: the report, the grades,
  the autograded files, the answers read out of the kernel. Only the
  client writes the course's gradebook
  (:mod:`course_utils.grading.autograde`). :func:`grade` never raises for a
  submission: any error of the grader becomes that one submission's zero,
  with a note.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading import report
from course_utils.grading.limits import REPO, Limits


@dataclass(frozen=True)
class Settings:
    """How to grade: where the course is, the limits, the sandbox, and where the jobs run.

    ``workers``: worker processes of the LocalCluster started on this
    machine (0: no cluster, every job in this process); ``grow_to``: the
    most it may grow to while cores are left idle
    (:class:`course_utils.grading.dispatch.Growth`; 0: it keeps ``workers``).
    ``scheduler``: the address of a running dask scheduler to send the jobs
    to instead.
    """

    course_root: Path
    repo: Path
    limits: Limits = Limits()
    isolation: str = "auto"
    data_dir: Path | None = None
    workers: int = 1
    grow_to: int = 0
    scheduler: str | None = None


@dataclass(frozen=True)
class Package:
    """What every submission of one assignment shares (see the module doc)."""

    assignment: str
    notebook_id: str
    release: str
    """The released (student) notebook, as JSON text."""
    gradebook: bytes
    """An nbgrader gradebook with the assignment and its cells, and no student."""
    answer_names: dict
    """``{notebook id: {test grade id: [answer names]}}`` for the execute step."""
    limits: Limits
    isolation: str
    identity: dict
    """The client's :func:`course_utils.grading.identity.identity`: a worker must match it."""
    warm: dict | None = None
    """:func:`course_utils.grading.warm.recipe`, for a worker whose caches are cold."""
    data_dir: str | None = None
    """The data cache to warm and copy from (None: the worker's own default)."""
    hide: tuple[str, ...] = ()
    """More paths kernels must not see (the client's course, when the worker shares its machine)."""

    def digest(self) -> str:
        """What in the package decides a grade: the released notebook, the limits, the sandbox."""
        text = json.dumps([self.release, self.limits.as_dict(), self.isolation], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Job:
    """One submission to grade, with everything that takes (see the module doc)."""

    package: Package
    student: str
    notebook: bytes | None
    """The chosen notebook's bytes (None: nothing to grade; ``notes`` say why)."""
    notes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    timestamp: str | None = None
    extension_seconds: float | None = None

    @property
    def assignment(self) -> str:
        """The assignment's name."""
        return self.package.assignment


@dataclass
class Result:
    """What :func:`grade` hands back to the client."""

    student: str
    assignment: str
    report: report.Report
    data: dict = field(default_factory=dict)
    """The grades as nbgrader saved them (:func:`course_utils.grading.gradebook.read_submission`)."""
    files: dict[str, bytes] = field(default_factory=dict)
    """The autograded folder: ``{path relative to autograded/<student>/<assignment>/: bytes}``."""
    answers: dict = field(default_factory=dict)
    seconds: float = 0.0
    worker: str = ""


# -- on a worker ------------------------------------------------------------------


def run(job: Job) -> Result:
    """What a dask task runs on a worker (admitted by :class:`course_utils.grading.dispatch.Admission`): warm its caches once, grade."""
    from course_utils.grading import warm

    if job.package.warm:
        warm.warm_from(job.package.warm, Path(job.package.data_dir) if job.package.data_dir else None)
    return grade(job)


def grade(job: Job) -> Result:
    """Grade ``job`` in a temporary nbgrader course of its own; never raises (an error is this submission's zero)."""
    from course_utils.grading import identity

    start = time.perf_counter()
    try:
        result = _grade(job)
    except Exception as error:  # one submission must never stop the others
        result = failed(job, f"the grader hit an error: {type(error).__name__}: {error}",
                        "For review: " + traceback.format_exc(limit=3).strip().splitlines()[-1])
    result.seconds = time.perf_counter() - start
    result.worker = identity.where()
    return result


def failed(job: Job, note: str, flag: str) -> Result:
    """The zero of a submission the grader could not grade, with a note for the student and a flag for the instructor."""
    try:
        with tempfile.TemporaryDirectory(prefix="cg-zero-") as scratch:
            database = Path(scratch) / "gradebook.db"
            database.write_bytes(job.package.gradebook)
            result = zero(database, job.assignment, job.student, report.FAILED, [note])
    except Exception:  # not even the gradebook can be read
        result = Result(job.student, job.assignment, report.Report(job.student, job.assignment, status=report.FAILED,
                                                                   notes=[note]))
    result.report.flags.append(flag)
    return result


def zero(database: Path, assignment: str, student: str, status: str, notes: list[str]) -> Result:
    """The result of a submission that scores zero everywhere without a kernel (missing, unreadable...)."""
    from course_utils.grading import gradebook

    data = gradebook.zero_submission(database, assignment, student)
    rep = report.Report(student, assignment, status=status, notes=notes)
    for values in data["notebooks"].values():
        for name, grade in values["grades"].items():
            rep.tests.append(report.TestResult(name, 0.0, float(grade["max_score"]), status))
            rep.max_score += float(grade["max_score"])
    return Result(student, assignment, rep, data)


def _scratch_base() -> str | None:
    """The dask worker's own directory (cleaned up by dask after a worker that was killed), else the system's."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return None


def _nbgrader_config(job: Job, course_root: Path):
    from traitlets.config import Config

    from course_utils.grading.plugins import config

    c = Config()
    package = job.package
    config.configure(
        c,
        course_root,
        limits=package.limits,
        isolation=package.isolation,
        repo=REPO,
        data_dir=Path(package.data_dir) if package.data_dir else None,
        hide=package.hide,
        answer_names=package.answer_names,
    )
    return c


def _grade(job: Job) -> Result:
    import nbformat
    from sqlalchemy.exc import SAWarning

    from course_utils.grading import audit, course, gradebook

    package = job.package
    with tempfile.TemporaryDirectory(prefix=f"cg-job-{job.student[:20]}-", dir=_scratch_base()) as scratch:
        root = Path(scratch).resolve()
        database = root / "gradebook.db"
        database.write_bytes(package.gradebook)
        if job.notebook is None:
            return zero(database, job.assignment, job.student, report.MISSING, list(job.notes))
        release = nbformat.reads(package.release, as_version=4)
        try:
            checked = audit.audit(audit.parse_submission(job.notebook), release)
        except audit.UnreadableNotebook as error:
            reason = f"{str(error)[:1].upper()}{str(error)[1:]}."
            result = zero(database, job.assignment, job.student, report.UNREADABLE, [reason, *job.notes])
            result.report.flags.extend(job.flags)
            return result
        notes = [*job.notes, *checked.notes]
        (root / "source" / job.assignment).mkdir(parents=True)
        target = root / "submitted" / job.student / job.assignment
        target.mkdir(parents=True)
        nbformat.write(checked.notebook, target / f"{package.notebook_id}.ipynb")
        if job.timestamp is not None:
            (target / "timestamp.txt").write_text(job.timestamp)
        if job.extension_seconds:
            gradebook.give_extension(database, job.assignment, job.student, job.extension_seconds)
        with warnings.catch_warnings():  # SQLAlchemy's words on nbgrader's autoflush say nothing about the grade
            warnings.simplefilter("ignore", SAWarning)
            outcome = course.api(root, _nbgrader_config(job, root)).autograde(
                job.assignment, job.student, force=True, create=True
            )
        autograded = root / "autograded" / job.student / job.assignment
        notebook_path = autograded / f"{package.notebook_id}.ipynb"
        if not outcome["success"] or not notebook_path.is_file():
            log = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
            reason = log[-1] if log else "nbgrader failed"
            result = zero(database, job.assignment, job.student, report.FAILED,
                          [*notes, f"nbgrader could not grade it ({reason})."])
            result.report.flags.append("For review: nbgrader failed on this submission; see the grading log.")
            return result
        data = gradebook.read_submission(database, job.assignment, job.student)
        graded = nbformat.read(notebook_path, as_version=4)
        grades = data["notebooks"][package.notebook_id]["grades"]
        scores = {name: (float(g["auto_score"] or 0), float(g["max_score"])) for name, g in grades.items()}
        rep = report.Report(
            job.student,
            job.assignment,
            tests=report.test_results(graded, scores),
            notes=notes + report.execution_notes(graded),
            flags=[*job.flags, *checked.flags],
            isolation=package.isolation,
            second_look=report.PENDING,
        )
        rep.score = sum(s for s, _ in scores.values())
        rep.max_score = sum(m for _, m in scores.values())
        files = {str(p.relative_to(autograded)): p.read_bytes() for p in sorted(autograded.rglob("*")) if p.is_file()}
        return Result(job.student, job.assignment, rep, data, files, answers_of(graded))


def answers_of(graded) -> dict:
    """``{test grade id: answers}`` the execute step read out of the kernel (kept in the autograded notebook)."""
    return {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["course_utils"]["answers"]
        for c in graded.cells
        if "answers" in c.get("metadata", {}).get("course_utils", {}) and "nbgrader" in c.metadata
    }


def rmtree(path: Path) -> None:
    """Remove a tree even where nbgrader made files read-only."""
    def make_writable(function, name, _):
        os.chmod(name, stat.S_IRWXU)
        function(name)

    shutil.rmtree(path, onerror=make_writable)

