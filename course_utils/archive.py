"""Pack a Zarr directory store into one zip file, and check zip files.

A zip file holds a whole store in one file, which file systems and people
handle much better than thousands of chunk files. But a zip can only grow:
writing a key a second time appends a second entry, and writing a
multiscale pyramid straight into a :class:`zarr.storage.ZipStore` rewrites
its group metadata several times, leaving duplicate entries that different
readers resolve differently. The safe recipe, and the one the single-file
OME-Zarr layout (``.ozx``, OME-NGFF RFC-9) describes, is to write a
directory store first and then pack it:

* :func:`write_zip` packs any Zarr directory store (Zarr v2 or v3);
* :func:`write_ozx` packs an OME-Zarr 0.5 (or later) store as ``.ozx``.

Both write every file exactly once, uncompressed (``ZIP_STORED``: the
chunks are compressed by Zarr already, and stored entries can be read by
byte range), with ZIP64 enabled (archives over 4 GiB or 65,535 entries),
metadata documents first in breadth-first order (so the root ``zarr.json``
is the first entry) and then the chunks. The result is the same bytes every
time for the same store (fixed timestamps).

:func:`verify_zip` reads a zip back and reports duplicate names, the result
of :meth:`zipfile.ZipFile.testzip` (every entry's CRC), compression and
entry order; :func:`check_zip` raises :class:`ArchiveError` when the zip is
not a sound single-copy archive.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_utils.keys import METADATA_NAMES, ROOT_MARKERS, is_metadata, natural_key

__all__ = [
    "ArchiveError",
    "OZX_SUFFIX",
    "ZipReport",
    "archive_order",
    "check_zip",
    "ozx_comment",
    "verify_zip",
    "write_ozx",
    "write_zip",
]

#: The file name ending of a single-file OME-Zarr (RFC-9).
OZX_SUFFIX = ".ozx"
#: Every entry gets this timestamp, so the same store always packs to the same bytes.
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_COPY_BUFFER = 1 << 20
#: Signature of the ZIP64 end of central directory locator.
_ZIP64_LOCATOR = b"PK\x06\x07"


class ArchiveError(ValueError):
    """A store cannot be packed, or a zip is not a sound archive; the message says why in one line."""


# --------------------------------------------------------------------------
# Entry order
# --------------------------------------------------------------------------


def _order_key(key: str) -> tuple[Any, ...]:
    parent, _, name = key.rpartition("/")
    depth = key.count("/")
    if is_metadata(key):
        return (0, depth, natural_key(parent), METADATA_NAMES.index(name))
    return (1, depth, natural_key(parent), natural_key(name))


def archive_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in the order an archive should hold them.

    Metadata documents come first, breadth-first (by depth, then path), so
    the root ``zarr.json`` (or ``.zgroup``) leads; the chunks follow, also
    breadth-first. Numbers in keys sort as numbers (``c/2`` before ``c/10``).
    """
    return sorted(keys, key=_order_key)


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def _store_files(root: Path) -> list[str]:
    """Every file under ``root`` as a store key (relative, ``/``-separated)."""
    keys = []
    for current, dirs, files in os.walk(root):
        dirs.sort()
        relative = Path(current).relative_to(root)
        keys.extend((relative / name).as_posix() for name in files)
    return keys


def _require_store(source: str | os.PathLike) -> Path:
    root = Path(source)
    if not root.is_dir():
        raise ArchiveError(f"{root} is not a directory: pass the folder of a Zarr directory store")
    if not any((root / marker).is_file() for marker in ROOT_MARKERS):
        raise ArchiveError(
            f"{root} is not a Zarr store: it has no zarr.json, .zgroup or .zarray at its top"
        )
    return root


