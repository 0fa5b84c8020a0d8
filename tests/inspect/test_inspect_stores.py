"""course_utils.inspect.stores: zarr store, group and array objects, and dicts."""

from __future__ import annotations

import pytest
import zarr
from inspect_helpers import comparable, counts, expected_from_keys, walk_sizes, write

from course_utils.inspect import inspect_store


def test_memory_store(small_ms):
    store = zarr.storage.MemoryStore()
    write(store, small_ms, "0.5-sharded")
    sizes = {key: len(value.to_bytes()) for key, value in store._store_dict.items()}
    summary = inspect_store(store)
    assert counts(summary) == expected_from_keys(sizes)
    assert summary.kind == "memory"
    assert summary.ome_version == "0.5" and summary.n_scales == 3
    assert summary.arrays["scale0/image"].shards == (128, 128)


def test_dict_and_local_store_agree_with_the_directory(stores):
    directory = stores["0.4"]
    reference = comparable(inspect_store(directory))
    mapping = {key: (directory / key).read_bytes() for key in walk_sizes(directory)}
    assert comparable(inspect_store(mapping)) == reference
    assert comparable(inspect_store(zarr.storage.LocalStore(directory))) == reference
    assert comparable(inspect_store(f"file://{directory}")) == reference


def test_zarr_group_is_inspected_below_its_path(stores):
    group = zarr.open_group(stores["0.5"], mode="r")["scale1"]
    summary = inspect_store(group)
    assert list(summary.arrays) == ["image"]
    assert summary.arrays["image"].shape == (128, 128)


def test_any_other_zarr_store_through_its_own_api():
    obstore = pytest.importorskip("obstore")
    from obstore.store import MemoryStore as ObjectMemory

    backend = ObjectMemory()
    store = zarr.storage.ObjectStore(backend)
    group = zarr.open_group(store, mode="w")
    group.create_array("x/y", shape=(20, 20), chunks=(8, 8), dtype="uint8")[:] = 7
    sizes = {
        meta["path"]: meta["size"]
        for batch in obstore.list(backend)
        for meta in batch
    }
    summary = inspect_store(store)
    assert summary.kind == "ObjectStore"
    assert counts(summary) == expected_from_keys(sizes)
    assert summary.arrays["x/y"].chunks == (8, 8)
