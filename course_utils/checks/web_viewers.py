"""Checks for notebook 06, web viewers: which level and chunks a view needs, and the CORS fix.

The truth is the geometry, never a request log (which is empty when no
browser drew the view): the slide's levels as
:func:`course_utils.viewer.write_slide` writes them, the exercise's view,
and Neuroglancer's level-selection rule as :mod:`course_utils.viewer.levels`
implements it (read from Neuroglancer's ``filterVisibleSources``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from course_utils.feedback import AnswerError, answer, choice, expect_keys, passed, whole_number
from course_utils.viewer.images import SLIDE_CHUNK, SLIDE_LEVELS, SLIDE_SIZE
from course_utils.viewer.levels import Level, View, chunks_in_view, matching_level

#: Exercise 1: the whole slide in a panel of 1024 x 640 screen pixels.
WHOLE_VIEW = View.whole((SLIDE_SIZE, SLIDE_SIZE), 1024, 640)
#: Exercise 2: a panel of 1000 x 800 screen pixels, zoomed in on the slide.
ZOOM_VIEW = View(1000, 800, center=(5200, 2700), zoom=3.0)


def slide_levels() -> list[Level]:
    """The slide's levels, from the constants it is written with."""
    return [
        Level(k, str(k), (SLIDE_SIZE >> k,) * 2, (min(SLIDE_CHUNK, SLIDE_SIZE >> k),) * 2, float(2**k))
        for k in range(SLIDE_LEVELS)
    ]


def _naive_level(levels: list[Level], zoom: float) -> int:
    """The finest level whose pixels are no larger than a screen pixel (a common wrong rule)."""
    fitting = [level.index for level in levels if level.factor <= zoom]
    return max(fitting) if fitting else 0


