"""Shared helpers for the course_utils.inspect tests: independent counts, stores.

Every count is checked against an independent one (os.walk, zipfile, the
store's own key list). Imported by basename (``from inspect_helpers import
...``): pytest puts this folder on ``sys.path``, as for the test modules.
"""

from __future__ import annotations

import collections
import os
import warnings
import zipfile
from pathlib import Path

import ngff_zarr as nz
import numpy as np

from course_utils.inspect import StoreSummary


METADATA = {"zarr.json", ".zgroup", ".zattrs", ".zarray", ".zmetadata"}
SCALE_SHAPES = [(256, 256), (128, 128), (64, 64)]


def expected_from_keys(sizes: dict[str, int]) -> dict:
    """Counts from a flat key -> size listing, computed the obvious way."""
    children: dict[str, set[str]] = collections.defaultdict(set)
    for key in sizes:
        parts = key.split("/")
        for depth in range(len(parts)):
            children["/".join(parts[:depth])].add(parts[depth])
    busiest = max(len(c) for c in children.values())
    busiest_dir = min(d for d, c in children.items() if len(c) == busiest)
    n_metadata = sum(1 for key in sizes if key.rsplit("/", 1)[-1] in METADATA)
    return {
        "n_objects": len(sizes),
        "total_bytes": sum(sizes.values()),
        "n_metadata": n_metadata,
        "n_data_objects": len(sizes) - n_metadata,
        "max_entries_per_directory": busiest,
        "max_entries_directory": busiest_dir,
    }


def walk_sizes(root: Path) -> dict[str, int]:
    sizes = {}
    for here, _dirs, files in os.walk(root):
        rel = os.path.relpath(here, root)
        for name in files:
            key = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            sizes[key] = os.path.getsize(os.path.join(here, name))
    return sizes


def expected_from_walk(root: Path) -> dict:
    """Like expected_from_keys, but with os.walk's own view of directories."""
    expected = expected_from_keys(walk_sizes(root))
    entries = {}
    for here, dirs, files in os.walk(root):
        rel = os.path.relpath(here, root)
        entries["" if rel == "." else rel.replace(os.sep, "/")] = len(dirs) + len(files)
    busiest = max(entries.values())
    expected["max_entries_per_directory"] = busiest
    expected["max_entries_directory"] = min(
        d for d, n in entries.items() if n == busiest
    )
    return expected


def counts(summary: StoreSummary) -> dict:
    return {key: getattr(summary, key) for key in (
        "n_objects", "total_bytes", "n_metadata", "n_data_objects",
        "max_entries_per_directory", "max_entries_directory",
    )}


def comparable(summary: StoreSummary) -> dict:
    """as_dict() without what legitimately differs between backends."""
    data = summary.as_dict()
    for key in ("source", "kind", "notes", "archive_comment"):
        data.pop(key)
    return data


#: ArrayInfo.as_dict() keys that come from a listing (None over HTTP).
LISTED = ("n_stored", "stored_bytes", "n_chunks_in_stored_shards")


def metadata_only(info) -> dict:
    """An ArrayInfo's as_dict() without the counts that need a listing."""
    data = info.as_dict()
    for key in LISTED:
        data.pop(key)
    return data


def one_line(error: BaseException) -> str:
    text = str(error)
    assert text and "\n" not in text, repr(text)
    return text


def multiscales(size: int, scale_factors: list[int], seed: int = 0):
    rng = np.random.default_rng(seed)
    # Non-zero: zarr does not write chunks that equal the fill value 0.
    data = rng.integers(1, 65535, size=(size, size), dtype=np.uint16)
    image = nz.to_ngff_image(data, dims=("y", "x"))
    return nz.to_multiscales(
        image,
        scale_factors=scale_factors,
        method=nz.Methods.ITKWASM_BIN_SHRINK,
        chunks=64,
    )


def write(target, ms, kind: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "0.4":
            nz.to_ngff_zarr(target, ms, version="0.4")
        elif kind == "0.5":
            # ngff-zarr 0.18.2 ignores the multiscale's chunks for 0.5 without chunks=.
            nz.to_ngff_zarr(target, ms, version="0.5", chunks=(64, 64))
        elif kind == "0.5-sharded":
            nz.to_ngff_zarr(target, ms, version="0.5", chunks_per_shard=2)
        else:
            raise ValueError(kind)
    return target


def zip_directory(directory: Path, target: Path, folder: str = "") -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(walk_sizes(directory)):
            zf.write(directory / key, arcname=folder + key)
    return target
