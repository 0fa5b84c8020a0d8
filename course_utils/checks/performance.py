"""Checks for notebook 06, chunking, compression and performance."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numcodecs
import numpy as np

from course_utils.feedback import (
    AnswerError,
    answer,
    expect,
    expect_type,
    lesson_value,
    passed,
)

RATIO_TOLERANCE = 1e-3
"""Relative tolerance on a compression ratio (it is a float)."""


def requests_for(shape: Sequence[int], chunks: Sequence[int], view: Sequence[Any]) -> int:
    """Chunks (one request each) that ``view`` (ints and step-1 slices) touches in an array of ``shape``."""
    count = 1
    for size, chunk, index in zip(shape, chunks, view):
        if isinstance(index, slice):
            start, stop, _ = index.indices(size)
        else:
            start, stop = int(index), int(index) + 1
        count *= (stop - 1) // chunk - start // chunk + 1
    return count


def best_chunks(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: ``best_chunks`` is a candidate chunk shape with the fewest requests for ``exercise_view``."""
    __tracebackhide__ = True
    value = answer(namespace, "best_chunks")
    candidates = [tuple(int(n) for n in c) for c in lesson_value(namespace, "candidates")]
    view = lesson_value(namespace, "exercise_view")
    shape = tuple(lesson_value(namespace, "volume").shape)
    expect_type(value, (tuple, list), "best_chunks", str(candidates[0]))
    try:
        chosen = tuple(int(n) for n in value)
    except (TypeError, ValueError):
        raise AnswerError(f"`best_chunks` should hold whole numbers, not {value!r}.", f"for example: {candidates[0]}") from None
    expect(
        chosen in candidates,
        f"{chosen} is not one of the candidate chunk shapes.",
        "pick one of the tuples in `candidates`",
    )
    counts = {c: requests_for(shape, c, view) for c in candidates}
    fewest = min(counts.values())
    expect(
        counts[chosen] == fewest,
        f"with chunks {chosen} the view needs {counts[chosen]} requests; another candidate needs fewer.",
        "for each axis, count the chunks the view's range overlaps, and multiply; "
        "a good chunk spans the view's long axes and is thin along the axis the view fixes",
    )
    passed(f"best_chunks is right: {chosen} reads the view in {fewest} request{'s' * (fewest != 1)}.")


def _zstd() -> numcodecs.Blosc:
    return numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)


def zstd_ratio(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``zstd_ratio`` is Blosc-zstd's compression ratio on ``exercise_chunk``."""
    __tracebackhide__ = True
    value = answer(namespace, "zstd_ratio")
    chunk = np.ascontiguousarray(lesson_value(namespace, "exercise_chunk"))
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise AnswerError(
            f"`zstd_ratio` should be a number, not {type(value).__name__}.",
            "for example: 1.5 (raw bytes divided by encoded bytes)",
        )
    value = float(value)
    truth = chunk.nbytes / len(_zstd().encode(chunk))
    if math.isclose(value, 1 / truth, rel_tol=RATIO_TOLERANCE) and not math.isclose(value, truth, rel_tol=RATIO_TOLERANCE):
        raise AnswerError(
            f"{value:.4f} is upside down.",
            "the ratio is raw bytes divided by encoded bytes, so above 1 when the codec saves space",
        )
    expect(
        math.isclose(value, truth, rel_tol=RATIO_TOLERANCE),
        f"zstd_ratio is {value:.4f}, but Blosc zstd (clevel 5, byte shuffle) does not compress "
        "`exercise_chunk` by that factor.",
        "encode `exercise_chunk` with numcodecs.Blosc(cname='zstd', clevel=5, shuffle=numcodecs.Blosc.SHUFFLE) "
        "and divide exercise_chunk.nbytes by the length of the result",
    )
    passed(f"zstd_ratio is right: Blosc zstd stores this chunk {truth:.3f} times smaller.")
