"""Array metadata documents, read into :class:`~course_utils.inspect.ArrayInfo`.

One function per format, each checking every field it uses and raising
:class:`MetadataProblem` (a few words) on anything malformed:

* :func:`zarr_v2_array`: a ``.zarray`` (Zarr v2 specification);
* :func:`zarr_v3_array`: a ``zarr.json`` with ``"node_type": "array"`` (Zarr v3.0);
* :func:`zarr_v3_draft_array`: a ``meta/root/....array.json`` of the
  pre-release Zarr v3 draft that zarr-python 2.12 to 2.18 wrote with
  ``ZARR_V3_EXPERIMENTAL_API=1`` (its codecs and sharding storage
  transformer are named by ``https://purl.org/zarr/spec/...`` URLs);
* :func:`n5_array`: an N5 dataset's ``attributes.json`` (N5 specification 4.0.0).

Each returns an :class:`ArrayInfo` without counts, and the
:class:`KeyScheme` of the array's data objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .common import MAX_DIMENSIONS, MAX_NESTING
from .summary import ArrayInfo
from .summary import short_repr as short

__all__ = [
    "KeyScheme",
    "MetadataProblem",
    "codec_name",
    "n5_array",
    "zarr_v2_array",
    "zarr_v3_array",
    "zarr_v3_draft_array",
]


class MetadataProblem(ValueError):
    """An array metadata document is malformed; the message says how, in a few words."""


@dataclass(frozen=True)
class KeyScheme:
    """How the keys of one array's data objects are spelled.

    A data key is ``data_dir + "/" + prefix + i<sep>j<sep>k`` (``data_dir``
    relative to the store's top, empty at the top): ``c/0/1`` (Zarr v3
    default), ``0.1`` (Zarr v2), ``c0/1`` under ``data/root/...`` (v3
    draft), ``0/1`` (N5).
    """

    data_dir: str
    prefix: str
    separator: str

    def indices(self, key: str) -> tuple[int, ...] | None:
        """The grid indices of ``key`` (relative to ``data_dir``), or None if it is not a data key."""
        if not key.startswith(self.prefix):
            return None
        rest = key[len(self.prefix):]
        if not rest:
            return ()
        parts = rest.split(self.separator)
        if not all(part.isdigit() for part in parts):
            return None
        return tuple(int(part) for part in parts)


# --------------------------------------------------------------------------
# Field checks
# --------------------------------------------------------------------------


def _field(doc: Mapping[str, Any], name: str) -> Any:
    if name not in doc:
        raise MetadataProblem(f"no {name!r}")
    return doc[name]


def _ints(value: Any, what: str, *, positive: bool = False) -> tuple[int, ...]:
    """A list of non-negative (or positive) integers."""
    if not isinstance(value, list):
        raise MetadataProblem(f"{what} is not a list")
    if len(value) > MAX_DIMENSIONS:
        raise MetadataProblem(f"{what} has {len(value):,} dimensions (more than {MAX_DIMENSIONS})")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise MetadataProblem(f"{what} holds {type(item).__name__} values, not integers")
        if isinstance(item, float) and not item.is_integer():
            raise MetadataProblem(f"{what} holds {short(item)}, not an integer")
        number = int(item)
        if number < 0 or (positive and number == 0):
            kind = "positive" if positive else "non-negative"
            raise MetadataProblem(f"{what} holds {number}, not a {kind} integer")
        out.append(number)
    return tuple(out)


def _same_rank(shape: tuple[int, ...], chunks: tuple[int, ...], what: str) -> None:
    if len(shape) != len(chunks):
        raise MetadataProblem(f"{what} has {len(chunks)} dimensions, the shape {len(shape)}")


def _name(value: Any, depth: int = 0) -> str:
    """A short display name for a codec (or data type) description."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and depth < MAX_NESTING:
        name = value.get("name", value.get("id", value.get("type", value.get("codec", "?"))))
        return _name(name, depth + 1) if not isinstance(name, Mapping) else "?"
    return "?" if isinstance(value, (Mapping, list)) else str(value)


