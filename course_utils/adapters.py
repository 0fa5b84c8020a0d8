"""Store adapters: Zarr views of data that was never written as Zarr.

Notebooks 07 (adapters, virtual references, N5) and 08 (content addressing) use these
helpers to look behind what they teach:

- :func:`tiff_layout` says where a TIFF keeps its pixels (strips or tiles,
  offsets, sizes, compression);
- :func:`tiff_references` and :func:`band_references` describe a TIFF's
  pixels as the chunks of a Zarr array, as *virtual references*
  ``key -> [file, offset, length]`` in the format of fsspec's reference file
  system (the format kerchunk writes); :func:`reference_store` opens such a
  description as a read-only zarr-python 3 store, reading the bytes from the
  original file, local or served over HTTP;
- :func:`files_with_sizes` and :func:`n5_block_header` compare the layout of
  N5 and Zarr on disk;
- :func:`raw_cid`, :func:`dag_json_cid`, :func:`content_addresses` and
  :func:`ipfs_fetch` show content addressing, the idea behind IPFS/IPLD
  stores, and fetch a block from a public IPFS gateway only when the course
  runs online.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from course_utils import mode
from course_utils.keys import natural_key

# --------------------------------------------------------------------------
# TIFF: where the pixels are, and references to them
# --------------------------------------------------------------------------

UNCOMPRESSED = 1
"""The TIFF ``Compression`` tag value meaning "no compression"."""


@dataclass(frozen=True)
class TiffLayout:
    """Where the first image of a TIFF file keeps its pixels.

    ``chunk_shape`` is the shape of one strip (a band of whole rows) or one
    tile; ``offsets`` and ``byte_counts`` give each strip or tile's position
    and size in the file, in the TIFF's own order (row-major over the grid).
    ``contiguous`` is true when the pixels are uncompressed and stored in one
    unbroken run of bytes starting at ``offsets[0]``, so that any band of
    whole rows is a single byte range.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    byteorder: str
    compression: str
    tiled: bool
    chunk_shape: tuple[int, ...]
    offsets: tuple[int, ...]
    byte_counts: tuple[int, ...]
    contiguous: bool
    file_size: int

    @property
    def n_chunks(self) -> int:
        """Number of strips or tiles."""
        return len(self.offsets)

    @property
    def pixel_bytes(self) -> int:
        """Bytes of pixel data as stored (compressed if the TIFF is)."""
        return sum(self.byte_counts)

    def __str__(self) -> str:
        kind = "tiles" if self.tiled else "strips"
        lines = [
            f"image {self.shape} {self.dtype} ({'little' if self.byteorder == '<' else 'big'}-endian), "
            f"compression: {self.compression}",
            f"{self.n_chunks} {kind} of {self.chunk_shape}, "
            f"{self.pixel_bytes:,} bytes of pixels in a file of {self.file_size:,} bytes",
            f"first {kind[:-1]} at byte offset {self.offsets[0]:,}, "
            f"pixels stored as one unbroken byte run: {'yes' if self.contiguous else 'no'}",
        ]
        return "\n".join(lines)


def tiff_layout(path: str | os.PathLike) -> TiffLayout:
    """The :class:`TiffLayout` of the first image (page 0) of the TIFF at ``path``."""
    path = Path(path)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        shape = tuple(int(n) for n in page.shape)
        tiled = bool(page.is_tiled)
        if tiled:
            chunk_shape = (int(page.tilelength), int(page.tilewidth))
        else:
            chunk_shape = (min(int(page.rowsperstrip), shape[0]), *shape[1:])
        offsets = tuple(int(o) for o in page.dataoffsets)
        counts = tuple(int(c) for c in page.databytecounts)
        compression = page.compression
        layout = TiffLayout(
            shape=shape,
            dtype=np.dtype(page.dtype),
            byteorder=tif.byteorder,
            compression=compression.name.lower(),
            tiled=tiled,
            chunk_shape=chunk_shape,
            offsets=offsets,
            byte_counts=counts,
            contiguous=_is_one_run(offsets, counts)
            and int(compression) == UNCOMPRESSED
            and sum(counts) == math.prod(shape) * np.dtype(page.dtype).itemsize
            and not tiled,
            file_size=path.stat().st_size,
        )
    return layout


