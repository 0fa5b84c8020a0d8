"""Describe any Zarr / OME-Zarr store in one table.

:func:`inspect_store` takes whatever a student has at hand and returns a
:class:`StoreSummary`: how many objects the store holds and how big they are,
how many sit in the busiest directory, and for every array its shape, dtype,
chunk and shard shape, codecs and chunk key separator; for OME-Zarr also the
version and the number of scales.

It accepts

* a local directory (``str`` or :class:`os.PathLike`), or a local ``.zip`` /
  ``.ozx`` file;
* a zarr-python 3 store (``MemoryStore``, ``LocalStore``, ``ZipStore``,
  ``FsspecStore``), a zarr ``Group`` / ``Array``, or a plain ``dict`` of
  key -> bytes;
* an fsspec URL (``s3://``, ``gs://``, ``memory://``, ``file://``,
  ``zip::...``, ``http(s)://``), with ``storage_options`` passed to fsspec.

It reads only the metadata documents, never chunk bytes. Over HTTP, where
objects cannot be listed, it reads the root metadata (and, for OME-Zarr
without consolidated metadata, each scale's array metadata) and *computes*
the object counts from the chunk grids; the summary then says so
(``complete=False``).

Problems a student can cause (missing path, not a Zarr store, corrupt zip,
unreachable URL) raise :class:`StoreError` with one readable line.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import sys
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.jupyter import JupyterMixin

__all__ = [
    "ArrayInfo",
    "StoreError",
    "StoreSummary",
    "format_bytes",
    "inspect_store",
]

#: File names (last key segment) that hold Zarr metadata; every other key is a chunk.
METADATA_NAMES = frozenset({"zarr.json", ".zgroup", ".zattrs", ".zarray", ".zmetadata"})
#: At least one of these must sit at the top of a store for it to be Zarr.
ROOT_MARKERS = ("zarr.json", ".zgroup", ".zarray")
#: Metadata documents read from anywhere in the store (the rest only at the root).
_ARRAY_METADATA = frozenset({"zarr.json", ".zarray"})
ZIP_SUFFIXES = (".zip", ".ozx")
#: Read size for a remote zip: its end, central directory and metadata entries.
ZIP_BLOCK_SIZE = 64 * 1024

#: Local directories with at least this many files get their sizes from
#: several forked processes (Linux only): one ``stat`` per file is what costs.
PARALLEL_STAT_MIN_FILES = 20_000
#: At most this many processes (the caller included) ``stat`` in parallel.
MAX_STAT_PROCESSES = 4
#: Concurrent metadata requests against a remote store.
FETCH_CONCURRENCY = 32
#: Give up on a remote store after this many seconds per batch of requests.
REMOTE_TIMEOUT_SECONDS = 60.0


class StoreError(ValueError):
    """The target cannot be inspected; the message says why in one line."""


# --------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------


def format_bytes(n: int | None) -> str:
    """Human-friendly binary size: ``format_bytes(6_400_000) == '6.1 MiB'``."""
    if n is None:
        return "unknown"
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024.0
        if value < 1024.0 or unit == "PiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def _shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "-"
    return str(tuple(shape))


@dataclass(frozen=True)
class ArrayInfo:
    """What one array's metadata says.

    ``chunks`` is the (inner) chunk shape; ``shards`` the shard shape, or None
    when the array is not sharded. ``codecs`` lists codec names in order; a
    sharded array shows its inner codecs as ``"sharding_indexed: bytes, zstd"``.
    """

    shape: tuple[int, ...]
    dtype: str
    chunks: tuple[int, ...] | None
    shards: tuple[int, ...] | None
    codecs: tuple[str, ...]
    zarr_format: int
    separator: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists)."""
        return {
            "shape": list(self.shape),
            "dtype": self.dtype,
            "chunks": None if self.chunks is None else list(self.chunks),
            "shards": None if self.shards is None else list(self.shards),
            "codecs": list(self.codecs),
            "zarr_format": self.zarr_format,
            "separator": self.separator,
        }


