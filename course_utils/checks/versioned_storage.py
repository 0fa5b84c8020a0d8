"""Checks for notebook 08, versioned and content-addressed storage (Icechunk, IPFS)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_utils.feedback import AnswerError, answer, choice, expect_keys, lesson_value, passed, whole_number

PLANNED_EDIT = (slice(None), slice(1000, 1100))
"""Exercise 1: the region the planned commit blanks: every row, columns 1000-1099."""
REWRITE = (slice(0, 256), slice(None))
"""Exercise 3: the region re-written with identical pixels: rows 0-255, every column."""


def chunks_touched(shape: Sequence[int], chunks: Sequence[int], region: Sequence[slice]) -> int:
    """Number of chunks of an array of ``shape`` in ``chunks`` that a region of step-1 slices overlaps."""
    count = 1
    for size, chunk, index in zip(shape, chunks, region):
        start, stop, _ = index.indices(size)
        count *= (stop - 1) // chunk - start // chunk + 1
    return count


def new_chunks(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: ``new_chunks`` = chunk objects the commit blanking columns 1000-1099 will store."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "new_chunks"), "new_chunks", "4")
    image = lesson_value(namespace, "image")
    shape, chunks = tuple(image.shape), tuple(image.chunks)
    truth = chunks_touched(shape, chunks, PLANNED_EDIT)
    chunk_rows = -(-shape[0] // chunks[0])
    chunk_columns = chunks_touched(shape, chunks, PLANNED_EDIT) // chunk_rows
    all_chunks = chunk_rows * -(-shape[1] // chunks[1])
    if value != truth:
        if value == (shape[0] // chunks[0]) * chunk_columns:
            why = f"{shape[0]} rows make {shape[0] / chunks[0]:.2f} chunk rows: the last, partial row of chunks is stored too"
        elif value == chunk_rows:
            why = "columns 1000-1099 do not fit in one column of chunks: where do 1000 and 1099 fall?"
        elif value == chunk_columns:
            why = "the edit runs through every row, so it touches every row of chunks"
        elif value == all_chunks:
            why = "a commit stores only the chunks that were written; the others stay shared with the parent snapshot"
        else:
            why = f"the commit does not write {value} chunks"
        raise AnswerError(
            f"new_chunks is not {value}: {why}.",
            f"chunks are {chunks}: count the chunk rows and the chunk columns the edit overlaps, and multiply",
        )
    passed(f"new_chunks is right: {truth} new chunk objects ({chunk_rows} chunk rows x {chunk_columns} chunk columns); "
           "every other chunk is shared with the parent snapshot.")


CONCURRENT_WHY = {
    "A": "Icechunk never lets a commit silently replace another: it moves the branch only if the branch still "
    "points at the snapshot the session started from, so the first commit cannot be lost.",
    "B": "Icechunk does not merge on its own at commit time. A session that lost the race can rebase "
    "(replay its changes on the new snapshot) when the changes do not conflict, but only when asked.",
    "D": "Mixed versions are what section 1 showed for a plain store. In Icechunk a reader only ever sees a "
    "committed snapshot, and the losing commit publishes nothing.",
}


def concurrent_commit(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``concurrent_commit`` is the letter of what happens to the second of two commits."""
    __tracebackhide__ = True
    value = answer(namespace, "concurrent_commit")
    choice(
        value, "concurrent_commit", "C", CONCURRENT_WHY,
        "a commit ends with a conditional write of the branch's ref.json: what does a conditional write do "
        "when the object changed since it was read?",
    )
    passed("concurrent_commit is right: the second commit fails with a conflict; it can rebase on the new "
           "snapshot and commit again.")


def same_bytes(namespace: Mapping[str, Any]) -> None:
    """Exercise 3: ``same_bytes`` = new chunk objects in Icechunk and new blocks when content-addressed."""
    __tracebackhide__ = True
    value = answer(namespace, "same_bytes")
    expect_keys(value, ("icechunk", "content_addressed"), "same_bytes", '{"icechunk": 3, "content_addressed": 3}')
    icechunk_new = whole_number(value["icechunk"], "same_bytes['icechunk']", "3")
    content_new = whole_number(value["content_addressed"], "same_bytes['content_addressed']", "3")
    image = lesson_value(namespace, "image")
    written = chunks_touched(tuple(image.shape), tuple(image.chunks), REWRITE)
    if icechunk_new != written:
        if icechunk_new == 0:
            raise AnswerError(
                "same_bytes['icechunk'] is not 0: Icechunk does not compare a chunk with the one it replaces.",
                "every chunk a session writes gets a new object with a new random id, even if its bytes are the same",
            )
        raise AnswerError(
            f"same_bytes['icechunk'] is not {icechunk_new}: count the chunks rows 0-255 cover.",
            f"chunks are {tuple(image.chunks)}",
        )
    if content_new != 0:
        raise AnswerError(
            f"same_bytes['content_addressed'] is not {content_new}.",
            "the same pixels encode to the same bytes, and the same bytes have the same CID: is any block new?",
        )
    passed(f"same_bytes is right: Icechunk stores {written} new chunk objects with the same bytes; content "
           "addressing stores nothing new, and even the root CID stays the same.")
