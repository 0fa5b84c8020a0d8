"""Which kind of store this is, and which of its keys are metadata.

:func:`detect` looks at the names at the top of a store (and reads the
root ``zarr.json`` when there is one) and returns a :class:`StoreFormat`:

* :class:`Zarr`: Zarr v2 (``.zgroup`` / ``.zarray`` / ``.zattrs``,
  consolidated ``.zmetadata``) and Zarr v3 (``zarr.json`` with
  ``"zarr_format": 3``, consolidated metadata inside the root
  ``zarr.json``), also mixed in one hierarchy;
* :class:`ZarrV3Draft`: the pre-release Zarr v3 draft, whose root
  ``zarr.json`` is an entry point with ``"zarr_format":
  "https://purl.org/zarr/spec/protocol/core/3.0"`` and whose metadata sits
  under ``meta/root/`` (``<path>.array.json``, ``<path>.group.json``) and
  chunks under ``data/root/`` (zarr-python 2.12 to 2.18 wrote it with
  ``ZARR_V3_EXPERIMENTAL_API=1``; zarr-python 3 cannot read it);
* :class:`N5`: an N5 container, an ``attributes.json`` in each group and
  dataset, ``{"n5": "<version>"}`` at the root.

A format says which file names are metadata, which of those to read, and
turns the parsed documents into arrays (:class:`ArrayNode`) and group
attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course_utils.keys import METADATA_NAMES, ROOT_MARKERS

from .common import StoreError, not_a_store, one_line, parse_json
from .metadata import (
    V3_DRAFT_FORMAT,
    KeyScheme,
    MetadataProblem,
    is_n5_dataset,
    n5_array,
    zarr_v2_array,
    zarr_v3_array,
    zarr_v3_draft_array,
)
from .summary import ArrayInfo

__all__ = ["ArrayNode", "N5", "StoreFormat", "Zarr", "ZarrV3Draft", "detect"]

#: The metadata file of every N5 group and dataset.
N5_ATTRIBUTES = "attributes.json"


@dataclass(frozen=True)
class ArrayNode:
    """One array: what its metadata says, and how its data keys are spelled."""

    info: ArrayInfo
    keys: KeyScheme


def _parent_and_name(key: str) -> tuple[str, str]:
    parent, _, name = key.rpartition("/")
    return parent, name


class StoreFormat:
    """What every store format tells :mod:`.assemble` (see the subclasses)."""

    #: Shown as the summary's format, e.g. "Zarr v3".
    name = "?"
    #: 2, 3 or None.
    zarr_format: int | None = None

    def metadata_in(self, directory: str, names: list[str]) -> list[str]:
        """The names among ``names`` (files in ``directory``) that are metadata documents."""
        raise NotImplementedError

    def wanted(self, key: str, metadata: set[str]) -> bool:
        """Whether to read the metadata document ``key`` (``metadata``: every metadata key)."""
        raise NotImplementedError

    def consolidated_key(self, root: Mapping[str, Any] | None, metadata: set[str]) -> str | None:
        """The key that holds the whole hierarchy's metadata, if any."""
        return None

    def inline(self, key: str, doc: Any) -> dict[str, Any]:
        """Documents by key from the consolidated document ``doc`` (read from ``key``)."""
        return {}

    def nodes(
        self, docs: Mapping[str, Any], notes: list[str], metadata: set[str]
    ) -> tuple[dict[str, ArrayNode], dict[str, Any]]:
        """Arrays (path -> node) and groups (path -> attributes) from parsed documents.

        ``metadata`` holds every metadata key of the store, read or not.
        """
        raise NotImplementedError


def _add_array(
    arrays: dict[str, ArrayNode], notes: list[str], key: str, path: str, parse: Any, doc: Any
) -> None:
    try:
        info, keys = parse(doc, path)
    except MetadataProblem as problem:
        notes.append(f"{key}: unreadable array metadata ({one_line(problem)})")
        return
    arrays[path] = ArrayNode(info, keys)


