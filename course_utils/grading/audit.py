"""Read a submitted notebook, repair what nbgrader would choke on, and note what was changed.

nbgrader restores a locked test cell's source from the gradebook and puts
deleted test cells back, but a notebook that is not valid JSON, or whose
nbgrader metadata was edited (duplicate or unknown grade ids, a test cell
that no longer says it is graded, a deleted answer cell), stops it from
grading the submission at all. :func:`audit` compares the submission with
the released student version, cell by nbgrader ``grade_id``:

- restores the released nbgrader metadata and cell type of every graded
  cell; drops nbgrader metadata from cells with unknown or repeated ids;
- puts back deleted answer cells (unanswered) and test cells (to be run);
- notes an edited locked test cell (nbgrader runs the original);
- flags, for the instructor, code that reaches into the grader (IPython
  internals, builtins, the gradebook...).

Each finding is one sentence for the feedback.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader import utils as nbgrader_utils

GRADING_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution", "task")

SUSPICIOUS = {
    r"\bget_ipython\b|\bInteractiveShell\b": "IPython's internals (get_ipython)",
    r"\b__builtins__\b|\bbuiltins\b": "Python's builtins",
    r"\bsys\s*\.\s*modules\b|\bimportlib\b": "the module cache (sys.modules/importlib)",
    r"gradebook|\bnbgrader\b": "the grader or its gradebook",
    r"\b(?:check|checks|feedback)\s*\.\s*\w+\s*=[^=]": "changes to the course's checks",
    r"\bos\s*\.\s*_exit\b|\bctypes\b|\bsignal\s*\.": "process control (os._exit/ctypes/signals)",
    r"\bsys\s*\.\s*(?:excepthook|settrace|setprofile)\b|showtraceback|set_custom_exc": "error reporting hooks",
    r"\bglobals\s*\(\s*\)\s*\[|\bsetattr\s*\(|\bexec\s*\(|\beval\s*\(": "dynamic code (exec/eval/setattr/globals())",
}


class UnreadableNotebook(ValueError):
    """The submitted file is not a notebook that can be graded."""


@dataclass
class Audit:
    """The repaired notebook and what was found."""

    notebook: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


MAX_NESTING = 64
"""Deepest nesting of JSON lists and objects a notebook may have (a real one has about 6)."""


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _nesting(text: str) -> int:
    """How deep lists and objects nest in JSON ``text`` (brackets inside strings are not counted)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            break
    return deepest


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook in ``path``; :class:`UnreadableNotebook` with a plain reason otherwise (see :func:`parse_submission`)."""
    return parse_submission(Path(path).read_bytes())


def parse_submission(raw: bytes) -> nbformat.NotebookNode:
    """The notebook in the bytes ``raw`` of a submitted file; :class:`UnreadableNotebook` with a plain reason otherwise.

    Never raises anything else for what a file holds: JSON nested deeper
    than :data:`MAX_NESTING` (which would exhaust Python's recursion) or too
    big to hold in memory is unreadable too.
    """
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise UnreadableNotebook("the file is not text (not UTF-8), so it is not a notebook") from None
    if _nesting_exceeded(text):
        raise UnreadableNotebook(f"the file's JSON is nested more than {MAX_NESTING} levels deep, so it is not a notebook")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableNotebook(
            f"the file is not valid notebook JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except (RecursionError, MemoryError):
        raise UnreadableNotebook("the file's JSON is too deeply nested or too large to read") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise UnreadableNotebook("the file is JSON but not a Jupyter notebook (no list of cells)")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except (RecursionError, MemoryError):
        raise UnreadableNotebook("the notebook is too deeply nested or too large to read") from None
    except Exception as error:  # nbformat's conversion errors are many
        raise UnreadableNotebook(f"the notebook could not be read: {error}") from None
    _repair_structure(nb)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        raise UnreadableNotebook(f"the notebook is damaged: {str(error).splitlines()[0]}") from None
    return nb


def _nesting_exceeded(text: str) -> bool:
    """Quick test first (few brackets cannot nest deep), then the exact count."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return False
    return _nesting(text) > MAX_NESTING


def _repair_structure(nb) -> None:
    """Fill in what a hand-edited notebook may miss (outputs, execution counts, ids, metadata)."""
    nb.setdefault("metadata", {})
    for index, cell in enumerate(nb.cells):
        cell.setdefault("metadata", {})
        if not isinstance(cell.get("source", ""), str):
            cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else str(cell["source"])
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    nbformat.validator.normalize(nb)
    seen = set()
    for index, cell in enumerate(nb.cells):
        if "id" in cell and (cell["id"] in seen or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", str(cell["id"]))):
            cell["id"] = f"cell-{index}"
        seen.add(cell.get("id"))


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def audit(nb, release) -> Audit:
    """Compare submission ``nb`` with the released notebook ``release``; see the module doc.

    A graded cell is recognised by its cell id first (Jupyter keeps ids, so
    a cell whose grade id was edited is still found), then by grade id.
    """
    nb = copy.deepcopy(nb)
    result = Audit(nb)
    released = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    by_cell_id = {c.get("id"): _grade_id(c) for c in release.cells if _grade_id(c) and c.get("id")}
    order = [_grade_id(c) for c in release.cells if _grade_id(c)]

    assigned: dict[int, str] = {}
    for index, cell in enumerate(nb.cells):
        grade_id = by_cell_id.get(cell.get("id"))
        if grade_id and grade_id not in assigned.values():
            assigned[index] = grade_id
    for index, cell in enumerate(nb.cells):
        grade_id = _grade_id(cell)
        if index in assigned or grade_id is None:
            continue
        if grade_id in released and grade_id not in assigned.values():
            assigned[index] = grade_id
        elif grade_id in released:
            result.notes.append(f"Graded cell '{grade_id}' appeared twice; the second copy was treated as an ordinary cell.")
        else:
            result.notes.append(
                f"A cell was marked as graded cell '{grade_id}', which the assignment does not have; "
                "it was treated as an ordinary cell."
            )
    for index, cell in enumerate(nb.cells):
        if index in assigned:
            _restore(cell, released[assigned[index]], result)
        elif "nbgrader" in cell.metadata:
            del cell.metadata["nbgrader"]

    kept = set(assigned.values())
    for grade_id in order:  # put deleted graded cells back, after the graded cell they followed
        if grade_id in kept:
            continue
        original = copy.deepcopy(released[grade_id])
        nb.cells.insert(_insert_position(nb, order, kept, grade_id, original), original)
        kept.add(grade_id)
        if original.metadata["nbgrader"].get("solution"):
            result.notes.append(f"The answer cell '{grade_id}' was deleted; it was put back unanswered.")
        else:
            result.notes.append(f"The test cell '{grade_id}' was deleted; it was put back and run.")

    result.flags.extend(_suspicious(nb, release))
    return result


def _insert_position(nb, order: list[str], kept: set[str], grade_id: str, original) -> int:
    """Where a deleted graded cell goes back: an answer just before the next graded cell
    (its test), a test just after the previous one (its answer)."""
    later = [g for g in order[order.index(grade_id) + 1 :] if g in kept]
    if original.metadata["nbgrader"].get("solution") and later:
        return _index_of(nb, later[0])
    for previous in reversed(order[: order.index(grade_id)]):
        if previous in kept:
            return _index_of(nb, previous) + 1
    return _index_of(nb, later[0]) if later else len(nb.cells)


def _index_of(nb, grade_id: str) -> int:
    for index, cell in enumerate(nb.cells):
        if _grade_id(cell) == grade_id:
            return index
    return len(nb.cells) - 1


def _restore(cell, original, result: Audit) -> None:
    meta, wanted = cell.metadata.get("nbgrader"), original.metadata["nbgrader"]
    meta = meta if isinstance(meta, dict) else {}
    grade_id = wanted["grade_id"]
    changed = sorted(k for k in GRADING_KEYS if meta.get(k) != wanted.get(k))
    if cell.cell_type != original.cell_type:
        changed.append("cell type")
        cell.cell_type = original.cell_type
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    if changed:
        result.notes.append(
            f"The nbgrader settings of cell '{grade_id}' were changed ({', '.join(changed)}); the originals were restored."
        )
    cell.metadata["nbgrader"] = copy.deepcopy(wanted)
    for key in ("deletable", "editable"):
        if key in original.metadata:
            cell.metadata[key] = original.metadata[key]
    locked_test = nbgrader_utils.is_grade(original) and nbgrader_utils.is_locked(original)
    if locked_test and cell.source.strip() != original.source.strip():
        result.notes.append(
            f"The locked test cell '{grade_id}' was edited; the edits were discarded and the original tests were run."
        )
        cell.source = original.source


def _suspicious(nb, release) -> list[str]:
    original = {c.source for c in release.cells}
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and c.source not in original)
    found = [what for pattern, what in SUSPICIOUS.items() if re.search(pattern, code)]
    return [f"For review: the submitted code uses {what}." for what in found]