def first_view_level(namespace: Mapping[str, Any]) -> None:
    """Exercise: ``first_view_level`` is the level Neuroglancer matches to the screen for :data:`WHOLE_VIEW`."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "first_view_level"), "first_view_level", "2")
    levels = slide_levels()
    right = matching_level(levels, WHOLE_VIEW.zoom)
    if value == right:
        passed(f"Right: level {right}, whose pixels are {2**right} level-0 pixels wide, closest to "
               f"1.1 x {WHOLE_VIEW.zoom:g} = {1.1 * WHOLE_VIEW.zoom:.1f}; levels "
               f"{', '.join(str(k) for k in range(SLIDE_LEVELS - 1, right, -1))} are drawn first.")
        return
    hint = ("compute the target, 1.1 x the zoom (in level-0 pixels), and pick the level whose pixel size "
            "(2 ** level level-0 pixels) is closest to it")
    if not 0 <= value < SLIDE_LEVELS:
        raise AnswerError(f"The slide has levels 0 to {SLIDE_LEVELS - 1}; {value} is not one of them.", hint)
    if value == _naive_level(levels, WHOLE_VIEW.zoom):
        raise AnswerError(
            f"Level {value} is the finest whose pixels are no larger than a screen pixel, but Neuroglancer "
            "does not stop there: it stops at the level whose pixels are closest to 1.1 screen pixels, "
            "even if that one's pixels are a little larger.", hint)
    if value == SLIDE_LEVELS - 1 - right:
        raise AnswerError(f"Level {value}: count the levels from the finest, which is level 0.", hint)
    if value > right:
        raise AnswerError(f"Level {value} is coarser than the screen needs: Neuroglancer goes finer while that "
                          "brings the pixel size closer to the target.", hint)
    raise AnswerError(f"Level {value} is finer than the screen can show: a screen pixel there covers "
                      f"{WHOLE_VIEW.zoom / 2**value:.1f} of its pixels.", hint)


def _chunks_without_zoom(level: Level, view: View) -> int:
    """Chunks a panel covers if its size is taken in level-0 pixels (zoom forgotten)."""
    return len(chunks_in_view(level, View(view.width, view.height, view.center, 1.0)))


def _chunks_in_own_pixels(level: Level, view: View) -> int:
    """Chunks a panel covers if a chunk is taken as 512 level-0 pixels wide (the level's factor forgotten)."""
    flat = Level(level.index, level.path, (SLIDE_SIZE, SLIDE_SIZE), level.chunks, 1.0)
    return len(chunks_in_view(flat, view))


def zoom_chunks(namespace: Mapping[str, Any]) -> None:
    """Exercise: ``zoom_chunks`` gives the matching level of :data:`ZOOM_VIEW` and how many of its chunks it needs."""
    __tracebackhide__ = True
    example = '{"level": 3, "chunks": 4}'
    value = answer(namespace, "zoom_chunks")
    expect_keys(value, ("level", "chunks"), "zoom_chunks", example)
    level = whole_number(value["level"], "zoom_chunks['level']", "3")
    chunks = whole_number(value["chunks"], "zoom_chunks['chunks']", "4")
    levels = slide_levels()
    right_level = matching_level(levels, ZOOM_VIEW.zoom)
    if level != right_level:
        hint = "1.1 x the zoom is the target pixel size, in level-0 pixels; which level's pixels are closest to it?"
        if level == _naive_level(levels, ZOOM_VIEW.zoom):
            raise AnswerError(f"zoom_chunks['level'] is {level}: the finest level whose pixels fit in a screen "
                              "pixel, but Neuroglancer takes the one closest to 1.1 screen pixels.", hint)
        raise AnswerError(f"zoom_chunks['level'] is {level}, not the level Neuroglancer matches to this view.", hint)
    target = levels[right_level]
    right = len(chunks_in_view(target, ZOOM_VIEW))
    if chunks == right:
        (y0, y1), (x0, x1) = ZOOM_VIEW.extent()
        passed(f"Right: level {right_level}, {right} chunks. The panel covers x {x0:g} to {x1:g} and y {y0:g} to "
               f"{y1:g} in level-0 pixels, and a level-{right_level} chunk is "
               f"{SLIDE_CHUNK * 2**right_level} level-0 pixels wide.")
        return
    hint = (f"find the part of the slide the panel covers (its width and height times the zoom, around the "
            f"centre, in level-0 pixels), divide by the width of a level-{right_level} chunk in level-0 pixels, "
            "and count the chunk rows and columns it touches (partly touched ones count)")
    if chunks == target.n_chunks:
        raise AnswerError(f"{chunks} is every chunk of level {right_level}; the panel covers only part of it.", hint)
    if chunks == _chunks_without_zoom(target, ZOOM_VIEW):
        raise AnswerError(f"{chunks} chunks: that is the count for a panel {ZOOM_VIEW.width} x {ZOOM_VIEW.height} "
                          "level-0 pixels wide; each screen pixel covers `zoom` level-0 pixels.", hint)
    if chunks == _chunks_in_own_pixels(target, ZOOM_VIEW):
        raise AnswerError(f"{chunks} chunks: that counts chunks of {SLIDE_CHUNK} level-0 pixels; a level-"
                          f"{right_level} chunk holds {SLIDE_CHUNK} of its own pixels, each "
                          f"{2**right_level} level-0 pixels wide.", hint)
    (y0, y1), (x0, x1) = ZOOM_VIEW.extent()
    side = SLIDE_CHUNK * 2**right_level
    exact = (y1 - y0) * (x1 - x0) / side**2
    if chunks in (math.floor(exact), math.ceil(exact)):
        raise AnswerError(f"{chunks} chunks is the panel's area divided by a chunk's area; but a chunk the "
                          "panel only partly covers is fetched whole.", hint)
    raise AnswerError(f"zoom_chunks['chunks'] is {chunks}, not the number of level-{right_level} chunks the panel covers.",
                      hint)


def cors_fix(namespace: Mapping[str, Any]) -> None:
    """Exercise: ``cors_fix`` is the letter of the change that lets the viewer read the data."""
    __tracebackhide__ = True
    value = answer(namespace, "cors_fix")
    choice(
        value, "cors_fix", "B",
        {
            "A": "the data is already served over HTTPS, and the console names a missing CORS header, not "
                 "mixed content; an https page loading http data gets a different error.",
            "C": "Access-Control-Allow-Origin is the data server's permission for other origins to read its "
                 "answers; a header on the viewer's own pages changes nothing about the data's.",
            "D": "the answers reach the browser and are withheld from the page; fewer requests would be "
                 "withheld just the same.",
        },
        "which server's answers does the browser refuse to hand to the viewer, and which header would allow it?",
    )
    passed("Right: only the data's server can allow other origins to read its answers, with "
           "Access-Control-Allow-Origin on every answer, the 404s of the viewer's probes included.")