class Zarr(StoreFormat):
    """Zarr v2 and v3 (and hierarchies that mix them)."""

    def __init__(self, root: Mapping[str, Any] | None) -> None:
        self.root = root
        if root is not None:
            self.zarr_format, self.name = 3, "Zarr v3"
        else:
            self.zarr_format, self.name = 2, "Zarr v2"
        self._names = frozenset(METADATA_NAMES)

    def metadata_in(self, directory: str, names: list[str]) -> list[str]:
        """``zarr.json``, ``.zgroup``, ``.zarray``, ``.zattrs`` and ``.zmetadata``."""
        return [name for name in self._names.intersection(names)]

    def wanted(self, key: str, metadata: set[str]) -> bool:
        """Every ``zarr.json`` and ``.zarray``, everything at the root, and the ``.zattrs`` of groups."""
        parent, name = _parent_and_name(key)
        if name in ("zarr.json", ".zarray") or not parent:
            return True
        # Group attributes carry OME-Zarr's metadata (plates, wells, labels).
        return name == ".zattrs" and f"{parent}/.zgroup" in metadata

    def consolidated_key(self, root: Mapping[str, Any] | None, metadata: set[str]) -> str | None:
        """The root ``zarr.json`` with ``consolidated_metadata`` (v3), else ``.zmetadata`` (v2)."""
        if root is not None and isinstance(root.get("consolidated_metadata"), Mapping):
            return "zarr.json"
        if ".zmetadata" in metadata:
            return ".zmetadata"
        return None

    def inline(self, key: str, doc: Any) -> dict[str, Any]:
        """``consolidated_metadata.metadata`` (v3, keyed by node path) or ``metadata`` (v2, keyed by key)."""
        if not isinstance(doc, Mapping):
            return {}
        if key == "zarr.json":
            inline = doc.get("consolidated_metadata")
            inline = inline.get("metadata") if isinstance(inline, Mapping) else None
            if isinstance(inline, Mapping):
                return {f"{str(path).strip('/')}/zarr.json".lstrip("/"): node
                        for path, node in inline.items()}
            return {}
        inline = doc.get("metadata")
        if isinstance(inline, Mapping):
            return {str(name): node for name, node in inline.items()}
        return {}

    def nodes(
        self, docs: Mapping[str, Any], notes: list[str], metadata: set[str]
    ) -> tuple[dict[str, ArrayNode], dict[str, Any]]:
        """Arrays from ``.zarray`` and array ``zarr.json``; groups from group ``zarr.json`` and ``.zattrs``."""
        arrays: dict[str, ArrayNode] = {}
        groups: dict[str, Any] = {}
        for key, doc in docs.items():
            parent, name = _parent_and_name(key)
            if name == ".zarray":
                _add_array(arrays, notes, key, parent, zarr_v2_array, doc)
            elif name == "zarr.json":
                node_type = doc.get("node_type")
                if node_type == "array":
                    _add_array(arrays, notes, key, parent, zarr_v3_array, doc)
                elif node_type == "group":
                    groups[parent] = doc.get("attributes") or {}
                else:
                    notes.append(f"{key}: node_type is {node_type!r}, not 'array' or 'group'")
            elif name == ".zattrs" and (f"{parent}/.zgroup" if parent else ".zgroup") in metadata:
                groups[parent] = doc
        return arrays, groups


class ZarrV3Draft(StoreFormat):
    """The pre-release Zarr v3 draft (``meta/root/...``, ``data/root/...``)."""

    name = "Zarr v3 draft (pre-release)"
    zarr_format = None

    def metadata_in(self, directory: str, names: list[str]) -> list[str]:
        """The root entry point ``zarr.json`` and every file under ``meta/``."""
        if directory == "meta" or directory.startswith("meta/"):
            return list(names)
        if not directory and "zarr.json" in names:
            return ["zarr.json"]
        return []

    def wanted(self, key: str, metadata: set[str]) -> bool:
        """The ``.array.json`` and ``.group.json`` documents."""
        return key.endswith((".array.json", ".group.json"))

    def nodes(
        self, docs: Mapping[str, Any], notes: list[str], metadata: set[str]
    ) -> tuple[dict[str, ArrayNode], dict[str, Any]]:
        """``meta/root/<path>.array.json`` -> array ``<path>``; ``.group.json`` -> group."""
        arrays: dict[str, ArrayNode] = {}
        groups: dict[str, Any] = {}
        for key, doc in docs.items():
            if not key.startswith("meta/root"):
                continue
            stem = key[len("meta/root"):].lstrip("/")
            if key.endswith(".array.json"):
                _add_array(arrays, notes, key, stem[: -len(".array.json")], zarr_v3_draft_array, doc)
            elif key.endswith(".group.json"):
                groups[stem[: -len(".group.json")]] = doc.get("attributes") or {}
        return arrays, groups


