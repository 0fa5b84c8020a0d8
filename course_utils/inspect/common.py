"""The internal API the modules of :mod:`course_utils.inspect` share.

Every name here is public within the package: the backends (``local``,
``zipped``, ``remote``, ``stores``) and the readers (``formats``, ``ome``,
``assemble``) import them instead of each other's private helpers.

* :class:`StoreError` and the helpers that keep its message to one line
  (:func:`one_line`, :func:`not_a_store`);
* the bounds that keep a broken or hostile store from exhausting memory or
  time (:data:`MAX_METADATA_BYTES`, :data:`MAX_METADATA_DOCUMENTS`,
  :data:`MAX_DIMENSIONS`, :data:`MAX_NESTING`);
* :func:`parse_json`, which turns raw bytes into a JSON document or one line
  saying what is wrong with them (Git LFS pointers included);
* :class:`Listing`, the files of a store grouped by directory, and the
  :data:`Reader` type of the function that fetches metadata documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LFS_POINTER_PREFIX",
    "MAX_DIMENSIONS",
    "MAX_NESTING",
    "MAX_METADATA_BYTES",
    "MAX_METADATA_DOCUMENTS",
    "Listing",
    "Reader",
    "StoreError",
    "is_lfs_pointer",
    "not_a_store",
    "one_line",
    "parse_json",
]


class StoreError(ValueError):
    """The target cannot be inspected; the message says why in one line."""


#: A metadata document larger than this is not read (a real one is kilobytes;
#: consolidated metadata of a big plate a few megabytes).
MAX_METADATA_BYTES = 64 * 1024 * 1024
#: At most this many metadata documents are read from one store.
MAX_METADATA_DOCUMENTS = 20_000
#: Arrays with more dimensions than this are reported as unreadable.
MAX_DIMENSIONS = 64
#: Nested values (codecs inside codecs) are followed at most this deep.
MAX_NESTING = 8

#: How every Git LFS pointer file starts (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/"


def one_line(error: BaseException, with_type: bool = False) -> str:
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


def not_a_store(what: str, hint: str = "") -> StoreError:
    """The error for a target that holds no Zarr (or N5) store at its top."""
    return StoreError(
        f"{what} is not a Zarr store: no zarr.json, .zgroup or .zarray "
        "(nor N5's attributes.json) at its top level"
        + (f" ({hint})" if hint else "")
    )


def is_lfs_pointer(raw: bytes) -> bool:
    """Whether ``raw`` is a Git LFS pointer file (the file itself was never fetched)."""
    return raw.startswith(LFS_POINTER_PREFIX)


def parse_json(raw: bytes) -> tuple[Any, str | None]:
    """``(document, None)``, or ``(None, what is wrong)`` in a few words.

    Refuses documents over :data:`MAX_METADATA_BYTES`, Git LFS pointers,
    bytes that are not UTF-8 JSON, and JSON nested too deeply for the
    parser (it raises ``RecursionError`` instead of exhausting the stack).
    """
    if len(raw) > MAX_METADATA_BYTES:
        return None, f"too large to be metadata ({len(raw):,} bytes)"
    if is_lfs_pointer(raw):
        return None, "a Git LFS pointer file: the data was never fetched (run git lfs pull)"
    try:
        return json.loads(raw), None
    except RecursionError:
        return None, "JSON nested too deeply to read"
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except ValueError as error:
        if not raw.strip():
            return None, "empty"
        return None, f"not valid JSON ({one_line(error)})"


#: Fetches metadata documents by key: bytes, or the exception reading raised.
Reader = Callable[[list[str]], list["bytes | Exception"]]


@dataclass
class Listing:
    """The files of a store, grouped by directory (key prefix).

    ``files`` maps each directory (``""`` for the top, ``"a/b"`` below it)
    to the names of the files directly in it; ``sizes`` maps it to their
    total bytes (absent when sizes are unknown). ``busiest`` is the largest
    number of entries (files and subdirectories) in one directory, and
    ``busiest_directory`` that directory.
    """

    files: dict[str, list[str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    busiest: int = 0
    busiest_directory: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def n_files(self) -> int:
        """How many files the listing holds."""
        return sum(len(names) for names in self.files.values())

    @property
    def total_bytes(self) -> int:
        """Total size of the files."""
        return sum(self.sizes.values())

    @classmethod
    def from_keys(cls, items: Iterable[tuple[str, int]]) -> Listing:
        """A listing of flat ``(key, size)`` pairs, e.g. from a zip or a bucket."""
        listing = cls()
        files = listing.files
        sizes = listing.sizes
        entries: dict[str, int] = {}
        seen_dirs: set[str] = set()
        for key, size in items:
            parent, _, name = key.rpartition("/")
            names = files.get(parent)
            if names is None:
                names = files[parent] = []
            names.append(name)
            sizes[parent] = sizes.get(parent, 0) + size
            entries[parent] = entries.get(parent, 0) + 1
            while parent and parent not in seen_dirs:
                seen_dirs.add(parent)
                parent = parent.rpartition("/")[0]
                entries[parent] = entries.get(parent, 0) + 1
        best_n, best_dir = 0, ""
        for path, n in entries.items():
            if n > best_n or (n == best_n and path < best_dir):
                best_n, best_dir = n, path
        listing.busiest, listing.busiest_directory = best_n, best_dir
        return listing