def _is_one_run(offsets: tuple[int, ...], counts: tuple[int, ...]) -> bool:
    return all(o + c == nxt for o, c, nxt in zip(offsets, counts, offsets[1:]))


def _target(path: Path, url: str | None) -> str:
    """Where the references point: ``url`` if given, else the absolute local path."""
    return url if url is not None else str(path.resolve())


def tiff_references(path: str | os.PathLike, *, url: str | None = None) -> dict[str, Any]:
    """References that describe the TIFF's own strips or tiles as Zarr chunks.

    Built by tifffile (the code kerchunk's ``tiff_to_zarr`` wraps): a Zarr v2
    array whose chunk ``i.j`` is ``[url, offset, length]`` inside the TIFF.
    ``url`` is where a reader will find the file (for example its HTTP
    address); by default the file's absolute local path. Returns a dict in
    fsspec's reference format version 0 (``key -> JSON text or [url, offset,
    length]``).
    """
    path = Path(path)
    buffer = io.StringIO()
    with tifffile.imread(path, aszarr=True) as store:
        store.write_fsspec(buffer, url="")
    refs = json.loads(buffer.getvalue())
    target = _target(path, url)
    for key, value in refs.items():
        if isinstance(value, list) and value:
            refs[key] = [target, *value[1:]]
    return refs


