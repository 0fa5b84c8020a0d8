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

One job per module (each docstring says more):

* :mod:`.summary`: :class:`StoreSummary`, :class:`ArrayInfo`, :class:`StoreError`;
* :mod:`.metadata`: parsing Zarr v2 / v3 array metadata and OME attributes;
* :mod:`.counts`: counting a key listing (or the chunk grids) into a summary;
* :mod:`.local`: local directories (walk, then a forked parallel ``stat``);
* :mod:`.zipped`: ``.zip`` / ``.ozx`` files and zarr's ``ZipStore``;
* :mod:`.remote`: fsspec URLs and filesystems, and the HTTP metadata-only walk;
* :mod:`.stores`: zarr store / group / array objects and plain mappings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from course_utils.keys import METADATA_NAMES

from .local import _inspect_path
from .remote import _inspect_url
from .stores import _inspect_mapping, _inspect_zarr_object
from .summary import ArrayInfo, StoreError, StoreSummary, format_bytes

__all__ = [
    "METADATA_NAMES",
    "ArrayInfo",
    "StoreError",
    "StoreSummary",
    "format_bytes",
    "inspect_store",
]


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def _is_url(text: str) -> bool:
    return bool(_URL.match(text)) or "::" in text


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
