"""Counting objects, bytes and directory entries, and assembling the summary.

From a flat listing of (key, size) pairs plus a reader for the metadata keys
(zip files, mappings, fsspec and zarr stores), or, where nothing can be
listed (HTTP), from the chunk grids of the arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from course_utils.keys import METADATA_NAMES, ROOT_MARKERS
from course_utils.keys import natural_key as _natural_key

from .metadata import (
    CONSOLIDATED_KEYS,
    _consolidated,
    _Metadata,
    _ome,
    _wanted,
)
from .summary import ArrayInfo, StoreSummary, _not_zarr


class _Counts:
    """Objects, bytes and directory entries, built from a flat key listing."""

    def __init__(self) -> None:
        self.n_objects = 0
        self.total_bytes = 0
        self.n_metadata = 0
        self.metadata_keys: list[str] = []
        self.entries: dict[str, int] = {}
        self._dirs: set[str] = set()

    def add(self, key: str, size: int) -> None:
        self.n_objects += 1
        self.total_bytes += size
        parent, _, name = key.rpartition("/")
        if name in METADATA_NAMES:
            self.n_metadata += 1
            self.metadata_keys.append(key)
        entries = self.entries
        entries[parent] = entries.get(parent, 0) + 1
        dirs = self._dirs
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = parent.rpartition("/")[0]
            entries[parent] = entries.get(parent, 0) + 1

    def add_all(self, items: Iterable[tuple[str, int]]) -> None:
        for key, size in items:
            self.add(key, size)

    def busiest(self) -> tuple[int, str]:
        if not self.entries:
            return 0, ""
        return _busiest(self.entries.items())


def _busiest(items: Iterable[tuple[str, int]]) -> tuple[int, str]:
    best_n, best_dir = 0, ""
    for path, n in items:
        if n > best_n or (n == best_n and path < best_dir):
            best_n, best_dir = n, path
    return best_n, best_dir


def _grid(info: ArrayInfo) -> tuple[int, ...]:
    outer = info.shards or info.chunks
    if outer is None or len(outer) != len(info.shape):
        return tuple(1 for _ in info.shape)
    return tuple(math.ceil(s / c) if c > 0 else 0 for s, c in zip(info.shape, outer))


def _chunk_levels(info: ArrayInfo, prefix: str) -> list[int]:
    """Entries per directory level of the chunk keys, from the array directory down."""
    grid = _grid(info)
    total = math.prod(grid)
    if total == 0:
        return [0]
    if not grid:
        return [1]
    if info.separator != "/":
        return [total]
    if prefix:
        return [1, *grid]
    return list(grid)


def _summary(
    *,
    source: str,
    kind: str,
    counts: _Counts,
    metadata: _Metadata,
    notes: list[str] | None = None,
    duplicate_entries: int = 0,
) -> StoreSummary:
    arrays = metadata.arrays()
    ome_version, n_scales, _ = _ome(metadata.root_attributes())
    busiest_n, busiest_dir = counts.busiest()
    all_notes = list(notes or []) + metadata.notes
    return StoreSummary(
        source=source,
        kind=kind,
        complete=True,
        n_objects=counts.n_objects,
        total_bytes=counts.total_bytes,
        n_metadata=counts.n_metadata,
        n_chunks=counts.n_objects - counts.n_metadata,
        max_entries_per_directory=busiest_n,
        max_entries_directory=busiest_dir,
        arrays={path: info for path, (info, _) in arrays.items()},
        zarr_format=metadata.root_format(),
        ome_version=ome_version,
        n_scales=n_scales,
        duplicate_entries=duplicate_entries,
        notes=tuple(all_notes),
    )


def _summary_from_keys(
    *,
    source: str,
    kind: str,
    items: Iterable[tuple[str, int]],
    read: Callable[[list[str]], list[bytes | Exception]],
    notes: list[str] | None = None,
    duplicate_entries: int = 0,
    already: Mapping[str, bytes] | None = None,
    hint: str = "",
) -> StoreSummary:
    """The summary of a store given as (key, size) pairs and a metadata reader."""
    counts = _Counts()
    counts.add_all(items)
    root_keys = {key for key in counts.metadata_keys if "/" not in key}
    if not root_keys.intersection(ROOT_MARKERS):
        raise _not_zarr(source, hint)
    known: dict[str, bytes | Exception] = dict(already or {})
    # Consolidated metadata, read first, spares one read per node.
    roots = [key for key in CONSOLIDATED_KEYS if key in counts.metadata_keys and key not in known]
    if roots:
        known.update(zip(roots, read(roots)))
    inline = _consolidated(known)
    wanted = [key for key in counts.metadata_keys if _wanted(key) and key not in known and key not in inline]
    if wanted:
        known.update(zip(wanted, read(wanted)))
    metadata = _Metadata()
    for key in sorted(known, key=_natural_key):
        metadata.add_raw(key, known[key])
    for key in sorted(inline.keys() - known.keys(), key=_natural_key):
        metadata.add(key, inline[key])
    return _summary(
        source=source,
        kind=kind,
        counts=counts,
        metadata=metadata,
        notes=notes,
        duplicate_entries=duplicate_entries,
    )
