"""Pack a Zarr directory store into one zip file, and check zip files.

A zip file holds a whole store in one file, which file systems and people
handle much better than thousands of chunk files. But a zip can only grow:
writing a key a second time appends a second entry, and writing a
multiscale pyramid straight into a :class:`zarr.storage.ZipStore` rewrites
its group metadata several times, leaving duplicate entries that different
readers resolve differently. The safe recipe is to write a directory store
first and then pack it:

* :func:`write_zip` packs any Zarr directory store (Zarr v2 or v3);
* :func:`write_ozx` packs an OME-Zarr 0.5 (or later) store as a
  single-file OME-Zarr, ``.ozx``.

The ``.ozx`` layout is **RFC-9 of OME-NGFF, a proposal still under review**
(https://ngff.openmicroscopy.org/rfc/9/, its text as of March 2026, state
"R2"). It requires the store's root to be the zip's root (the root
``zarr.json`` in the zip's top level) and no zip inside the store, and
recommends: ZIP64 whatever the size; no ZIP compression; the sharding
codec; the root ``zarr.json`` as the first entry and the other
``zarr.json`` files right after it, breadth-first, in the entries and in
the central directory; the ``.ozx`` name ending; and an archive comment
that is UTF-8 JSON holding at least ``{"ome": {"version": "..."}}``. Inside
``ome`` the comment may carry ``"zipFile": {"centralDirectory":
{"jsonFirst": true}}``, a promise that the ``zarr.json`` files come first
in the central directory, breadth-first, so a reader may stop looking for
``zarr.json`` at the first other entry. :func:`write_ozx` follows every
one of these except sharding, which is the store's own choice.

Both writers store every file exactly once, uncompressed (``ZIP_STORED``:
the chunks are compressed by Zarr already, and stored entries can be read
by byte range), in :func:`archive_order` (:func:`ozx_order` for ``.ozx``),
with fixed timestamps, so the same store always packs to the same bytes.

:func:`verify_zip` reads a zip back and reports duplicate names, the result
of :meth:`zipfile.ZipFile.testzip` (every entry's CRC), compression, entry
order, ZIP64 and the comment; :meth:`ZipReport.ozx_problems` lists how a
zip departs from RFC-9; :func:`check_zip` raises :class:`ArchiveError`
when the zip is not a sound single-copy archive.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils.keys import METADATA_NAMES, ROOT_MARKERS, is_metadata, natural_key

__all__ = [
    "ArchiveError",
    "OZX_SUFFIX",
    "ZipReport",
    "archive_order",
    "check_zip",
    "is_json_first",
    "ozx_comment",
    "ozx_layout_problems",
    "ozx_order",
    "read_ozx_comment",
    "verify_zip",
    "write_ozx",
    "write_zip",
]

#: The file name ending of a single-file OME-Zarr (RFC-9).
OZX_SUFFIX = ".ozx"
#: Every entry gets this timestamp, so the same store always packs to the same bytes.
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_COPY_BUFFER = 1 << 20
#: Signatures of the end-of-central-directory records (APPNOTE 4.3.14-4.3.16).
_EOCD = b"PK\x05\x06"
_ZIP64_EOCD = b"PK\x06\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
#: "Version needed to extract" for ZIP64 (APPNOTE 4.4.3.2).
_ZIP64_VERSION = 45


class ArchiveError(ValueError):
    """A store cannot be packed, or a zip is not a sound archive; the message says why in one line."""


# --------------------------------------------------------------------------
# Entry order
# --------------------------------------------------------------------------


def _level_key(key: str) -> tuple[Any, ...]:
    """Breadth-first position of ``key``: its depth, then its folders, then its name.

    Comparing the folders segment by segment keeps the children of a
    folder together, in the order of their parents one level up.
    """
    *folders, name = key.split("/")
    return (len(folders), tuple(natural_key(part) for part in folders), natural_key(name))


def _metadata_rank(key: str) -> int:
    return METADATA_NAMES.index(key.rpartition("/")[2])


def archive_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in the order a zip of a Zarr store should hold them.

    Metadata documents first, breadth-first (by depth, then path), so the
    root ``zarr.json`` (or ``.zgroup``) leads; the other entries (chunks,
    shards) follow, also breadth-first. Numbers in keys sort as numbers
    (``c/2`` before ``c/10``).
    """
    def key(k: str) -> tuple[Any, ...]:
        depth, folders, _ = _level_key(k)
        if is_metadata(k):
            return (0, depth, folders, _metadata_rank(k))
        return (1, *_level_key(k))

    return sorted(keys, key=key)


