"""Get submissions into ``submitted/<student>/<assignment>/``, the way nbgrader expects them.

:func:`collect` is the one way in, for ``course-utils collect`` and
``course-utils grade`` alike: it recognises the assignment when it is not
named (:func:`detect_assignment`), releases it if the course does not have
it yet, and reads the download:

- an LMS download (a zip of everyone's uploads, or a folder of them, a
  folder per student in nbgrader's layout included) goes to
  :mod:`course_utils.grading.intake`, which reads it without unpacking it,
  tells whose each upload is from the LMS's names alone, takes each
  student's latest notebook, and refuses what is too large, so that no
  upload can stop the class or pose as someone else;
- the course's own ``submitted/`` folder (after JupyterHub's ``nbgrader
  collect``, or filled by hand) is graded as it is.

Students upload whatever they have, so :func:`choose_notebook` decides,
for a ``submitted/`` folder that did not come through intake, which file to
grade: the expected ``<assignment>.ipynb``, or else the notebook that holds
the assignment's exercises (a renamed copy such as ``Copy of
01_store_interface (2).ipynb``), and says so.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from course_utils.grading import course, intake, unpack
from course_utils.grading.limits import REPO, Limits, UploadLimits

DETECT_SAMPLE = 50
"""Notebooks of a download read to recognise its assignment."""


def collect(course_root: Path, download: Path | None, assignment: str | None = None, *,
            upload_limits: UploadLimits = UploadLimits(), limits: Limits | None = None,
            repo: Path = REPO) -> tuple[str, intake.Outcome | None]:
    """Collect ``download`` into ``course_root``'s ``submitted/`` for ``assignment``; ``(assignment, outcome)``.

    ``assignment`` is recognised from the download's notebooks if not
    given, and released (with ``limits`` in the course's configuration) if
    the course does not have it yet. ``download`` None, or the course's own
    ``submitted/`` folder, is graded as it is (the outcome is then None);
    anything else goes through intake (its :class:`~course_utils.grading.intake.Outcome`).
    ``ValueError`` (one line) if the assignment cannot be told or the
    download cannot be read.
    """
    course_root = Path(course_root).resolve()
    if assignment is None:
        if download is None:
            raise ValueError("name the assignment when there is no download to look at")
        assignment = detect_assignment(download, repo)
    found = course.find_assignment(assignment, repo)
    ensure_released(course_root, assignment, repo, limits)
    if download is None or Path(download).resolve() == course_root / "submitted":
        return assignment, None
    try:
        taken = intake.collect_download(
            download, course_root, assignment, found.notebook_id, set(found.grade_ids),
            limits=upload_limits, known_assignments={a.name for a in course.assignments(repo)},
        )
    except unpack.NotADownload as error:
        raise ValueError(str(error)) from None
    return assignment, taken


def detect_assignment(download: Path, repo: Path = REPO) -> str:
    """The assignment whose exercises the notebooks in ``download`` (zip or folder) hold."""
    known = {a.name: a.answer_ids for a in course.assignments(repo)}
    votes: dict[str, int] = {}
    texts = []
    try:
        with unpack.Download(Path(download)) as listing:
            for member in listing.members:
                if len(texts) >= DETECT_SAMPLE:
                    break
                if member.name.endswith(".ipynb") and member.size <= UploadLimits.file_bytes:
                    try:
                        texts.append(unpack.read_capped(member, UploadLimits.file_bytes))
                    except (unpack.TooLarge, *unpack.READ_ERRORS):
                        continue
    except unpack.NotADownload as error:
        raise ValueError(str(error)) from None
    for raw in texts:
        ids = course.grade_ids_in_text(raw)
        text = raw.decode("utf-8", errors="replace")
        for name, answers in known.items():
            if answers and answers <= ids:
                votes[name] = votes.get(name, 0) + 1
        for name in known:
            if name in text and name not in votes:
                votes.setdefault(name, 0)
    if not votes:
        raise ValueError(f"cannot tell which assignment {download} holds; pass --assignment")
    return max(votes, key=votes.get)


def ensure_released(course_root: Path, assignment: str, repo: Path = REPO, limits: Limits | None = None) -> bool:
    """Generate ``assignment`` unless ``release/`` and the gradebook already have it; True if generated."""
    from nbgrader.api import MissingEntry

    from course_utils.grading import gradebook

    course_root = Path(course_root).resolve()
    found = course.find_assignment(assignment, repo)
    released = course_root / "release" / assignment / f"{found.notebook_id}.ipynb"
    database = course_root / "gradebook.db"
    if released.is_file() and database.is_file():
        with gradebook.open_gradebook(database) as gb:
            try:
                gb.find_assignment(assignment)
                return False
            except MissingEntry:
                pass
    course.generate(course_root, repo, [assignment], limits=limits)
    return True


def submitted_students(course_root: Path, assignment: str) -> list[str]:
    """Students with a folder ``submitted/<student>/<assignment>/``, sorted."""
    submitted = Path(course_root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def choose_notebook(folder: Path, expected: str, grade_ids: set[str]) -> tuple[Path | None, list[str]]:
    """The file in ``folder`` to grade as ``expected`` (``<notebook>.ipynb``), and what was decided.

    The expected name wins. Otherwise, among the ``.ipynb`` files, the one
    holding most of ``grade_ids`` (the assignment's exercises), then the most
    similar name. None (with a note listing what was there) if there is no
    notebook at all.
    """
    folder = Path(folder)
    if (folder / expected).is_file():
        return folder / expected, []
    candidates = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file())
    if not candidates:
        skip = {"timestamp.txt", intake.RECORD_NAME}
        found = sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name not in skip)
        listing = ", ".join(found) if found else "nothing"
        return None, [f"No notebook was submitted (found: {listing}); expected {expected}."]

    def rank(path: Path):
        similarity = difflib.SequenceMatcher(None, path.name.lower(), expected.lower()).ratio()
        return (len(_grade_ids_of_file(path) & grade_ids), similarity)

    chosen = max(candidates, key=rank)
    notes = [f"Your notebook was named '{chosen.relative_to(folder)}'; it was graded as {expected}."]
    if len(candidates) > 1:
        others = ", ".join(str(p.relative_to(folder)) for p in candidates if p != chosen)
        notes.append(f"Other notebooks in the submission were not graded: {others}.")
    return chosen, notes


def _grade_ids_of_file(path: Path, limit: int = UploadLimits.file_bytes) -> set[str]:
    try:
        with open(path, "rb") as handle:
            return course.grade_ids_in_text(handle.read(limit))
    except OSError:
        return set()