def band_references(
    path: str | os.PathLike, rows_per_chunk: int, *, url: str | None = None, strict: bool = True
) -> dict[str, Any]:
    """References that cut an uncompressed TIFF into chunks of ``rows_per_chunk`` rows.

    Only the arithmetic of byte offsets: chunk ``k`` starts
    ``k * rows_per_chunk * row_bytes`` bytes after the first pixel and is
    ``rows_per_chunk * row_bytes`` long. The TIFF is not touched.

    ``rows_per_chunk`` must divide the image height: Zarr expects every
    uncompressed chunk to be a whole chunk, and a short last band would need
    padding bytes the file does not have. Raises ``ValueError`` if it does
    not, or if the pixels are compressed or not one unbroken run of bytes
    (then only the TIFF's own strips or tiles can be referenced): with
    ``strict=False`` it returns :func:`tiff_references` in that last case.
    """
    path = Path(path)
    layout = tiff_layout(path)
    if not layout.contiguous and not strict:
        return tiff_references(path, url=url)
    if not layout.contiguous:
        raise ValueError(
            f"{path.name}: pixels are {layout.compression} and "
            f"{'one run' if _is_one_run(layout.offsets, layout.byte_counts) else 'scattered'}; "
            "only uncompressed pixels stored in one run can be cut into arbitrary bands"
        )
    rows_per_chunk = int(rows_per_chunk)
    height = layout.shape[0]
    if not 1 <= rows_per_chunk <= height or height % rows_per_chunk:
        raise ValueError(
            f"rows_per_chunk must divide the image height {height}, and {rows_per_chunk} does not"
        )
    row_bytes = math.prod(layout.shape[1:]) * layout.dtype.itemsize
    start = layout.offsets[0]
    target = _target(path, url)
    tail = ".0" * (len(layout.shape) - 1)
    refs: dict[str, Any] = {
        ".zarray": json.dumps(
            {
                "zarr_format": 2,
                "shape": list(layout.shape),
                "chunks": [rows_per_chunk, *layout.shape[1:]],
                "dtype": layout.dtype.newbyteorder(layout.byteorder).str,
                "compressor": None,
                "filters": None,
                "fill_value": 0,
                "order": "C",
            }
        ),
    }
    band_bytes = rows_per_chunk * row_bytes
    for k in range(height // rows_per_chunk):
        refs[f"{k}{tail}"] = [target, start + k * band_bytes, band_bytes]
    return refs


def reference_store(
    refs: Mapping[str, Any],
    *,
    remote_protocol: str = "file",
    remote_options: Mapping[str, Any] | None = None,
):
    """A read-only zarr-python 3 store that serves ``refs`` (fsspec's reference format).

    Metadata comes from the references themselves; each chunk is a byte
    range read from the file its reference names, through the fsspec file
    system of ``remote_protocol`` (``"file"``, ``"http"``, ``"s3"``...) with
    ``remote_options``.
    """
    import fsspec
    import zarr
    from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper

    fs = fsspec.filesystem(
        "reference",
        fo=dict(refs),
        remote_protocol=remote_protocol,
        remote_options={**(remote_options or {}), "asynchronous": True},
        asynchronous=True,
    )
    if not fs.async_impl:  # pragma: no cover - ReferenceFileSystem is async today
        fs = AsyncFileSystemWrapper(fs)
    return zarr.storage.FsspecStore(fs, read_only=True, path="")


# --------------------------------------------------------------------------
# N5 and Zarr on disk
# --------------------------------------------------------------------------


def files_with_sizes(root: str | os.PathLike) -> list[tuple[str, int]]:
    """Every file under ``root`` as ``(path relative to root with "/", size in bytes)``, sorted."""
    root = Path(root)
    found = [
        (p.relative_to(root).as_posix(), p.stat().st_size) for p in root.rglob("*") if p.is_file()
    ]
    return sorted(found, key=lambda item: natural_key(item[0]))


@dataclass(frozen=True)
class N5BlockHeader:
    """The header in front of every N5 data block.

    ``mode`` 0 is a normal block (1: variable length, 2: object);
    ``shape`` is the block's size, fastest-varying axis first (x, y, ...);
    ``n_bytes`` is the header's own length.
    """

    mode: int
    shape: tuple[int, ...]
    n_bytes: int


def n5_block_header(raw: bytes) -> N5BlockHeader:
    """Parse the big-endian header of an *uncompressed view* of an N5 block file.

    N5 writes ``mode`` (uint16), the number of dimensions (uint16), then
    each block dimension (uint32), all big-endian, before the (possibly
    compressed) pixels. The header itself is never compressed.
    """
    if len(raw) < 4:
        raise ValueError("an N5 block is at least 4 bytes long")
    block_mode, ndim = struct.unpack(">HH", raw[:4])
    end = 4 + 4 * ndim
    if len(raw) < end:
        raise ValueError(f"N5 block header says {ndim} dimensions but the block is too short")
    shape = struct.unpack(f">{ndim}I", raw[4:end])
    return N5BlockHeader(mode=block_mode, shape=tuple(int(n) for n in shape), n_bytes=end)


# --------------------------------------------------------------------------
# Content addressing (IPFS / IPLD)
# --------------------------------------------------------------------------

RAW_CODEC = 0x55
"""Multicodec code of raw bytes (an IPFS block that is just the data)."""
DAG_JSON_CODEC = 0x0129
"""Multicodec code of DAG-JSON (an IPLD node written as JSON, links as ``{"/": cid}``)."""
SHA2_256 = 0x12
"""Multihash code of SHA2-256."""

DEFAULT_GATEWAY = "https://ipfs.io"
"""A public IPFS HTTP gateway, used only online."""
HELLO_WORLD_CID = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
"""The CID of the 11 bytes ``b"hello world"``: widely pinned, a standard test vector."""
GATEWAY_TIMEOUT_SECONDS = 10.0


def _varint(n: int) -> bytes:
    """Unsigned LEB128, the variable-length integer of multiformats."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def cid_v1(data: bytes, codec: int = RAW_CODEC) -> str:
    """The CIDv1 of ``data`` under ``codec``, SHA2-256, as base32 text (``b...``).

    A CID is the address *derived from the content*: version, codec, then
    the multihash (hash code, digest length, digest). The same bytes always
    get the same CID, anywhere.
    """
    digest = hashlib.sha256(bytes(data)).digest()
    binary = _varint(1) + _varint(codec) + _varint(SHA2_256) + _varint(len(digest)) + digest
    return "b" + base64.b32encode(binary).decode("ascii").lower().rstrip("=")


def raw_cid(data: bytes) -> str:
    """The CID IPFS gives ``data`` stored as a single raw block (``bafkrei...``)."""
    return cid_v1(data, RAW_CODEC)


def _value_bytes(value: Any) -> bytes:
    """Bytes of a store value: zarr Buffers, bytes-like objects, or str."""
    if hasattr(value, "to_bytes"):
        return bytes(value.to_bytes())
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


def content_addresses(store: Mapping[str, Any]) -> dict[str, str]:
    """``key -> raw CID of its value`` for every key of a dict-backed store."""
    return {key: raw_cid(_value_bytes(store[key])) for key in sorted(store)}


def dag_json(addresses: Mapping[str, str]) -> bytes:
    """A DAG-JSON node linking every key to its CID: ``{"key": {"/": "cid"}, ...}``.

    Keys sorted, no whitespace: DAG-JSON's canonical form, so the same map
    always gives the same bytes and therefore the same CID.
    """
    node = {key: {"/": cid} for key, cid in sorted(addresses.items())}
    return json.dumps(node, separators=(",", ":"), sort_keys=True).encode()


def dag_json_cid(addresses: Mapping[str, str]) -> str:
    """The CID of :func:`dag_json` of ``addresses``: one address for the whole store."""
    return cid_v1(dag_json(addresses), DAG_JSON_CODEC)


@dataclass(frozen=True)
class GatewayFetch:
    """What :func:`ipfs_fetch` got: the block's bytes, or why there are none."""

    cid: str
    data: bytes | None
    reason: str

    @property
    def ok(self) -> bool:
        """True when bytes came back and hash to ``cid``."""
        return self.data is not None


def ipfs_fetch(
    cid: str = HELLO_WORLD_CID,
    *,
    gateway: str = DEFAULT_GATEWAY,
    timeout: float = GATEWAY_TIMEOUT_SECONDS,
) -> GatewayFetch:
    """Fetch the raw block ``cid`` from an IPFS HTTP ``gateway`` and verify it.

    Never touches the network when the course is offline
    (``COURSE_OFFLINE=1``, or the public data cannot be reached), nor when
    the gateway's host does not answer; the result then says why it
    skipped. The bytes are accepted only if they hash back to ``cid``: with
    content addressing, whoever serves the block cannot change it.
    """
    if mode.offline_requested():
        return GatewayFetch(cid, None, f"skipped: offline mode ({mode.OFFLINE_VARIABLE} is set)")
    if mode.is_offline():
        return GatewayFetch(cid, None, "skipped: offline mode (no route to the internet)")
    if not mode.host_reachable(gateway, timeout=min(timeout, mode.PROBE_TIMEOUT_SECONDS)):
        return GatewayFetch(cid, None, f"skipped: the gateway {gateway} cannot be reached")
    import requests

    url = f"{gateway.rstrip('/')}/ipfs/{cid}?format=raw"
    try:
        response = requests.get(
            url, timeout=timeout, headers={"Accept": "application/vnd.ipld.raw"}
        )
    except requests.RequestException as error:
        return GatewayFetch(cid, None, f"skipped: {gateway} did not answer ({type(error).__name__})")
    if response.status_code != 200:
        return GatewayFetch(cid, None, f"skipped: {gateway} answered HTTP {response.status_code}")
    data = response.content
    if raw_cid(data) != cid:
        return GatewayFetch(cid, None, f"rejected: the {len(data)} bytes from {gateway} do not hash to {cid}")
    return GatewayFetch(cid, data, f"fetched {len(data)} bytes from {gateway}, hash verified")
