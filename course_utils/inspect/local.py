"""Local paths: a directory walk, then one ``stat`` per file.

``os.scandir`` lists the tree without ``stat`` calls (the directory entries
say which are directories); the sizes then come from one ``lstat`` per file,
relative to an open directory. For big trees a small thread pool shares the
``lstat`` calls: each call releases the GIL while the kernel works, so the
calls of several threads can overlap. ``bench/bench_inspect.py`` measures
this against ``find``, against one thread, and against the forked
processes an earlier version used (no faster, and much more code).

A path to a zip file or to a metadata document is handed on accordingly.
"""

from __future__ import annotations

import os
import zipfile
from concurrent.futures import ThreadPoolExecutor

from course_utils.keys import METADATA_NAMES, ROOT_MARKERS

from .assemble import summarise
from .common import MAX_METADATA_BYTES, Listing, StoreError, not_a_store, one_line
from .formats import N5_ATTRIBUTES
from .summary import StoreSummary
from .zipped import ZIP_SUFFIXES, inspect_zip_path

__all__ = [
    "PARALLEL_STAT_MIN_FILES",
    "STAT_THREADS",
    "Directories",
    "directory_sizes",
    "inspect_path",
    "sizes_of",
    "split_directories",
    "walk",
]

#: Directories with at least this many files get their sizes from a thread pool.
PARALLEL_STAT_MIN_FILES = 20_000
#: Threads that share the ``lstat`` calls of a big directory tree.
STAT_THREADS = 4
#: Files whose names mark the top of a store this module can describe.
_TOP_MARKERS = (*ROOT_MARKERS, N5_ATTRIBUTES)

#: (absolute path, path relative to the store's top, names of the files directly inside).
Directories = list[tuple[str, str, list[str]]]


def walk(root: str) -> tuple[Listing, Directories]:
    """List a directory tree without ``stat`` calls.

    Returns the listing (files by directory, the busiest directory; no
    sizes yet) and the directories that hold files, for :func:`directory_sizes`.
    """
    scandir = os.scandir
    stack: list[tuple[str, str]] = [(root, "")]
    listing = Listing()
    dirs: Directories = []
    best_n, best_dir = -1, ""
    while stack:
        path, rel = stack.pop()
        try:
            iterator = scandir(path)
        except OSError as error:
            listing.notes.append(f"{rel or '(root)'} could not be listed ({one_line(error)})")
            continue
        names: list[str] = []
        append = names.append
        n_sub = 0
        with iterator:
            for entry in iterator:
                if entry.is_dir(follow_symlinks=False):
                    n_sub += 1
                    stack.append((entry.path, f"{rel}/{entry.name}" if rel else entry.name))
                else:
                    append(entry.name)
        n = len(names) + n_sub
        if n > best_n or (n == best_n and rel < best_dir):
            best_n, best_dir = n, rel
        if names:
            listing.files[rel] = names
            dirs.append((path, rel, names))
    listing.busiest, listing.busiest_directory = max(best_n, 0), best_dir
    return listing, dirs


def sizes_of(part: Directories) -> list[tuple[str, int]]:
    """Total ``lstat`` size of each directory's files; relative to an open directory where the OS allows."""
    out = []
    stat = os.stat
    by_fd = stat in os.supports_dir_fd
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    for path, rel, names in part:
        total = 0
        if by_fd:
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
            for name in names:
                try:
                    total += stat(os.path.join(path, name), follow_symlinks=False).st_size
                except OSError:
                    pass
        out.append((rel, total))
    return out


