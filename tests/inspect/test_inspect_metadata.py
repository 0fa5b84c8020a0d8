"""course_utils.inspect.metadata: Zarr v2 / v3 array metadata and OME attributes."""

from __future__ import annotations

import numpy as np
import zarr
from inspect_helpers import SCALE_SHAPES, counts, expected_from_walk

from course_utils.inspect import ArrayInfo, inspect_store


def test_ome_zarr_04_arrays(stores):
    summary = inspect_store(stores["0.4"])
    assert summary.zarr_format == 2
    assert summary.ome_version == "0.4"
    assert summary.n_scales == 3
    assert list(summary.arrays) == ["scale0/image", "scale1/image", "scale2/image"]
    for info, shape in zip(summary.arrays.values(), SCALE_SHAPES):
        n_chunks = (shape[0] // 64) * (shape[1] // 64)
        assert info == ArrayInfo(
            shape=shape, dtype="uint16", chunks=(64, 64), shards=None,
            codecs=("zstd",), zarr_format=2, separator="/", fill_value=0, format="Zarr v2",
            n_stored=n_chunks, stored_bytes=info.stored_bytes,
        )
        assert info.n_possible == info.n_chunks_possible == n_chunks
        assert info.stored_bytes > 0


def test_ome_zarr_05_arrays(stores):
    summary = inspect_store(str(stores["0.5"]))
    assert summary.zarr_format == 3
    assert summary.ome_version == "0.5"
    assert summary.n_scales == 3
    for info, shape in zip(summary.arrays.values(), SCALE_SHAPES):
        n_chunks = (shape[0] // 64) * (shape[1] // 64)
        assert info == ArrayInfo(
            shape=shape, dtype="uint16", chunks=(64, 64), shards=None,
            codecs=("bytes", "zstd"), zarr_format=3, separator="/", fill_value=0, format="Zarr v3",
            n_stored=n_chunks, stored_bytes=info.stored_bytes,
        )


def test_ome_zarr_05_sharded_arrays(stores):
    summary = inspect_store(stores["0.5-sharded"])
    assert summary.ome_version == "0.5"
    for info, shape in zip(summary.arrays.values(), SCALE_SHAPES):
        assert info.shape == shape
        assert info.chunks == (64, 64)  # the inner chunk
        assert info.shards == (128, 128)  # 2 chunks per shard along each axis
        assert info.codecs == ("sharding_indexed: bytes, zstd",)
    # One object per shard: 2x2 + 1 + 1, holding 4x4 + 2x2 + 1 chunks.
    assert (summary.n_shards, summary.n_chunks, summary.n_other) == (6, 0, 0)
    assert summary.n_chunks_in_shards == 16 + 4 + 1
    assert [i.n_stored for i in summary.arrays.values()] == [4, 1, 1]
    assert [i.chunks_per_shard for i in summary.arrays.values()] == [4, 4, 4]
    assert [i.n_chunks_in_stored_shards for i in summary.arrays.values()] == [16, 4, 1]


def test_zarr_v2_flat_and_nested_separators(tmp_path):
    root = tmp_path / "v2.zarr"
    zarr.open_group(root, mode="w", zarr_format=2)
    data = np.random.default_rng(1).integers(1, 1000, size=(100, 60), dtype=np.uint16)
    for name, separator in (("flat", "."), ("nested", "/")):
        array = zarr.create_array(
            store=root, name=name, shape=data.shape, chunks=(32, 32), dtype="uint16",
            zarr_format=2, chunk_key_encoding={"name": "v2", "separator": separator},
        )
        array[:] = data
    assert (root / "flat" / "3.1").is_file()
    assert (root / "nested" / "3" / "1").is_file()

    summary = inspect_store(root)
    assert counts(summary) == expected_from_walk(root)
    assert summary.zarr_format == 2
    assert summary.ome_version is None and summary.n_scales is None
    flat, nested = summary.arrays["flat"], summary.arrays["nested"]
    assert flat.separator == "." and nested.separator == "/"
    for info in (flat, nested):
        assert info.shape == (100, 60) and info.chunks == (32, 32)
        assert info.dtype == "uint16" and info.zarr_format == 2 and info.shards is None
    # 8 chunk files + .zarray + .zattrs side by side in the flat array.
    assert summary.max_entries_per_directory == 10
    assert summary.max_entries_directory == "flat"


def test_zarr_v3_chunk_key_encodings_and_root_array(tmp_path):
    root = tmp_path / "v3.zarr"
    for name, encoding in (
        ("default-dot", {"name": "default", "separator": "."}),
        ("v2-dot", {"name": "v2", "separator": "."}),
        ("v2-slash", {"name": "v2", "separator": "/"}),
    ):
        array = zarr.create_array(
            store=root, name=name, shape=(10, 10), chunks=(5, 5), dtype="float32",
            chunk_key_encoding=encoding,
        )
        array[:] = 1.5
    summary = inspect_store(root)
    assert counts(summary) == expected_from_walk(root)
    assert summary.arrays["default-dot"].separator == "."
    assert summary.arrays["v2-dot"].separator == "."
    assert summary.arrays["v2-slash"].separator == "/"
    for info in summary.arrays.values():
        assert info.dtype == "float32" and info.codecs == ("bytes", "zstd")

    lone = tmp_path / "lone.zarr"
    array = zarr.create_array(store=lone, shape=(10,), chunks=(4,), dtype="int32")
    array[:] = np.arange(1, 11)
    summary = inspect_store(lone)
    assert list(summary.arrays) == [""]
    assert summary.arrays[""].shape == (10,) and summary.arrays[""].chunks == (4,)
    assert summary.n_chunks == 3
    assert summary.zarr_format == 3
