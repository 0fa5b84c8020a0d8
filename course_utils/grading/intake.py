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
   (:class:`~course_utils.grading.quota.UploadLimits`): a bomb is refused
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
import difflib
import json
import re
import shutil
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_utils.grading import lms, names, status, unpack
from course_utils.grading.quota import UploadLimits

RECORD_NAME = ".course-utils-intake.json"
READY = "ready"
"""Intake status of a student whose notebook was placed and is to be graded."""
MANIFEST_NAME = "intake.csv"
INFO_BYTES = 64 * 1024
_GRADE_ID = re.compile(rb'"grade_id"\s*:\s*"([^"\\]{1,200})"')


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


@dataclass
class _Upload:
    entry: str
    attribution: lms.Attribution
    members: list[unpack.Member]
    index: int


@dataclass
class _Candidate:
    label: str
    member: unpack.Member
    upload: _Upload
    rank_order: tuple
    is_assignment: bool = False
    problem: str = ""
    reason: str = ""


def _ignored(parts: tuple[str, ...]) -> bool:
    return any(p in lms.IGNORED_NAMES or p.startswith("._") for p in parts)


def _strip_wrapper(members: list[unpack.Member]) -> tuple[list[unpack.Member], str]:
    """Drop one folder that wraps a whole re-zipped download (``submissions/doejane_1_2_x.ipynb``).

    Only when everything is inside that one folder, the folder is not itself
    a student's (Moodle's), and what is inside it is named the LMS's way.
    """
    kept = [m for m in members if not _ignored(m.parts)]
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