_BLOSC_SHUFFLE = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle", -1: "autoshuffle"}


def codec_name(codec: Any, depth: int = 0) -> str:
    """``"zstd"``, ``"blosc(lz4, shuffle)"``, ``"sharding_indexed: bytes, zstd"``."""
    name = _name(codec)
    if name.startswith("https://purl.org/zarr/spec/codec/"):  # v3 draft: .../codec/zlib/1.0
        name = name.split("/codec/", 1)[1].split("/", 1)[0] or name
    if not isinstance(codec, Mapping):
        return name
    config = codec.get("configuration")
    if not isinstance(config, Mapping):
        config = codec  # v2 / N5: the parameters sit next to the id
    if name == "blosc":
        cname = config.get("cname")
        shuffle = config.get("shuffle")
        shuffle = _BLOSC_SHUFFLE.get(shuffle, shuffle) if isinstance(shuffle, int) else shuffle
        details = [str(v) for v in (cname, shuffle) if isinstance(v, (str, int))]
        return f"blosc({', '.join(details)})" if details else name
    if name == "sharding_indexed":
        inner = config.get("codecs")
        if isinstance(inner, list) and depth < MAX_NESTING:
            return "sharding_indexed: " + ", ".join(codec_name(c, depth + 1) for c in inner)
    return name


def _codec_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MetadataProblem(f"{what} is not a list")
    return value


# --------------------------------------------------------------------------
# Zarr v2
# --------------------------------------------------------------------------


def _v2_dtype(spec: Any) -> str:
    import numpy as np

    if isinstance(spec, list):
        if len(spec) > 1000 or not all(isinstance(item, list) for item in spec):
            raise MetadataProblem("dtype is a malformed structured type")
        try:
            return str(np.dtype([tuple(item) for item in spec]))
        except (TypeError, ValueError, RecursionError):
            raise MetadataProblem("dtype is a malformed structured type") from None
    if not isinstance(spec, str) or len(spec) > 100:
        raise MetadataProblem("dtype is not a string")
    try:
        dtype = np.dtype(spec)
    except (TypeError, ValueError):
        return spec  # an extension type this numpy does not know: show it as written
    if dtype.kind in "SUV":
        return dtype.str
    return dtype.name


def zarr_v2_array(doc: Mapping[str, Any], path: str) -> tuple[ArrayInfo, KeyScheme]:
    """A Zarr v2 ``.zarray`` document."""
    shape = _ints(_field(doc, "shape"), "shape")
    chunks = _ints(_field(doc, "chunks"), "chunks", positive=True)
    _same_rank(shape, chunks, "chunks")
    filters = _codec_list(doc.get("filters"), "filters")
    codecs = [codec_name(f) for f in filters]
    compressor = doc.get("compressor")
    if compressor is not None:
        if not isinstance(compressor, Mapping):
            raise MetadataProblem("compressor is not an object")
        codecs.append(codec_name(compressor))
    separator = doc.get("dimension_separator") or "."
    if separator not in (".", "/"):
        raise MetadataProblem(f"dimension_separator is {short(separator)}, not '.' or '/'")
    info = ArrayInfo(
        shape=shape,
        dtype=_v2_dtype(_field(doc, "dtype")),
        chunks=chunks,
        shards=None,
        codecs=tuple(codecs),
        zarr_format=2,
        separator=separator,
        fill_value=doc.get("fill_value"),
        format="Zarr v2",
    )
    return info, KeyScheme(path, "", separator)


# --------------------------------------------------------------------------
# Zarr v3
# --------------------------------------------------------------------------


