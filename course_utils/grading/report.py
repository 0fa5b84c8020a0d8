"""What happened to one submission, in words a student understands.

A :class:`Report` holds a submission's status, score, one line per test and
the notes gathered on the way (file problems, repaired metadata, cells that
timed out or killed the kernel, warnings not counted, answers re-checked on
a clean copy of the lesson). It is saved next to the autograded notebook as
``grading-report.json`` (and so reaches the student with the feedback), fills
the ``status`` and ``feedback`` columns of the grades CSV, and heads the
feedback HTML.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbgrader import utils as nbgrader_utils

from course_utils.grading.limits import KERNEL_DIED, NOT_RUN, OUTPUT_TRUNCATED, STDERR_NOTE
from course_utils.grading.status import (  # noqa: F401  (re-exported)
    FAILED,
    GRADED,
    HEADLINES,
    MISSING,
    NOT_A_NOTEBOOK,
    TOO_LARGE,
    UNREADABLE,
)

REPORT_NAME = "grading-report.json"
PENDING = "pending"
DONE = "done"


@dataclass
class TestResult:
    """One test cell: its points and, if it did not pass, why."""

    grade_id: str
    score: float
    max_score: float
    reason: str = ""
    withheld: float = 0.0
    """Points the test earned in the student's kernel that the second look could not confirm
    (withheld until the instructor accepts them: ``course-utils accept``)."""

    @property
    def passed(self) -> bool:
        """True if the test scored all its points."""
        return self.score >= self.max_score


@dataclass
class Report:
    """The outcome of grading one student's submission of one assignment."""

    student: str
    assignment: str
    status: str = GRADED
    score: float = 0.0
    max_score: float = 0.0
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    isolation: str = ""
    second_look: str = ""
    """:data:`PENDING` from grading until the second look (:mod:`course_utils.grading.verify`) has
    checked the passing answers, then :data:`DONE`; empty for a report with nothing to check."""
    graded_from: str = ""
    """A digest of what was graded (the submission, the released notebook, the limits, the sandbox):
    a later run that finds the same digest does not grade the submission again."""

    def summary(self) -> str:
        """The one feedback line: score, then what happened."""
        head = f"{self.score:g}/{self.max_score:g}"
        if self.status in HEADLINES:
            return " ".join([f"{head}: {HEADLINES[self.status]}", *self.notes])
        failed = [t for t in self.tests if not t.passed]
        parts = [f"{head}: all tests passed." if not failed else f"{head}:"]
        parts += [f"{t.grade_id} failed ({t.reason})." for t in failed]
        parts += self.notes
        return " ".join(parts)

    @property
    def needs_attention(self) -> bool:
        """True if the instructor should look: not graded, or flagged."""
        return self.status != GRADED or bool(self.flags)

    def to_json(self) -> str:
        """The report as JSON, with its summary line."""
        return json.dumps({**asdict(self), "summary": self.summary()}, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Report:
        """A report from :meth:`to_json`'s text."""
        data = json.loads(text)
        data.pop("summary", None)
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        return cls(**data)

    def save(self, folder: Path) -> Path:
        """Write the report into ``folder`` as ``grading-report.json``."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / REPORT_NAME
        if path.exists():
            path.chmod(0o644)
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def load(folder: Path) -> Report | None:
    """The report saved in ``folder``, or None."""
    path = Path(folder) / REPORT_NAME
    return Report.from_json(path.read_text(encoding="utf-8")) if path.is_file() else None


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def failure_reason(cell) -> str:
    """Why a graded test cell failed, from its outputs (empty if it did not)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        name, value = output.get("ename", ""), _first_line(output.get("evalue", ""))
        if name == "AnswerError":
            return f"visible test: {value}"
        if name == "AssertionError":
            return f"hidden test failed{': ' + value if value else ''}"
        if name in (NOT_RUN, KERNEL_DIED):
            return value
        if name == "CellTimeoutError":
            return "the test ran past the time limit"
        if name == "MemoryError":
            return "out of memory (the memory limit was reached)"
        if name == "NameError":
            return f"{value} (was the answer cell run without errors?)"
        return f"{name}: {value}" if value else name
    if any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in cell.get("outputs", [])):
        return "wrote to stderr"
    return ""


def execution_notes(nb) -> list[str]:
    """Notes on cells that hit a limit, killed the kernel, raised, or had stderr not counted."""
    notes: list[str] = []
    not_run = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        label = _cell_label(cell, index)
        outputs = cell.get("outputs", [])
        names = {o.get("ename") for o in outputs if o.get("output_type") == "error"}
        limit_hit = bool(names & {"CellTimeoutError", "MemoryError", KERNEL_DIED})
        for output in outputs:
            kind, name = output.get("output_type"), output.get("ename", "")
            if kind == "error" and name == "CellTimeoutError":
                notes.append(f"{label} ran past the time limit and was interrupted.")
            elif kind == "error" and name == KERNEL_DIED:
                notes.append(f"{label}: {_first_line(output.get('evalue', ''))}.")
            elif kind == "error" and name == "MemoryError":
                notes.append(f"{label} ran out of memory (it reached the memory limit) and was stopped.")
            elif kind == "error" and name == NOT_RUN:
                not_run += 1
            elif kind == "error" and not _is_test(cell) and not limit_hit:
                value = _first_line(output.get("evalue", ""))
                if name == "NotImplementedError" and nbgrader_utils.is_solution(cell):
                    notes.append(f"{label} was not answered (it still raises NotImplementedError).")
                else:
                    notes.append(f"{label} raised {name}{': ' + value if value else ''}.")
            elif kind == "stream" and OUTPUT_TRUNCATED.split(":")[0] in output.get("text", ""):
                notes.append(f"{label} printed too much; the rest of its output was dropped.")
            elif kind == "stream" and output.get("text", "").startswith(STDERR_NOTE):
                notes.append(f"{label} wrote warnings to stderr; they were not counted against the test.")
    if not_run:
        notes.append(f"{not_run} later cell(s) could not run and scored zero.")
    return list(dict.fromkeys(notes))


def _is_test(cell) -> bool:
    return nbgrader_utils.is_grade(cell) and not nbgrader_utils.is_solution(cell)


def _cell_label(cell, index: int) -> str:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if grade_id:
        return f"The {'test cell' if _is_test(cell) else 'answer cell'} '{grade_id}'"
    return f"Cell {index + 1}"


def test_results(nb, scores: dict[str, tuple[float, float]]) -> list[TestResult]:
    """One :class:`TestResult` per graded test cell, with ``scores`` ({grade id: (score, max)}) from the gradebook."""
    results = []
    for cell in nb.cells:
        if not _is_test(cell):
            continue
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        score, max_score = scores.get(grade_id, (0.0, float(cell.metadata["nbgrader"].get("points", 0))))
        reason = failure_reason(cell) if score < max_score else ""
        results.append(TestResult(grade_id, float(score or 0), float(max_score), reason or ("" if score >= max_score else "failed")))
    return results
