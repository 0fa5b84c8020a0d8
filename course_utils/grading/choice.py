"""Of everything one student uploaded, which notebook is graded, and what is set aside, and why.

:class:`StudentUploads` gathers a student's uploads (top-level entries of the
LMS download, already attributed to them by :mod:`course_utils.grading.lms`)
and :meth:`~StudentUploads.decide` picks the notebook to grade:

- every ``.ipynb`` is a candidate, in an upload or inside a zip the student
  uploaded (opened one level deep, never a zip inside it); other files are
  listed;
- a candidate holding this assignment's exercises (or named like it) beats
  one that does not; then the **latest** upload in the LMS's own order;
  then the newest file; then the name closest to the expected one;
- sizes are checked before anything is read (:mod:`course_utils.grading.unpack`),
  and the chosen notebook is copied to the grader's own file name.

It fills in the student's intake record (:class:`course_utils.grading.intake.StudentIntake`):
the status (``ready``, or why not: too large, not a notebook, unreadable,
missing), the file graded, what was set aside, and one sentence each for
the student.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from course_utils.grading import course, lms, status, unpack
from course_utils.grading.limits import UploadLimits
from course_utils.grading.status import READY



def ignored(parts: tuple[str, ...]) -> bool:
    """True for a path an operating system or editor adds (``__MACOSX``, ``.DS_Store``, ``._x``)."""
    return any(p in lms.IGNORED_NAMES or p.startswith("._") for p in parts)


@dataclass
class Upload:
    """One top-level entry of the download, attributed to a student: its files, its place in the LMS's order."""

    entry: str
    attribution: lms.Attribution
    members: list[unpack.Member]
    index: int


@dataclass
class Candidate:
    """A notebook file that could be the one graded: how the student knows it, and how it ranks."""

    label: str
    member: unpack.Member
    upload: Upload
    rank_order: tuple
    is_assignment: bool = False
    problem: str = ""
    reason: str = ""


def _short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (an over-long file name stays readable in a feedback line)."""
    return text if len(text) <= limit else text[: limit - 21] + "…" + text[-20:]


def _label(upload: Upload, member: unpack.Member) -> str:
    """How the student knows a file: its own name, inside its folder or zip."""
    if len(member.parts) == 1 and upload.attribution.file_name:
        return upload.attribution.file_name
    return "/".join(member.parts[1:]) if len(member.parts) > 1 else member.path


class StudentUploads:
    """Everything one student uploaded, and the decision about it."""

    def __init__(self, owner: lms.Owner):
        self.owner = owner
        self.uploads: list[Upload] = []
        self.outcomes: dict[str, str] = {}
        """Per upload entry, what became of it (for the download's listing)."""

    def decide(self, record, assignment: str, notebook_id: str, grade_ids: set[str],
               limits: UploadLimits, folder: Path, workdir: Path, known: set[str]):
        """Choose the notebook to grade, place it in ``folder``, and say so in ``record``; returns ``record``.

        ``record`` is the student's :class:`~course_utils.grading.intake.StudentIntake`.
        ``workdir`` holds copies of zips the student uploaded while they are read.
        """
        expected = f"{notebook_id}.ipynb"
        candidates: list[Candidate] = []
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
            candidates.append(Candidate(label, member, upload, (position, member.mtime)))
        elif lower.endswith(".zip"):
            inner = unpack.open_zip(member, workdir / f"{len(opened)}.zip",
                                    upload_bytes=limits.upload_bytes, max_members=limits.archive_members)
            opened.append(inner)
            if inner.refused:
                refused.append((upload.entry, label, inner.refused, inner.reason))
                return
            for item in inner.members:
                if ignored(item.parts):
                    continue
                inner_label = _short(f"{label}/{'/'.join(item.parts[1:])}")
                if item.name.lower().endswith(".ipynb"):
                    candidates.append(Candidate(inner_label, item, upload, (position, item.mtime)))
                elif item.is_archive:
                    others.append((upload.entry, f"'{inner_label}' (an archive inside an archive is never opened)"))
                else:
                    others.append((upload.entry, f"'{inner_label}' (not a notebook)"))
        elif member.is_archive:
            others.append((upload.entry, f"'{label}' (only .zip archives are opened)"))
        else:
            others.append((upload.entry, f"'{label}' (not a notebook)"))

    def _assignment_members(self, upload: Upload, assignment: str, known: set[str]) -> list[unpack.Member]:
        members = [m for m in upload.members if not ignored(m.parts)]
        if upload.attribution.owner and upload.attribution.owner.lms == lms.FOLDER:
            # nbgrader's own layout: <student>/<assignment>/...; other assignments' folders are not this one
            if any(len(m.parts) > 2 and m.parts[1] in known for m in members):
                members = [m for m in members if len(m.parts) > 2 and m.parts[1] == assignment]
        return members

    def _settle(self, record, candidates: list[Candidate], others: list[tuple[str, str]],
                refused: list[tuple[str, str, str, str]], expected: str, folder: Path, limits: UploadLimits) -> None:
        def rank(c: Candidate):
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


def _inspect(candidate: Candidate, expected: str, grade_ids: set[str], limits: UploadLimits) -> None:
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
    candidate.is_assignment = named or bool(course.grade_ids_in_text(raw) & grade_ids)


def _place(record, chosen: Candidate, target: Path, limits: UploadLimits) -> None:
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