@dataclass(frozen=True)
class StoreSummary(JupyterMixin):
    """A Zarr store at a glance; shows as a table in rich and in Jupyter.

    Counts: ``n_objects == n_metadata + n_chunks``. ``n_metadata`` counts keys
    named ``zarr.json``, ``.zgroup``, ``.zattrs``, ``.zarray`` or
    ``.zmetadata``; everything else is a chunk (or shard). ``complete`` is
    False when the objects could not be listed (HTTP): the counts are then
    computed from the metadata and ``total_bytes`` is None.
    """

    source: str
    kind: str
    complete: bool
    n_objects: int
    total_bytes: int | None
    n_metadata: int
    n_chunks: int
    max_entries_per_directory: int
    max_entries_directory: str
    arrays: dict[str, ArrayInfo]
    zarr_format: int | None
    ome_version: str | None
    n_scales: int | None
    duplicate_entries: int = 0
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """Only builtins (dict, list, str, int, bool, None): survives JSON."""
        return {
            "source": self.source,
            "kind": self.kind,
            "complete": self.complete,
            "n_objects": self.n_objects,
            "total_bytes": self.total_bytes,
            "n_metadata": self.n_metadata,
            "n_chunks": self.n_chunks,
            "max_entries_per_directory": self.max_entries_per_directory,
            "max_entries_directory": self.max_entries_directory,
            "arrays": {path: info.as_dict() for path, info in self.arrays.items()},
            "zarr_format": self.zarr_format,
            "ome_version": self.ome_version,
            "n_scales": self.n_scales,
            "duplicate_entries": self.duplicate_entries,
            "notes": list(self.notes),
        }

    def __rich__(self) -> Any:
        from rich import box
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        overview = Table(
            title=Text("Zarr store", style="bold"),
            title_justify="left",
            show_header=False,
            box=box.SIMPLE,
        )
        overview.add_column("what", style="bold cyan", no_wrap=True)
        overview.add_column("value", overflow="fold")
        overview.add_row("Source", self.source)
        overview.add_row("Kind", self.kind)
        fmt = "unknown" if self.zarr_format is None else f"Zarr v{self.zarr_format}"
        if self.ome_version is not None:
            fmt += f", OME-Zarr {self.ome_version}"
            if self.n_scales is not None:
                fmt += f" ({self.n_scales} scale{'s' if self.n_scales != 1 else ''})"
        else:
            fmt += ", not OME-Zarr"
        overview.add_row("Format", fmt)
        objects = (
            f"{self.n_objects:,} ({self.n_metadata:,} metadata, "
            f"{self.n_chunks:,} chunks)"
        )
        if not self.complete:
            objects += "; computed from the metadata, the objects could not be listed"
        overview.add_row("Objects", objects)
        if self.total_bytes is None:
            overview.add_row("Total size", "unknown (the objects could not be listed)")
        else:
            overview.add_row(
                "Total size",
                f"{format_bytes(self.total_bytes)} ({self.total_bytes:,} bytes)",
            )
        where = self.max_entries_directory or "(root)"
        overview.add_row(
            "Busiest directory",
            f"{self.max_entries_per_directory:,} entries in {where}",
        )
        if self.duplicate_entries:
            overview.add_row(
                "Duplicate zip entries",
                Text(f"{self.duplicate_entries:,} (only the last copy of each is read)",
                     style="yellow"),
            )

        parts: list[Any] = [overview]
        if self.arrays:
            arrays = Table(
                title="Arrays",
                title_justify="left",
                box=box.SIMPLE_HEAD,
                pad_edge=False,
                collapse_padding=True,
            )
            longest = max(len(path or "(root)") for path in self.arrays)
            arrays.add_column("Path", min_width=min(longest, 40), overflow="fold")
            arrays.add_column("Shape", justify="right", no_wrap=True)
            arrays.add_column("dtype", no_wrap=True)
            arrays.add_column("Chunks", justify="right", no_wrap=True)
            arrays.add_column("Shards", justify="right", no_wrap=True)
            arrays.add_column("Codecs", ratio=1, min_width=10, overflow="fold")
            arrays.add_column("Zarr", justify="right", no_wrap=True)
            # The chunk key separator: "0.1" or "0/1".
            arrays.add_column("Sep", justify="center", no_wrap=True)
            for path, info in self.arrays.items():
                arrays.add_row(
                    path or "(root)",
                    _shape_text(info.shape),
                    info.dtype,
                    _shape_text(info.chunks),
                    _shape_text(info.shards),
                    ", ".join(info.codecs) or "-",
                    str(info.zarr_format),
                    info.separator,
                )
            parts.append(arrays)
        else:
            parts.append(Text("No arrays found.", style="yellow"))
        for note in self.notes:
            parts.append(Text(f"note: {note}", style="yellow"))
        return Group(*parts)


# --------------------------------------------------------------------------
# Parsing metadata
# --------------------------------------------------------------------------


def _one_line(error: BaseException, with_type: bool = False) -> str:
    """An exception as one short line (square brackets softened for rich markup)."""
    text = " ".join(str(error).split())
    name = type(error).__name__
    if not text:
        text = name
    elif with_type and name not in text:
        text = f"{name}: {text}"
    text = text.replace("[", "(").replace("]", ")")
    if len(text) > 200:
        text = text[:197] + "..."
    return text


def _natural_key(path: str) -> list[Any]:
    parts = re.split(r"(\d+)", path)
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts]


def _v2_dtype(spec: Any) -> str:
    import numpy as np

    try:
        if isinstance(spec, list):
            dtype = np.dtype([tuple(item) for item in spec])
        else:
            dtype = np.dtype(spec)
    except (TypeError, ValueError):
        return str(spec)
    if dtype.fields is not None:
        return str(dtype)
    if dtype.kind in "SUV":
        return dtype.str
    return dtype.name


def _codec_name(codec: Any) -> str:
    if isinstance(codec, str):
        return codec
    if isinstance(codec, Mapping):
        name = str(codec.get("name", codec.get("id", "?")))
        if name == "sharding_indexed":
            inner = (codec.get("configuration") or {}).get("codecs") or []
            return f"sharding_indexed({', '.join(_codec_name(c) for c in inner)})"
        return name
    return str(codec)


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def _v2_array(doc: Mapping[str, Any]) -> tuple[ArrayInfo, str]:
    codecs = [_codec_name(f) for f in (doc.get("filters") or [])]
    if doc.get("compressor"):
        codecs.append(_codec_name(doc["compressor"]))
    info = ArrayInfo(
        shape=_ints(doc["shape"]),
        dtype=_v2_dtype(doc["dtype"]),
        chunks=_ints(doc["chunks"]),
        shards=None,
        codecs=tuple(codecs),
        zarr_format=2,
        separator=str(doc.get("dimension_separator") or "."),
    )
    return info, ""


