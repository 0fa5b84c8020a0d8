"""From a listing of a store and a metadata reader to a :class:`StoreSummary`.

:func:`summarise` is what every backend that can list its keys ends in
(local directories, zip files, fsspec filesystems, zarr stores, dicts):

1. :func:`~.formats.detect` tells the format from the top-level names;
2. the metadata documents are picked out of the listing, consolidated
   metadata read first (it spares one read per node), and at most
   :data:`~.common.MAX_METADATA_DOCUMENTS` more read;
3. the format turns them into arrays and group attributes;
4. every other object is attributed to the array whose data directory it
   lies in, as a chunk (or a shard, when the array is sharded), or counted
   as "other";
5. OME-Zarr metadata is described (:mod:`.ome`), and a few data objects are
   peeked at for Git LFS pointers.

:func:`summarise_metadata` does steps 3 and 5 for HTTP, where nothing can be
listed: the counts then come from the chunk grids.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from course_utils.keys import natural_key

from .common import (
    MAX_METADATA_DOCUMENTS,
    Listing,
    Reader,
    is_lfs_pointer,
    one_line,
    parse_json,
)
from .formats import ArrayNode, StoreFormat, detect
from .ome import describe_ome
from .summary import ArrayInfo, StoreSummary, format_count, short_repr

__all__ = ["Peek", "add_documents", "summarise", "summarise_metadata"]

#: Reads the first bytes of a few data objects (to recognise Git LFS pointers).
Peek = Callable[[list[str]], list[bytes]]
#: How many data objects :func:`summarise` peeks at.
PEEK_OBJECTS = 3
#: Notes about single arrays or keys before they are summed up in one line.
_NOTES_SHOWN = 5


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def _read_one(read: Reader, key: str) -> bytes:
    result = read([key])[0]
    if isinstance(result, BaseException):
        raise result
    return result


def add_documents(
    docs: dict[str, Any],
    keys: list[str],
    results: Iterable[bytes | BaseException],
    notes: list[str],
) -> None:
    """Parse ``results`` (read for ``keys``) into ``docs``; one note per kind of problem."""
    problems: dict[str, list[str]] = {}
    for key, raw in zip(keys, results):
        if isinstance(raw, BaseException):
            problem = f"could not be read ({one_line(raw)})"
        else:
            doc, problem = parse_json(raw)
            if problem is None and not isinstance(doc, Mapping):
                problem = "not a JSON object"
            if problem is None:
                docs[key] = doc
                continue
        problems.setdefault(problem, []).append(key)
    for problem, where in problems.items():
        if len(where) == 1:
            notes.append(f"{where[0]}: {problem}")
        else:
            shown = ", ".join(where[:3]) + (", ..." if len(where) > 3 else "")
            notes.append(f"{len(where):,} metadata documents ({shown}): {problem}")


# --------------------------------------------------------------------------
# Data keys
# --------------------------------------------------------------------------


def _key_pattern(node: ArrayNode) -> re.Pattern[str]:
    """A key (relative to the array's data directory) of a chunk or shard of ``node``."""
    scheme, ndim = node.keys, len(node.info.shape)
    if ndim == 0:
        return re.compile(re.escape(scheme.prefix.rstrip("./") or "0"))
    index = "[0-9]+"
    sep = re.escape(scheme.separator)
    return re.compile(re.escape(scheme.prefix) + index + (sep + index) * (ndim - 1))


#: Names that are all indices (the last segment of nested keys), one per line.
_INDICES = re.compile("[0-9]+(?:\n[0-9]+)*")


class _ArrayCounter:
    """Counts one array's data objects, directory by directory."""

    def __init__(self, node: ArrayNode) -> None:
        self.node = node
        self.pattern = _key_pattern(node)
        self.many = re.compile(f"(?:{self.pattern.pattern})(?:\n(?:{self.pattern.pattern}))*")
        self.n = 0
        self.bytes = 0
        self.first: str | None = None  # one data key (relative to the store), to peek at
        self.keys: list[str] = []  # the data keys of a sharded array (shards are few)
        self.keep_keys = node.info.sharded
        self._nested = node.keys.separator == "/" and len(node.info.shape) > 0

    def add(self, directory: str, relative_dir: str, names: list[str], size: int | None) -> list[str]:
        """Count the data objects among ``names`` (files in ``directory``); returns the others."""
        head = f"{relative_dir}/" if relative_dir else ""
        fullmatch = self.pattern.fullmatch
        if self._nested and head:
            # Nested keys: the directory decides the head once; the names are indices.
            if not fullmatch(head + "0"):
                matched: list[str] = []
            elif _INDICES.fullmatch("\n".join(names)):
                matched = names
            else:
                matched = [name for name in names if name.isascii() and name.isdigit()]
        elif head:
            matched = [name for name in names if fullmatch(head + name)]
        elif self.many.fullmatch("\n".join(names)):
            matched = names  # one regex pass over the whole directory: every name is a key
        else:
            matched = list(filter(fullmatch, names))
        self.n += len(matched)
        if size is not None:
            self.bytes += size
        if matched and self.first is None:
            self.first = _join(directory, matched[0])
        if self.keep_keys:
            self.keys.extend(head + name for name in matched)
        if len(matched) == len(names):
            return []
        matched_set = set(matched)
        return [name for name in names if name not in matched_set]

    def shards_cover(self) -> int:
        """Chunk positions (inside the array) covered by the stored shards."""
        info = self.node.info
        assert info.shards is not None and info.chunks is not None
        total = 0
        prefix = len(self.node.keys.prefix)
        sep = self.node.keys.separator
        for key in self.keys:
            indices = [int(i) for i in key[prefix:].split(sep)] if len(info.shape) else []
            covered = 1
            for index, size, shard, chunk in zip(indices, info.shape, info.shards, info.chunks):
                start = index * shard
                inside = max(min(shard, size - start), 0)
                covered *= -(-inside // chunk)
            total += covered
        return total


def _owner(directory: str, owners: Mapping[str, str]) -> tuple[str, str] | None:
    """(array path, directory relative to its data directory) that ``directory`` belongs to."""
    probe = directory
    while True:
        if probe in owners:
            return owners[probe], directory[len(probe):].lstrip("/")
        if not probe:
            return None
        probe = probe.rpartition("/")[0]


# --------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------


def _fill_text(info: ArrayInfo) -> str:
    if info.format == "N5":
        return "0 (N5 stores no fill value; tensorstore reads zeros)"
    if info.fill_value is None:
        return "the data type's default (fill_value is null; zarr-python 3 reads 0 for numbers)"
    return f"the fill value {short_repr(info.fill_value)}"


def _sparse_notes(arrays: Mapping[str, ArrayInfo]) -> list[str]:
    notes = []
    sparse = [(path, info) for path, info in arrays.items() if info.n_missing]
    for path, info in sparse[:_NOTES_SHOWN]:
        notes.append(
            f"{path or '(root)'}: {format_count(info.n_stored)} of {format_count(info.n_possible)} "
            f"{info.object_word}s stored; the other {format_count(info.n_missing)} read as {_fill_text(info)}"
        )
    if len(sparse) > _NOTES_SHOWN:
        notes.append(f"... and {len(sparse) - _NOTES_SHOWN} more arrays with chunks or shards not stored")
    return notes


def _ome_fields(
    arrays: Mapping[str, ArrayInfo], groups: Mapping[str, Any], files: Iterable[str], notes: list[str]
) -> dict[str, Any]:
    ome = describe_ome(groups, set(arrays), set(files))
    notes.extend(ome.notes)
    return {"ome_version": ome.version, "n_scales": ome.n_scales, "ome_nodes": ome.nodes}


def _read_metadata(
    fmt: StoreFormat,
    read: Reader,
    docs: dict[str, Any],
    metadata: list[str],
    notes: list[str],
) -> str | None:
    """Read the metadata documents ``fmt`` wants into ``docs``; returns where consolidated metadata was."""
    metadata_set = set(metadata)
    consolidated = fmt.consolidated_key(docs.get("zarr.json"), metadata_set)
    inline: dict[str, Any] = {}
    if consolidated is not None:
        if consolidated not in docs:
            add_documents(docs, [consolidated], read([consolidated]), notes)
        inline = fmt.inline(consolidated, docs.get(consolidated))
        if not inline:
            notes.append(f"{consolidated}: no consolidated metadata in it")
            consolidated = None
    wanted = [
        key for key in sorted(metadata, key=natural_key)
        if key not in docs and key not in inline and fmt.wanted(key, metadata_set)
    ]
    if len(wanted) > MAX_METADATA_DOCUMENTS:
        notes.append(
            f"{len(wanted):,} metadata documents: only the first {MAX_METADATA_DOCUMENTS:,} were read"
        )
        wanted = wanted[:MAX_METADATA_DOCUMENTS]
    if wanted:
        add_documents(docs, wanted, read(wanted), notes)
    for key in sorted(inline, key=natural_key):
        if key not in docs and isinstance(inline[key], Mapping):
            docs[key] = inline[key]
    if consolidated == "zarr.json":
        return "zarr.json consolidated_metadata"
    return consolidated


def summarise(
    listing: Listing,
    read: Reader,
    *,
    source: str,
    kind: str,
    hint: str = "",
    notes: Iterable[str] = (),
    duplicate_entries: int = 0,
    archive_comment: str | None = None,
    peek: Peek | None = None,
    sizes_known: bool = True,
    n5: bool = False,
) -> StoreSummary:
    """The summary of a listed store (see the module docstring for the steps).

    ``read`` fetches metadata documents by key; ``peek`` (optional) the
    first bytes of a few data objects; ``n5`` says the store is N5 even
    without an ``attributes.json`` at its top (tensorstore writes none
    there). Raises :class:`StoreError` when the
    top of the store holds no Zarr or N5 marker, or its root document is
    unreadable.
    """
    all_notes = list(listing.notes) + list(notes)
    root_names = set(listing.files.get("", ()))
    n5 = n5 or source.rstrip("/").lower().endswith(".n5")
    fmt, docs = detect(source, root_names, lambda key: _read_one(read, key), hint, n5=n5)

    metadata: list[str] = []
    metadata_by_dir: dict[str, int] = {}
    for directory, names in listing.files.items():
        found = fmt.metadata_in(directory, names)
        if found:
            metadata_by_dir[directory] = len(found)
            metadata.extend(_join(directory, name) for name in found)
    consolidated = _read_metadata(fmt, read, docs, metadata, all_notes)
    nodes, groups = fmt.nodes(
        {key: docs[key] for key in sorted(docs, key=natural_key)},
        all_notes,
        set(metadata) | set(docs),
    )
    nodes = {path: nodes[path] for path in sorted(nodes, key=natural_key)}

    # Attribute every other object to the array whose data directory holds it.
    counters = {path: _ArrayCounter(node) for path, node in nodes.items()}
    owners = {node.keys.data_dir: path for path, node in nodes.items()}
    other_keys: list[str] = []
    n_other = 0
    for directory, names in listing.files.items():
        n_meta = metadata_by_dir.get(directory, 0)
        if len(names) == n_meta:
            continue
        data_names = names
        if n_meta:
            meta = set(fmt.metadata_in(directory, names))
            data_names = [name for name in names if name not in meta]
        owner = _owner(directory, owners)
        if owner is None:
            stray_names = data_names
        else:
            size = listing.sizes.get(directory) if sizes_known else None
            stray_names = counters[owner[0]].add(directory, owner[1], data_names, size)
            if not stray_names:
                continue
        n_other += len(stray_names)
        if len(other_keys) < 10_000:
            other_keys.extend(_join(directory, name) for name in stray_names[:100])

    arrays: dict[str, ArrayInfo] = {}
    n_chunks = n_shards = n_in_shards = 0
    for path, counter in counters.items():
        info = counter.node.info
        covered = counter.shards_cover() if info.sharded else None
        arrays[path] = _with_counts(info, counter.n, counter.bytes if sizes_known else None, covered)
        if info.sharded:
            n_shards += counter.n
            n_in_shards += covered or 0
        else:
            n_chunks += counter.n

    if n_other:
        shown = ", ".join(other_keys[:3]) + (", ..." if n_other > 3 else "")
        all_notes.append(
            f"{n_other:,} object{'s belong' if n_other != 1 else ' belongs'} to no array ({shown})"
        )
    if fmt.name.startswith("N5") and arrays:
        all_notes.append(
            "shapes and block sizes are in N5's own order: the first dimension varies fastest "
            "inside a block (by convention x, then y, then z), the reverse of a C-order Zarr array"
        )
    all_notes.extend(_sparse_notes(arrays))
    if peek is not None:
        all_notes.extend(_lfs_notes(peek, counters.values()))
    ome = _ome_fields(arrays, groups, other_keys, all_notes)

    return StoreSummary(
        source=source,
        kind=kind,
        complete=True,
        n_objects=listing.n_files,
        total_bytes=listing.total_bytes if sizes_known else None,
        n_metadata=len(metadata),
        n_chunks=n_chunks,
        max_entries_per_directory=listing.busiest,
        max_entries_directory=listing.busiest_directory,
        arrays=arrays,
        zarr_format=fmt.zarr_format,
        duplicate_entries=duplicate_entries,
        notes=tuple(all_notes),
        format=fmt.name,
        n_shards=n_shards,
        n_other=n_other,
        n_chunks_in_shards=n_in_shards,
        consolidated=consolidated,
        archive_comment=archive_comment,
        **ome,
    )


def _with_counts(info: ArrayInfo, n: int | None, size: int | None, covered: int | None) -> ArrayInfo:
    from dataclasses import replace

    return replace(info, n_stored=n, stored_bytes=size, n_chunks_in_stored_shards=covered)


def _lfs_notes(peek: Peek, counters: Iterable[_ArrayCounter]) -> list[str]:
    """Peek at a few data objects: Git LFS pointers mean the data was never fetched."""
    sample = [c.first for c in counters if c.first is not None][:PEEK_OBJECTS]
    if not sample:
        return []
    try:
        heads = peek(sample)
    except Exception:  # noqa: BLE001 - peeking is a courtesy, never a failure
        return []
    pointers = [key for key, head in zip(sample, heads) if is_lfs_pointer(head)]
    if not pointers:
        return []
    return [
        f"{len(pointers)} of the {len(sample)} data objects looked at ({pointers[0]}, ...) are "
        "Git LFS pointer files: the chunk data was never fetched (run git lfs pull)"
    ]


# --------------------------------------------------------------------------
# Without a listing (HTTP)
# --------------------------------------------------------------------------


def summarise_metadata(
    fmt: StoreFormat,
    docs: Mapping[str, Any],
    *,
    source: str,
    kind: str,
    present: set[str],
    consolidated: str | None,
    notes: list[str],
) -> StoreSummary:
    """The summary of a store known only by its metadata ``docs`` (HTTP).

    Every chunk (or shard) of every grid counts as one object; ``present``
    holds the metadata keys known to exist.
    """
    all_notes = list(notes)
    nodes, groups = fmt.nodes(
        {key: docs[key] for key in sorted(docs, key=natural_key)}, all_notes, set(present)
    )
    arrays = {path: nodes[path].info for path in sorted(nodes, key=natural_key)}
    n_chunks = n_shards = n_in_shards = 0
    deeper: list[tuple[str, int]] = []
    entries = dict(_entries(present))
    for path, node in ((p, nodes[p]) for p in arrays):
        info = node.info
        if info.sharded:
            n_shards += info.n_possible
            n_in_shards += info.n_chunks_possible
        else:
            n_chunks += info.n_possible
        levels = _chunk_levels(info, node.keys.prefix)
        entries[node.keys.data_dir] = entries.get(node.keys.data_dir, 0) + levels[0]
        segments = ([node.keys.prefix.rstrip("./")] if node.keys.prefix.strip("./") else [])
        segments += ["0"] * len(info.shape)
        for depth in range(1, len(levels)):
            directory = "/".join(([node.keys.data_dir] if node.keys.data_dir else []) + segments[:depth])
            deeper.append((directory, levels[depth]))
    best_n, best_dir = 0, ""
    for directory, n in [*entries.items(), *deeper]:
        if n > best_n or (n == best_n and directory < best_dir):
            best_n, best_dir = n, directory
    ome = _ome_fields(arrays, groups, (), all_notes)
    return StoreSummary(
        source=source,
        kind=kind,
        complete=False,
        n_objects=len(present) + n_chunks + n_shards,
        total_bytes=None,
        n_metadata=len(present),
        n_chunks=n_chunks,
        max_entries_per_directory=best_n,
        max_entries_directory=best_dir,
        arrays=arrays,
        zarr_format=fmt.zarr_format,
        notes=tuple(all_notes),
        format=fmt.name,
        n_shards=n_shards,
        n_chunks_in_shards=n_in_shards,
        consolidated=consolidated,
        **ome,
    )


def _entries(keys: Iterable[str]) -> dict[str, int]:
    """Entries per directory of a set of keys (files and subdirectories)."""
    entries: dict[str, int] = {}
    dirs: set[str] = set()
    for key in keys:
        parent = key.rpartition("/")[0]
        entries[parent] = entries.get(parent, 0) + 1
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = parent.rpartition("/")[0]
            entries[parent] = entries.get(parent, 0) + 1
    return entries


def _chunk_levels(info: ArrayInfo, prefix: str) -> list[int]:
    """Entries per directory level of the data keys, from the array's data directory down."""
    grid = info.grid
    total = math.prod(grid)
    if total == 0:
        return [0]
    if not grid:
        return [1]
    if info.separator != "/":
        return [total]
    if prefix.endswith("/"):
        return [1, *grid]
    return list(grid)