class N5(StoreFormat):
    """An N5 container: ``attributes.json`` per group and dataset, blocks in ``i/j/k`` folders."""

    zarr_format = None

    def __init__(self, root: Mapping[str, Any]) -> None:
        version = root.get("n5")
        self.name = f"N5 {version}" if isinstance(version, str) else "N5"

    def metadata_in(self, directory: str, names: list[str]) -> list[str]:
        """``attributes.json``."""
        return [N5_ATTRIBUTES] if N5_ATTRIBUTES in names else []

    def wanted(self, key: str, metadata: set[str]) -> bool:
        """Every ``attributes.json``: a dataset's says it is one."""
        return True

    def nodes(
        self, docs: Mapping[str, Any], notes: list[str], metadata: set[str]
    ) -> tuple[dict[str, ArrayNode], dict[str, Any]]:
        """Datasets (``dimensions``, ``blockSize``, ``dataType``) and groups."""
        arrays: dict[str, ArrayNode] = {}
        groups: dict[str, Any] = {}
        for key, doc in docs.items():
            parent, _ = _parent_and_name(key)
            if is_n5_dataset(doc):
                _add_array(arrays, notes, key, parent, n5_array, doc)
            else:
                groups[parent] = {k: v for k, v in doc.items() if k != "n5"}
        return arrays, groups


def detect(
    source: str,
    root_names: set[str],
    read_root: Any,
    hint: str = "",
    *,
    n5: bool = False,
) -> tuple[StoreFormat, dict[str, Any]]:
    """The format of a store from the names at its top, and the root documents read to tell.

    ``read_root(key)`` returns the bytes of a root document (or raises
    OSError). With ``n5`` a top without any marker is read as an N5
    container (the N5 specification puts ``{"n5": version}`` in the root
    ``attributes.json``, but tensorstore 0.1.86 writes none there). Raises
    :class:`StoreError` (one line) when the top holds no Zarr or N5 marker,
    or when the root document that decides is unreadable.
    """
    docs: dict[str, Any] = {}

    def root_document(key: str) -> Mapping[str, Any]:
        try:
            raw = read_root(key)
        except StoreError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever the backend raises
            raise StoreError(f"{source}: its {key} cannot be read ({one_line(error, True)})") from None
        doc, problem = parse_json(raw)
        if problem is not None:
            raise StoreError(f"{source}: its {key} is {problem}")
        if not isinstance(doc, Mapping):
            raise StoreError(f"{source}: its {key} is not a JSON object")
        docs[key] = doc
        return doc

    if "zarr.json" in root_names:
        root = root_document("zarr.json")
        zarr_format = root.get("zarr_format")
        if zarr_format == V3_DRAFT_FORMAT or (
            isinstance(zarr_format, str) and zarr_format.startswith("https://purl.org/zarr/spec/")
        ):
            return ZarrV3Draft(), docs
        if zarr_format == 3 and not isinstance(zarr_format, bool):
            return Zarr(root), docs
        shown = one_line(ValueError(repr(zarr_format)))[:80]
        raise StoreError(
            f"{source}: its zarr.json says zarr_format {shown}, "
            "which is neither Zarr v3 (3) nor a known pre-release draft"
        )
    if root_names.intersection(ROOT_MARKERS):
        for key in (".zgroup", ".zarray"):
            if key in root_names:
                doc = root_document(key)
                if doc.get("zarr_format") != 2:
                    shown = one_line(ValueError(repr(doc.get("zarr_format"))))[:80]
                    raise StoreError(f"{source}: its {key} says zarr_format {shown}, not 2")
                break
        return Zarr(None), docs
    if N5_ATTRIBUTES in root_names:
        return N5(root_document(N5_ATTRIBUTES)), docs
    if n5:
        return N5({}), docs
    raise not_a_store(source, hint)