def _v3_array(doc: Mapping[str, Any]) -> tuple[ArrayInfo, str]:
    data_type = doc["data_type"]
    if isinstance(data_type, Mapping):
        data_type = data_type.get("name", "?")
    grid = doc.get("chunk_grid") or {}
    grid_config = grid.get("configuration") if isinstance(grid, Mapping) else None
    outer = (grid_config or {}).get("chunk_shape")
    chunks = None if outer is None else _ints(outer)
    shards = None

    encoding = doc.get("chunk_key_encoding") or {"name": "default"}
    if isinstance(encoding, str):
        encoding = {"name": encoding}
    name = encoding.get("name", "default")
    separator = (encoding.get("configuration") or {}).get("separator")
    if not separator:
        separator = "/" if name == "default" else "."

    codecs: list[str] = []
    for codec in doc.get("codecs") or []:
        cname = _codec_name(codec)
        if isinstance(codec, Mapping) and codec.get("name") == "sharding_indexed":
            config = codec.get("configuration") or {}
            inner = config.get("codecs") or []
            cname = "sharding_indexed: " + ", ".join(_codec_name(c) for c in inner)
            if config.get("chunk_shape") is not None:
                shards = chunks
                chunks = _ints(config["chunk_shape"])
        codecs.append(cname)
    info = ArrayInfo(
        shape=_ints(doc["shape"]),
        dtype=str(data_type),
        chunks=chunks,
        shards=shards,
        codecs=tuple(codecs),
        zarr_format=3,
        separator=str(separator),
    )
    return info, ("c" if name == "default" else "")


def _ome(attrs: Any) -> tuple[str | None, int | None, list[str]]:
    """(OME version, number of scales, dataset paths) from root attributes."""
    if not isinstance(attrs, Mapping):
        return None, None, []
    version = None
    multiscales = None
    ome = attrs.get("ome")
    if isinstance(ome, Mapping):
        version = ome.get("version")
        multiscales = ome.get("multiscales")
    if multiscales is None:
        multiscales = attrs.get("multiscales")
    n_scales = None
    paths: list[str] = []
    if (
        isinstance(multiscales, list)
        and multiscales
        and isinstance(multiscales[0], Mapping)
    ):
        first = multiscales[0]
        if version is None:
            version = first.get("version")
        datasets = first.get("datasets")
        if isinstance(datasets, list):
            n_scales = len(datasets)
            paths = [
                str(d["path"]).strip("/")
                for d in datasets
                if isinstance(d, Mapping) and d.get("path") is not None
            ]
    return (None if version is None else str(version)), n_scales, paths


class _Metadata:
    """The metadata documents of one store, parsed."""

    def __init__(self) -> None:
        self.docs: dict[str, Any] = {}
        self.notes: list[str] = []

    def add_raw(self, key: str, raw: bytes | Exception) -> None:
        if isinstance(raw, BaseException):
            self.notes.append(f"{key}: could not be read ({_one_line(raw)})")
            return
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            self.notes.append(f"{key}: not valid JSON")
            return
        self.add(key, doc)

    def add(self, key: str, doc: Any) -> None:
        if not isinstance(doc, Mapping):
            self.notes.append(f"{key}: not a JSON object")
            return
        self.docs[key] = doc

    def arrays(self) -> dict[str, tuple[ArrayInfo, str]]:
        found: dict[str, tuple[ArrayInfo, str]] = {}
        for key, doc in self.docs.items():
            parent, _, name = key.rpartition("/")
            try:
                if name == ".zarray":
                    found[parent] = _v2_array(doc)
                elif name == "zarr.json" and doc.get("node_type") == "array":
                    found[parent] = _v3_array(doc)
            except (KeyError, TypeError, ValueError) as error:
                self.notes.append(
                    f"{key}: unreadable array metadata ({_one_line(error)})"
                )
        return {path: found[path] for path in sorted(found, key=_natural_key)}

    def root_format(self) -> int | None:
        if "zarr.json" in self.docs:
            return int(self.docs["zarr.json"].get("zarr_format", 3))
        if ".zgroup" in self.docs or ".zarray" in self.docs or ".zattrs" in self.docs:
            return 2
        return None

    def root_attributes(self) -> Any:
        if "zarr.json" in self.docs:
            return self.docs["zarr.json"].get("attributes") or {}
        return self.docs.get(".zattrs") or {}


def _wanted(key: str) -> bool:
    """Do we read this metadata key? Array metadata anywhere, all at the root."""
    parent, _, name = key.rpartition("/")
    return name in _ARRAY_METADATA or (not parent and name in METADATA_NAMES)


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Assembling the summary
# --------------------------------------------------------------------------


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


