"""Describe any Zarr / OME-Zarr store in one table.

:func:`inspect_store` takes whatever a student has at hand and returns a
:class:`StoreSummary`: how many objects the store holds (metadata
documents, chunks, shards, anything else) and how big they are, how many
sit in the busiest directory, and for every array its shape, dtype, chunk
and shard shape, how many of its chunks (or shards) are stored out of how
many the grid allows, its fill value, codecs and chunk key separator; for
OME-Zarr also the version, the scales, and the plates, wells, labels and
bioformats2raw collections it holds.

It reads stores written by any tool: Zarr v2 (every codec, ``.`` and ``/``
separators, consolidated ``.zmetadata``), Zarr v3 with or without sharding
(consolidated metadata in the root ``zarr.json``), the pre-release Zarr v3
draft of zarr-python 2.12-2.18 (named as such), and N5 containers. A
``.ozx`` shows its archive comment and is checked against RFC-9 (a
proposal under review). Git LFS pointer files in place of metadata or
chunks are recognised: the data was never fetched.

It accepts

* a local directory (``str`` or :class:`os.PathLike`), or a local ``.zip`` /
  ``.ozx`` file;
* a zarr-python 3 store (``MemoryStore``, ``LocalStore``, ``ZipStore``,
  ``FsspecStore``, any other), a zarr ``Group`` / ``Array``, or a plain
  ``dict`` of key -> bytes;
* an fsspec URL (``s3://``, ``gs://``, ``memory://``, ``file://``,
  ``zip::...``, ``http(s)://``), with ``storage_options`` passed to fsspec.

It reads the metadata documents, never chunk data, except the first 100
bytes of up to three data objects of a local directory, zip or in-memory
store, to recognise Git LFS pointers. Over HTTP, where objects cannot be
listed, it reads the root metadata (and, for OME-Zarr without consolidated
metadata, each scale's array metadata) and *computes* the object counts
from the chunk grids; the summary then says so (``complete=False``).

Problems a student can cause (missing path, not a Zarr store, corrupt zip,
unreachable URL, unreadable root metadata) raise :class:`StoreError` with
one readable line; broken metadata below the root becomes a note in the
summary. What is read is bounded (:mod:`.common`), so no store can make it
allocate without limit or hang.

The package's modules, one job each, share a small internal API: the
public names of each module (listed in its ``__all__``), never private ones.

* :mod:`.summary`: :class:`StoreSummary`, :class:`ArrayInfo`, :func:`format_bytes`;
* :mod:`.common`: :class:`StoreError`, one-line messages, the bounds,
  ``parse_json``, ``Listing`` (files by directory) and the ``Reader`` type;
* :mod:`.metadata`: one array metadata document per format -> ``ArrayInfo``;
* :mod:`.formats`: which format a store is, which keys are its metadata;
* :mod:`.ome`: OME-Zarr images, labels, plates, wells, bioformats2raw;
* :mod:`.assemble`: a listing plus a reader -> :class:`StoreSummary`;
* :mod:`.local`: local directories (walk, then ``lstat`` in a thread pool);
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

from .common import StoreError, one_line
from .local import inspect_path
from .remote import inspect_url
from .stores import inspect_mapping, inspect_zarr_object
from .summary import ArrayInfo, StoreSummary, format_bytes

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
        the zip is corrupt, the URL cannot be reached, the root metadata is
        unreadable. (Should anything else go wrong inside, that too becomes
        a one-line StoreError that says so.)
    TypeError
        ``target`` is none of the things listed above.
    """
    try:
        return _inspect(target, storage_options)
    except (StoreError, _UnsupportedTarget):
        raise
    except Exception as error:  # noqa: BLE001 - a bug here must not show a student a traceback
        raise StoreError(
            f"{_describe(target)} could not be inspected: unexpected {one_line(error, True)} "
            "(a bug in course_utils.inspect; please report it)"
        ) from None


class _UnsupportedTarget(TypeError):
    """``inspect_store`` was given something it cannot inspect at all."""


def _describe(target: Any) -> str:
    if isinstance(target, (str, os.PathLike)):
        return os.fsdecode(os.fspath(target))
    return f"the {type(target).__name__}"


def _inspect(target: Any, storage_options: Mapping[str, Any] | None) -> StoreSummary:
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        if not text:
            raise StoreError("no path given")
        if _is_url(text):
            return inspect_url(text, storage_options or {})
        return inspect_path(os.path.expanduser(text), text)
    summary = inspect_zarr_object(target)
    if summary is not None:
        return summary
    if isinstance(target, Mapping):
        source = f"<{type(target).__name__} of {len(target)} keys>"
        return inspect_mapping(target, source, "mapping")
    raise _UnsupportedTarget(
        f"cannot inspect a {type(target).__name__}: "
        "give a path, a URL, a zarr store or a dict"
    )