def _v3_chunk_shape(doc: Mapping[str, Any]) -> tuple[int, ...]:
    grid = _field(doc, "chunk_grid")
    if not isinstance(grid, Mapping):
        raise MetadataProblem("chunk_grid is not an object")
    if grid.get("name") != "regular":
        raise MetadataProblem(f"chunk_grid {_name(grid)!r} is not the regular grid")
    config = grid.get("configuration")
    if not isinstance(config, Mapping):
        raise MetadataProblem("chunk_grid has no configuration")
    return _ints(_field(config, "chunk_shape"), "chunk_shape", positive=True)


def _v3_keys(doc: Mapping[str, Any], path: str) -> KeyScheme:
    encoding = doc.get("chunk_key_encoding", {"name": "default"})
    if isinstance(encoding, str):
        encoding = {"name": encoding}
    if not isinstance(encoding, Mapping):
        raise MetadataProblem("chunk_key_encoding is not an object")
    name = encoding.get("name", "default")
    if name not in ("default", "v2"):
        raise MetadataProblem(f"chunk_key_encoding {_name(name)!r} is not one of default, v2")
    config = encoding.get("configuration")
    separator = config.get("separator") if isinstance(config, Mapping) else None
    if separator is None:
        separator = "/" if name == "default" else "."
    if separator not in (".", "/"):
        raise MetadataProblem(f"chunk key separator is {short(separator)}, not '.' or '/'")
    return KeyScheme(path, "c" + separator if name == "default" else "", separator)


def zarr_v3_array(doc: Mapping[str, Any], path: str) -> tuple[ArrayInfo, KeyScheme]:
    """A Zarr v3 array ``zarr.json``; the sharding codec's inner chunk becomes ``chunks``."""
    shape = _ints(_field(doc, "shape"), "shape")
    chunks = _v3_chunk_shape(doc)
    _same_rank(shape, chunks, "chunk_shape")
    shards = None
    codecs: list[str] = []
    for codec in _codec_list(_field(doc, "codecs"), "codecs"):
        if not isinstance(codec, (Mapping, str)):
            raise MetadataProblem("codecs holds something that is not a codec")
        if isinstance(codec, Mapping) and codec.get("name") == "sharding_indexed":
            config = codec.get("configuration")
            if not isinstance(config, Mapping):
                raise MetadataProblem("sharding_indexed has no configuration")
            inner = _ints(_field(config, "chunk_shape"), "the inner chunk_shape", positive=True)
            _same_rank(shape, inner, "the inner chunk_shape")
            shards, chunks = chunks, inner
        codecs.append(codec_name(codec))
    data_type = _field(doc, "data_type")
    if not isinstance(data_type, (str, Mapping)):
        raise MetadataProblem("data_type is not a name")
    scheme = _v3_keys(doc, path)
    info = ArrayInfo(
        shape=shape,
        dtype=_name(data_type),
        chunks=chunks,
        shards=shards,
        codecs=tuple(codecs),
        zarr_format=3,
        separator=scheme.separator,
        fill_value=doc.get("fill_value"),
        format="Zarr v3",
    )
    return info, scheme


# --------------------------------------------------------------------------
# The pre-release Zarr v3 draft (zarr-python 2.12 to 2.18, experimental)
# --------------------------------------------------------------------------

#: The ``zarr_format`` of the draft's entry point ``zarr.json``.
V3_DRAFT_FORMAT = "https://purl.org/zarr/spec/protocol/core/3.0"
_DRAFT_SHARDING = "https://purl.org/zarr/spec/storage_transformers/sharding/1.0"


