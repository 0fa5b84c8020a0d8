"""course_utils.checks.performance, on the lesson's shapes and a real chunk."""

from __future__ import annotations

import math

import numcodecs
import numpy as np
import pytest

from course_utils.checks import performance as check
from course_utils.feedback import AnswerError

CANDIDATES = [(1, 256, 256), (16, 64, 64), (64, 4, 256), (64, 256, 4), (8, 64, 128)]
VIEW = (slice(None), slice(64, 192), 130)


@pytest.fixture
def lesson():
    return {"volume": np.zeros((64, 256, 256), np.uint16), "candidates": CANDIDATES, "exercise_view": VIEW}


@pytest.mark.parametrize(
    "chunks, view, expected",
    [
        ((1, 256, 256), (32, slice(None), slice(None)), 1),
        ((1, 256, 256), (slice(None), 128, slice(None)), 64),
        ((16, 64, 64), (slice(None), 128, 128), 4),
        ((64, 4, 256), (slice(None), slice(64, 192), 130), 32),
        ((16, 64, 64), (slice(None), slice(64, 192), 130), 4 * 2 * 1),
        ((16, 64, 64), (slice(10, 20), slice(63, 65), slice(None)), 2 * 2 * 4),
    ],
)
def test_requests_for_counts_the_chunks_a_view_touches(chunks, view, expected):
    assert check.requests_for((64, 256, 256), chunks, view) == expected


def test_requests_for_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    shape = (20, 30)
    for _ in range(50):
        chunks = tuple(int(c) for c in rng.integers(1, 12, 2))
        start, last = sorted(int(i) for i in rng.integers(0, 20, 2))
        view = (slice(start, last + 1), int(rng.integers(0, 30)))
        grid = np.zeros(shape, bool)
        grid[view] = True
        touched = {(i // chunks[0], j // chunks[1]) for i, j in zip(*np.nonzero(grid))}
        assert check.requests_for(shape, chunks, view) == len(touched)


@pytest.mark.parametrize("value", [(64, 256, 4), [64, 256, 4], (np.int64(64), 256, 4)])
def test_best_chunks_right(lesson, value, capsys):
    check.best_chunks({**lesson, "best_chunks": value})
    assert "reads the view in 1 request." in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        ((16, 64, 64), "needs 8 requests"),
        ((64, 4, 256), "needs 32 requests"),
        ((64, 256, 8), "not one of the candidate"),
        ("(64, 256, 4)", "should be a"),
        (("a", 2, 3), "whole numbers"),
    ],
)
def test_best_chunks_wrong(lesson, value, message):
    with pytest.raises(AnswerError, match=message):
        check.best_chunks({**lesson, "best_chunks": value})


def test_best_chunks_accepts_any_tied_minimum(lesson, capsys):
    lesson["candidates"] = [(1, 256, 256), (64, 256, 4), (64, 256, 8)]
    check.best_chunks({**lesson, "best_chunks": (64, 256, 8)})
    assert "✓" in capsys.readouterr().out


@pytest.fixture(scope="module")
def chunk():
    ramp = np.add.outer(np.arange(256), np.arange(256)).astype(np.uint16) * 5
    return ramp + np.random.default_rng(2).integers(0, 50, ramp.shape, dtype=np.uint16)


def _truth(chunk):
    return chunk.nbytes / len(numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE).encode(chunk))


def test_zstd_ratio_right(chunk, capsys):
    truth = _truth(chunk)
    check.zstd_ratio({"exercise_chunk": chunk, "zstd_ratio": truth})
    check.zstd_ratio({"exercise_chunk": chunk, "zstd_ratio": np.float32(truth * (1 + 1e-4))})
    assert capsys.readouterr().out.count("✓") == 2


def test_zstd_ratio_upside_down(chunk):
    with pytest.raises(AnswerError, match="upside down"):
        check.zstd_ratio({"exercise_chunk": chunk, "zstd_ratio": 1 / _truth(chunk)})


def test_zstd_ratio_another_codec_is_not_accepted(chunk):
    lz4 = chunk.nbytes / len(numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE).encode(chunk))
    assert not math.isclose(lz4, _truth(chunk), rel_tol=check.RATIO_TOLERANCE)
    with pytest.raises(AnswerError, match="does not compress"):
        check.zstd_ratio({"exercise_chunk": chunk, "zstd_ratio": lz4})


@pytest.mark.parametrize("value", ["2.1", None, True])
def test_zstd_ratio_not_a_number(chunk, value):
    with pytest.raises(AnswerError, match="should be a number"):
        check.zstd_ratio({"exercise_chunk": chunk, "zstd_ratio": value})


def test_zstd_ratio_non_contiguous_lesson_chunk(chunk, capsys):
    wide = np.zeros((256, 512), np.uint16)
    wide[:, ::2] = chunk
    check.zstd_ratio({"exercise_chunk": wide[:, ::2], "zstd_ratio": _truth(chunk)})
    assert "✓" in capsys.readouterr().out
