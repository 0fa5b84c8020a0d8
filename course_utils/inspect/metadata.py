"""Reading Zarr metadata documents: v2 / v3 array metadata and OME attributes.

Which keys are metadata, which of them are worth reading, and what they say
(an :class:`~course_utils.inspect.ArrayInfo` per array, the Zarr format,
the OME-Zarr version and scales).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from course_utils.keys import METADATA_NAMES
from course_utils.keys import natural_key as _natural_key

from .summary import ArrayInfo, _one_line

#: Metadata documents read from anywhere in the store (the rest only at the root).
_ARRAY_METADATA = frozenset({"zarr.json", ".zarray"})


def _v2_dtype(spec: Any) -> str:
    import numpy as np

    try:
        if isinstance(spec, list):
            dtype = np.dtype([tuple(item) for item in spec])
        else:
            dtype = np.dtype(spec)
    except (TypeError, ValueError):
        return str(spec)
    if dtype.fields is not None:
        return str(dtype)
    if dtype.kind in "SUV":
        return dtype.str
    return dtype.name


def _codec_name(codec: Any) -> str:
    if isinstance(codec, str):
        return codec
    if isinstance(codec, Mapping):
        name = str(codec.get("name", codec.get("id", "?")))
        if name == "sharding_indexed":
            inner = (codec.get("configuration") or {}).get("codecs") or []
            return f"sharding_indexed({', '.join(_codec_name(c) for c in inner)})"
        return name
    return str(codec)


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def _v2_array(doc: Mapping[str, Any]) -> tuple[ArrayInfo, str]:
    codecs = [_codec_name(f) for f in (doc.get("filters") or [])]
    if doc.get("compressor"):
        codecs.append(_codec_name(doc["compressor"]))
    info = ArrayInfo(
        shape=_ints(doc["shape"]),
        dtype=_v2_dtype(doc["dtype"]),
        chunks=_ints(doc["chunks"]),
        shards=None,
        codecs=tuple(codecs),
        zarr_format=2,
        separator=str(doc.get("dimension_separator") or "."),
    )
    return info, ""


def _v3_array(doc: Mapping[str, Any]) -> tuple[ArrayInfo, str]:
    data_type = doc["data_type"]
    if isinstance(data_type, Mapping):
        data_type = data_type.get("name", "?")
    grid = doc.get("chunk_grid") or {}
    grid_config = grid.get("configuration") if isinstance(grid, Mapping) else None
    outer = (grid_config or {}).get("chunk_shape")
    chunks = None if outer is None else _ints(outer)
    shards = None

    encoding = doc.get("chunk_key_encoding") or {"name": "default"}
    if isinstance(encoding, str):
        encoding = {"name": encoding}
    name = encoding.get("name", "default")
    separator = (encoding.get("configuration") or {}).get("separator")
    if not separator:
        separator = "/" if name == "default" else "."

    codecs: list[str] = []
    for codec in doc.get("codecs") or []:
        cname = _codec_name(codec)
        if isinstance(codec, Mapping) and codec.get("name") == "sharding_indexed":
            config = codec.get("configuration") or {}
            inner = config.get("codecs") or []
            cname = "sharding_indexed: " + ", ".join(_codec_name(c) for c in inner)
            if config.get("chunk_shape") is not None:
                shards = chunks
                chunks = _ints(config["chunk_shape"])
        codecs.append(cname)
    info = ArrayInfo(
        shape=_ints(doc["shape"]),
        dtype=str(data_type),
        chunks=chunks,
        shards=shards,
        codecs=tuple(codecs),
        zarr_format=3,
        separator=str(separator),
    )
    return info, ("c" if name == "default" else "")


def _ome(attrs: Any) -> tuple[str | None, int | None, list[str]]:
    """(OME version, number of scales, dataset paths) from root attributes."""
    if not isinstance(attrs, Mapping):
        return None, None, []
    version = None
    multiscales = None
    ome = attrs.get("ome")
    if isinstance(ome, Mapping):
        version = ome.get("version")
        multiscales = ome.get("multiscales")
    if multiscales is None:
        multiscales = attrs.get("multiscales")
    n_scales = None
    paths: list[str] = []
    if (
        isinstance(multiscales, list)
        and multiscales
        and isinstance(multiscales[0], Mapping)
    ):
        first = multiscales[0]
        if version is None:
            version = first.get("version")
        datasets = first.get("datasets")
        if isinstance(datasets, list):
            n_scales = len(datasets)
            paths = [
                str(d["path"]).strip("/")
                for d in datasets
                if isinstance(d, Mapping) and d.get("path") is not None
            ]
    return (None if version is None else str(version)), n_scales, paths


class _Metadata:
    """The metadata documents of one store, parsed."""

    def __init__(self) -> None:
        self.docs: dict[str, Any] = {}
        self.notes: list[str] = []

    def add_raw(self, key: str, raw: bytes | Exception) -> None:
        if isinstance(raw, BaseException):
            self.notes.append(f"{key}: could not be read ({_one_line(raw)})")
            return
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            self.notes.append(f"{key}: not valid JSON")
            return
        self.add(key, doc)

    def add(self, key: str, doc: Any) -> None:
        if not isinstance(doc, Mapping):
            self.notes.append(f"{key}: not a JSON object")
            return
        self.docs[key] = doc

    def arrays(self) -> dict[str, tuple[ArrayInfo, str]]:
        found: dict[str, tuple[ArrayInfo, str]] = {}
        for key, doc in self.docs.items():
            parent, _, name = key.rpartition("/")
            try:
                if name == ".zarray":
                    found[parent] = _v2_array(doc)
                elif name == "zarr.json" and doc.get("node_type") == "array":
                    found[parent] = _v3_array(doc)
            except (KeyError, TypeError, ValueError) as error:
                self.notes.append(
                    f"{key}: unreadable array metadata ({_one_line(error)})"
                )
        return {path: found[path] for path in sorted(found, key=_natural_key)}

    def root_format(self) -> int | None:
        if "zarr.json" in self.docs:
            return int(self.docs["zarr.json"].get("zarr_format", 3))
        if ".zgroup" in self.docs or ".zarray" in self.docs or ".zattrs" in self.docs:
            return 2
        return None

    def root_attributes(self) -> Any:
        if "zarr.json" in self.docs:
            return self.docs["zarr.json"].get("attributes") or {}
        return self.docs.get(".zattrs") or {}


def _wanted(key: str) -> bool:
    """Do we read this metadata key? Array metadata anywhere, all at the root."""
    parent, _, name = key.rpartition("/")
    return name in _ARRAY_METADATA or (not parent and name in METADATA_NAMES)


CONSOLIDATED_KEYS = ("zarr.json", ".zmetadata")
"""Root keys that may hold a whole hierarchy's metadata (Zarr v3, Zarr v2)."""


def _consolidated(known: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata documents by key from consolidated metadata among ``known`` raw documents.

    Reads the root ``zarr.json``'s ``consolidated_metadata`` (Zarr v3) or
    ``.zmetadata`` (Zarr v2); empty when neither is there or parses.
    """
    for key in CONSOLIDATED_KEYS:
        raw = known.get(key)
        if not isinstance(raw, (bytes, bytearray)):
            continue
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(doc, Mapping):
            continue
        inline = doc.get("consolidated_metadata") if key == "zarr.json" else doc
        inline = inline.get("metadata") if isinstance(inline, Mapping) else None
        if isinstance(inline, Mapping):
            if key == "zarr.json":
                return {f"{str(path).strip('/')}/zarr.json": node for path, node in inline.items()}
            return {str(name): node for name, node in inline.items()}
    return {}
