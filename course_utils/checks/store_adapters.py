"""Checks for notebook 07, store adapters: a TIFF through Zarr, virtual references, a cache, N5."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
BAND_ROWS = 40
"""Exercise 2: rows per band of the hypothetical references."""
BAND_ROW = 1234
"""Exercise 2: the row whose reference is asked."""
VOXEL = {"z": 40, "y": 1000, "x": 1300}
"""Exercise 4: the voxel whose chunk is asked."""
N5_BLOCK = {"x": 256, "y": 256, "z": 16}
"""Exercise 4: the N5 ``blockSize`` (listed x, y, z in ``attributes.json``)."""
ZARR_CHUNKS = {"z": 16, "y": 256, "x": 256}
"""Exercise 4: the Zarr v3 chunk shape (z, y, x)."""


# -- exercise 1 ------------------------------------------------------------------


def chunks_read(layout: Any, rows: tuple[int, int], columns: tuple[int, int]) -> list[int]:
    """Indices (in the TIFF's order) of the strips or tiles a region of ``rows`` x ``columns`` touches."""
    chunk_rows, chunk_columns = layout.chunk_shape[0], layout.chunk_shape[1]
    per_row = math.ceil(layout.shape[1] / chunk_columns) if layout.tiled else 1
    touched = []
    for i in range(rows[0] // chunk_rows, (rows[1] - 1) // chunk_rows + 1):
        if layout.tiled:
            touched += [i * per_row + j for j in range(columns[0] // chunk_columns, (columns[1] - 1) // chunk_columns + 1)]
        else:
            touched.append(i)
    return touched


def region_bytes_truth(layout: Any) -> int:
    """Bytes of pixel data the adapter reads for the exercise's region: whole strips or tiles."""
    return sum(layout.byte_counts[i] for i in chunks_read(layout, REGION_ROWS, REGION_COLUMNS))


def tiff_region(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: ``tiff_region`` holds rows 1000-1199, columns 300-699; ``region_bytes`` what the adapter read."""
    __tracebackhide__ = True
    value = answer(namespace, "tiff_region")
    tiff = lesson_value(namespace, "tiff")
    layout = lesson_value(namespace, "layout")
    (r0, r1), (c0, c1) = REGION_ROWS, REGION_COLUMNS
    example = f"zarr.open_array(store, mode='r')[{r0}:{r1}, {c0}:{c1}]"
    if not isinstance(value, np.ndarray):
        if hasattr(value, "shape") and hasattr(value, "chunks"):
            raise AnswerError(
                "`tiff_region` is a Zarr array object, not the pixels.",
                f"slice it to read the pixels: {example}",
            )
        raise AnswerError(f"`tiff_region` should be a numpy array, not a {type(value).__name__}.", f"for example: {example}")
    expected = tiff[r0:r1, c0:c1]
    if value.shape == expected.shape[::-1] and value.shape != expected.shape:
        raise AnswerError(
            f"`tiff_region` has shape {value.shape}: rows and columns are swapped.",
            f"rows come first in [rows, columns]: {example}",
        )
    expect(
        value.shape == expected.shape,
        f"`tiff_region` has shape {value.shape}, but rows {r0}-{r1 - 1} and columns {c0}-{c1 - 1} make {expected.shape}.",
        f"Python slices leave out the stop index: {example}",
    )
    expect(
        value.dtype == expected.dtype,
        f"`tiff_region` has dtype {value.dtype}, the TIFF holds {expected.dtype}.",
        "read the pixels as they are, without converting them",
    )
    expect(
        np.array_equal(value, expected),
        "`tiff_region` does not hold the TIFF's pixels there.",
        f"read the region through the adapter's Zarr array, and do not modify it: {example}",
    )
    n_bytes = whole_number(answer(namespace, "region_bytes"), "region_bytes", "123456")
    truth = region_bytes_truth(layout)
    kind = "tile" if layout.tiled else "strip"
    touched = len(chunks_read(layout, REGION_ROWS, REGION_COLUMNS))
    if n_bytes != truth:
        region_own = (r1 - r0) * (c1 - c0) * tiff.dtype.itemsize
        whole_rows = (r1 - r0) * tiff.shape[1] * tiff.dtype.itemsize
        if n_bytes == region_own:
            why = (f"{n_bytes:,} bytes are the region's own pixels, but Zarr reads whole chunks, and a chunk "
                   f"of this adapter is a whole {kind}")
        elif n_bytes == whole_rows and not layout.tiled:
            why = f"{n_bytes:,} bytes are rows {r0}-{r1 - 1} in full, but a strip holds {layout.chunk_shape[0]} rows"
        elif n_bytes == layout.file_size:
            why = "that is the whole file, header included; count only the pixel bytes of the strips or tiles read"
        else:
            why = f"the adapter does not read {n_bytes:,} bytes for this region"
        raise AnswerError(
            f"`tiff_region` is right, but `region_bytes` is not: {why}.",
            f"`layout` gives the {kind} shape {layout.chunk_shape} and each {kind}'s length (`layout.byte_counts`): "
            f"which {kind}s does the region touch?",
        )
    passed(
        f"tiff_region matches the TIFF, and reading it costs {truth:,} bytes: {touched} whole {kind}"
        f"{'s' * (touched != 1)} for {expected.nbytes:,} bytes of region."
    )


# -- exercise 2 ------------------------------------------------------------------


def band_range_truth(layout: Any, rows: int = BAND_ROWS, row: int = BAND_ROW) -> dict[str, Any]:
    """The reference ``{"key", "offset", "length"}`` of ``row`` in bands of ``rows`` rows."""
    row_bytes = math.prod(layout.shape[1:]) * layout.dtype.itemsize
    band = row // rows
    tail = ".0" * (len(layout.shape) - 1)
    return {"key": f"{band}{tail}", "offset": layout.offsets[0] + band * rows * row_bytes, "length": rows * row_bytes}


def band_range(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``band_range`` is the reference of row 1234 in 40-row bands."""
    __tracebackhide__ = True
    value = answer(namespace, "band_range")
    layout = lesson_value(namespace, "layout")
    truth = band_range_truth(layout)
    expect_keys(value, ("key", "offset", "length"), "band_range", '{"key": "3.0", "offset": 448, "length": 1000}')
    expect_type(value["key"], str, "band_range['key']", '"3.0"')
    offset = whole_number(value["offset"], "band_range['offset']", "448")
    length = whole_number(value["length"], "band_range['length']", "1000")
    row_bytes = truth["length"] // BAND_ROWS
    lesson_band = f"{BAND_ROW // 100}.0"
    key = value["key"].strip()
    if key != truth["key"]:
        hint = f"a 2-D Zarr v2 chunk key reads '<row chunk>.<column chunk>'; row {BAND_ROW} // {BAND_ROWS} rows per band"
        if key == lesson_band:
            raise AnswerError(f"{key!r} is the band of row {BAND_ROW} with the lesson's 100-row bands, not 40-row bands.", hint)
        raise AnswerError(f"row {BAND_ROW} is not in chunk {key!r} when bands are {BAND_ROWS} rows.", hint)
    if length != truth["length"]:
        if length == row_bytes:
            raise AnswerError(
                f"{length:,} bytes is one row; a reference covers a whole chunk.",
                f"a band is {BAND_ROWS} rows of {row_bytes:,} bytes",
            )
        raise AnswerError(f"a {BAND_ROWS}-row band is not {length:,} bytes long.", f"a row is {row_bytes:,} bytes")
    if offset != truth["offset"]:
        start = layout.offsets[0]
        if offset == truth["offset"] - start:
            why = f"you counted from the start of the file, but the pixels start at byte {start:,} (`layout.offsets[0]`)"
        elif offset == start + BAND_ROW * row_bytes:
            why = f"that is where row {BAND_ROW} itself starts, but a reader fetches the whole chunk, which starts at its first row"
        else:
            why = f"band {truth['key']} does not start at byte {offset:,}"
        raise AnswerError(f"band_range['offset'] is wrong: {why}.", "offset = first pixel + band number x rows per band x row bytes")
    passed(
        f"band_range is right: row {BAND_ROW} is in chunk {truth['key']}, bytes {truth['offset']:,} to "
        f"{truth['offset'] + truth['length'] - 1:,} of the file."
    )


# -- exercise 3 ------------------------------------------------------------------


def chunk_ids(shape: Sequence[int], chunks: Sequence[int], view: Sequence[Any]) -> set[tuple[int, ...]]:
    """Grid indices of the chunks a view (ints and step-1 slices) touches."""
    ranges = []
    for size, chunk, index in zip(shape, chunks, view):
        start, stop = (int(index), int(index) + 1) if not isinstance(index, slice) else index.indices(size)[:2]
        ranges.append(range(start // chunk, (stop - 1) // chunk + 1))
    ids: set[tuple[int, ...]] = {()}
    for axis_range in ranges:
        ids = {done + (i,) for done in ids for i in axis_range}
    return ids


def cache_saved(namespace: Mapping[str, Any]) -> None:
    """Exercise 3: ``cache_saved`` is the requests a fresh cache saves over ``view`` then ``panned_view``."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "cache_saved"), "cache_saved", "4")
    array = lesson_value(namespace, "plain_array")
    first = chunk_ids(array.shape, array.chunks, lesson_value(namespace, "view"))
    second = chunk_ids(array.shape, array.chunks, lesson_value(namespace, "panned_view"))
    truth = len(first & second)
    if value != truth:
        if value == 0:
            why = "the cache keeps chunks, not views: does the panned view need any chunk the first view fetched?"
        elif value == len(second):
            why = "not every chunk of the panned view was fetched before: the pan brings new columns of chunks"
        elif value == len(second - first):
            why = f"{value} is how many requests the panned view still makes, not how many the cache saves"
        elif value in (len(first), len(first) + len(second), len(first | second)):
            why = "the first look fills the cache and saves nothing; only the second look can be answered from it"
        else:
            why = f"the cache does not save {value} requests here"
        raise AnswerError(
            f"cache_saved is not {value}: {why}.",
            f"list the chunks (of {array.chunks}) each view touches, row and column ranges; the saving is the chunks both share",
        )
    passed(f"cache_saved is right: the two views share {truth} chunks, and the cache answers those without a request.")


# -- exercise 4 ------------------------------------------------------------------


def n5_truth() -> dict[str, str]:
    """The N5 block key and the Zarr v3 chunk key of :data:`VOXEL`."""
    block = {axis: VOXEL[axis] // N5_BLOCK[axis] for axis in ("x", "y", "z")}
    chunk = {axis: VOXEL[axis] // ZARR_CHUNKS[axis] for axis in ("z", "y", "x")}
    return {
        "n5": "/".join(str(block[a]) for a in ("x", "y", "z")),
        "zarr": "c/" + "/".join(str(chunk[a]) for a in ("z", "y", "x")),
    }


def n5_key(namespace: Mapping[str, Any]) -> None:
    """Exercise 4: ``n5_key`` = ``{"n5": N5 block key, "zarr": Zarr v3 chunk key}`` of the voxel."""
    __tracebackhide__ = True
    value = answer(namespace, "n5_key")
    expect_keys(value, ("n5", "zarr"), "n5_key", '{"n5": "1/2/3", "zarr": "c/3/2/1"}')
    expect_type(value["n5"], str, "n5_key['n5']", '"1/2/3"')
    expect_type(value["zarr"], str, "n5_key['zarr']", '"c/3/2/1"')
    truth = n5_truth()
    n5, zarr_key = value["n5"].strip().strip("/"), value["zarr"].strip().strip("/")
    reversed_n5 = "/".join(reversed(truth["n5"].split("/")))
    hint_n5 = f"divide each coordinate by the block size along its axis and round down; N5 lists x first (block {N5_BLOCK})"
    if n5 != truth["n5"]:
        if n5 == reversed_n5:
            raise AnswerError(f"n5_key['n5'] = {n5!r} is in Zarr's order (z first).", "N5 lists the fastest axis first: x, y, z")
        if n5.startswith("c/"):
            raise AnswerError(f"{n5!r} is written like a Zarr v3 key; N5 block keys have no prefix.", hint_n5)
        raise AnswerError(f"the voxel is not in N5 block {n5!r}.", hint_n5)
    if zarr_key != truth["zarr"]:
        bare = truth["zarr"].removeprefix("c/")
        if zarr_key == bare:
            raise AnswerError(f"{zarr_key!r} lacks the prefix of Zarr v3's default chunk keys.", "Zarr v3 chunk keys start with c/")
        if zarr_key in ("c/" + reversed_n5, reversed_n5, "c/" + truth["n5"], truth["n5"]):
            raise AnswerError(f"{zarr_key!r} has Zarr's axes in the wrong order.", "Zarr lists the slowest axis first: z, y, x")
        raise AnswerError(
            f"the voxel is not in Zarr chunk {zarr_key!r}.",
            f"divide each coordinate by the chunk shape {tuple(ZARR_CHUNKS.values())} (z, y, x) and round down",
        )
    passed(f"n5_key is right: N5 block {truth['n5']} (x/y/z), Zarr chunk {truth['zarr']} (z/y/x): the same voxel.")
