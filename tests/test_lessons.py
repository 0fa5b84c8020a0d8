"""Every lesson has the same scaffolding and stays within the course's size bounds.

A lesson opens with its title, what to know before starting and how long it
takes, and ends with its key points and further reading; the course glossary
is linked from every header (checked in ``test_delivery.py``). No lesson is
over :data:`~course_utils.lessons.MAX_CELLS` cells or
:data:`~course_utils.lessons.MAX_PROSE_WORDS` words of prose, and the course
has at least :data:`MIN_EXERCISES` graded exercises.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_utils import authoring, lessons
from course_utils.delivery import HEADER_TAG, SETUP_TAG

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
MIN_EXERCISES = 18
TIME = re.compile(r"\*\*Time:\*\* about \d+ minutes")


def _lesson_cells(nb):
    return [c for c in nb.cells if not ({HEADER_TAG, SETUP_TAG} & set(c.get("metadata", {}).get("tags", [])))]


def _headings(nb, level: str) -> list[tuple[int, str]]:
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found += [(index, line[len(level):].strip()) for line in cell.source.splitlines() if line.startswith(level)]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_opens_with_title_prerequisites_and_time(path):
    nb = nbformat.read(path, as_version=4)
    title = _lesson_cells(nb)[0]
    assert title.cell_type == "markdown" and title.source.startswith("# "), f"{path.name}: no title cell first"
    number = path.stem.split("_", 1)[0]
    assert title.source.startswith(f"# {number} "), f"{path.name}: the title should start with '# {number} '"
    assert "**Before you start:**" in title.source, f"{path.name}: say what to know or run first"
    assert TIME.search(title.source), f"{path.name}: say '**Time:** about N minutes'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_ends_with_key_points_and_further_reading(path):
    nb = nbformat.read(path, as_version=4)
    sections = _headings(nb, "## ")
    names = [name for _, name in sections]
    assert "Key points" in names and "Further reading" in names, f"{path.name}: {names}"
    key_points = next(i for i, name in sections if name == "Key points")
    reading = next(i for i, name in sections if name == "Further reading")
    last_exercise = max((nb.cells.index(c) for c in authoring.test_cells(nb).values()), default=-1)
    assert last_exercise < key_points <= reading, f"{path.name}: key points and reading come after the exercises"
    links = re.findall(r"\]\((https?://[^)]+)\)", "".join(c.source for c in nb.cells[reading:] if c.cell_type == "markdown"))
    assert len(links) >= 2, f"{path.name}: further reading should link the specifications and the tools' documentation"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_is_within_the_size_bounds(path):
    stats = lessons.lesson_stats(path)
    assert stats.cells <= lessons.MAX_CELLS, f"{path.name} has {stats.cells} cells"
    assert stats.prose_words <= lessons.MAX_PROSE_WORDS, f"{path.name} has {stats.prose_words} words of prose"
    assert stats.exercises >= 1, f"{path.name} has no graded exercise"


def test_the_course_has_enough_graded_exercises():
    total = sum(lessons.lesson_stats(path).exercises for path in NOTEBOOKS)
    assert total >= MIN_EXERCISES, f"{total} graded exercises in the course"


def test_prose_words_skip_code_comments_and_link_targets():
    text = "Two words\n\n```python\nnot = counted + at_all\n```\n<!-- hidden -->\n[a link](https://example.org/x y) and `code` | --- |"
    assert lessons.prose_words(text) == 6  # Two, words, [a, link], and, `code`