def _is_zarr_json(key: str) -> bool:
    return key == "zarr.json" or key.endswith("/zarr.json")


def ozx_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in RFC-9's order: every ``zarr.json`` first, breadth-first from the root one, then the rest.

    The rest keeps :func:`archive_order`'s order. With this order the
    archive comment may say ``"jsonFirst": true``.
    """
    ordered = archive_order(keys)
    return [k for k in ordered if _is_zarr_json(k)] + [k for k in ordered if not _is_zarr_json(k)]


def _is_breadth_first(json_keys: Sequence[str]) -> bool:
    """Whether ``zarr.json`` keys come level by level, each level in the order of its parents."""
    position: dict[str, int] = {}
    last = (-1, -1)
    for i, key in enumerate(json_keys):
        folder = key.rpartition("/")[0]
        depth = 0 if not folder else folder.count("/") + 1
        parent = folder.rpartition("/")[0] if folder else None
        rank = position.get(parent, -1) if parent is not None else -1
        if (depth, rank) < last:
            return False
        last = (depth, rank)
        position[folder] = i
    return True


def is_json_first(names: Sequence[str]) -> bool:
    """Whether ``names`` (in central-directory order) start with the root ``zarr.json``,
    then every other ``zarr.json``, breadth-first, before any other entry."""
    json_keys = [name for name in names if _is_zarr_json(name)]
    return (
        bool(json_keys)
        and json_keys[0] == "zarr.json"
        and list(names[: len(json_keys)]) == json_keys
        and _is_breadth_first(json_keys)
    )


# --------------------------------------------------------------------------
# The archive comment
# --------------------------------------------------------------------------


def ozx_comment(version: str, json_first: bool = True) -> bytes:
    """RFC-9's archive comment: UTF-8 JSON, ``{"ome": {"version": ...}}``, no NUL.

    With ``json_first`` (the default, right for every archive
    :func:`write_ozx` writes) it adds ``"zipFile": {"centralDirectory":
    {"jsonFirst": true}}`` inside ``ome``: the promise that the
    ``zarr.json`` entries come first in the central directory,
    breadth-first. Only make that promise for such an archive.
    """
    ome: dict[str, Any] = {"version": str(version)}
    if json_first:
        ome["zipFile"] = {"centralDirectory": {"jsonFirst": True}}
    return json.dumps({"ome": ome}, separators=(",", ":")).encode("utf-8")


def read_ozx_comment(comment: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """An archive comment read as RFC-9 describes it: ``(document or None, problems)``.

    Problems: no comment, a NUL byte (an earlier draft ended the comment
    with one; the current text has none), not UTF-8 JSON, no ``ome``
    object, no string ``ome.version``, a ``zipFile.centralDirectory`` that
    is not an object or a ``jsonFirst`` that is not true or false.
    """
    if not comment:
        return None, ['no archive comment (RFC-9 recommends JSON such as {"ome": {"version": "0.5"}})']
    problems = []
    if b"\0" in comment:
        problems.append("the comment holds a NUL byte (as an earlier draft of RFC-9 had it; the current text has none)")
    try:
        doc = json.loads(comment.replace(b"\0", b"").decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, [*problems, "the comment is not UTF-8 JSON"]
    ome = doc.get("ome") if isinstance(doc, dict) else None
    if not isinstance(ome, dict):
        return None, [*problems, 'the comment has no "ome" object']
    if not isinstance(ome.get("version"), str):
        problems.append('the comment\'s "ome" has no "version" string')
    zip_file = ome.get("zipFile")
    if zip_file is not None:
        directory = zip_file.get("centralDirectory") if isinstance(zip_file, dict) else None
        if not isinstance(zip_file, dict):
            problems.append('"zipFile" in the comment is not an object')
        elif directory is not None and not isinstance(directory, dict):
            problems.append('"centralDirectory" in the comment is not an object')
        elif isinstance(directory, dict) and not isinstance(directory.get("jsonFirst", False), bool):
            problems.append('"jsonFirst" in the comment is not true or false')
    return doc, problems


def _claims_json_first(doc: Mapping[str, Any] | None) -> bool:
    try:
        return doc["ome"]["zipFile"]["centralDirectory"]["jsonFirst"] is True  # type: ignore[index]
    except (KeyError, TypeError):
        return False


def ozx_layout_problems(
    names: Sequence[str],
    *,
    comment: bytes,
    compressed: Sequence[str] = (),
    zip64: bool | None = None,
    file_name: str | None = None,
) -> list[str]:
    """How a zip departs from RFC-9's ``.ozx`` layout, from its central directory alone.

    ``names`` in central-directory order; ``compressed`` the entries not
    stored; ``zip64`` whether ZIP64 end records are there (None: unknown);
    ``file_name`` the archive's name (to check the ``.ozx`` ending).
    """
    problems = []
    if "zarr.json" not in names:
        problems.append("no root zarr.json at the top of the zip (RFC-9: the store's root must be the zip's root)")
    elif names[0] != "zarr.json":
        problems.append(f"the first entry is {names[0]!r}, not the root zarr.json")
    json_first = is_json_first(names)
    if "zarr.json" in names and not json_first:
        problems.append("the zarr.json entries do not all come first, breadth-first")
    doc, comment_problems = read_ozx_comment(comment)
    problems.extend(comment_problems)
    if _claims_json_first(doc) and not json_first:
        problems.append('the comment says "jsonFirst": true, but the zarr.json entries are not first, breadth-first')
    if compressed:
        problems.append(f"{len(compressed):,} entries are compressed by the zip (RFC-9: no ZIP compression)")
    if zip64 is False:
        problems.append("no ZIP64 end records (RFC-9 recommends ZIP64 whatever the size)")
    nested = [name for name in names if name.lower().endswith((".zip", OZX_SUFFIX))]
    if nested:
        problems.append(f"it holds another zip ({nested[0]!r}); RFC-9 forbids embedding one")
    if file_name is not None and not file_name.endswith(OZX_SUFFIX):
        problems.append(f"the name does not end in {OZX_SUFFIX}")
    return problems


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


def _add_zip64_end_records(path: Path) -> None:
    """Put a ZIP64 end of central directory record and locator before the end record.

    Python's :mod:`zipfile` writes them only when an archive needs them;
    RFC-9 recommends them for every ``.ozx``. The classic end record keeps
    its values (they fit), as zipfile itself does.
    """
    with path.open("r+b") as file:
        size = file.seek(0, os.SEEK_END)
        start = max(0, size - (22 + 0xFFFF + 20))
        file.seek(start)
        tail = file.read()
        at = tail.rfind(_EOCD)
        if at < 0:
            raise ArchiveError(f"{path}: no end of central directory record")  # pragma: no cover
        if at >= 20 and tail[at - 20 : at - 16] == _ZIP64_LOCATOR:
            return
        (_, disk, cd_disk, n_here, n_total, cd_size, cd_offset, comment_length) = struct.unpack(
            "<4s4H2LH", tail[at : at + 22]
        )
        comment = tail[at + 22 : at + 22 + comment_length]
        record_at = start + at
        record = struct.pack(
            "<4sQ2H2L4Q", _ZIP64_EOCD, 44, _ZIP64_VERSION, _ZIP64_VERSION,
            disk, cd_disk, n_here, n_total, cd_size, cd_offset,
        )
        locator = struct.pack("<4sLQL", _ZIP64_LOCATOR, 0, record_at, 1)
        end = struct.pack("<4s4H2LH", _EOCD, disk, cd_disk, n_here, n_total, cd_size, cd_offset,
                          len(comment)) + comment
        file.seek(record_at)
        file.write(record + locator + end)
        file.truncate()


def _write(root: Path, target: Path, keys: list[str], comment: bytes, zip64: bool) -> Path:
    """Pack ``keys`` of ``root`` into ``target`` (replaced atomically); see :func:`write_zip`."""
    target = Path(target)
    if target.resolve().is_relative_to(root.resolve()):
        raise ArchiveError(f"the archive {target} must not be inside the store it packs ({root})")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for key in keys:
                path = root / key
                info = zipfile.ZipInfo(key, date_time=_FIXED_DATE)
                info.compress_type = zipfile.ZIP_STORED
                info.external_attr = 0o644 << 16  # a plain file, rw-r--r--, when unpacked
                info.file_size = path.stat().st_size  # lets zipfile pick ZIP64 per entry
                with path.open("rb") as src, zf.open(info, "w", force_zip64=zip64) as dst:
                    shutil.copyfileobj(src, dst, _COPY_BUFFER)
            zf.comment = comment
        if zip64:
            _add_zip64_end_records(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def write_zip(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Pack the Zarr directory store ``source`` into the zip file ``target``.

    Each file becomes one uncompressed entry, metadata first in breadth-first
    order, then chunks (:func:`archive_order`); ZIP64 records are written
    when the archive needs them (over 4 GiB or 65,535 entries). An existing
    ``target`` is replaced, atomically. Read it back with
    ``zarr.storage.ZipStore(target, mode="r")``. Returns the path of the zip.

    Raises :class:`ArchiveError` if ``source`` is not a Zarr directory store
    or ``target`` lies inside it.
    """
    root = _require_store(source)
    return _write(root, Path(target), archive_order(_store_files(root)), b"", zip64=False)


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
    attributes = doc.get("attributes") if isinstance(doc, dict) else None
    ome = attributes.get("ome") if isinstance(attributes, dict) else None
    if not isinstance(ome, dict) or "version" not in ome:
        raise ArchiveError(
            f"{root} is not OME-Zarr 0.5 or later: its root zarr.json has no attributes['ome']['version']"
        )
    return str(ome["version"])


