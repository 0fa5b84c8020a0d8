"""A corpus of stores written by other tools, for the course_utils.inspect tests.

Built once per test session (``build(root)``, a few seconds): every entry is
a small directory store or zip, named for what wrote it.

Writers:

* tensorstore 0.1.86: N5 (gzip), Zarr v2 (blosc, ``/`` separator), Zarr v3
  with and without the sharding codec (a partly written array, so some
  chunks are missing);
* zarr-python 3.1.6 writing Zarr v2 (``zarr_format=2``): one array per
  compressor and filter numcodecs offers, both separators, consolidated
  ``.zmetadata``, a ``null`` fill value; Zarr v3 with consolidated metadata;
* ome-zarr-py 0.18: an image with labels, and an HCS plate, as OME-Zarr 0.4
  (Zarr v2) and 0.5 (Zarr v3);
* by hand, after the specifications: the bioformats2raw layout (OME-NGFF
  0.5's example: ``bioformats2raw.layout`` 3, ``OME/METADATA.ome.xml``,
  ``OME`` group with ``series``); an HCS plate with the spec's example
  plate and well attributes; the pre-release Zarr v3 draft as
  zarr-python 2.12-2.18 wrote it with ``ZARR_V3_EXPERIMENTAL_API=1``
  (``zarr.json`` entry point whose ``zarr_format`` is
  ``https://purl.org/zarr/spec/protocol/core/3.0``, ``meta/root/...``
  documents, ``data/root/.../c0/0`` chunks, the sharding storage
  transformer); an N5 container of the pre-2.0 kind (``compressionType``);
  Git LFS pointer files in place of a store's metadata, or of its chunks.
"""

from __future__ import annotations

import json
import shutil
import struct
import warnings
from pathlib import Path

import numpy as np

#: What a Git LFS pointer file holds (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)

#: numcodecs compressors (and filters) zarr-python 3 writes into Zarr v2 metadata.
V2_COMPRESSORS = {
    "none": None,
    "zlib": {"id": "zlib", "level": 1},
    "gzip": {"id": "gzip", "level": 1},
    "bz2": {"id": "bz2", "level": 1},
    "lzma": {"id": "lzma", "preset": 1},
    "lz4": {"id": "lz4", "acceleration": 1},
    "zstd": {"id": "zstd", "level": 1},
    "blosc-lz4": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
    "blosc-zstd": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2},
}


def _image(shape=(64, 48), seed=0, dtype="uint16"):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 1000, size=shape).astype(dtype)


def _json(path: Path, doc) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


# --------------------------------------------------------------------------
# tensorstore
# --------------------------------------------------------------------------