def _not_zarr(what: str, hint: str = "") -> StoreError:
    return StoreError(
        f"{what} is not a Zarr store: no zarr.json, .zgroup or .zarray at its top level"
        + (f" ({hint})" if hint else "")
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
    wanted = [key for key in counts.metadata_keys if _wanted(key) and key not in known]
    if wanted:
        known.update(zip(wanted, read(wanted)))
    metadata = _Metadata()
    for key in sorted(known, key=_natural_key):
        metadata.add_raw(key, known[key])
    return _summary(
        source=source,
        kind=kind,
        counts=counts,
        metadata=metadata,
        notes=notes,
        duplicate_entries=duplicate_entries,
    )


# --------------------------------------------------------------------------
# Local directories: os.scandir, then one stat per file (in parallel if many)
# --------------------------------------------------------------------------

#: Directories with the names of the files directly inside them.
_Dirs = list[tuple[str, list[str]]]


def _walk(root: str) -> tuple[_Dirs, int, list[str], int, str, list[str]]:
    """List a directory tree without stat calls.

    Returns (directories with their file names, number of files, metadata keys,
    busiest directory's entry count, busiest directory, notes).
    """
    scandir = os.scandir
    stack: list[tuple[str, str]] = [(root, "")]
    dirs: _Dirs = []
    metadata_keys: list[str] = []
    notes: list[str] = []
    n_files = 0
    best_n, best_dir = -1, ""
    while stack:
        path, rel = stack.pop()
        try:
            iterator = scandir(path)
        except OSError as error:
            notes.append(f"{rel or '(root)'} could not be listed ({_one_line(error)})")
            continue
        names: list[str] = []
        append = names.append
        n_sub = 0
        with iterator:
            for entry in iterator:
                if entry.is_dir(follow_symlinks=False):
                    n_sub += 1
                    stack.append((entry.path, rel + entry.name + "/"))
                else:
                    append(entry.name)
        n = len(names) + n_sub
        here = rel[:-1]
        if n > best_n or (n == best_n and here < best_dir):
            best_n, best_dir = n, here
        if names:
            dirs.append((path, names))
            n_files += len(names)
            for name in METADATA_NAMES.intersection(names):
                metadata_keys.append(rel + name)
    return dirs, n_files, metadata_keys, max(best_n, 0), best_dir, notes


def _stat_sizes(dirs: _Dirs) -> int:
    """Sum of ``lstat`` sizes; relative to an open directory where the OS allows."""
    total = 0
    stat = os.stat
    if stat in os.supports_dir_fd:
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
        for path, names in dirs:
            try:
                fd = os.open(path, flags)
            except OSError:
                continue
            try:
                for name in names:
                    try:
                        total += stat(name, dir_fd=fd, follow_symlinks=False).st_size
                    except OSError:
                        pass
            finally:
                os.close(fd)
    else:
        join = os.path.join
        for path, names in dirs:
            for name in names:
                try:
                    total += stat(join(path, name), follow_symlinks=False).st_size
                except OSError:
                    pass
    return total


def _stat_processes(n_files: int) -> int:
    """How many processes should share the ``stat`` calls (1: no forking)."""
    if n_files < PARALLEL_STAT_MIN_FILES or MAX_STAT_PROCESSES < 2:
        return 1
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_STAT_PROCESSES, cpus))


def _split(dirs: _Dirs, n_parts: int, n_files: int) -> list[_Dirs]:
    """``dirs`` cut into ``n_parts`` runs of about the same number of files."""
    per_part = -(-n_files // n_parts)
    parts: list[_Dirs] = [[]]
    room = per_part
    for path, names in dirs:
        start = 0
        while start < len(names):
            if room == 0:
                parts.append([])
                room = per_part
            take = min(room, len(names) - start)
            parts[-1].append((path, names[start : start + take]))
            start += take
            room -= take
    return [part for part in parts if part]


def _stat_in_child(write_fd: int, part: _Dirs) -> None:
    """Runs in a forked child: sizes to the pipe, then exit without cleanup."""
    status = 1
    try:
        os.write(write_fd, b"%d" % _stat_sizes(part))
        status = 0
    finally:
        os._exit(status)


def _total_size(dirs: _Dirs, n_files: int) -> int:
    """Total bytes of the listed files, with forked helpers for big trees.

    One ``lstat`` per file costs more than listing the directories, and
    threads do not help (each call takes and drops the GIL). Forked children
    share the list of names without copying it and send back one number.
    """
    n_procs = _stat_processes(n_files)
    if n_procs < 2:
        return _stat_sizes(dirs)
    parts = _split(dirs, n_procs, n_files)
    children: list[tuple[int, int, _Dirs]] = []
    total = 0
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() in a threaded process; the child
            # only calls stat/write/_exit, which take no locks.
            warnings.simplefilter("ignore", DeprecationWarning)
            for part in parts[1:]:
                read_fd, write_fd = os.pipe()
                try:
                    pid = os.fork()
                except OSError:
                    os.close(read_fd)
                    os.close(write_fd)
                    total += _stat_sizes(part)
                    continue
                if pid == 0:  # pragma: no cover - the child process
                    os.close(read_fd)
                    _stat_in_child(write_fd, part)
                os.close(write_fd)
                children.append((pid, read_fd, part))
        total += _stat_sizes(parts[0])
        while children:
            pid, read_fd, part = children.pop()
            chunks = []
            try:
                while data := os.read(read_fd, 64):
                    chunks.append(data)
            finally:
                os.close(read_fd)
                _, status = os.waitpid(pid, 0)
            text = b"".join(chunks)
            if status == 0 and text.isdigit():
                total += int(text)
            else:
                total += _stat_sizes(part)
    finally:
        for pid, read_fd, _ in children:  # only after an interruption
            os.close(read_fd)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    return total


def _directory_hint(root: str) -> str:
    """Point at Zarr stores just below ``root``, if there are any."""
    found = []
    try:
        with os.scandir(root) as iterator:
            for i, entry in enumerate(iterator):
                if i > 500 or len(found) == 3:
                    break
                if entry.is_dir() and (
                    entry.name.endswith((".zarr", ".ome.zarr"))
                    or any(
                        os.path.exists(os.path.join(entry.path, marker))
                        for marker in ROOT_MARKERS
                    )
                ):
                    found.append(entry.name)
    except OSError:
        return ""
    if not found:
        return ""
    candidates = " or ".join(os.path.join(root, name) for name in sorted(found))
    return f"did you mean {candidates}?"


def _inspect_directory(root: str, source: str) -> StoreSummary:
    if not any(os.path.isfile(os.path.join(root, m)) for m in ROOT_MARKERS):
        raise _not_zarr(source, _directory_hint(root))
    dirs, n_files, metadata_keys, busiest_n, busiest_dir, notes = _walk(root)
    total_bytes = _total_size(dirs, n_files)

    metadata = _Metadata()
    for key in sorted(metadata_keys, key=_natural_key):
        if not _wanted(key):
            continue
        try:
            with open(os.path.join(root, key), "rb") as file:
                metadata.add_raw(key, file.read())
        except OSError as error:
            metadata.add_raw(key, error)

    counts = _Counts()
    counts.n_objects = n_files
    counts.total_bytes = total_bytes
    counts.n_metadata = len(metadata_keys)
    counts.entries = {busiest_dir: busiest_n}
    return _summary(
        source=source, kind="directory", counts=counts, metadata=metadata, notes=notes
    )


# --------------------------------------------------------------------------
# Zip files (.zip / .ozx): the central directory lists everything
# --------------------------------------------------------------------------


_ZIP_ERRORS = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError
)


