"""Get submissions into ``submitted/<student>/<assignment>/``, the way nbgrader expects them.

Two sources:

- an LMS download (a zip of everyone's uploads, or a folder of them):
  :func:`collect_download` hands it to :mod:`course_utils.grading.intake`,
  which reads it without unpacking it, tells whose each upload is from the
  LMS's names alone, takes each student's latest notebook, and refuses what
  is too large, so that no upload can stop the class or pose as someone else;
- a ``submitted/`` folder in nbgrader's layout (from JupyterHub's
  ``nbgrader collect``, or copied by hand): :func:`collect_folder`.

Students upload whatever they have, so :func:`choose_notebook` decides,
for a ``submitted/`` folder that did not come through intake, which file to
grade: the expected ``<assignment>.ipynb``, or else the notebook that holds
the assignment's exercises (a renamed copy such as ``Copy of
01_store_interface (2).ipynb``), and says so.

:class:`LmsCollector` lets ``nbgrader zip_collect``, run by hand, read the
same LMS names (``c.ZipCollectApp.collector_plugin`` in the course's config).
"""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin

from course_utils.grading import intake, lms, names
from course_utils.grading.quota import UploadLimits

_GRADE_ID = re.compile(r'"grade_id"\s*:\s*"([^"\\]{1,200})"')


def student_slug(text: str) -> str:
    """A safe nbgrader student id from a folder name: transliterated, lower case, ``[a-z0-9._-]``."""
    return names.student_id(text)


class LmsCollector(FileNameCollectorPlugin):
    """``nbgrader zip_collect`` plugin: who submitted a file, from LMS-style names.

    Tries :attr:`named_regexp` (if the instructor set one), then the
    Canvas, Blackboard and Moodle schemes of :mod:`course_utils.grading.lms`
    on the top-level name, then a folder per student. ``course-utils
    collect`` does not use nbgrader's extraction (it unpacks archives inside
    uploads, whole); this plugin is for instructors who run ``nbgrader
    zip_collect`` themselves.
    """

    def collect(self, submitted_file: str):
        """``{"student_id", "file_id"[, "timestamp"]}`` for ``submitted_file``, or None to skip it."""
        path = Path(submitted_file)
        if path.suffix not in self.valid_ext:
            return None
        if self.named_regexp:
            found = self._match(submitted_file)
            if found:
                found["student_id"] = student_slug(found["student_id"])
                return found
        parts = path.parts
        start = parts.index("extracted") + 1 if "extracted" in parts else max(0, len(parts) - 3)
        top = parts[start] if start < len(parts) else path.name
        found = lms.attribute(top, is_dir=top != path.name)
        if found.owner is None or found.kind not in (lms.FILE,):
            self.log.warning("cannot tell whose file this is, skipped: %s", submitted_file)
            return None
        info = {"student_id": found.owner.student_id(), "file_id": found.file_name or path.name}
        if "timestamp" in found.extra:
            info["timestamp"] = found.extra["timestamp"]
        return info


def course_assignments():
    """The course's assignments (one per notebook), for recognising ``<student>/<assignment>/`` folders."""
    from course_utils.grading.course import assignments

    return assignments()


def collect_download(course_root: Path, download: Path, assignment: str, limits: UploadLimits = UploadLimits(),
                     repo: Path | None = None):
    """Read the LMS download ``download`` (zip or folder) into ``submitted/`` for ``assignment``.

    Returns the :class:`course_utils.grading.intake.Outcome` (a record per
    student, the fate of every entry, the listing's path).
    """
    from course_utils.grading.config import REPO
    from course_utils.grading.course import assignments, find_assignment, release_notebook

    repo = Path(repo or REPO)
    found = find_assignment(assignment, repo)
    release = release_notebook(course_root, found)
    grade_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells} - {None}
    return intake.collect_download(
        download, course_root, assignment, found.notebook_id, grade_ids,
        limits=limits, known_assignments={a.name for a in assignments(repo)},
    )


def collect_folder(course_root: Path, folder: Path, assignment: str | None = None) -> list[str]:
    """Copy a ``submitted/``-style folder (``<student>/<assignment>/...``) into the course."""
    folder, destination = Path(folder).resolve(), (Path(course_root) / "submitted").resolve()
    if folder != destination:
        for student_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
                if assignment and assignment_dir.name != assignment:
                    continue
                target = destination / student_slug(student_dir.name) / assignment_dir.name
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(assignment_dir, target, symlinks=True)
    assignments = [assignment] if assignment else _assignments(destination)
    return sorted({s for a in assignments for s in submitted_students(course_root, a)})


def _assignments(submitted: Path) -> set[str]:
    if not submitted.is_dir():
        return set()
    return {p.name for s in submitted.iterdir() if s.is_dir() for p in s.iterdir() if p.is_dir()}


def submitted_students(course_root: Path, assignment: str) -> list[str]:
    """Students with a folder ``submitted/<student>/<assignment>/``, sorted."""
    submitted = Path(course_root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def grade_ids_in(path: Path, limit: int = UploadLimits.file_bytes) -> set[str]:
    """The nbgrader grade ids a notebook file names, read as text (no JSON parsing: any file is safe)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return set()
    return set(_GRADE_ID.findall(text))


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
        return (len(grade_ids_in(path) & grade_ids), similarity)

    chosen = max(candidates, key=rank)
    notes = [f"Your notebook was named '{chosen.relative_to(folder)}'; it was graded as {expected}."]
    if len(candidates) > 1:
        others = ", ".join(str(p.relative_to(folder)) for p in candidates if p != chosen)
        notes.append(f"Other notebooks in the submission were not graded: {others}.")
    return chosen, notes
