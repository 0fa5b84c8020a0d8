"""``course-utils grade``: from an LMS download to grades and feedback, in one call.

:func:`grade` runs the instructor's steps in order, each of which is also a
command of its own:

1. ``release``: build the source version and the student version of the
   assignment (only if the course does not have it yet);
2. ``collect``: the download (zip or folder) into ``submitted/``;
3. ``autograde``: every submission, in parallel, then the second look on a
   clean copy of the lesson (:mod:`course_utils.grading.verify`);
4. ``feedback``: an HTML page per student;
5. ``export``: the grades CSV.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading import autograde, collect, course, export, verify
from course_utils.grading.config import REPO
from course_utils.grading.limits import Limits


@dataclass
class Outcome:
    """What :func:`grade` did: per-student results, the CSV and the feedback pages."""

    assignment: str
    results: list = field(default_factory=list)
    csv: Path | None = None
    feedback: list[Path] = field(default_factory=list)
    rechecked: dict = field(default_factory=dict)


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


def _grade_ids_of(text: str) -> set[str]:
    try:
        cells = json.loads(text).get("cells", [])
        return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in cells} - {None}
    except (ValueError, AttributeError):
        return set()


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
    download = Path(download)
    if download.is_dir():
        texts = [p.read_text(errors="replace") for p in download.rglob("*.ipynb")]
    elif zipfile.is_zipfile(download):
        with zipfile.ZipFile(download) as archive:
            texts = [archive.read(n).decode(errors="replace") for n in archive.namelist() if n.endswith(".ipynb")]
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


def settings(course_root: Path, *, repo: Path = REPO, workers: int | None = None, limits: Limits = Limits(), isolation: str = "auto") -> autograde.Settings:
    """The :class:`~course_utils.grading.autograde.Settings` of a grading run."""
    return autograde.Settings(
        course_root=Path(course_root).resolve(),
        repo=Path(repo).resolve(),
        limits=limits,
        isolation=isolation,
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
    isolation: str = "auto",
    csv_path: Path | None = None,
    on_result=None,
) -> Outcome:
    """Collect ``download`` (LMS zip or folder; None: use ``submitted/`` as is), grade, give feedback, export.

    A folder in nbgrader's ``<student>/<assignment>/`` layout is copied as it
    is; anything else goes through ``nbgrader zip_collect``.
    """
    course_root = Path(course_root).resolve()
    if assignment is None:
        if download is None:
            raise ValueError("name the assignment when there is no download to look at")
        assignment = detect_assignment(download, repo)
    ensure_released(course_root, assignment, repo, limits)
    if download is not None:
        if Path(download).is_dir() and _is_submitted_layout(Path(download), assignment):
            collect.collect_folder(course_root, download, assignment)
        else:
            collect.collect_zip(course_root, download, assignment)
    run = settings(course_root, repo=repo, workers=workers, limits=limits, isolation=isolation)
    results, changes = autograde_and_verify(run, assignment, on_result=on_result)
    pages = export.generate_feedback(course_root, assignment, [r.student for r in results])
    target = export.export_grades(course_root, csv_path or default_csv(course_root), [assignment])
    return Outcome(assignment, results, target, pages, changes)


def default_csv(course_root: Path) -> Path:
    """Where the grades CSV goes unless told otherwise (inside the git-ignored ``autograded/``)."""
    return Path(course_root) / "autograded" / "grades.csv"


def _is_submitted_layout(folder: Path, assignment: str) -> bool:
    """True if ``folder`` looks like nbgrader's ``submitted/<student>/<assignment>/``."""
    return any((p / assignment).is_dir() for p in folder.iterdir() if p.is_dir())