def tensorstore_stores(root: Path) -> dict[str, Path]:
    import tensorstore as ts

    data = _image((100, 60))
    out = {}

    def kv(path: Path) -> dict:
        return {"driver": "file", "path": str(path)}

    out["ts-n5"] = root / "ts.n5"
    array = ts.open({
        "driver": "n5", "kvstore": kv(out["ts-n5"] / "raw" / "s0"), "create": True,
        "metadata": {"compression": {"type": "gzip"}, "dataType": "uint16",
                     "dimensions": [100, 60], "blockSize": [32, 32]},
    }).result()
    array[:50, :].write(data[:50]).result()  # blocks of rows 64-99 never written

    out["ts-zarr2"] = root / "ts-v2.zarr"
    array = ts.open({
        "driver": "zarr", "kvstore": kv(out["ts-zarr2"]), "create": True,
        "metadata": {"compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
                     "dtype": "<u2", "shape": [100, 60], "chunks": [32, 32],
                     "dimension_separator": "/"},
    }).result()
    array[...].write(data).result()

    out["ts-zarr3"] = root / "ts-v3.zarr"
    _json(out["ts-zarr3"] / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {}})
    sharded = {"name": "sharding_indexed", "configuration": {
        "chunk_shape": [16, 16],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                   {"name": "zstd", "configuration": {"level": 3}}],
    }}
    array = ts.open({
        "driver": "zarr3", "kvstore": kv(out["ts-zarr3"] / "sharded"), "create": True,
        "metadata": {"data_type": "uint16", "shape": [100, 60],
                     "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [64, 64]}},
                     "codecs": [sharded]},
    }).result()
    array[...].write(data).result()
    array = ts.open({
        "driver": "zarr3", "kvstore": kv(out["ts-zarr3"] / "plain"), "create": True,
        "metadata": {"data_type": "uint16", "shape": [100, 60],
                     "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [32, 32]}}},
    }).result()
    array[:40].write(data[:40]).result()  # 4 of the 8 chunks
    return out


# --------------------------------------------------------------------------
# zarr-python 3, Zarr v2 and v3
# --------------------------------------------------------------------------


def zarr_python_stores(root: Path) -> dict[str, Path]:
    import numcodecs
    import zarr

    data = _image((40, 30))
    out = {"zarr-v2-codecs": root / "v2-codecs.zarr"}
    group = zarr.open_group(out["zarr-v2-codecs"], mode="w", zarr_format=2)
    for name, config in V2_COMPRESSORS.items():
        for separator in (".", "/"):
            compressor = None if config is None else numcodecs.get_codec(dict(config))
            array = group.create_array(
                f"{name}{'-nested' if separator == '/' else ''}", shape=data.shape,
                chunks=(16, 16), dtype=data.dtype, compressors=compressor,
                chunk_key_encoding={"name": "v2", "separator": separator},
            )
            array[:] = data
    array = group.create_array(
        "delta-zlib", shape=data.shape, chunks=(16, 16), dtype=data.dtype,
        filters=[numcodecs.Delta(dtype="<u2")], compressors=numcodecs.Zlib(level=1),
    )
    array[:] = data
    sparse = group.create_array("sparse-null-fill", shape=(40, 30), chunks=(16, 16), dtype="uint16",
                                fill_value=None)
    sparse[:16, :16] = 7  # one chunk of 6
    zarr.consolidate_metadata(out["zarr-v2-codecs"])

    out["zarr-v3-consolidated"] = root / "v3-consolidated.zarr"
    group = zarr.open_group(out["zarr-v3-consolidated"], mode="w")
    sub = group.create_group("sub")
    sub.create_array("a", shape=(40, 30), chunks=(10, 10), dtype="float32", fill_value=-1.0)[:20] = 1.5
    group.create_array("b", shape=(8,), chunks=(4,), dtype="int8",
                       chunk_key_encoding={"name": "default", "separator": "."})[:] = 3
    zarr.consolidate_metadata(out["zarr-v3-consolidated"])
    return out


# --------------------------------------------------------------------------
# ome-zarr-py
# --------------------------------------------------------------------------


def ome_zarr_stores(root: Path) -> dict[str, Path]:
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image, write_labels, write_plate_metadata, write_well_metadata

    image = _image((64, 48))
    labels = (image > 500).astype("uint8")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for version, fmt in (("0.4", FormatV04()), ("0.5", FormatV05())):
            zarr_format = 2 if version == "0.4" else 3
            key = f"ome-zarr-py-image-{version}"
            out[key] = root / f"omezarrpy-image-{version}.ome.zarr"
            group = zarr.open_group(out[key], mode="w", zarr_format=zarr_format)
            write_image(image, group, axes="yx", fmt=fmt, scale_factors=[2],
                        storage_options={"chunks": (32, 32)})
            write_labels(labels, group, name="cells", axes="yx", fmt=fmt, scale_factors=[2],
                         storage_options={"chunks": (32, 32)})

            key = f"ome-zarr-py-plate-{version}"
            out[key] = root / f"omezarrpy-plate-{version}.ome.zarr"
            plate = zarr.open_group(out[key], mode="w", zarr_format=zarr_format)
            wells = ["A/1", "B/2"]
            write_plate_metadata(plate, ["A", "B"], ["1", "2"], wells, fmt=fmt, field_count=1,
                                 name="test plate")
            for well in wells:
                group = plate.require_group(well)
                write_well_metadata(group, ["0"], fmt=fmt)
                write_image(image, group.require_group("0"), axes="yx", fmt=fmt,
                            scale_factors=[2], storage_options={"chunks": (32, 32)})
    return out


# --------------------------------------------------------------------------
# By hand, after the specifications
# --------------------------------------------------------------------------


def _v3_array(path: Path, shape, chunks, fill=0, dtype="uint8", sharded_inner=None) -> None:
    codecs = [{"name": "bytes"}]
    if sharded_inner is not None:
        codecs = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(sharded_inner), "codecs": [{"name": "bytes"}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        }}]
    _json(path / "zarr.json", {
        "zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": dtype,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default"}, "fill_value": fill, "codecs": codecs,
    })


