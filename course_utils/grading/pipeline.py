"""``course-utils grade``: from an LMS download to grades and feedback, in one call.

:func:`grade` runs the instructor's steps in order, each of which is also a
command of its own:

0. the sandbox: the isolation asked for is checked first
   (:func:`course_utils.grading.sandbox.require`); if it cannot be had,
   nothing is graded;
1. ``release``: build the source version and the student version of the
   assignment (only if the course does not have it yet);
2. ``collect``: the download (zip or folder) into ``submitted/``
   (:mod:`course_utils.grading.intake`: every upload ends as a student's
   row or in the download's listing);
3. ``autograde``: every submission, in parallel, then the second look on a
   clean copy of the lesson (:mod:`course_utils.grading.verify`);
4. ``feedback``: an HTML page per student;
5. ``export``: the grades CSV.

:class:`Outcome` says what needs the instructor's attention; its
:meth:`~Outcome.last_line` ends every run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading import autograde, collect, course, export, sandbox, status, unpack, verify
from course_utils.grading.config import REPO
from course_utils.grading.quota import Limits, UploadLimits


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


def default_workers() -> int:
    """One grading worker more than the available cores.

    A grading kernel often waits (for the local servers a lesson starts, for
    the disk); with one worker per core those waits leave cores idle. On 2
    cores, a third worker took notebook 05 from 1.66x to 1.82x the
    sequential speed (bench/bench_grading.py).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        cores = os.cpu_count() or 1
    return max(1, cores) + 1


DETECT_SAMPLE = 50
"""Notebooks of a download read to recognise its assignment."""
_GRADE_ID = re.compile(r'"grade_id"\s*:\s*"([^"\\]{1,200})"')


def _grade_ids_of(text: str) -> set[str]:
    """Grade ids named in a notebook's text (read as text: deep nesting or bad JSON cannot stop it)."""
    return set(_GRADE_ID.findall(text))


def detect_assignment(download: Path, repo: Path = REPO) -> str:
    """The assignment whose exercises the notebooks in ``download`` (zip or folder) hold."""
    from course_utils import authoring
    import nbformat

    known = {
        a.name: set(authoring.answer_cells(nbformat.read(a.notebook, as_version=4)))
        for a in course.assignments(repo)
    }
    votes: dict[str, int] = {}
    texts = []
    try:
        with unpack.Download(Path(download)) as listing:
            for member in listing.members:
                if len(texts) >= DETECT_SAMPLE:
                    break
                if member.name.endswith(".ipynb") and member.size <= UploadLimits.file_bytes:
                    try:
                        texts.append(unpack.read_capped(member, UploadLimits.file_bytes).decode(errors="replace"))
                    except (unpack.TooLarge, *unpack.READ_ERRORS):
                        continue
    except unpack.NotADownload as error:
        raise ValueError(str(error)) from None
    for text in texts:
        ids = _grade_ids_of(text)
        for name, answers in known.items():
            if answers and answers <= ids:
                votes[name] = votes.get(name, 0) + 1
        for name in known:
            if name in text and name not in votes:
                votes.setdefault(name, 0)
    if not votes:
        raise ValueError(f"cannot tell which assignment {download} holds; pass --assignment")
    return max(votes, key=votes.get)


def settings(course_root: Path, *, repo: Path = REPO, workers: int | None = None, limits: Limits = Limits(),
             isolation: str = "auto") -> autograde.Settings:
    """The :class:`~course_utils.grading.autograde.Settings` of a grading run.

    ``isolation`` is resolved here (``auto`` to the mode that works), so
    :class:`~course_utils.grading.sandbox.IsolationUnavailable` comes before
    anything is graded.
    """
    return autograde.Settings(
        course_root=Path(course_root).resolve(),
        repo=Path(repo).resolve(),
        limits=limits,
        isolation=sandbox.require(isolation),
        workers=default_workers() if workers is None else workers,
    )


def ensure_released(course_root: Path, assignment: str, repo: Path = REPO, limits: Limits | None = None) -> bool:
    """Generate ``assignment`` unless ``release/`` and the gradebook already have it; True if generated."""
    from nbgrader.api import Gradebook, MissingEntry

    from course_utils.grading import gradebook

    course_root = Path(course_root).resolve()
    found = course.find_assignment(assignment, repo)
    released = course_root / "release" / assignment / f"{found.notebook_id}.ipynb"
    database = course_root / "gradebook.db"
    if released.is_file() and database.is_file():
        with Gradebook(gradebook.db_url(database)) as gb:
            try:
                gb.find_assignment(assignment)
                return False
            except MissingEntry:
                pass
    course.generate(course_root, repo, [assignment], limits=limits)
    return True


def autograde_and_verify(run: autograde.Settings, assignment: str, students: list[str] | None = None, on_result=None) -> tuple[list, dict]:
    """Autograde, then re-check passing answers on a clean kernel; returns (results, changes)."""
    found = course.find_assignment(assignment, run.repo)
    results = autograde.autograde(run, assignment, students, on_result=on_result)
    changes = verify.verify_assignment(run, found, results) if results else {}
    return results, changes


def grade(
    download: Path | None,
    course_root: Path = REPO,
    *,
    assignment: str | None = None,
    repo: Path = REPO,
    workers: int | None = None,
    limits: Limits = Limits(),
    upload_limits: UploadLimits = UploadLimits(),
    isolation: str = "auto",
    csv_path: Path | None = None,
    on_result=None,
    on_start=None,
) -> Outcome:
    """Collect ``download`` (LMS zip or folder; None: use ``submitted/`` as is), grade, give feedback, export.

    The sandbox is checked before anything else (``isolation``;
    :class:`~course_utils.grading.sandbox.IsolationUnavailable` if it cannot
    be had). ``on_start(settings)`` is called once it is known how grading
    will run; ``on_result(result)`` as each submission is graded.
    """
    course_root = Path(course_root).resolve()
    run = settings(course_root, repo=repo, workers=workers, limits=limits, isolation=isolation)
    if on_start is not None:
        on_start(run)
    if assignment is None:
        if download is None:
            raise ValueError("name the assignment when there is no download to look at")
        assignment = detect_assignment(download, repo)
    ensure_released(course_root, assignment, repo, limits)
    taken = None
    if download is not None and Path(download).resolve() != course_root / "submitted":
        taken = collect.collect_download(course_root, download, assignment, upload_limits, repo=repo)
    results, changes = autograde_and_verify(run, assignment, on_result=on_result)
    pages = export.generate_feedback(course_root, assignment, [r.student for r in results])
    target = export.export_grades(course_root, csv_path or default_csv(course_root), [assignment])
    return Outcome(assignment, results, target, pages, changes, taken, run.isolation)


def default_csv(course_root: Path) -> Path:
    """Where the grades CSV goes unless told otherwise (inside the git-ignored ``autograded/``)."""
    return Path(course_root) / "autograded" / "grades.csv"


