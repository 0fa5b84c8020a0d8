"""Zip files (``.zip`` / ``.ozx``) and zarr's ``ZipStore``.

The central directory lists every entry with its size; only the metadata
entries are read. Duplicate entries (a key written twice) are counted once,
as the last copy, which is the one zarr reads.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

from course_utils.keys import ROOT_MARKERS

from .counts import _summary_from_keys
from .summary import StoreError, StoreSummary, _one_line

#: File name endings read as zip files.
ZIP_SUFFIXES = (".zip", ".ozx")
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