def _image_group_v3(path: Path, n_scales=2, with_chunks=True) -> None:
    datasets = [{"path": str(i), "coordinateTransformations": [{"type": "scale", "scale": [2.0**i] * 2}]}
                for i in range(n_scales)]
    _json(path / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
        "version": "0.5",
        "multiscales": [{"axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                         "datasets": datasets}],
    }}})
    for i in range(n_scales):
        side = 16 // 2**i
        _v3_array(path / str(i), (side, side), (8, 8))
        if with_chunks:
            for y in range(-(-side // 8)):
                for x in range(-(-side // 8)):
                    chunk = path / str(i) / "c" / str(y) / str(x)
                    chunk.parent.mkdir(parents=True, exist_ok=True)
                    chunk.write_bytes(bytes(64))


def bioformats2raw_store(root: Path) -> Path:
    """OME-NGFF 0.5's bioformats2raw example: two series, OME/METADATA.ome.xml, series list."""
    store = root / "bf2raw.ome.zarr"
    _json(store / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {
        "ome": {"version": "0.5", "bioformats2raw.layout": 3}}})
    _json(store / "OME" / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {
        "ome": {"version": "0.5", "series": ["0", "1"]}}})
    (store / "OME" / "METADATA.ome.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" '
        'SizeX="16" SizeY="16" SizeZ="1" SizeC="1" SizeT="1"><MetadataOnly/></Pixels></Image>'
        '<Image ID="Image:1"><Pixels ID="Pixels:1" DimensionOrder="XYZCT" Type="uint8" '
        'SizeX="16" SizeY="16" SizeZ="1" SizeC="1" SizeT="1"><MetadataOnly/></Pixels></Image>'
        "</OME>\n"
    )
    for series in ("0", "1"):
        _image_group_v3(store / series)
    return store


def plate_store(root: Path) -> Path:
    """OME-NGFF 0.5's plate example (2 of 96 wells) with its well example's two fields."""
    store = root / "spec-plate.ome.zarr"
    rows = [{"name": r} for r in "ABCDEFGH"]
    columns = [{"name": str(c)} for c in range(1, 13)]
    wells = [{"path": "C/5", "rowIndex": 2, "columnIndex": 4},
             {"path": "D/7", "rowIndex": 3, "columnIndex": 6}]
    _json(store / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
        "version": "0.5",
        "plate": {"acquisitions": [{"id": 1, "maximumfieldcount": 2, "name": "single acquisition"}],
                  "columns": columns, "rows": rows, "field_count": 2, "name": "sparse test",
                  "wells": wells},
    }}})
    for well in ("C/5", "D/7"):
        row = well.split("/")[0]
        _json(store / row / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {}})
        _json(store / well / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
            "version": "0.5", "well": {"images": [{"acquisition": 1, "path": "0"},
                                                  {"acquisition": 1, "path": "1"}]}}}})
        for field in ("0", "1"):
            _image_group_v3(store / well / field, n_scales=1)
    return store


