"""Checks for notebook 01, the Zarr store interface."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from course_utils.feedback import (
    AnswerError,
    answer,
    choice,
    expect,
    expect_keys,
    lesson_value,
    passed,
    whole_number,
)
from course_utils.keys import is_metadata


def _first_scale(keys: Mapping[str, Any]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Shape and chunk shape of the full-resolution array of the OME-Zarr 0.5 store ``keys``."""
    root = json.loads(bytes(keys["zarr.json"].to_bytes()))
    path = root["attributes"]["ome"]["multiscales"][0]["datasets"][0]["path"]
    array = json.loads(bytes(keys[f"{path}/zarr.json"].to_bytes()))
    return tuple(array["shape"]), tuple(array["chunk_grid"]["configuration"]["chunk_shape"])


def key_counts(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: ``key_counts`` holds total, metadata and chunk key counts of ``keys_v05``."""
    __tracebackhide__ = True
    counts = answer(namespace, "key_counts")
    keys = lesson_value(namespace, "keys_v05")
    example = '{"total": 10, "metadata": 3, "chunks": 7}'
    expect_keys(counts, ("total", "metadata", "chunks"), "key_counts", example)
    total = whole_number(counts["total"], "key_counts['total']", "len(keys_v05)")
    metadata = whole_number(counts["metadata"], "key_counts['metadata']", "3")
    chunks = whole_number(counts["chunks"], "key_counts['chunks']", "7")
    expect(
        total == metadata + chunks,
        f"total ({total}) should equal metadata ({metadata}) + chunks ({chunks}).",
        "every key is either a metadata document or a chunk",
    )
    true_metadata = sum(is_metadata(k) for k in keys)
    expect(
        total == len(keys),
        f"key_counts['total'] is {total}, but the store holds a different number of keys.",
        "`keys_v05` is the dict behind the store: how many entries does it have?",
    )
    if metadata != true_metadata:
        if metadata == 0:
            hint = "a metadata document is a key whose last part is zarr.json; chunks are everything else"
        elif metadata == 1:
            hint = "not only the root: every group and every array of the hierarchy has its own zarr.json"
        else:
            hint = "count the keys whose last part is exactly zarr.json, at every level of the hierarchy"
        raise AnswerError(f"key_counts['metadata'] is {metadata}, which is not the number of metadata keys.", hint)
    passed(f"key_counts is right: {total} keys, {metadata} metadata documents, {chunks} chunks.")


def _chunks_touched(box: tuple[slice, ...], chunks: tuple[int, ...]) -> int:
    """Chunks of a regular grid that the region ``box`` overlaps."""
    return math.prod((s.stop - 1) // c - s.start // c + 1 for s, c in zip(box, chunks))


def scale0_chunk_keys(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: chunk keys of the full-resolution image (``scale0_chunk_keys``) and of the label image (``label_chunk_keys``)."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "scale0_chunk_keys"), "scale0_chunk_keys", "42")
    shape, chunks = _first_scale(lesson_value(namespace, "keys_v05"))
    truth = math.prod(math.ceil(s / c) for s, c in zip(shape, chunks))
    if value != truth:
        if value == math.prod(s // c for s, c in zip(shape, chunks)):
            hint = "the last row and column of chunks are only partly filled, but each is still a whole chunk: round up"
        elif value == truth + 1:
            hint = "count chunk keys only: the array's zarr.json is a metadata document"
        else:
            hint = "divide each dimension of the shape by the chunk shape, round up, and multiply the results"
        raise AnswerError(
            f"scale0_chunk_keys is {value}, but the full-resolution array does not have that many chunks.", hint
        )

    labels = whole_number(answer(namespace, "label_chunk_keys"), "label_chunk_keys", "12")
    label_shape = tuple(lesson_value(namespace, "image").shape)
    label_chunks = tuple(lesson_value(namespace, "LABEL_CHUNKS"))
    box = tuple(lesson_value(namespace, "OBJECT_BOX"))
    label_truth = _chunks_touched(box, label_chunks)
    sizes = [s.stop - s.start for s in box]
    if labels != label_truth:
        if labels == math.prod(math.ceil(n / c) for n, c in zip(label_shape, label_chunks)):
            hint = ("that is every chunk of the grid; chunks that hold only the fill value (0) are not stored, "
                    "so count only the chunks the box reaches into")
        elif labels == math.prod(math.ceil(n / c) for n, c in zip(sizes, label_chunks)):
            hint = ("the box does not start on a chunk boundary, so it reaches into more chunks than its size "
                    "suggests: along each axis count the chunk indices from start // chunk to (stop - 1) // chunk")
        elif labels == math.prod(n // c for n, c in zip(sizes, label_chunks)):
            hint = "a chunk the box covers only in part still holds labelled pixels, so it is stored whole"
        elif labels == label_truth + 1:
            hint = "count chunk keys only: the array's zarr.json is a metadata document"
        else:
            hint = "along each axis, the box reaches chunks start // chunk to (stop - 1) // chunk; multiply the counts"
        raise AnswerError(f"label_chunk_keys is {labels}, which is not the number of chunks Zarr stores.", hint)
    grid = math.prod(math.ceil(n / c) for n, c in zip(label_shape, label_chunks))
    passed(
        f"Right: {value} chunk keys for the image; the label image stores {labels} of its {grid} chunks, "
        "the rest hold only the fill value."
    )


WHY_MANY_KEYS_WRONG = {
    "A": ("the single file held exactly the same encoded chunks, byte for byte: the data did not grow. "
          "The extra disk space is each file rounded up to whole blocks, and the extra time is spent per file."),
    "B": ("no chunk key is listed in zarr.json: a chunk's key is computed from its position in the grid "
          "(c/<row>/<column>), which is why the metadata stays small however many chunks there are."),
    "D": ("Zarr reads only the chunks a selection touches, each under a key it computes from the chunk's "
          "position; a key that is missing is not searched for, it reads as the fill value."),
}


def why_many_keys(namespace: Mapping[str, Any]) -> None:
    """Exercise 3: ``why_many_keys`` is the letter of the right explanation."""
    __tracebackhide__ = True
    choice(
        answer(namespace, "why_many_keys"), "why_many_keys", "C", WHY_MANY_KEYS_WRONG,
        "compare the two measurements: the same bytes, one file or many. What grows with the number of files?",
    )
    passed("Right: on a file system every key is a file, and every file has a fixed cost, whatever its size.")
