"""The keys of a Zarr store: which name metadata documents, and their natural order.

One home for what several modules need to know about keys: the names of
Zarr's metadata documents (v3 ``zarr.json``; v2 ``.zgroup``, ``.zarray``,
``.zattrs`` and consolidated ``.zmetadata``), the ones that mark a store's
root, and a sort key that puts ``c/2`` before ``c/10``.
"""

from __future__ import annotations

import re

__all__ = ["METADATA_NAMES", "ROOT_MARKERS", "is_metadata", "natural_key"]

#: Last key segments that name Zarr metadata documents, in the order an archive lists them.
METADATA_NAMES = ("zarr.json", ".zgroup", ".zarray", ".zattrs", ".zmetadata")
#: At least one of these must sit at the top of a store for it to be Zarr.
ROOT_MARKERS = ("zarr.json", ".zgroup", ".zarray")

_DIGITS = re.compile(r"(\d+)")


def is_metadata(key: str) -> bool:
    """Whether ``key`` (``"0/.zarray"``, ``"scale0/image/zarr.json"``) names a metadata document."""
    return key.rpartition("/")[2] in METADATA_NAMES


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders the numbers inside ``text`` by value: ``c/2`` before ``c/10``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text))