def _zip_prefix(names: Mapping[str, Any]) -> str:
    """'' when the store is at the top of the zip, else its single top folder + '/'."""
    if any(m in names for m in ROOT_MARKERS):
        return ""
    tops = set()
    for name in names:
        top, sep, _ = name.partition("/")
        if not sep:
            return ""
        tops.add(top)
        if len(tops) > 1:
            return ""
    if len(tops) == 1:
        top = tops.pop()
        if any(f"{top}/{m}" in names for m in ROOT_MARKERS):
            return top + "/"
    return ""


def _summary_from_zipfile(
    zf: zipfile.ZipFile, source: str, prefix: str | None = None
) -> StoreSummary:
    try:
        infos = zf.infolist()
    except _ZIP_ERRORS as error:
        message = f"{source} is not a readable zip file ({_one_line(error)})"
        raise StoreError(message) from None
    last: dict[str, zipfile.ZipInfo] = {}
    n_entries = 0
    for info in infos:
        if info.filename.endswith("/"):
            continue
        n_entries += 1
        last[info.filename] = info  # ZipFile.getinfo (and zarr) see the last copy
    duplicates = n_entries - len(last)
    notes = []
    if prefix is None:
        prefix = _zip_prefix(last)
        if prefix:
            notes.append(
                f"the store sits in the folder {prefix!r} of the zip, not at its top "
                f"(zarr.storage.ZipStore needs path={prefix[:-1]!r}; "
                "an .ozx must have it at the top)"
            )
    elif prefix:
        prefix = prefix.strip("/") + "/"
    if duplicates:
        notes.append(
            f"{duplicates} duplicate zip entries: keys were written more than once "
            "(e.g. a multiscale written straight into a ZipStore); write a directory "
            "store and zip it instead"
        )
    items = [
        (name[len(prefix) :], info.file_size)
        for name, info in last.items()
        if name.startswith(prefix) and len(name) > len(prefix)
    ]

    def read(keys: list[str]) -> list[bytes | Exception]:
        out: list[bytes | Exception] = []
        for key in keys:
            try:
                out.append(zf.read(last[prefix + key]))
            except _ZIP_ERRORS as error:
                message = f"{source} is a corrupt zip file ({_one_line(error)})"
                raise StoreError(message) from None
        return out

    return _summary_from_keys(
        source=source,
        kind="zip",
        items=items,
        read=read,
        notes=notes,
        duplicate_entries=duplicates,
    )


def _inspect_zip_path(
    path: str, source: str, prefix: str | None = None
) -> StoreSummary:
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as error:
        message = f"{source} is not a valid zip file ({_one_line(error)})"
        raise StoreError(message) from None
    with zf:
        return _summary_from_zipfile(zf, source, prefix)


def _inspect_zipstore(store: Any, prefix: str) -> StoreSummary:
    source = str(store) + (f"/{prefix}" if prefix else "")
    zf = getattr(store, "_zf", None)
    if getattr(store, "_is_open", False) and zf is not None and zf.fp is not None:
        # Still open (maybe for writing: no central directory on disk yet).
        with store._lock:
            return _summary_from_zipfile(zf, source, prefix or None)
    path = os.fspath(store.path)
    if not os.path.exists(path):
        raise StoreError(f"{path} does not exist")
    return _inspect_zip_path(path, source, prefix or None)


# --------------------------------------------------------------------------
# Mappings: dict and MemoryStore
# --------------------------------------------------------------------------


def _nbytes(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, memoryview):
        return value.nbytes
    if hasattr(value, "to_bytes") and hasattr(value, "__len__"):  # zarr Buffer
        return len(value)
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    return len(value)


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if hasattr(value, "to_bytes"):
        return value.to_bytes()
    return bytes(value)


def _inspect_mapping(
    mapping: Mapping[Any, Any], source: str, kind: str, prefix: str = ""
) -> StoreSummary:
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    snapshot = dict(mapping)  # a stable view if another thread writes
    keys: dict[str, Any] = {}
    for key in snapshot:
        text = key.decode() if isinstance(key, bytes) else str(key)
        if text.startswith(prefix) and len(text) > len(prefix):
            keys[text[len(prefix) :]] = key
    items = [(rel, _nbytes(snapshot[key])) for rel, key in keys.items()]

    def read(wanted: list[str]) -> list[bytes | Exception]:
        return [_to_bytes(snapshot[keys[key]]) for key in wanted]

    return _summary_from_keys(source=source, kind=kind, items=items, read=read)


# --------------------------------------------------------------------------
# fsspec filesystems
# --------------------------------------------------------------------------


