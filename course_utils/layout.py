"""How a directory store sits on a file system, measured.

Notebook 02 asks what a Zarr directory store costs the file system holding
it: how many files and directories it makes, how many entries its fullest
directory holds (the chunk key separator decides that), how long listing a
directory takes as it fills up, how many inodes are left, and whether
several processes can fill one array at the same time. This module holds
those measurements so the lesson's cells stay short:

* :func:`count_files`, :func:`file_keys`, :func:`entries_per_directory`,
  :func:`files_per_directory`, :func:`busiest_directory`,
  :func:`allocated_bytes` and :func:`describe` look at a directory tree;
* :func:`fill_directory` and :func:`stat_all` build and list a directory of
  ``n`` empty files, for timing listings as entries grow;
* :func:`inode_usage` reads the file system's inode counts;
* :func:`chunk_aligned_slabs` and :func:`copy_region` split an array into
  regions that never share a chunk and let separate processes write them
  (the notebook shows the same cut in a few visible lines; this is its
  tested twin).

What a reader fetches from a store is recorded by
:class:`course_utils.store_reads.RecordingStore`.

Paths are reported relative to the root, with ``/`` separators, ``""``
for the root itself.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


__all__ = [
    "InodeUsage",
    "LayoutSummary",
    "WriterReport",
    "allocated_bytes",
    "busiest_directory",
    "chunk_aligned_slabs",
    "copy_region",
    "count_files",
    "describe",
    "entries_per_directory",
    "file_keys",
    "files_per_directory",
    "fill_directory",
    "inode_usage",
    "stat_all",
]


def _require_directory(root: str | os.PathLike) -> Path:
    path = Path(root)
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a directory")
    return path


def _walk(root: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """``(relative directory, subdirectories, files)`` for every directory under ``root``."""
    for current, dirs, files in os.walk(root):
        relative = Path(current).relative_to(root).as_posix()
        yield ("" if relative == "." else relative), dirs, files


def count_files(root: str | os.PathLike) -> int:
    """Number of files anywhere under the directory ``root``."""
    return sum(len(files) for _, _, files in _walk(_require_directory(root)))


def file_keys(root: str | os.PathLike) -> set[str]:
    """Every file under ``root`` as a store key: its path relative to ``root``, ``/``-separated."""
    return {
        f"{rel}/{name}" if rel else name
        for rel, _, files in _walk(_require_directory(root))
        for name in files
    }


def entries_per_directory(root: str | os.PathLike) -> dict[str, int]:
    """Entries (files and subdirectories, as ``ls`` counts them) of every directory under ``root``.

    Keys are directories relative to ``root`` (``""`` is ``root`` itself).
    """
    return {rel: len(dirs) + len(files) for rel, dirs, files in _walk(_require_directory(root))}


def files_per_directory(root: str | os.PathLike) -> dict[str, int]:
    """Files (not counting subdirectories) of every directory under ``root``."""
    return {rel: len(files) for rel, _, files in _walk(_require_directory(root))}


def busiest_directory(root: str | os.PathLike) -> tuple[str, int]:
    """The directory under ``root`` holding the most entries, and how many.

    Ties go to the first directory in sorted order, so the answer is stable.
    """
    entries = entries_per_directory(root)
    name = min(entries, key=lambda rel: (-entries[rel], rel))
    return name, entries[name]


def allocated_bytes(root: str | os.PathLike) -> int:
    """Disk space the file or directory tree ``root`` really occupies, in bytes.

    Counts whole allocated blocks (``st_blocks``), so it is larger than the
    data when there are many small files. Directories themselves are
    counted too: a directory with many entries takes blocks of its own.
    """
    path = Path(root)
    if path.is_file():
        return path.stat().st_blocks * 512
    total = 0
    for current, _, files in os.walk(_require_directory(path)):
        total += os.stat(current).st_blocks * 512
        total += sum(os.stat(os.path.join(current, f)).st_blocks * 512 for f in files)
    return total


@dataclass(frozen=True)
class LayoutSummary:
    """A directory tree at a glance: what the file system has to keep track of."""

    files: int
    directories: int
    busiest_directory: str
    busiest_entries: int

    def __str__(self) -> str:
        where = self.busiest_directory or "(top)"
        directories = "directory" if self.directories == 1 else "directories"
        return (
            f"{self.files:,} files in {self.directories:,} {directories}; "
            f"fullest directory {where!r} holds {self.busiest_entries:,} entries"
        )


def describe(root: str | os.PathLike) -> LayoutSummary:
    """Files, directories and the fullest directory of the tree ``root``."""
    entries = entries_per_directory(root)
    name = min(entries, key=lambda rel: (-entries[rel], rel))
    return LayoutSummary(
        files=count_files(root),
        directories=len(entries),
        busiest_directory=name,
        busiest_entries=entries[name],
    )


# --------------------------------------------------------------------------
# Listing cost
# --------------------------------------------------------------------------


def fill_directory(directory: str | os.PathLike, n: int) -> Path:
    """Make ``directory`` hold exactly ``n`` entries (``0000000`` ...) and nothing else.

    The first entry is an empty file, the others are hard links to it: to
    anything that lists the directory a link is an entry like any other,
    and it is many times quicker to make than a new file (no new inode).
    When a file has as many links as the file system allows, the next
    entry is a new file and links continue from it; where hard links are
    not supported at all, every entry is a new empty file.
    An existing ``directory`` is removed first, so this is safe to call
    twice. Returns its path.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    path = Path(directory)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    width = max(7, len(str(n)))
    target: Path | None = None
    links = True
    for i in range(n):
        name = path / f"{i:0{width}d}"
        if target is not None and links:
            try:
                os.link(target, name)
                continue
            except OSError as error:
                # EMLINK: the target has as many links as it may; start a new one.
                links = error.errno == errno.EMLINK
        name.touch()
        target = name
    return path


