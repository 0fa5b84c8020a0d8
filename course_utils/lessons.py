"""What a lesson notebook holds: its cells, its prose, its graded exercises and their points.

One place for the figures the course keeps within bounds (the tests hold
every lesson under :data:`MAX_CELLS` cells and :data:`MAX_PROSE_WORDS` words
of prose; ``bench/bench_budget.py`` prints them)::

    from course_utils.lessons import lesson_stats
    lesson_stats("notebooks/01_store_interface.ipynb")
    # LessonStats(cells=38, prose_words=1102, exercises=3, points=6)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils.authoring import answer_cells, test_cells
from course_utils.delivery import HEADER_TAG

__all__ = ["MAX_CELLS", "MAX_PROSE_WORDS", "LessonStats", "lesson_stats", "prose_words"]

#: Most cells a lesson may have.
MAX_CELLS = 45
#: Most words of prose (markdown outside code blocks) a lesson may have.
MAX_PROSE_WORDS = 1500

_FENCED = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_WORD = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class LessonStats:
    """A lesson's size: all cells, prose words, graded exercises and the points they carry."""

    cells: int
    prose_words: int
    exercises: int
    points: float


def prose_words(markdown: str) -> int:
    """Words of ``markdown`` a student reads as prose: not code blocks, comments or link targets."""
    text = _LINK_TARGET.sub("]", _COMMENT.sub(" ", _FENCED.sub(" ", markdown)))
    return sum(1 for token in text.split() if _WORD.search(token))


def lesson_stats(notebook: str | Path | nbformat.NotebookNode) -> LessonStats:
    """The :class:`LessonStats` of a notebook (a path, or one already read).

    The header cell that ``course-utils sync-notebooks`` writes is not
    counted as prose (it is the same in every lesson), but it is a cell.
    """
    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    words = sum(
        prose_words(cell.source)
        for cell in nb.cells
        if cell.cell_type == "markdown" and HEADER_TAG not in cell.get("metadata", {}).get("tags", [])
    )
    tests = test_cells(nb)
    points = sum(float(cell.metadata["nbgrader"].get("points", 0)) for cell in tests.values())
    return LessonStats(cells=len(nb.cells), prose_words=words, exercises=len(answer_cells(nb)), points=points)