def _run_async(fs: Any, make_coro: Callable[[], Any]) -> Any:
    """Run a coroutine of an async filesystem on the loop it belongs to."""
    if getattr(fs, "asynchronous", False):
        # An FsspecStore's filesystem lives on zarr's event loop.
        from zarr.core.sync import sync as zarr_sync

        return zarr_sync(make_coro(), timeout=REMOTE_TIMEOUT_SECONDS)
    from fsspec.asyn import sync as fsspec_sync

    return fsspec_sync(fs.loop, make_coro, timeout=REMOTE_TIMEOUT_SECONDS)


def _fetch_many(fs: Any, paths: list[str]) -> list[bytes | Exception]:
    """Whole objects (or the exception each raised), requested concurrently.

    What ``fs.cat(paths, on_error="return")`` does, minus its glob expansion
    (a ``?`` in a signed URL must not trigger a listing).
    """
    if not paths:
        return []
    if getattr(fs, "async_impl", False):

        async def gather() -> list[Any]:
            limit = asyncio.Semaphore(FETCH_CONCURRENCY)

            async def one(path: str) -> Any:
                async with limit:
                    return await fs._cat_file(path)

            coros = [one(p) for p in paths]
            return await asyncio.gather(*coros, return_exceptions=True)

        return list(_run_async(fs, gather))
    out: list[bytes | Exception] = []
    for path in paths:
        try:
            out.append(fs.cat_file(path))
        except Exception as error:  # noqa: BLE001 - reported per path
            out.append(error)
    return out


