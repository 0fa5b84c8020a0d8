"""``course-utils grade``: from an LMS download to grades and feedback, in one call.

:func:`grade` runs the instructor's steps in order, each of which is also a
command of its own:

0. the sandbox: the isolation asked for is checked first
   (:func:`course_utils.grading.plugins.sandbox.require`); if it cannot be
   had, nothing is graded;
1. ``collect`` (:func:`course_utils.grading.collect.collect`): the
   assignment recognised and released if need be, the download (zip or
   folder) into ``submitted/`` (every upload ends as a student's row or in
   the download's listing);
2. ``autograde``: every submission not graded yet, as dask tasks
   (:mod:`course_utils.grading.autograde`), then the second look on a clean
   copy of the lesson (:mod:`course_utils.grading.verify`);
3. ``feedback``: an HTML page per student;
4. ``export``: the grades CSV.

:class:`Outcome` says what needs the instructor's attention; its
:meth:`~Outcome.last_line` ends every run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading import autograde, collect, course, export, report, status, verify
from course_utils.grading.limits import REPO, Limits, UploadLimits


@dataclass
class Outcome:
    """What :func:`grade` did: per-student results, the CSV, the feedback pages, the download's listing."""

    assignment: str
    results: list = field(default_factory=list)
    csv: Path | None = None
    feedback: list[Path] = field(default_factory=list)
    rechecked: dict = field(default_factory=dict)
    intake: object | None = None
    """The :class:`course_utils.grading.intake.Outcome` of the download, if there was one."""
    isolation: str = ""

    @property
    def attention(self) -> list[str]:
        """Students whose row needs the instructor (not graded, or flagged), sorted."""
        return sorted(r.student for r in self.results if r.report.needs_attention)

    @property
    def unattributed(self) -> list[str]:
        """Entries of the download that belong to nobody (listed in the download's ``intake.csv``)."""
        return [row["entry"] for row in getattr(self.intake, "unattributed", [])]

    def last_line(self) -> str:
        """The run's last line: how many were graded, how many need attention."""
        graded = sum(1 for r in self.results if r.report.status == status.GRADED)
        flagged = sum(1 for r in self.results if r.report.status == status.GRADED and r.report.flags)
        not_graded = len(self.results) - graded
        need = len(self.attention) + len(self.unattributed)
        parts = [f"{graded} of {len(self.results)} submission(s) of {self.assignment} graded"]
        details = []
        if flagged:
            details.append(f"{flagged} graded but flagged")
        if not_graded:
            details.append(f"{not_graded} not graded")
        if self.unattributed:
            details.append(f"{len(self.unattributed)} upload(s) nobody's")
        parts.append(f"{need} need attention" + (f" ({', '.join(details)})" if details else ""))
        return "; ".join(parts) + "."


def default_workers() -> tuple[int, int]:
    """``(workers, grow_to)``: start with one grading worker per available core, grow to two per core.

    Measured on 2 cores (``bench/bench_grading.py``, 40 submissions): where
    kernels keep their core busy, a third worker costs more CPU than it
    brings (notebook 01: 1.65x the sequential speed with 2 workers, 1.54x
    with 3); where kernels wait for their lesson's servers, a third one pays
    (notebook 05: from 1.66x to 1.82x). So the LocalCluster starts with one
    per core and adds one while a core is left idle
    (:class:`course_utils.grading.dispatch.Growth`).
    """
    cores = available_cores()
    return cores, 2 * cores


def available_cores() -> int:
    """The cores this process may run on (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        cores = os.cpu_count() or 1
    return max(1, cores)


def settings(course_root: Path, *, repo: Path = REPO, workers: int | None = None, limits: Limits = Limits(),
             isolation: str = "auto", scheduler: str | None = None) -> autograde.Settings:
    """The :class:`~course_utils.grading.job.Settings` of a grading run.

    ``isolation`` is resolved here (``auto`` to the mode that works), so
    :class:`~course_utils.grading.plugins.sandbox.IsolationUnavailable` comes
    before anything is graded. ``scheduler``: a dask scheduler's address
    (else a LocalCluster of ``workers`` processes).
    """
    from course_utils.grading.plugins import sandbox

    start, most = default_workers()
    return autograde.Settings(
        course_root=Path(course_root).resolve(),
        repo=Path(repo).resolve(),
        limits=limits,
        isolation=sandbox.require(isolation),
        workers=start if workers is None else workers,
        grow_to=most if workers is None else 0,
        scheduler=scheduler,
    )


def autograde_and_verify(run: autograde.Settings, assignment: str, students: list[str] | None = None, *,
                         force: bool = False, listener=None) -> tuple[list, dict]:
    """Autograde, then re-check the passing answers not re-checked yet on a clean kernel; ``(results, changes)``."""
    found = course.find_assignment(assignment, run.repo)
    results = autograde.autograde(run, assignment, students, force=force, listener=listener)
    pending = [r for r in results if r.report.second_look == report.PENDING]
    changes = verify.verify_assignment(run, found, pending) if pending else {}
    return results, changes


def grade(
    download: Path | None,
    course_root: Path = REPO,
    *,
    assignment: str | None = None,
    repo: Path = REPO,
    workers: int | None = None,
    scheduler: str | None = None,
    limits: Limits = Limits(),
    upload_limits: UploadLimits = UploadLimits(),
    isolation: str = "auto",
    csv_path: Path | None = None,
    force: bool = False,
    listener=None,
    on_start=None,
) -> Outcome:
    """Collect ``download`` (LMS zip or folder; None: use ``submitted/`` as is), grade, give feedback, export.

    The sandbox is checked before anything else (``isolation``;
    :class:`~course_utils.grading.plugins.sandbox.IsolationUnavailable` if
    it cannot be had). ``on_start(settings)`` is called once it is known how
    grading will run; ``listener`` (a :class:`~course_utils.grading.dispatch.Listener`)
    follows the submissions. :class:`~course_utils.grading.dispatch.RunStopped`
    if the run stops before every submission is graded: what was graded is
    kept, and the same call grades the rest.
    """
    course_root = Path(course_root).resolve()
    run = settings(course_root, repo=repo, workers=workers, limits=limits, isolation=isolation, scheduler=scheduler)
    if on_start is not None:
        on_start(run)
    assignment, taken = collect.collect(course_root, download, assignment, upload_limits=upload_limits,
                                        limits=limits, repo=repo)
    results, changes = autograde_and_verify(run, assignment, force=force, listener=listener)
    pages = export.generate_feedback(course_root, assignment, [r.student for r in results])
    target = export.export_grades(course_root, csv_path or default_csv(course_root), [assignment])
    return Outcome(assignment, results, target, pages, changes, taken, run.isolation)


def default_csv(course_root: Path) -> Path:
    """Where the grades CSV goes unless told otherwise (inside the git-ignored ``autograded/``)."""
    return Path(course_root) / "autograded" / "grades.csv"