def _write(root: Path, target: Path, comment: bytes) -> Path:
    """Pack ``root`` into ``target`` (replaced atomically); see :func:`write_zip`."""
    target = Path(target)
    if target.resolve().is_relative_to(root.resolve()):
        raise ArchiveError(f"the archive {target} must not be inside the store it packs ({root})")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for key in archive_order(_store_files(root)):
                path = root / key
                info = zipfile.ZipInfo(key, date_time=_FIXED_DATE)
                info.compress_type = zipfile.ZIP_STORED
                info.external_attr = 0o644 << 16  # a plain file, rw-r--r--, when unpacked
                info.file_size = path.stat().st_size  # lets zipfile pick ZIP64 per entry
                with path.open("rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, _COPY_BUFFER)
            zf.comment = comment
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def write_zip(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Pack the Zarr directory store ``source`` into the zip file ``target``.

    Each file becomes one uncompressed entry, metadata first in breadth-first
    order, then chunks (:func:`archive_order`); ZIP64 is enabled. An existing
    ``target`` is replaced, atomically. Read it back with
    ``zarr.storage.ZipStore(target, mode="r")``. Returns the path of the zip.

    Raises :class:`ArchiveError` if ``source`` is not a Zarr directory store
    or ``target`` lies inside it.
    """
    return _write(_require_store(source), Path(target), b"")


def _root_ome_version(root: Path) -> str:
    try:
        doc = json.loads((root / "zarr.json").read_bytes())
    except FileNotFoundError:
        raise ArchiveError(
            f"{root} has no root zarr.json: an .ozx holds OME-Zarr 0.5 or later (Zarr v3); "
            "use write_zip for OME-Zarr 0.4"
        ) from None
    except ValueError:
        raise ArchiveError(f"{root}/zarr.json is not valid JSON") from None
    ome = doc.get("attributes", {}).get("ome") if isinstance(doc, dict) else None
    if not isinstance(ome, dict) or "version" not in ome:
        raise ArchiveError(
            f"{root} is not OME-Zarr 0.5 or later: its root zarr.json has no attributes['ome']['version']"
        )
    return str(ome["version"])


def _all_arrays_sharded(root: Path, keys: Iterable[str]) -> bool:
    found = False
    for key in keys:
        if key.rpartition("/")[2] != "zarr.json":
            continue
        doc = json.loads((root / key).read_bytes())
        if doc.get("node_type") != "array":
            continue
        found = True
        codecs = doc.get("codecs") or []
        if not codecs or codecs[0].get("name") != "sharding_indexed":
            return False
    return found


def ozx_comment(version: str) -> bytes:
    """The archive comment of a recommended-variant ``.ozx``: ``{"ome": {"version": ...}}`` + NUL."""
    return json.dumps({"ome": {"version": version}}, separators=(",", ":")).encode() + b"\0"


def write_ozx(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Pack the OME-Zarr 0.5+ directory store ``source`` into the single-file OME-Zarr ``target``.

    Follows the single-file OME-Zarr layout (OME-NGFF RFC-9): the store's
    root is the zip's root, the root ``zarr.json`` is the first entry and
    the other ``zarr.json`` files follow in breadth-first order, entries are
    uncompressed, ZIP64 is enabled. When every array is sharded as well, the
    archive is the RFC's "recommended variant" and gets its comment
    (:func:`ozx_comment`); otherwise it gets none, as the RFC requires.

    Raises :class:`ArchiveError` if ``target`` does not end in ``.ozx`` or
    ``source`` is not an OME-Zarr 0.5 (or later) directory store.
    """
    target = Path(target)
    if target.suffix != OZX_SUFFIX:
        raise ArchiveError(f"a single-file OME-Zarr is named *{OZX_SUFFIX}, not {target.name}")
    root = _require_store(source)
    version = _root_ome_version(root)
    comment = ozx_comment(version) if _all_arrays_sharded(root, _store_files(root)) else b""
    return _write(root, target, comment)


# --------------------------------------------------------------------------
# Reading back
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipReport:
    """What :func:`verify_zip` found in a zip file.

    ``duplicate_names`` lists each name stored more than once;
    ``n_duplicate_entries`` counts the extra copies. ``bad_entry`` is the
    first entry whose CRC check failed (:meth:`zipfile.ZipFile.testzip`),
    or None. ``compressed`` lists entries not stored uncompressed.
    ``metadata_first`` says every metadata document comes before every
    chunk, in breadth-first order. ``zip64`` says the archive carries ZIP64
    records (written only once it needs them). ``comment`` is the archive comment.
    """

    path: Path
    n_entries: int
    duplicate_names: tuple[str, ...]
    n_duplicate_entries: int
    bad_entry: str | None
    compressed: tuple[str, ...]
    first_entry: str | None
    metadata_first: bool
    zip64: bool
    comment: bytes

    @property
    def ok(self) -> bool:
        """True when every name is stored once and every entry passes its CRC check."""
        return not self.duplicate_names and self.bad_entry is None

    def ozx_problems(self) -> list[str]:
        """How this zip departs from the single-file OME-Zarr layout (empty: it follows it)."""
        problems = []
        if self.first_entry != "zarr.json":
            problems.append(f"the first entry is {self.first_entry!r}, not the root zarr.json")
        if not self.metadata_first:
            problems.append("the zarr.json files do not all come first in breadth-first order")
        if self.compressed:
            problems.append(f"{len(self.compressed)} entries are compressed by the zip")
        if self.duplicate_names:
            problems.append(f"{len(self.duplicate_names)} names are stored more than once")
        if self.bad_entry is not None:
            problems.append(f"entry {self.bad_entry!r} fails its CRC check")
        return problems

    def __str__(self) -> str:
        lines = [
            f"{self.path.name}: {self.n_entries:,} entries, first {self.first_entry!r}",
            f"  duplicate names:   {len(self.duplicate_names)}"
            + (f" ({self.n_duplicate_entries} extra copies, e.g. {self.duplicate_names[0]!r})"
               if self.duplicate_names else ""),
            f"  integrity (CRC):   {'OK' if self.bad_entry is None else 'BAD at ' + repr(self.bad_entry)}",
            f"  compressed by zip: {len(self.compressed)} entries",
            f"  metadata first:    {'yes' if self.metadata_first else 'no'} (breadth-first)",
            f"  comment:           {self.comment.rstrip(bytes(1)).decode(errors='replace') or '(none)'}",
        ]
        return "\n".join(lines)


def _has_zip64_records(path: Path) -> bool:
    """True when the end of the file holds a ZIP64 end-of-central-directory locator."""
    size = path.stat().st_size
    with path.open("rb") as file:
        file.seek(max(0, size - (1 << 16) - 22 - 20))
        tail = file.read()
    end = tail.rfind(b"PK\x05\x06")
    return end >= 20 and tail[end - 20 : end - 16] == _ZIP64_LOCATOR


def verify_zip(path: str | os.PathLike) -> ZipReport:
    """Read the zip file ``path`` back and report on it (see :class:`ZipReport`).

    Reads every entry once, to check its CRC. Raises :class:`ArchiveError`
    if ``path`` is missing or not a readable zip file.
    """
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ArchiveError(f"{path} does not exist") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveError(f"{path} is not a readable zip file ({error})") from None
    with zf:
        infos = [info for info in zf.infolist() if not info.is_dir()]
        names = [info.filename for info in infos]
        counts = Counter(names)
        duplicates = tuple(sorted((name for name, n in counts.items() if n > 1), key=natural_key))
        try:
            bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, struct.error) as error:
            raise ArchiveError(f"{path} is a corrupt zip file ({error})") from None
        comment = zf.comment
    metadata = [name for name in names if is_metadata(name)]
    first_chunk = next((i for i, name in enumerate(names) if not is_metadata(name)), len(names))
    metadata_first = names[: len(metadata)] == metadata and first_chunk == len(metadata)
    return ZipReport(
        path=path,
        n_entries=len(names),
        duplicate_names=duplicates,
        n_duplicate_entries=len(names) - len(counts),
        bad_entry=bad,
        compressed=tuple(i.filename for i in infos if i.compress_type != zipfile.ZIP_STORED),
        first_entry=names[0] if names else None,
        metadata_first=metadata_first and metadata == archive_order(metadata),
        zip64=_has_zip64_records(path),
        comment=comment,
    )


def check_zip(path: str | os.PathLike) -> ZipReport:
    """:func:`verify_zip`, raising :class:`ArchiveError` unless every name is stored once and every CRC is right."""
    report = verify_zip(path)
    if report.duplicate_names:
        raise ArchiveError(
            f"{report.path} stores {len(report.duplicate_names)} names more than once "
            f"(e.g. {report.duplicate_names[0]!r}): readers may see different copies; "
            "write a directory store and pack it with write_zip/write_ozx"
        )
    if report.bad_entry is not None:
        raise ArchiveError(f"{report.path} is corrupt: entry {report.bad_entry!r} fails its CRC check")
    return report