def _fs_call(fs: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    if getattr(fs, "async_impl", False) and getattr(fs, "asynchronous", False):
        method = getattr(fs, "_" + name)
        return _run_async(fs, lambda: method(*args, **kwargs))
    return getattr(fs, name)(*args, **kwargs)


def _protocols(fs: Any) -> set[str]:
    protocol = getattr(fs, "protocol", ())
    return {protocol} if isinstance(protocol, str) else set(protocol)


def _raise_unreachable(results: Iterable[bytes | Exception], source: str) -> None:
    """StoreError when nothing came back and something else than 'not found' failed."""
    results = list(results)
    if any(isinstance(r, (bytes, bytearray)) for r in results):
        return
    for result in results:
        if isinstance(result, FileNotFoundError):
            continue
        if isinstance(result, BaseException):
            status = getattr(result, "status", None)
            if isinstance(result, PermissionError) or status in (401, 403):
                raise StoreError(
                    f"access to {source} was denied ({_one_line(result, True)}); "
                    "the store is private or the URL is wrong"
                )
            if isinstance(status, int):
                message = f"{source} answered HTTP {status} ({_one_line(result, True)})"
                raise StoreError(message)
            raise StoreError(f"cannot reach {source} ({_one_line(result, True)})")


def _unwrap_fs(fs: Any) -> Any:
    try:
        from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper
    except ImportError:  # pragma: no cover - older fsspec
        return fs
    while isinstance(fs, AsyncFileSystemWrapper):
        fs = fs.sync_fs
    return fs


def _inspect_fs(fs: Any, path: str, source: str) -> StoreSummary:
    from fsspec.implementations.local import LocalFileSystem

    fs = _unwrap_fs(fs)
    if isinstance(fs, LocalFileSystem):
        return _inspect_path(path, source)
    if _protocols(fs) & {"http", "https"}:
        return _inspect_http(fs, path, source)
    kind = "fsspec " + "/".join(sorted(_protocols(fs)))
    root = fs._strip_protocol(path).rstrip("/") if path else ""

    def join(key: str) -> str:
        return f"{root}/{key}" if root else key

    try:
        first = _fetch_many(fs, [join(m) for m in ROOT_MARKERS])
    except Exception as error:  # noqa: BLE001 - the filesystem's own errors
        raise StoreError(f"cannot reach {source} ({_one_line(error, True)})") from None
    _raise_unreachable(first, source)
    already = {m: r for m, r in zip(ROOT_MARKERS, first) if isinstance(r, bytes)}
    if not already:
        try:
            exists = _fs_call(fs, "exists", root)
        except Exception:  # noqa: BLE001
            exists = True
        if not exists:
            raise StoreError(f"{source} does not exist")
        raise _not_zarr(source)
    try:
        listing = _fs_call(fs, "find", root, detail=True)
    except Exception as error:  # noqa: BLE001
        raise StoreError(f"cannot list {source} ({_one_line(error, True)})") from None
    start = len(root) + 1 if root else 0
    items = []
    for name, info in listing.items():
        if info.get("type") == "directory":
            continue
        name = name.lstrip("/") if not root else name
        key = name[start:] if root else name
        if not key or key.endswith("/"):
            continue
        items.append((key, int(info.get("size") or 0)))

    def read(keys: list[str]) -> list[bytes | Exception]:
        try:
            return _fetch_many(fs, [join(k) for k in keys])
        except Exception as error:  # noqa: BLE001
            message = f"cannot read the metadata of {source} ({_one_line(error, True)})"
            raise StoreError(message) from None

    return _summary_from_keys(
        source=source, kind=kind, items=items, read=read, already=already
    )


# --------------------------------------------------------------------------
# HTTP: no listing; read the metadata, compute the counts
# --------------------------------------------------------------------------


def _inspect_http(fs: Any, url: str, source: str) -> StoreSummary:
    base = url.rstrip("/")
    n_requests = 0

    def fetch(keys: list[str]) -> dict[str, bytes | Exception]:
        nonlocal n_requests
        n_requests += len(keys)
        try:
            results = _fetch_many(fs, [f"{base}/{key}" for key in keys])
        except Exception as error:  # noqa: BLE001 - e.g. a timeout
            message = f"cannot reach {source} ({_one_line(error, True)})"
            raise StoreError(message) from None
        return dict(zip(keys, results))

    metadata = _Metadata()
    present: set[str] = set()  # metadata keys known to exist

    def take(results: Mapping[str, bytes | Exception], required: bool = False) -> None:
        for key, value in results.items():
            if isinstance(value, bytes):
                present.add(key)
                metadata.add_raw(key, value)
            elif required and isinstance(value, FileNotFoundError):
                metadata.notes.append(f"{key}: listed in the multiscales but not found")
            elif required:
                metadata.add_raw(key, value)

    # One round trip: v3 root, v2 consolidated metadata, v2 root attributes.
    first = fetch(["zarr.json", ".zmetadata", ".zattrs"])
    _raise_unreachable(first.values(), source)
    consolidated = False
    if isinstance(first["zarr.json"], bytes):
        take({"zarr.json": first["zarr.json"]})
        root = metadata.docs.get("zarr.json", {})
        inline = root.get("consolidated_metadata")
        inline = inline.get("metadata") if isinstance(inline, Mapping) else None
        if isinstance(inline, Mapping):
            consolidated = True
            for path, doc in inline.items():
                key = f"{str(path).strip('/')}/zarr.json"
                present.add(key)
                metadata.add(key, doc)
        elif root.get("node_type") == "group":
            _, _, paths = _ome(root.get("attributes"))
            if paths:
                take(fetch([f"{p}/zarr.json" for p in paths]), required=True)
    elif isinstance(first[".zmetadata"], bytes):
        try:
            inline = json.loads(first[".zmetadata"]).get("metadata")
        except (ValueError, UnicodeDecodeError, AttributeError):
            inline = None
        if isinstance(inline, Mapping):
            consolidated = True
            present.add(".zmetadata")
            for key, doc in inline.items():
                present.add(str(key))
                metadata.add(str(key), doc)
        else:
            metadata.notes.append(".zmetadata: not valid consolidated metadata")
    if not consolidated and "zarr.json" not in present:
        take({".zattrs": first[".zattrs"]})
        _, _, paths = _ome(metadata.docs.get(".zattrs"))
        if paths:
            results = fetch([".zgroup"] + [f"{p}/.zarray" for p in paths])
            take({".zgroup": results.pop(".zgroup")})
            take(results, required=True)
        else:
            take(fetch([".zgroup", ".zarray"]))
    if not present.intersection(ROOT_MARKERS):
        hint = "nothing found over HTTP: does the URL point at the top of the store?"
        raise _not_zarr(source, hint)

    # Counts from the metadata: every chunk (or shard) of the grid is one object.
    counts = _Counts()
    for key in sorted(present, key=_natural_key):
        counts.add(key, 0)
    arrays = metadata.arrays()
    n_chunks = 0
    deeper: list[tuple[str, int]] = []
    for path, (info, prefix) in arrays.items():
        n_chunks += math.prod(_grid(info))
        levels = _chunk_levels(info, prefix)
        counts.entries[path] = counts.entries.get(path, 0) + levels[0]
        segments = ([prefix] if prefix else []) + ["0"] * len(info.shape)
        for depth in range(1, len(levels)):
            directory = "/".join(([path] if path else []) + segments[:depth])
            deeper.append((directory, levels[depth]))
    busiest_n, busiest_dir = _busiest([*counts.entries.items(), *deeper])
    ome_version, n_scales, _ = _ome(metadata.root_attributes())
    how = "consolidated metadata" if consolidated else "the metadata documents"
    notes = [
        f"HTTP cannot list objects: counts come from {how} ({n_requests} requests) and "
        "assume every chunk was written; sizes are unknown"
    ]
    if not consolidated:
        notes.append("metadata of intermediate groups is not counted (not read)")
    return StoreSummary(
        source=source,
        kind="http",
        complete=False,
        n_objects=len(present) + n_chunks,
        total_bytes=None,
        n_metadata=len(present),
        n_chunks=n_chunks,
        max_entries_per_directory=busiest_n,
        max_entries_directory=busiest_dir,
        arrays={path: info for path, (info, _) in arrays.items()},
        zarr_format=metadata.root_format(),
        ome_version=ome_version,
        n_scales=n_scales,
        notes=tuple(notes + metadata.notes),
    )


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def _is_url(text: str) -> bool:
    return bool(_URL.match(text)) or "::" in text


def _strip_metadata_name(text: str) -> str:
    """A path or URL that names a metadata file stands for its folder."""
    head, sep, tail = text.rstrip("/").rpartition("/")
    if sep and tail in METADATA_NAMES:
        return head
    return text


def _inspect_path(path: str, source: str) -> StoreSummary:
    try:
        os.stat(path)
    except FileNotFoundError:
        raise StoreError(f"{source} does not exist") from None
    except NotADirectoryError:
        raise StoreError(f"{source} does not exist") from None
    except PermissionError:
        raise StoreError(f"{source} cannot be read (permission denied)") from None
    except OSError as error:
        raise StoreError(f"{source} cannot be read ({_one_line(error)})") from None
    if os.path.isdir(path):
        return _inspect_directory(path, source)
    if os.path.basename(path) in METADATA_NAMES:
        return _inspect_path(os.path.dirname(path) or ".", source)
    if path.lower().endswith(ZIP_SUFFIXES) or zipfile.is_zipfile(path):
        return _inspect_zip_path(path, source)
    raise StoreError(
        f"{source} is a file, not a Zarr store "
        "(give a directory, a .zip / .ozx file or a URL)"
    )


def _inspect_url(url: str, storage_options: Mapping[str, Any]) -> StoreSummary:
    try:
        import fsspec
        from fsspec.core import url_to_fs
    except ImportError:  # pragma: no cover - a course dependency
        raise StoreError("reading URLs needs the fsspec package") from None
    target = _strip_metadata_name(url)
    remote_zip = (
        target.lower().rstrip("/").endswith(ZIP_SUFFIXES)
        and "::" not in target  # "zip::..." chains go through fsspec's zip filesystem
        and not target.startswith("file://")
    )
    if remote_zip:
        try:
            options = {"block_size": ZIP_BLOCK_SIZE, **storage_options}
            with fsspec.open(target, "rb", **options) as file:
                try:
                    zf = zipfile.ZipFile(file)
                except zipfile.BadZipFile as error:
                    message = f"{url} is not a valid zip file ({_one_line(error)})"
                    raise StoreError(message) from None
                with zf:
                    return _summary_from_zipfile(zf, url)
        except StoreError:
            raise
        except FileNotFoundError:
            raise StoreError(f"{url} does not exist") from None
        except Exception as error:  # noqa: BLE001 - whatever the transport raises
            raise StoreError(f"cannot read {url} ({_one_line(error, True)})") from None
    try:
        fs, path = url_to_fs(target, **storage_options)
    except ImportError as error:
        message = f"cannot open {url}: a package is missing ({_one_line(error)})"
        raise StoreError(message) from None
    except Exception as error:  # noqa: BLE001 - unknown protocol, bad options
        raise StoreError(f"cannot open {url} ({_one_line(error, True)})") from None
    return _inspect_fs(fs, path, url)


def _inspect_zarr_object(target: Any) -> StoreSummary | None:
    """zarr stores, groups and arrays; None when ``target`` is none of those."""
    if not type(target).__module__.startswith("zarr"):
        return None
    import zarr.storage as zs

    store, prefix = target, ""
    store_path = getattr(target, "store_path", None)
    if store_path is not None:  # zarr.Group / zarr.Array
        store, prefix = store_path.store, store_path.path
    elif isinstance(target, zs.StorePath):
        store, prefix = target.store, target.path
    prefix = (prefix or "").strip("/")
    while isinstance(store, zs.WrapperStore):
        store = store._store
    if isinstance(store, zs.LocalStore):
        root = os.fspath(store.root)
        path = os.path.join(root, prefix) if prefix else root
        return _inspect_path(path, str(store) + (f"/{prefix}" if prefix else ""))
    if isinstance(store, zs.ZipStore):
        return _inspect_zipstore(store, prefix)
    if isinstance(store, zs.FsspecStore):
        path = store.path.rstrip("/")
        path = f"{path}/{prefix}" if prefix else path
        source = str(store) + (f"/{prefix}" if prefix else "")
        return _inspect_fs(store.fs, path, source)
    if isinstance(store, zs.MemoryStore):
        return _inspect_mapping(store._store_dict, str(store), "memory", prefix)
    from zarr.abc.store import Store

    if isinstance(store, Store):
        return _inspect_generic_store(store, prefix)
    return None


def _inspect_generic_store(store: Any, prefix: str) -> StoreSummary:
    """Any other zarr store: its own list / getsize / get (slower, but it works)."""
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync as zarr_sync

    source = str(store) + (f"/{prefix}" if prefix else "")
    start = len(prefix) + 1 if prefix else 0

    async def listing() -> list[tuple[str, int]]:
        keys = [k async for k in store.list_prefix(f"{prefix}/" if prefix else "")]
        limit = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def size(key: str) -> int:
            async with limit:
                return int(await store.getsize(key))

        sizes = await asyncio.gather(*(size(k) for k in keys))
        return [(k[start:], s) for k, s in zip(keys, sizes)]

    async def fetch(keys: list[str]) -> list[bytes | Exception]:
        prototype = default_buffer_prototype()
        out: list[bytes | Exception] = []
        for key in keys:
            buffer = await store.get(f"{prefix}/{key}" if prefix else key, prototype)
            out.append(FileNotFoundError(key) if buffer is None else buffer.to_bytes())
        return out

    try:
        items = zarr_sync(listing(), timeout=REMOTE_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001
        raise StoreError(f"cannot list {source} ({_one_line(error, True)})") from None
    return _summary_from_keys(
        source=source,
        kind=type(store).__name__,
        items=items,
        read=lambda keys: zarr_sync(fetch(keys), timeout=REMOTE_TIMEOUT_SECONDS),
    )


def inspect_store(
    target: Any, *, storage_options: Mapping[str, Any] | None = None
) -> StoreSummary:
    """Summarise a Zarr / OME-Zarr store (see the module docstring for what it accepts).

    Parameters
    ----------
    target:
        A local directory or ``.zip`` / ``.ozx`` path, an fsspec URL, a zarr
        store / group / array, or a dict of key -> bytes.
    storage_options:
        Passed to fsspec when ``target`` is a URL (e.g. ``{"anon": True}``).

    Raises
    ------
    StoreError
        One readable line: the path does not exist, it is not a Zarr store,
        the zip is corrupt, the URL cannot be reached.
    """
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        if not text:
            raise StoreError("no path given")
        if _is_url(text):
            return _inspect_url(text, storage_options or {})
        return _inspect_path(os.path.expanduser(text), text)
    summary = _inspect_zarr_object(target)
    if summary is not None:
        return summary
    if isinstance(target, Mapping):
        source = f"<{type(target).__name__} of {len(target)} keys>"
        return _inspect_mapping(target, source, "mapping")
    raise TypeError(
        f"cannot inspect a {type(target).__name__}: "
        "give a path, a URL, a zarr store or a dict"
    )
