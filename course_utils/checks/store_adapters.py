"""Checks for notebook 05, store adapters."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from course_utils.feedback import (
    AnswerError,
    answer,
    expect,
    expect_keys,
    expect_type,
    lesson_value,
    passed,
    whole_number,
)

REGION_ROWS = (1000, 1200)
"""Exercise 1: rows ``start:stop`` of the region to read through the adapter."""
REGION_COLUMNS = (300, 700)
"""Exercise 1: columns ``start:stop`` of the region."""
ROW = 1000
"""Exercise 2: the row whose cost is asked."""
N5_PIXEL = {"y": 1000, "x": 300}
"""Exercise 4: the pixel whose N5 block is asked."""


def tiff_region(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: ``tiff_region`` holds rows 1000-1199, columns 300-699, read through the adapter."""
    __tracebackhide__ = True
    value = answer(namespace, "tiff_region")
    tiff = lesson_value(namespace, "tiff")
    (r0, r1), (c0, c1) = REGION_ROWS, REGION_COLUMNS
    example = f"zarr_view[{r0}:{r1}, {c0}:{c1}]"
    if not isinstance(value, np.ndarray):
        if hasattr(value, "shape") and hasattr(value, "chunks"):
            raise AnswerError(
                "`tiff_region` is a Zarr array object, not the pixels.",
                f"slice it to read the pixels: {example}",
            )
        raise AnswerError(
            f"`tiff_region` should be a numpy array, not a {type(value).__name__}.",
            f"for example: {example}",
        )
    expected = tiff[r0:r1, c0:c1]
    if value.shape == expected.shape[::-1] and value.shape != expected.shape:
        raise AnswerError(
            f"`tiff_region` has shape {value.shape}: rows and columns are swapped.",
            f"rows come first in [rows, columns]: {example}",
        )
    expect(
        value.shape == expected.shape,
        f"`tiff_region` has shape {value.shape}, but rows {r0}-{r1 - 1} and columns {c0}-{c1 - 1} "
        f"make {expected.shape}.",
        f"Python slices leave out the stop index: {example}",
    )
    expect(
        value.dtype == expected.dtype,
        f"`tiff_region` has dtype {value.dtype}, the TIFF holds {expected.dtype}.",
        "read the pixels as they are, without converting them",
    )
    expect(
        np.array_equal(value, expected),
        "`tiff_region` does not hold the same pixels as the TIFF there.",
        f"read the region through the adapter's Zarr array, and do not modify it: {example}",
    )
    passed(f"tiff_region matches the TIFF: {value.shape[0]} x {value.shape[1]} pixels, read without a copy.")


def _band_truth(bands: Mapping[str, Any]) -> tuple[str, int, int]:
    """(key, bytes, rows per chunk) of the band holding :data:`ROW`."""
    meta = bands[".zarray"]
    meta = json.loads(meta) if isinstance(meta, (str, bytes)) else meta
    rows = int(meta["chunks"][0])
    key = f"{ROW // rows}" + ".0" * (len(meta["chunks"]) - 1)
    return key, int(bands[key][2]), rows


def row_cost(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``row_cost`` = ``{"key": <chunk key of row 1000>, "bytes": <bytes read>}``."""
    __tracebackhide__ = True
    value = answer(namespace, "row_cost")
    bands = lesson_value(namespace, "bands")
    example = '{"key": "3.0", "bytes": 123456}'
    expect_keys(value, ("key", "bytes"), "row_cost", example)
    expect_type(value["key"], str, "row_cost['key']", '"3.0"')
    n_bytes = whole_number(value["bytes"], "row_cost['bytes']", "123456")
    key, truth, rows = _band_truth(bands)
    expect(
        value["key"].strip() == key,
        f"row {ROW} is not in chunk {value['key']!r}.",
        f"each chunk holds {rows} rows: divide the row number by that and round down; "
        "the key of a 2-D Zarr v2 chunk is '<row chunk>.<column chunk>'",
    )
    expect(
        n_bytes == truth,
        f"reading chunk {key!r} does not cost {n_bytes:,} bytes.",
        f"a reference is [file, offset, length]: look at bands[{key!r}]",
    )
    passed(f"row_cost is right: row {ROW} lives in chunk {key}, and reading it costs {truth:,} bytes of the TIFF.")


def new_chunks(namespace: Mapping[str, Any]) -> None:
    """Exercise 3: ``new_chunks`` = chunk objects the correcting commit wrote."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "new_chunks"), "new_chunks", "4")
    repo = lesson_value(namespace, "repo")
    acquired = lesson_value(namespace, "acquired")
    corrected = lesson_value(namespace, "corrected")
    diff = repo.diff(from_snapshot_id=acquired, to_snapshot_id=corrected)
    truth = sum(len(chunks) for chunks in diff.updated_chunks.values())
    expect(
        value == truth,
        f"the correcting commit did not write {value} chunks.",
        "which chunk rows do rows 700-799 fall in (chunks are 256 rows tall)? "
        "Every chunk in those rows changed, across the whole width",
    )
    passed(f"new_chunks is right: the commit stored only the {truth} chunks that changed; the others are shared.")


def n5_key(namespace: Mapping[str, Any]) -> None:
    """Exercise 4: ``n5_key`` is the N5 block key holding pixel (y=1000, x=300)."""
    __tracebackhide__ = True
    value = answer(namespace, "n5_key")
    expect_type(value, str, "n5_key", '"2/5"')
    n5_path = lesson_value(namespace, "n5_path")
    n5 = lesson_value(namespace, "n5")
    block = [int(n) for n in n5.spec().to_json()["metadata"]["blockSize"]]
    x, y = N5_PIXEL["x"], N5_PIXEL["y"]
    truth = f"{x // block[0]}/{y // block[1]}"
    answer_key = value.strip().strip("/")
    if answer_key == f"{y // block[1]}/{x // block[0]}" and answer_key != truth:
        raise AnswerError(
            f"{value!r} is the Zarr order (y first).",
            "N5 lists the fastest axis first: x, then y",
        )
    expect(
        answer_key == truth,
        f"pixel (y={y}, x={x}) is not in N5 block {value!r}.",
        f"divide each coordinate by the block size {block} and round down; N5 puts x first",
    )
    expect(
        os.path.isfile(os.path.join(str(n5_path), *truth.split("/"))),
        f"there is no block file {truth!r} under {n5_path}.",
        "run the N5 cells of the lesson again",
    )
    passed(f"n5_key is right: pixel (y={y}, x={x}) lives in the N5 block file {truth}.")