def zarr_v3_draft_array(doc: Mapping[str, Any], path: str) -> tuple[ArrayInfo, KeyScheme]:
    """A draft ``meta/root/<path>.array.json``; its chunks live under ``data/root/<path>/``."""
    shape = _ints(_field(doc, "shape"), "shape")
    grid = _field(doc, "chunk_grid")
    if not isinstance(grid, Mapping):
        raise MetadataProblem("chunk_grid is not an object")
    chunks = _ints(_field(grid, "chunk_shape"), "chunk_shape", positive=True)
    _same_rank(shape, chunks, "chunk_shape")
    separator = grid.get("separator", "/")
    if separator not in (".", "/"):
        raise MetadataProblem(f"chunk_grid separator is {short(separator)}, not '.' or '/'")
    codecs = []
    compressor = doc.get("compressor")
    if compressor is not None:
        if not isinstance(compressor, Mapping):
            raise MetadataProblem("compressor is not an object")
        codecs.append(codec_name(compressor))
    shards = None
    for transformer in _codec_list(doc.get("storage_transformers"), "storage_transformers"):
        if isinstance(transformer, Mapping) and transformer.get("extension") == _DRAFT_SHARDING:
            config = transformer.get("configuration")
            per_shard = _ints(
                config.get("chunks_per_shard") if isinstance(config, Mapping) else None,
                "chunks_per_shard", positive=True,
            )
            per_shard = per_shard + (1,) * (len(chunks) - len(per_shard))
            _same_rank(shape, per_shard, "chunks_per_shard")
            shards = tuple(c * n for c, n in zip(chunks, per_shard))
            codecs.insert(0, "sharding (storage transformer)")
    data_type = _field(doc, "data_type")
    if not isinstance(data_type, (str, list)):
        raise MetadataProblem("data_type is not a name")
    data_dir = "data/root" + (f"/{path}" if path else "")
    info = ArrayInfo(
        shape=shape,
        dtype=_v2_dtype(data_type),
        chunks=chunks,
        shards=shards,
        codecs=tuple(codecs),
        zarr_format=None,
        separator=separator,
        fill_value=doc.get("fill_value"),
        format="Zarr v3 draft",
    )
    return info, KeyScheme(data_dir, "c", separator)


# --------------------------------------------------------------------------
# N5
# --------------------------------------------------------------------------

#: N5's data types, by the names its ``dataType`` uses.
N5_DATA_TYPES = frozenset(
    {"uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
     "float32", "float64", "object"}
)


def is_n5_dataset(doc: Any) -> bool:
    """Whether an ``attributes.json`` document describes a dataset (not only a group)."""
    return isinstance(doc, Mapping) and all(k in doc for k in ("dimensions", "blockSize", "dataType"))


def n5_array(doc: Mapping[str, Any], path: str) -> tuple[ArrayInfo, KeyScheme]:
    """An N5 dataset: ``dimensions``, ``blockSize``, ``dataType``, ``compression``.

    Shapes are shown in the order the N5 metadata lists them: the first
    dimension varies fastest inside a block (tensorstore 0.1.86 keeps that
    order, with chunk inner order (1, 0); zarr-python 2's ``N5Store``
    showed shapes reversed, as C-order arrays). N5 stores no fill value: blocks never written read as
    zeros (tensorstore; zarr-python 2 set the fill value to 0).
    """
    shape = _ints(_field(doc, "dimensions"), "dimensions")
    chunks = _ints(_field(doc, "blockSize"), "blockSize", positive=True)
    _same_rank(shape, chunks, "blockSize")
    data_type = _field(doc, "dataType")
    if not isinstance(data_type, str) or data_type not in N5_DATA_TYPES:
        raise MetadataProblem(f"dataType {_name(data_type)!r} is not an N5 data type")
    compression = doc.get("compression")
    if compression is None:  # N5 before 2.0: {"compressionType": "gzip"}
        compression = doc.get("compressionType", "raw")
    if not isinstance(compression, (Mapping, str)):
        raise MetadataProblem("compression is not an object")
    info = ArrayInfo(
        shape=shape,
        dtype=data_type,
        chunks=chunks,
        shards=None,
        codecs=(codec_name(compression),),
        zarr_format=None,
        separator="/",
        fill_value=0,
        format="N5",
    )
    return info, KeyScheme(path, "", "/")
