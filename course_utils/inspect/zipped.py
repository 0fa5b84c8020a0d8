"""Zip files (``.zip`` / ``.ozx``) and zarr's ``ZipStore``.

The central directory lists every entry with its size; only the metadata
entries are read (and the first bytes of a few data entries, to recognise
Git LFS pointers). Duplicate entries (a key written twice) are counted
once, as the last copy, which is the one zarr reads. The archive comment is
shown; a ``.ozx`` (or a zip whose comment is RFC-9's JSON) is checked
against RFC-9's layout (:func:`course_utils.archive.ozx_layout_problems`).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

from course_utils import archive
from course_utils.keys import ROOT_MARKERS

from .assemble import summarise
from .common import MAX_METADATA_BYTES, Listing, StoreError, one_line
from .summary import StoreSummary

__all__ = ["ZIP_BLOCK_SIZE", "ZIP_SUFFIXES", "inspect_zip_path", "inspect_zipstore", "summarise_zipfile"]

#: File name endings read as zip files.
ZIP_SUFFIXES = (".zip", archive.OZX_SUFFIX)
#: Read size for a remote zip: its end, central directory and metadata entries.
ZIP_BLOCK_SIZE = 64 * 1024

#: What reading a damaged zip can raise.
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


def _comment_text(comment: bytes) -> str:
    return comment.decode("utf-8", errors="replace").replace("\0", "\\0")


def _zip64_at_end(path: str | None) -> bool | None:
    if path is None:
        return None
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            file.seek(max(0, size - (1 << 16) - 42))
            tail = file.read()
    except OSError:
        return None
    end = tail.rfind(b"PK\x05\x06")
    return end >= 20 and tail[end - 20 : end - 16] == b"PK\x06\x07"


def summarise_zipfile(
    zf: zipfile.ZipFile,
    source: str,
    prefix: str | None = None,
    path: str | None = None,
    *,
    remote: bool = False,
) -> StoreSummary:
    """Summarise the store in an open zip file (at its top, or in the folder ``prefix``).

    ``path`` (a local file) lets the ZIP64 end records be checked for
    ``.ozx``. A ``remote`` zip (read by range requests) is not peeked at
    for Git LFS pointers: each peek would cost a request.
    """
    try:
        infos = zf.infolist()
    except _ZIP_ERRORS as error:
        message = f"{source} is not a readable zip file ({one_line(error)})"
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
    comment = zf.comment or b""
    is_ozx = source.lower().rstrip("/").endswith(archive.OZX_SUFFIX) or comment.lstrip().startswith(b"{")
    if is_ozx and not prefix:
        names = [info.filename for info in infos if not info.filename.endswith("/")]
        compressed = [i.filename for i in infos if i.compress_type != zipfile.ZIP_STORED]
        problems = archive.ozx_layout_problems(
            names, comment=comment, compressed=compressed, zip64=_zip64_at_end(path),
        )
        notes.extend(f"RFC-9 (.ozx, a proposal under review): {problem}" for problem in problems)

    items = [
        (name[len(prefix) :], info.file_size)
        for name, info in last.items()
        if name.startswith(prefix) and len(name) > len(prefix)
    ]

    def read_limited(key: str, limit: int) -> bytes:
        info = last[prefix + key]
        try:
            with zf.open(info) as entry:
                return entry.read(limit)
        except _ZIP_ERRORS as error:
            message = f"{source} is a corrupt zip file ({one_line(error)})"
            raise StoreError(message) from None

    def read(keys: list[str]) -> list[bytes | Exception]:
        return [read_limited(key, MAX_METADATA_BYTES + 1) for key in keys]

    def peek(keys: list[str]) -> list[bytes]:
        return [read_limited(key, 100) for key in keys]

    return summarise(
        Listing.from_keys(items),
        read,
        source=source,
        kind="zip",
        notes=notes,
        duplicate_entries=duplicates,
        archive_comment=_comment_text(comment),
        peek=None if remote else peek,
    )


def inspect_zip_path(path: str, source: str, prefix: str | None = None) -> StoreSummary:
    """Summarise the zip file at the local ``path``."""
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as error:
        message = f"{source} is not a valid zip file ({one_line(error)})"
        raise StoreError(message) from None
    with zf:
        return summarise_zipfile(zf, source, prefix, path=path)


def inspect_zipstore(store: Any, prefix: str) -> StoreSummary:
    """Summarise a :class:`zarr.storage.ZipStore` (open for writing, or on disk)."""
    source = str(store) + (f"/{prefix}" if prefix else "")
    zf = getattr(store, "_zf", None)
    if getattr(store, "_is_open", False) and zf is not None and zf.fp is not None:
        # Still open (maybe for writing: no central directory on disk yet).
        with store._lock:
            return summarise_zipfile(zf, source, prefix or None)
    path = os.fspath(store.path)
    if not os.path.exists(path):
        raise StoreError(f"{path} does not exist")
    return inspect_zip_path(path, source, prefix or None)
