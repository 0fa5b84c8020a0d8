"""From an LMS download to ``submitted/<student>/<assignment>/``: every upload ends somewhere.

:func:`collect_download` reads a download (zip or folder) without unpacking
it (:mod:`course_utils.grading.unpack`) and, for every top-level entry:

1. **whose is it?** Only the LMS's name of the top-level entry says
   (:mod:`course_utils.grading.lms`); nothing inside an upload can make it
   another student's, and a zip inside a student's zip is never opened.
   Names in any script become distinct ids (:mod:`course_utils.grading.names`);
   two students who would share one are told apart, and the instructor told;
2. **which file?** Of all of a student's uploads, the notebook holding this
   assignment's exercises (or named like it) from the **latest** upload in
   the LMS's own order (Canvas attachment number and LATE mark, Blackboard
   attempt date; Moodle keeps only the latest attempt); the others are set aside;
3. **may it be read?** Sizes are checked on the listing first
   (:class:`~course_utils.grading.limits.UploadLimits`): a bomb is refused
   before a byte of it is decompressed, and nothing is written but the one
   notebook chosen, under a name of the grader's choosing.

Each student gets ``submitted/<student>/<assignment>/<notebook>.ipynb`` (if
a notebook could be taken) and an intake record (:class:`StudentIntake`,
``.course-utils-intake.json``) saying what was graded, what was set aside
and why, or which status the row gets instead (too large, not a notebook,
unreadable, missing). The autograder reads the record; the student reads it
in the feedback. Entries no LMS scheme explains belong to nobody and are
listed for the instructor, as is everything else, in
``downloaded/<assignment>/intake.csv``. One student's upload, however odd,
never stops the others.
"""

from __future__ import annotations

import csv
import json
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_utils.grading import lms, names, status, unpack
from course_utils.grading.choice import StudentUploads, Upload, ignored
from course_utils.grading.limits import UploadLimits
from course_utils.grading.status import READY  # noqa: F401  (re-exported: the state of a notebook to grade)

RECORD_NAME = ".course-utils-intake.json"
MANIFEST_NAME = "intake.csv"
INFO_BYTES = 64 * 1024


@dataclass
class StudentIntake:
    """What intake decided for one student (saved next to the submission, read by the autograder)."""

    student: str
    lms: str
    lms_id: str
    name: str
    status: str = READY
    graded: str = ""
    set_aside: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)

    def save(self, folder: Path) -> Path:
        """Write the record into ``folder`` (the student's ``submitted/<student>/<assignment>/``)."""
        path = Path(folder) / RECORD_NAME
        path.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False), encoding="utf-8")
        return path