def _short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (an over-long file name stays readable in a feedback line)."""
    return text if len(text) <= limit else text[: limit - 21] + "…" + text[-20:]


def _label(upload: _Upload, member: unpack.Member) -> str:
    """How the student knows a file: its own name, inside its folder or zip."""
    if len(member.parts) == 1 and upload.attribution.file_name:
        return upload.attribution.file_name
    return "/".join(member.parts[1:]) if len(member.parts) > 1 else member.path


class _Student:
    """Everything one student uploaded, and the decision about it."""

    def __init__(self, owner: lms.Owner):
        self.owner = owner
        self.uploads: list[_Upload] = []
        self.outcomes: dict[str, str] = {}
        """Per upload entry, what became of it (for the download's listing)."""

    def decide(self, student: str, assignment: str, notebook_id: str, grade_ids: set[str],
               limits: UploadLimits, folder: Path, workdir: Path, known: set[str]) -> StudentIntake:
        """Choose the notebook to grade, place it in ``folder``, and say what was done."""
        record = StudentIntake(student, self.owner.lms, self.owner.number, self.owner.name,
                               uploads=[u.entry for u in self.uploads])
        expected = f"{notebook_id}.ipynb"
        candidates: list[_Candidate] = []
        others: list[tuple[str, str]] = []  # (upload entry, "'label' (why)")
        refused: list[tuple[str, str, str, str]] = []  # (upload entry, label, status, reason)
        opened: list[unpack.OpenedZip] = []
        try:
            ordered = sorted(self.uploads, key=lambda u: (u.attribution.order, u.index))
            for position, upload in enumerate(ordered):
                if upload.attribution.kind == lms.TEXT:
                    others.append((upload.entry, "the text typed into the LMS (not a notebook)"))
                    continue
                members = self._assignment_members(upload, assignment, known)
                total = sum(m.size for m in members)
                if total > limits.upload_bytes:
                    refused.append((upload.entry, upload.entry, status.TOO_LARGE,
                                    f"it holds {unpack.human(total)}; the limit is {unpack.human(limits.upload_bytes)} per upload"))
                    continue
                for member in members:
                    self._sort_member(upload, member, position, limits, workdir, opened, candidates, others, refused)
            for candidate in candidates:
                _inspect(candidate, expected, grade_ids, limits)
            self._settle(record, candidates, others, refused, expected, folder, limits)
        finally:
            for inner in opened:
                inner.close()
        return record

    @staticmethod
    def _sort_member(upload, member, position, limits, workdir, opened, candidates, others, refused) -> None:
        label = _short(_label(upload, member))
        lower = member.name.lower()
        if lower.endswith(".ipynb"):
            candidates.append(_Candidate(label, member, upload, (position, member.mtime)))
        elif lower.endswith(".zip"):
            inner = unpack.open_zip(member, workdir / f"{len(opened)}.zip",
                                    upload_bytes=limits.upload_bytes, max_members=limits.archive_members)
            opened.append(inner)
            if inner.refused:
                refused.append((upload.entry, label, inner.refused, inner.reason))
                return
            for item in inner.members:
                if _ignored(item.parts):
                    continue
                inner_label = _short(f"{label}/{'/'.join(item.parts[1:])}")
                if item.name.lower().endswith(".ipynb"):
                    candidates.append(_Candidate(inner_label, item, upload, (position, item.mtime)))
                elif item.is_archive:
                    others.append((upload.entry, f"'{inner_label}' (an archive inside an archive is never opened)"))
                else:
                    others.append((upload.entry, f"'{inner_label}' (not a notebook)"))
        elif member.is_archive:
            others.append((upload.entry, f"'{label}' (only .zip archives are opened)"))
        else:
            others.append((upload.entry, f"'{label}' (not a notebook)"))

    def _assignment_members(self, upload: _Upload, assignment: str, known: set[str]) -> list[unpack.Member]:
        members = [m for m in upload.members if not _ignored(m.parts)]
        if upload.attribution.owner and upload.attribution.owner.lms == lms.FOLDER:
            # nbgrader's own layout: <student>/<assignment>/...; other assignments' folders are not this one
            if any(len(m.parts) > 2 and m.parts[1] in known for m in members):
                members = [m for m in members if len(m.parts) > 2 and m.parts[1] == assignment]
        return members

    def _settle(self, record: StudentIntake, candidates: list[_Candidate], others: list[tuple[str, str]],
                refused: list[tuple[str, str, str, str]], expected: str, folder: Path, limits: UploadLimits) -> None:
        def rank(c: _Candidate):
            return (c.is_assignment, c.rank_order, difflib.SequenceMatcher(None, c.member.name.lower(), expected).ratio())

        refusals = [(entry, f"'{_short(label)}' ({reason})") for entry, label, _, reason in refused]
        for entry, _, kind, _ in refused:
            self.outcomes[entry] = f"refused: {kind}"
        for entry, _ in others:
            self.outcomes.setdefault(entry, "not a notebook")
        if not candidates:
            if refused:
                record.status = refused[-1][2]
                _, label, kind, reason = refused[-1]
                record.notes.append(f"Your upload '{_short(label)}' was not opened: {reason}." + _what_to_do(kind))
            elif others:
                record.status = status.NOT_A_NOTEBOOK
                found = ", ".join(text.split(" (")[0] for _, text in others)
                record.notes.append(f"No Jupyter notebook (.ipynb) was found in what you submitted ({found})."
                                    + _what_to_do(record.status))
            else:
                record.status = status.MISSING
                record.notes.append("No file was uploaded." + _what_to_do(record.status))
            record.set_aside = [text for _, text in others + refusals]
            return
        chosen = max(candidates, key=rank)
        record.graded = chosen.label
        set_aside = []
        for candidate in sorted(candidates, key=rank, reverse=True):
            if candidate is chosen:
                continue
            if candidate.problem:
                why = candidate.reason
            elif not candidate.is_assignment and chosen.is_assignment:
                why = "it does not hold this assignment's exercises"
            elif candidate.rank_order[0] < chosen.rank_order[0]:
                why = "an earlier upload"
            else:
                why = "another notebook of the same upload"
            set_aside.append(f"'{candidate.label}' ({why})")
            self.outcomes.setdefault(candidate.upload.entry, f"set aside: {why}")
        record.set_aside = set_aside + [text for _, text in others + refusals]
        self.outcomes[chosen.upload.entry] = f"graded: {chosen.label}"
        if chosen.problem:
            record.status = chosen.problem
            record.notes.append(f"Your notebook '{chosen.label}' was not graded: {chosen.reason}."
                                + _what_to_do(chosen.problem))
            self.outcomes[chosen.upload.entry] = f"refused: {chosen.problem}"
        else:
            _place(record, chosen, folder / expected, limits)
        if record.status == READY and (chosen.label != expected or record.set_aside):
            latest = max(c.rank_order[0] for c in candidates) == chosen.rank_order[0]
            which = "your latest upload" if latest else "your latest upload that holds this notebook"
            late = ", marked late by the LMS" if chosen.upload.attribution.late else ""
            record.notes.append(f"Graded: '{chosen.label}' ({which}{late}), as {expected}.")
        if record.set_aside:
            record.notes.append("Not graded: " + "; ".join(record.set_aside) + ".")


def _inspect(candidate: _Candidate, expected: str, grade_ids: set[str], limits: UploadLimits) -> None:
    """Is ``candidate`` this assignment's notebook (its name, or the exercises it holds)? Can it be read?"""
    named = candidate.member.name == expected
    try:
        raw = unpack.read_capped(candidate.member, limits.file_bytes)
    except unpack.TooLarge as error:
        size = max(candidate.member.size, int(error.args[0]) if error.args else 0)
        candidate.problem = status.TOO_LARGE
        candidate.reason = f"it holds {unpack.human(size)}; the limit is {unpack.human(limits.file_bytes)} per file"
        candidate.is_assignment = named or expected[:-6] in candidate.member.name
        return
    except unpack.READ_ERRORS as error:
        candidate.problem = status.UNREADABLE
        candidate.reason = f"it could not be read from the archive ({unpack.why(error)})"
        candidate.is_assignment = named
        return
    found = {m.decode("utf-8", "replace") for m in _GRADE_ID.findall(raw)}
    candidate.is_assignment = named or bool(found & grade_ids)


def _place(record: StudentIntake, chosen: _Candidate, target: Path, limits: UploadLimits) -> None:
    """Copy the chosen notebook to ``target`` (the grader's name for it), or set the status that says why not."""
    try:
        unpack.copy_capped(chosen.member, target, limits.file_bytes)
    except unpack.TooLarge:
        record.status = status.TOO_LARGE
        record.notes.append(f"Your notebook '{chosen.label}' is larger than {unpack.human(limits.file_bytes)}."
                            + _what_to_do(status.TOO_LARGE))
        return
    except unpack.READ_ERRORS as error:
        record.status = status.UNREADABLE
        record.notes.append(f"Your notebook '{chosen.label}' could not be read from the upload ({unpack.why(error)})."
                            + _what_to_do(status.UNREADABLE))
        return
    timestamp = chosen.upload.attribution.extra.get("timestamp")
    if timestamp:  # Blackboard's attempt time: nbgrader reads it for late penalties
        (target.parent / "timestamp.txt").write_text(timestamp)


def _what_to_do(kind: str) -> str:
    return {
        status.TOO_LARGE: " Upload the notebook file itself (File > Download in Jupyter); clear large outputs first.",
        status.UNREADABLE: " Upload the notebook again (File > Download in Jupyter), not a copy that was edited by hand.",
        status.NOT_A_NOTEBOOK: " In Jupyter, use File > Download to get the .ipynb file, and upload that.",
        status.MISSING: " Upload your .ipynb notebook to the LMS, or ask your instructor.",
    }.get(kind, "")


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
        students: dict[str, _Student] = {}
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
            student = students.setdefault(found.owner.key, _Student(found.owner))
            row["owner"] = found.owner.key
            if found.kind == lms.INFO:
                row["outcome"] = "the LMS's record of an attempt"
            else:
                student.uploads.append(_Upload(shown, found, entry_members, index))
        for skipped in listing.skipped:
            outcome.rows.append({"entry": skipped, "read as": "", "student": "", "outcome": "skipped"})

        ids, collisions = names.assign_ids({key: s.owner.student_id() for key, s in students.items()})
        for key in sorted(students, key=lambda k: ids[k]):
            student = students[key]
            sid = ids[key]
            folder = course_root / "submitted" / sid / assignment
            unpack.remove_tree(folder)
            folder.mkdir(parents=True)
            try:
                record = student.decide(sid, assignment, notebook_id, grade_ids, limits, folder,
                                        workdir / sid, known)
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


def remove_staging(course_root: Path, assignment: str) -> None:
    """Delete what intake left under ``downloaded/<assignment>/`` (the listing stays)."""
    shutil.rmtree(Path(course_root) / "downloaded" / assignment / "work", ignore_errors=True)
