"""course_utils.checks.web_viewers: right answers pass, common mistakes get feedback that teaches."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import web_viewers as check
from course_utils.feedback import AnswerError
from course_utils.viewer.levels import matching_level, predict


def test_the_truth_follows_the_level_rule_and_the_geometry():
    levels = check.slide_levels()
    assert [level.shape for level in levels] == [(8192 >> k,) * 2 for k in range(6)]
    assert check.WHOLE_VIEW.zoom == pytest.approx(12.8)
    assert matching_level(levels, check.WHOLE_VIEW.zoom) == 4
    rows = {row["level"]: row["chunks"] for row in predict(levels, check.ZOOM_VIEW)}
    assert rows == {5: 1, 4: 1, 3: 4, 2: 9}


@pytest.mark.parametrize("value", [4, np.int64(4)])
def test_first_view_level_right(value, capsys):
    check.first_view_level({"first_view_level": value})
    assert "✓ Right: level 4" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        (3, "no larger than a screen pixel"),
        (1, "count the levels from the finest"),
        (5, "coarser than the screen needs"),
        (0, "finer than the screen can show"),
        (9, "levels 0 to 5"),
    ],
)
def test_first_view_level_wrong(value, message):
    with pytest.raises(AnswerError, match=message) as error:
        check.first_view_level({"first_view_level": value})
    assert "1.1 x the zoom" in error.value.hint


def test_first_view_level_missing_or_not_a_number():
    with pytest.raises(AnswerError, match="not defined yet"):
        check.first_view_level({})
    with pytest.raises(AnswerError, match="whole number"):
        check.first_view_level({"first_view_level": "4"})


def test_zoom_chunks_right(capsys):
    check.zoom_chunks({"zoom_chunks": {"level": 2, "chunks": np.int64(9)}})
    assert "✓ Right: level 2, 9 chunks" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        ({"level": 1, "chunks": 16}, "fit in a screen pixel"),
        ({"level": 3, "chunks": 4}, "not the level Neuroglancer matches"),
        ({"level": 2, "chunks": 16}, "every chunk of level 2"),
        ({"level": 2, "chunks": 1}, "each screen pixel covers `zoom` level-0 pixels"),
        ({"level": 2, "chunks": 42}, "holds 512 of its own pixels"),
        ({"level": 2, "chunks": 2}, "area divided by a chunk's area"),
        ({"level": 2, "chunks": 12}, "not the number of level-2 chunks"),
    ],
)
def test_zoom_chunks_wrong(value, message):
    with pytest.raises(AnswerError, match=message):
        check.zoom_chunks({"zoom_chunks": value})


def test_zoom_chunks_shape_of_the_answer():
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.zoom_chunks({"zoom_chunks": {"level": 2}})
    with pytest.raises(AnswerError, match="should be a dict"):
        check.zoom_chunks({"zoom_chunks": [2, 9]})
    with pytest.raises(AnswerError, match="whole number"):
        check.zoom_chunks({"zoom_chunks": {"level": 2.0, "chunks": 9}})


def test_cors_fix(capsys):
    check.cors_fix({"cors_fix": " b "})
    assert "✓" in capsys.readouterr().out
    for letter, words in {"A": "already served over HTTPS", "C": "data server's permission", "D": "withheld"}.items():
        with pytest.raises(AnswerError, match=words):
            check.cors_fix({"cors_fix": letter})
    with pytest.raises(AnswerError, match="one of A, B, C, D"):
        check.cors_fix({"cors_fix": "E"})
