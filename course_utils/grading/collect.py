"""Get submissions into ``submitted/<student>/<assignment>/``, the way nbgrader expects them.

Two sources:

- an LMS download (a zip of everyone's uploads, or a folder of them):
  :func:`collect_zip` places it where ``nbgrader zip_collect`` looks
  (``downloaded/<assignment>/archive/``) and runs it, with
  :class:`LmsCollector` reading the student from the file names that
  Canvas, Blackboard and Moodle produce (or a folder per student, or the
  instructor's own regular expression);
- a ``submitted/`` folder in nbgrader's layout (from JupyterHub's
  ``nbgrader collect``, or copied by hand): :func:`collect_folder`.

Students upload whatever they have, so :func:`choose_notebook` decides, per
submission, which file to grade: the expected ``<assignment>.ipynb``, or
else the notebook that holds the assignment's exercises (a renamed copy such
as ``Copy of 01_store_interface (2).ipynb``), and says so.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin

LMS_PATTERNS = (
    # Blackboard: <assignment>_<student>_attempt_<yyyy-mm-dd-hh-mm-ss>[_<file>]
    re.compile(
        r"^.*?_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})(?:_(?P<file_id>.+))?$"
    ),
    # Canvas: <login>_[LATE_]<user id>_<submission id>_<file>
    re.compile(r"^(?P<student_id>[^_/]+)_(?:LATE_)?\d+_\d+_(?P<file_id>.+)$"),
)
MOODLE_FOLDER = re.compile(r"^(?P<student_id>.+?)_\d+_assignsubmission_(?:file|onlinetext)_?$")


def student_slug(text: str) -> str:
    """A safe nbgrader student id from a name in a file name: lower case, ``[a-z0-9._-]``."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-.")
    return slug or "unknown"


class LmsCollector(FileNameCollectorPlugin):
    """``nbgrader zip_collect`` plugin: who submitted a file, from LMS-style names.

    Tries, in order: :attr:`named_regexp` (if the instructor set one), the
    Blackboard and Canvas file-name patterns, a Moodle per-student folder,
    then a plain folder per student (``<student>/<file>`` or
    ``<student>/<assignment>/<file>``). The ``file_id`` is the uploaded
    file's own name; :func:`choose_notebook` picks the file to grade later.
    """

    def collect(self, submitted_file: str):
        path = Path(submitted_file)
        if path.suffix not in self.valid_ext:
            return None
        if self.named_regexp:
            found = self._match(submitted_file)
            if found:
                found["student_id"] = student_slug(found["student_id"])
                return found
        for pattern in LMS_PATTERNS:
            match = pattern.match(path.name)
            if match:
                info = {k: v for k, v in match.groupdict().items() if v}
                info["student_id"] = student_slug(info["student_id"])
                info.setdefault("file_id", path.name)
                info["file_id"] = Path(info["file_id"]).name
                return info
        folders = [p.name for p in path.parents]
        for folder in folders[:3]:
            match = MOODLE_FOLDER.match(folder)
            if match:
                return {"student_id": student_slug(match["student_id"]), "file_id": path.name}
        coursedir = getattr(self.parent, "coursedir", None)
        assignments = {a.name for a in course_assignments()}
        if coursedir is not None and coursedir.assignment_id:
            assignments.add(coursedir.assignment_id)
        parent = folders[0] if folders else ""
        if parent in assignments and len(folders) > 1:
            parent = folders[1]
        if parent and parent not in ("extracted", "archive") and not parent.startswith("."):
            return {"student_id": student_slug(parent), "file_id": path.name}
        self.log.warning("cannot tell whose file this is, skipped: %s", submitted_file)
        return None


def course_assignments():
    """The course's assignments (one per notebook), for recognising ``<student>/<assignment>/`` folders."""
    from course_utils.grading.course import assignments

    return assignments()


def archive_dir(course_root: Path, assignment: str) -> Path:
    """Where ``nbgrader zip_collect`` looks for the LMS download of ``assignment``."""
    return Path(course_root) / "downloaded" / assignment / "archive"


def collect_zip(course_root: Path, download: Path, assignment: str) -> dict:
    """Run ``nbgrader zip_collect`` on an LMS download (a zip file or a folder) of ``assignment``.

    Returns ``{"students": [...], "log": str}``; raises ``RuntimeError`` with
    nbgrader's log if it fails.
    """
    download = Path(download)
    target = archive_dir(course_root, assignment)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if download.is_dir():
        shutil.copytree(download, target, dirs_exist_ok=True)
    else:
        if not zipfile.is_zipfile(download):
            raise ValueError(f"{download} is not a zip file")
        shutil.copy2(download, target / download.name)
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "zip_collect", assignment, "--force"],
        cwd=course_root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader zip_collect {assignment} failed:\n{done.stdout}\n{done.stderr}")
    return {"students": submitted_students(course_root, assignment), "log": done.stderr}


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
                shutil.copytree(assignment_dir, target)
    return sorted({s for a in ([assignment] if assignment else _assignments(destination)) for s in submitted_students(course_root, a)})


def _assignments(submitted: Path) -> set[str]:
    return {p.name for s in submitted.iterdir() if s.is_dir() for p in s.iterdir() if p.is_dir()} if submitted.is_dir() else set()


def submitted_students(course_root: Path, assignment: str) -> list[str]:
    """Students with a folder ``submitted/<student>/<assignment>/``, sorted."""
    submitted = Path(course_root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def _grade_ids(path: Path) -> set[str]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        return {
            c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            for c in nb.get("cells", [])
            if isinstance(c, dict)
        } - {None}
    except (ValueError, AttributeError, TypeError):
        return set()


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
    candidates = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not candidates:
        found = sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name != "timestamp.txt")
        listing = ", ".join(found) if found else "nothing"
        return None, [f"No notebook was submitted (found: {listing}); expected {expected}."]

    def rank(path: Path):
        similarity = difflib.SequenceMatcher(None, path.name.lower(), expected.lower()).ratio()
        return (len(_grade_ids(path) & grade_ids), similarity)

    chosen = max(candidates, key=rank)
    notes = [f"Your notebook was named '{chosen.relative_to(folder)}'; it was graded as {expected}."]
    if len(candidates) > 1:
        others = ", ".join(str(p.relative_to(folder)) for p in candidates if p != chosen)
        notes.append(f"Other notebooks in the submission were not graded: {others}.")
    return chosen, notes
