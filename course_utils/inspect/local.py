"""Local paths: a directory walk, then one ``stat`` per file.

``os.scandir`` lists the tree without ``stat`` calls; the sizes then come from
one ``lstat`` per file, shared between forked processes for big trees (Linux).
A path to a zip file or to a metadata document is handed on accordingly.
"""

from __future__ import annotations

import os
import sys
import warnings
import zipfile

from course_utils.keys import METADATA_NAMES, ROOT_MARKERS
from course_utils.keys import natural_key as _natural_key

from .counts import _Counts, _summary
from .metadata import _Metadata, _wanted
from .summary import StoreError, StoreSummary, _not_zarr, _one_line
from .zipped import ZIP_SUFFIXES, _inspect_zip_path

#: Local directories with at least this many files get their sizes from
#: several forked processes (Linux only): one ``stat`` per file is what costs.
PARALLEL_STAT_MIN_FILES = 20_000
#: At most this many processes (the caller included) ``stat`` in parallel.
MAX_STAT_PROCESSES = 4

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
            for name in set(METADATA_NAMES).intersection(names):
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