def load_record(folder: Path) -> StudentIntake | None:
    """The intake record in ``folder``, or None (a submission that did not come through intake)."""
    path = Path(folder) / RECORD_NAME
    if not path.is_file():
        return None
    try:
        return StudentIntake(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


@dataclass
class Outcome:
    """What became of a whole download: a record per student, and every entry's fate."""

    assignment: str
    students: dict[str, StudentIntake] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    """One per top-level entry: ``entry``, ``read as``, ``student``, ``outcome``."""
    manifest: Path | None = None

    @property
    def unattributed(self) -> list[dict]:
        """Rows of entries that belong to nobody (no LMS scheme explains their names)."""
        return [row for row in self.rows if not row["student"] and row["outcome"].startswith("not attributed")]


def _strip_wrapper(members: list[unpack.Member]) -> tuple[list[unpack.Member], str]:
    """Drop one folder that wraps a whole re-zipped download (``submissions/doejane_1_2_x.ipynb``).

    Only when everything is inside that one folder, the folder is not itself
    a student's (Moodle's), and what is inside it is named the LMS's way.
    """
    kept = [m for m in members if not ignored(m.parts)]
    tops = {m.parts[0] for m in kept}
    if len(tops) != 1 or any(len(m.parts) == 1 for m in kept):
        return members, ""
    top = next(iter(tops))
    if lms.attribute(top, is_dir=True).owner.lms == lms.MOODLE:
        return members, ""
    inside = [lms.attribute(m.parts[1], is_dir=len(m.parts) > 2) for m in kept]
    if not any(a.owner is not None and a.owner.lms != lms.FOLDER for a in inside):
        return members, ""
    return [unpack.Member("/".join(m.parts[1:]), m.size, m.mtime, m._zip, m._info, m._file) for m in kept], top


def _entries(members: list[unpack.Member]) -> list[tuple[str, bool, list[unpack.Member]]]:
    """Top-level entries: ``(name, is folder, members)`` in listing order."""
    order: list[str] = []
    grouped: dict[tuple[str, bool], list[unpack.Member]] = {}
    for member in members:
        key = (member.parts[0], len(member.parts) > 1)
        if key not in grouped:
            grouped[key] = []
            order.append(key)
        grouped[key].append(member)
    return [(name, is_dir, grouped[(name, is_dir)]) for name, is_dir in order]


def _blackboard_infos(entries) -> dict[str, tuple[str, str]]:
    texts = {}
    for name, is_dir, members in entries:
        match = lms.BLACKBOARD_ENTRY.match(name)
        if not is_dir and match and match["info"]:
            try:
                texts[name] = unpack.read_capped(members[0], INFO_BYTES).decode("utf-8", errors="replace")
            except (unpack.TooLarge, *unpack.READ_ERRORS):
                continue
    return lms.blackboard_usernames(texts)


def collect_download(download: Path, course_root: Path, assignment: str, notebook_id: str, grade_ids: set[str],
                     *, limits: UploadLimits = UploadLimits(), known_assignments: set[str] = frozenset()) -> Outcome:
    """Put every student of the LMS download ``download`` into ``course_root/submitted/`` (see the module doc).

    Raises :class:`~course_utils.grading.unpack.NotADownload` only if
    ``download`` itself cannot be read as a zip or a folder; anything about
    one student ends in that student's record.
    """
    course_root = Path(course_root).resolve()
    staging = course_root / "downloaded" / assignment
    workdir = staging / "work"
    unpack.remove_tree(workdir)
    workdir.mkdir(parents=True)
    outcome = Outcome(assignment)
    known = set(known_assignments) | {assignment}
    with unpack.Download(download) as listing:
        members, wrapper = _strip_wrapper(listing.members)
        entries = _entries(members)
        usernames = _blackboard_infos(entries)
        students: dict[str, StudentUploads] = {}
        for index, (name, is_dir, entry_members) in enumerate(entries):
            shown = f"{wrapper}/{name}" if wrapper else name
            found = lms.attribute(name, is_dir, usernames)
            row = {"entry": shown + ("/" if is_dir else ""), "read as": found.detail, "student": "", "outcome": ""}
            outcome.rows.append(row)
            if found.kind == lms.IGNORED:
                row["outcome"] = "ignored"
                continue
            if found.owner is None:
                row["outcome"] = "not attributed: rename it in the LMS's naming, or grade it by hand"
                continue
            student = students.setdefault(found.owner.key, StudentUploads(found.owner))
            row["owner"] = found.owner.key
            if found.kind == lms.INFO:
                row["outcome"] = "the LMS's record of an attempt"
            else:
                student.uploads.append(Upload(shown, found, entry_members, index))
        for skipped in listing.skipped:
            outcome.rows.append({"entry": skipped, "read as": "", "student": "", "outcome": "skipped"})

        ids, collisions = names.assign_ids({key: s.owner.student_id() for key, s in students.items()})
        for key in sorted(students, key=lambda k: ids[k]):
            student = students[key]
            sid = ids[key]
            folder = course_root / "submitted" / sid / assignment
            unpack.remove_tree(folder)
            folder.mkdir(parents=True)
            record = StudentIntake(sid, student.owner.lms, student.owner.number, student.owner.name,
                                   uploads=[u.entry for u in student.uploads])
            try:
                student.decide(record, assignment, notebook_id, grade_ids, limits, folder, workdir / sid, known)
            except Exception as error:  # one student's upload never stops the class
                record = StudentIntake(sid, student.owner.lms, student.owner.number, student.owner.name,
                                       status=status.FAILED, uploads=[u.entry for u in student.uploads])
                record.notes.append(f"the grader could not read this upload ({type(error).__name__}: {error}).")
                record.flags.append("For review: intake failed: " + traceback.format_exc(limit=2).strip().splitlines()[-1])
            if key in collisions:
                record.flags.append("For review: " + collisions[key])
            record.save(folder)
            outcome.students[sid] = record
            for row in outcome.rows:
                if row.get("owner") == key:
                    row["student"] = sid
                    if not row["outcome"]:
                        row["outcome"] = student.outcomes.get(row["entry"].rstrip("/"), record.status)
    unpack.remove_tree(workdir)
    outcome.manifest = _write_manifest(staging / MANIFEST_NAME, outcome.rows)
    return outcome


def _write_manifest(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["entry", "read as", "student", "outcome"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