def stat_all(directory: str | os.PathLike) -> int:
    """List ``directory`` and ``stat`` every entry, as ``ls -l`` or a file browser does.

    Returns the number of entries.
    """
    count = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            entry.stat(follow_symlinks=False)
            count += 1
    return count


class InodeUsage(NamedTuple):
    """Inodes (one per file or directory) of a file system: how many in all, how many free."""

    total: int
    free: int


def inode_usage(path: str | os.PathLike = ".") -> InodeUsage | None:
    """Inode counts of the file system holding ``path``, or None where it does not report them.

    Some file systems (btrfs, many network and overlay mounts, Windows)
    allocate inodes on demand and report 0; then there is no fixed limit to show.
    """
    if not hasattr(os, "statvfs"):
        return None
    stats = os.statvfs(path)
    if stats.f_files == 0:
        return None
    return InodeUsage(total=stats.f_files, free=stats.f_ffree)


# --------------------------------------------------------------------------
# Parallel writers
# --------------------------------------------------------------------------


def chunk_aligned_slabs(
    shape: tuple[int, ...], chunks: tuple[int, ...], n: int, axis: int = 0
) -> list[tuple[slice, ...]]:
    """Split an array into at most ``n`` slabs along ``axis``, cut on chunk boundaries.

    Every chunk lies in exactly one slab, so writers given different slabs
    never touch the same chunk file. Slabs differ in size by at most one
    chunk; the last one ends at the array's edge (a partial chunk there
    belongs to it alone). Never more slabs than chunks along ``axis``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if len(shape) != len(chunks) or not shape:
        raise ValueError(f"shape {shape} and chunks {chunks} must have the same, non-zero length")
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of range for an array of {len(shape)} dimensions")
    axis %= len(shape)
    n_chunks = math.ceil(shape[axis] / chunks[axis])
    n = min(n, n_chunks)
    slabs = []
    for i in range(n):
        first, last = i * n_chunks // n, (i + 1) * n_chunks // n
        start, stop = first * chunks[axis], min(last * chunks[axis], shape[axis])
        region = [slice(0, size) for size in shape]
        region[axis] = slice(start, stop)
        slabs.append(tuple(region))
    return slabs


@dataclass(frozen=True)
class WriterReport:
    """What one writer process did: its process id, region, chunk keys written and time taken."""

    pid: int
    region: tuple[slice, ...]
    chunk_keys: frozenset[str]
    seconds: float

    def __str__(self) -> str:
        span = ", ".join(f"{s.start}:{s.stop}" for s in self.region)
        return (
            f"process {self.pid}: wrote [{span}] as {len(self.chunk_keys):,} chunk files "
            f"in {self.seconds:.2f} s"
        )


def _chunk_keys(array, region: tuple[slice, ...]) -> frozenset[str]:
    """Keys of the chunks of ``array`` that ``region`` covers."""
    import itertools

    ranges = [
        range(s.start // c, math.ceil(s.stop / c))
        for s, c in zip(region, array.chunks)
    ]
    return frozenset(
        array.metadata.encode_chunk_key(coords) for coords in itertools.product(*ranges)
    )


def copy_region(source: str, target: str, region: tuple[slice, ...]) -> WriterReport:
    """Read ``region`` of the Zarr array at ``source`` and write it into the array at ``target``.

    Meant to run in a worker process (it is importable, so any
    multiprocessing start method can send it): each worker opens the
    target directory store on its own and writes its own chunk files. The
    target array must exist already, in a local directory. Returns a
    :class:`WriterReport` whose ``chunk_keys`` are the chunk files of
    ``region`` now on disk (Zarr writes no file for a chunk that holds only
    the fill value); ``region`` should be chunk-aligned (see
    :func:`chunk_aligned_slabs`), or other writers' chunks are touched too.
    """
    import zarr

    start = time.perf_counter()
    values = zarr.open_array(source, mode="r")[region]
    array = zarr.open_array(target, mode="r+")
    array[region] = values
    seconds = time.perf_counter() - start
    written = {key for key in _chunk_keys(array, tuple(region)) if os.path.isfile(os.path.join(target, key))}
    return WriterReport(
        pid=os.getpid(), region=tuple(region), chunk_keys=frozenset(written), seconds=seconds
    )