def write_ozx(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Pack the OME-Zarr 0.5+ directory store ``source`` into the single-file OME-Zarr ``target``.

    Follows RFC-9 (a proposal under review; see the module docstring): the
    store's root is the zip's root; the ``zarr.json`` files come first,
    the root one leading, breadth-first (:func:`ozx_order`), in the
    entries and in the central directory; entries are uncompressed; every
    entry and the end of the archive carry ZIP64 records, whatever the
    size; the archive comment is :func:`ozx_comment` of the store's
    OME-Zarr version, with ``"jsonFirst": true``. Whether the arrays are
    sharded (RFC-9 recommends it) is up to the store.

    Raises :class:`ArchiveError` if ``target`` does not end in ``.ozx`` or
    ``source`` is not an OME-Zarr 0.5 (or later) directory store.
    """
    target = Path(target)
    if target.suffix != OZX_SUFFIX:
        raise ArchiveError(f"a single-file OME-Zarr is named *{OZX_SUFFIX}, not {target.name}")
    root = _require_store(source)
    version = _root_ome_version(root)
    keys = ozx_order(_store_files(root))
    nested = [key for key in keys if key.lower().endswith((".zip", OZX_SUFFIX))]
    if nested:
        raise ArchiveError(f"{root} holds a zip file ({nested[0]}); RFC-9 forbids one inside an .ozx")
    return _write(root, target, keys, ozx_comment(version, json_first=True), zip64=True)


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
    ``metadata_first`` says every metadata document (``zarr.json``,
    ``.zgroup``, ...) comes before every other entry, in
    :func:`archive_order`; ``json_first`` says the ``zarr.json`` entries
    come first, root first, breadth-first (:func:`is_json_first`, RFC-9's
    order). ``zip64`` says the archive ends with ZIP64 end records.
    ``comment`` is the archive comment, as bytes.
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
    json_first: bool = False
    names: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        """True when every name is stored once and every entry passes its CRC check."""
        return not self.duplicate_names and self.bad_entry is None

    @property
    def comment_text(self) -> str:
        """The archive comment as text ("" when there is none)."""
        return self.comment.decode("utf-8", errors="replace")

    def ozx_problems(self) -> list[str]:
        """How this zip departs from RFC-9's ``.ozx`` layout (empty: it follows every rule and recommendation
        but sharding, which is the store's choice)."""
        problems = ozx_layout_problems(
            self.names, comment=self.comment, compressed=self.compressed, zip64=self.zip64,
            file_name=self.path.name,
        )
        if self.duplicate_names:
            problems.append(f"{len(self.duplicate_names)} names are stored more than once")
        if self.bad_entry is not None:
            problems.append(f"entry {self.bad_entry!r} fails its CRC check")
        return problems

    def __str__(self) -> str:
        comment = self.comment_text.replace("\0", "\\0")
        lines = [
            f"{self.path.name}: {self.n_entries:,} entries, first {self.first_entry!r}",
            f"  duplicate names:   {len(self.duplicate_names)}"
            + (f" ({self.n_duplicate_entries} extra copies, e.g. {self.duplicate_names[0]!r})"
               if self.duplicate_names else ""),
            f"  integrity (CRC):   {'OK' if self.bad_entry is None else 'BAD at ' + repr(self.bad_entry)}",
            f"  compressed by zip: {len(self.compressed)} entries",
            f"  metadata first:    {'yes' if self.metadata_first else 'no'} (breadth-first)",
            f"  zarr.json first:   {'yes' if self.json_first else 'no'} (RFC-9 order)",
            f"  ZIP64 records:     {'yes' if self.zip64 else 'no'}",
            f"  comment:           {comment or '(none)'}",
        ]
        return "\n".join(lines)


def _has_zip64_records(path: Path) -> bool:
    """True when the end of the file holds a ZIP64 end-of-central-directory locator."""
    size = path.stat().st_size
    with path.open("rb") as file:
        file.seek(max(0, size - (1 << 16) - 22 - 20))
        tail = file.read()
    end = tail.rfind(_EOCD)
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
        json_first=is_json_first(names),
        names=tuple(names),
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