def split_directories(dirs: Directories, n_parts: int) -> list[Directories]:
    """``dirs`` cut into about ``n_parts`` runs of about the same number of files."""
    n_files = sum(len(names) for _, _, names in dirs)
    per_part = max(-(-n_files // n_parts), 1)
    parts: list[Directories] = [[]]
    room = per_part
    for path, rel, names in dirs:
        start = 0
        while start < len(names):
            if room == 0:
                parts.append([])
                room = per_part
            take = min(room, len(names) - start)
            parts[-1].append((path, rel, names[start : start + take]))
            start += take
            room -= take
    return [part for part in parts if part]


def directory_sizes(dirs: Directories, threads: int | None = None) -> dict[str, int]:
    """Bytes of the files in each directory (by relative path).

    With at least :data:`PARALLEL_STAT_MIN_FILES` files, ``threads``
    (default :data:`STAT_THREADS`) threads share the ``lstat`` calls.
    """
    n_files = sum(len(names) for _, _, names in dirs)
    threads = STAT_THREADS if threads is None else threads
    if n_files < PARALLEL_STAT_MIN_FILES or threads < 2:
        results = [sizes_of(dirs)]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="inspect-stat") as pool:
            results = list(pool.map(sizes_of, split_directories(dirs, threads * 4)))
    sizes: dict[str, int] = {}
    for result in results:
        for rel, total in result:
            sizes[rel] = sizes.get(rel, 0) + total
    return sizes


def _directory_hint(root: str) -> str:
    """Point at Zarr stores just below ``root``, if there are any."""
    found = []
    try:
        with os.scandir(root) as iterator:
            for i, entry in enumerate(iterator):
                if i > 500 or len(found) == 3:
                    break
                if entry.is_dir() and (
                    entry.name.endswith((".zarr", ".n5"))
                    or any(os.path.exists(os.path.join(entry.path, m)) for m in _TOP_MARKERS)
                ):
                    found.append(entry.name)
    except OSError:
        return ""
    if not found:
        return ""
    candidates = " or ".join(os.path.join(root, name) for name in sorted(found))
    return f"did you mean {candidates}?"


def _reader(root: str, limit: int):
    def read(keys: list[str]) -> list[bytes | Exception]:
        out: list[bytes | Exception] = []
        for key in keys:
            try:
                with open(os.path.join(root, key), "rb") as file:
                    out.append(file.read(limit))
            except OSError as error:
                out.append(error)
        return out

    return read


def _peek(root: str):
    read = _reader(root, 100)

    def peek(keys: list[str]) -> list[bytes]:
        return [b"" if isinstance(r, Exception) else r for r in read(keys)]

    return peek


def _n5_below(root: str) -> bool:
    """Whether an N5 ``attributes.json`` lies one or two folders below ``root`` (looks at a few only).

    tensorstore writes N5 datasets without an ``attributes.json`` in the
    container's top folder.
    """
    def subdirs(path: str, limit: int) -> list[str]:
        try:
            with os.scandir(path) as iterator:
                return [e.path for _, e in zip(range(limit), iterator) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return []

    for child in subdirs(root, 50):
        if os.path.isfile(os.path.join(child, N5_ATTRIBUTES)):
            return True
        if any(os.path.isfile(os.path.join(g, N5_ATTRIBUTES)) for g in subdirs(child, 20)):
            return True
    return False


def _inspect_directory(root: str, source: str) -> StoreSummary:
    n5 = False
    if not any(os.path.isfile(os.path.join(root, m)) for m in _TOP_MARKERS):
        n5 = root.rstrip(os.sep).lower().endswith(".n5") or _n5_below(root)
        if not n5:
            raise not_a_store(source, _directory_hint(root))
    listing, dirs = walk(root)
    listing.sizes = directory_sizes(dirs)
    return summarise(
        listing,
        _reader(root, MAX_METADATA_BYTES + 1),
        source=source,
        kind="directory",
        peek=_peek(root),
        n5=n5,
    )


def inspect_path(path: str, source: str) -> StoreSummary:
    """Summarise the local directory, zip file or metadata document at ``path``."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise StoreError(f"{source} does not exist") from None
    except PermissionError:
        raise StoreError(f"{source} cannot be read (permission denied)") from None
    except (OSError, ValueError) as error:
        raise StoreError(f"{source} cannot be read ({one_line(error)})") from None
    if os.path.isdir(path):
        return _inspect_directory(path, source)
    if os.path.basename(path) in (*METADATA_NAMES, N5_ATTRIBUTES):
        return inspect_path(os.path.dirname(path) or ".", source)
    if path.lower().endswith(ZIP_SUFFIXES) or zipfile.is_zipfile(path):
        return inspect_zip_path(path, source)
    raise StoreError(
        f"{source} is a file, not a Zarr store "
        "(give a directory, a .zip / .ozx file or a URL)"
    )