def zarr_v3_draft_store(root: Path) -> Path:
    """The layout zarr-python 2.12-2.18 wrote with ZARR_V3_EXPERIMENTAL_API=1.

    Keys and documents follow zarr/_storage/store.py, zarr/meta.py (Metadata3)
    and zarr/core.py (_chunk_key) of zarr-python 2.18: an entry point
    ``zarr.json``, ``meta/root.group.json``, ``meta/root/<path>.array.json``,
    chunks ``data/root/<path>/c<i>/<j>``; sharding as a storage transformer.
    """
    store = root / "v3-draft.zarr"
    _json(store / "zarr.json", {
        "zarr_format": "https://purl.org/zarr/spec/protocol/core/3.0",
        "metadata_encoding": "https://purl.org/zarr/spec/protocol/core/3.0",
        "metadata_key_suffix": ".json",
        "extensions": [],
    })
    _json(store / "meta" / "root.group.json", {"attributes": {"title": "draft"}})
    _json(store / "meta" / "root" / "raw.array.json", {
        "shape": [20, 20], "data_type": "<u2",
        "chunk_grid": {"type": "regular", "chunk_shape": [10, 10], "separator": "/"},
        "chunk_memory_layout": "C", "fill_value": 0, "extensions": [], "attributes": {},
        "compressor": {"codec": "https://purl.org/zarr/spec/codec/zlib/1.0", "configuration": {"level": 1}},
    })
    for y in range(2):
        for x in range(2):
            chunk = store / "data" / "root" / "raw" / f"c{y}" / str(x)
            chunk.parent.mkdir(parents=True, exist_ok=True)
            chunk.write_bytes(b"\x78\x01" + bytes(20))
    _json(store / "meta" / "root" / "sharded.array.json", {
        "shape": [20, 20], "data_type": "u1",
        "chunk_grid": {"type": "regular", "chunk_shape": [5, 5], "separator": "/"},
        "chunk_memory_layout": "C", "fill_value": 0, "extensions": [], "attributes": {},
        "storage_transformers": [{
            "extension": "https://purl.org/zarr/spec/storage_transformers/sharding/1.0",
            "type": "indexed", "configuration": {"chunks_per_shard": [2, 2]},
        }],
    })
    chunk = store / "data" / "root" / "sharded" / "c0" / "0"
    chunk.parent.mkdir(parents=True, exist_ok=True)
    chunk.write_bytes(bytes(100))
    return store


def n5_legacy_store(root: Path) -> Path:
    """An N5 container with the root version attribute and a pre-2.0 dataset (compressionType)."""
    store = root / "legacy.n5"
    _json(store / "attributes.json", {"n5": "4.0.0"})
    _json(store / "volume" / "attributes.json", {"pixelResolution": [1, 1, 1]})
    _json(store / "volume" / "s0" / "attributes.json", {
        "dimensions": [30, 20, 10], "blockSize": [16, 16, 16], "dataType": "uint8",
        "compressionType": "raw",
    })
    for i in range(2):
        block = store / "volume" / "s0" / str(i) / "0" / "0"
        block.parent.mkdir(parents=True, exist_ok=True)
        block.write_bytes(struct.pack(">HHIII", 0, 3, 16, 16, 10) + bytes(16 * 16 * 10))
    return store


def lfs_stores(root: Path, source: Path) -> dict[str, Path]:
    """A store cloned without ``git lfs pull``: its metadata, or only its chunks, are pointers."""
    out = {}
    out["lfs-everything"] = Path(shutil.copytree(source, root / "lfs-everything.zarr"))
    out["lfs-chunks"] = Path(shutil.copytree(source, root / "lfs-chunks.zarr"))
    for path in out["lfs-everything"].rglob("*"):
        if path.is_file():
            path.write_text(LFS_POINTER)
    for path in out["lfs-chunks"].rglob("*"):
        if path.is_file() and path.name != "zarr.json":
            path.write_text(LFS_POINTER)
    return out


def build(root: Path, ngff_zarr_store: Path) -> dict[str, Path]:
    """Every store of the corpus under ``root``, by name."""
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    out.update(tensorstore_stores(root))
    out.update(zarr_python_stores(root))
    out.update(ome_zarr_stores(root))
    out["bioformats2raw"] = bioformats2raw_store(root)
    out["spec-plate"] = plate_store(root)
    out["zarr-v3-draft"] = zarr_v3_draft_store(root)
    out["n5-legacy"] = n5_legacy_store(root)
    out.update(lfs_stores(root, ngff_zarr_store))
    return out
