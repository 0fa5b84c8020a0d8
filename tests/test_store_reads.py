"""course_utils.store_reads: the reads it counts on the client are the requests the server answers."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from rich.console import Console

from course_utils.servers import LocalHTTPServer
from course_utils.store_reads import ReadCounter, RecordingStore, reads_table


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A v2 array (4 chunk objects) and a v3 array of one shard of 4 inner chunks, served over HTTP."""
    root = tmp_path_factory.mktemp("site")
    values = np.arange(4 * 6 * 8, dtype="uint16").reshape(4, 6, 8) + 1
    v2 = zarr.create_array(str(root / "v2.zarr"), shape=values.shape, chunks=(1, 6, 8), dtype="uint16", zarr_format=2)
    v2[:] = values
    v3 = zarr.create_array(str(root / "v3.zarr"), shape=values.shape, shards=(4, 6, 8), chunks=(1, 6, 8), dtype="uint16")
    v3[:] = values
    with LocalHTTPServer(root) as server:
        yield server, values


def _open(counter, server, name):
    return zarr.open_array(counter.store(server.url(name)), mode="r")


def test_reads_match_the_servers_own_count(site):
    server, values = site
    counter = ReadCounter(server=server)
    for name in ("v2.zarr", "v3.zarr"):
        with counter.measure() as opened:
            array = _open(counter, server, name)
        with counter.measure() as cost:
            np.testing.assert_array_equal(array[1:3, 2], values[1:3, 2])
        for measured in (opened, cost):
            assert measured.server_requests == measured.requests > 0
            assert "the same" in str(measured)


def test_a_partial_shard_read_is_an_index_read_and_one_range_per_inner_chunk(site):
    server, _ = site
    counter = ReadCounter()
    array = _open(counter, server, "v3.zarr")
    with counter.measure() as cost:
        array[1:3]
    assert (cost.requests, cost.index_reads, cost.chunk_reads, cost.whole_reads) == (3, 1, 2, 0)
    assert cost.reads[0].part == f"last {4 * 16 + 4}"  # 16 bytes per inner chunk, and the CRC32C
    assert cost.reads[0].bytes == 4 * 16 + 4
    assert cost.max_in_flight == 1  # zarr-python 3.1 reads the inner chunks of a shard one by one
    with server.measure() as served:
        array[1:3]
    assert sorted(r.status for r in served.log) == [206, 206, 206]
    assert served.bytes == sum(read.bytes for read in cost.reads)


def test_reading_every_inner_chunk_takes_the_whole_shard(site):
    server, _ = site
    counter = ReadCounter()
    array = _open(counter, server, "v3.zarr")
    with counter.measure() as cost:
        array[:, 1:2, 1:2]
    assert (cost.requests, cost.whole_reads) == (1, 1)
    assert cost.reads[0].key == "c/0/0/0"


def test_missing_keys_are_counted_as_not_found(site):
    server, _ = site
    counter = ReadCounter(server=server)
    with counter.measure() as cost:
        _open(counter, server, "v2.zarr")  # zarr looks for a Zarr v3 zarr.json first
    assert cost.server_requests == cost.requests
    assert cost.not_found >= 1 and any(read.key == "zarr.json" and not read.found for read in cost.reads)
    assert all(read.bytes == 0 for read in cost.reads if not read.found)


def test_only_reads_inside_a_measurement_are_counted(site):
    server, _ = site
    counter = ReadCounter()
    array = _open(counter, server, "v2.zarr")
    array[0]
    with counter.measure() as outer:
        array[0]
        with counter.measure() as inner:
            array[1]
    assert (outer.requests, inner.requests) == (2, 1)
    assert outer.server_requests is None and "counted" not in str(outer)


def test_tables_render(site):
    server, _ = site
    counter = ReadCounter()
    array = _open(counter, server, "v3.zarr")
    with counter.measure() as cost:
        array[0]
    console = Console(width=200, record=True)
    console.print(cost)
    console.print(reads_table({"one plane": cost}))
    text = console.export_text()
    assert "last 68" in text and "one plane" in text and "bytes downloaded" in text


# -- a store that records its reads ------------------------------------------


def test_recording_store_records_whole_reads(tmp_path):
    path = tmp_path / "plain.zarr"
    zarr.create_array(zarr.storage.LocalStore(path), shape=(4, 4), chunks=(2, 2), dtype="uint16")[:] = 7
    store = RecordingStore(zarr.storage.LocalStore(path, read_only=True))
    array = zarr.open_array(store, mode="r")
    opened = {r.key: r.bytes if r.found else None for r in store.reads}  # zarr looks for Zarr v3 and v2 metadata alike
    assert opened["zarr.json"] == (path / "zarr.json").stat().st_size and opened[".zarray"] is None
    store.reads.clear()
    assert int(array[3, 3]) == 7
    assert [(r.key, r.part) for r in store.reads] == [("c/1/1", "whole")]
    assert store.reads[0].bytes == (path / "c" / "1" / "1").stat().st_size


def test_recording_store_records_the_shard_index_then_the_chunk(tmp_path):
    path = tmp_path / "sharded.zarr"
    array = zarr.create_array(
        zarr.storage.LocalStore(path), shape=(8, 8), chunks=(2, 2), shards=(4, 4), dtype="uint16"
    )
    array[:] = np.arange(64, dtype="uint16").reshape(8, 8) + 1
    store = RecordingStore(zarr.storage.LocalStore(path, read_only=True))
    array = zarr.open_array(store, mode="r")
    store.reads.clear()
    assert array[0, 0] == 1
    index, chunk = store.reads
    # the index: 16 bytes (offset and length) per inner chunk of the shard, plus a 4-byte checksum
    assert (index.key, index.part, index.bytes) == ("c/0/0", f"last {4 * 16 + 4}", 68)
    assert chunk.key == "c/0/0" and chunk.ranged and "bytes " in str(chunk) and chunk.bytes > 0
    assert "last 68 bytes" in str(index) and "68 bytes" in str(index)


def test_recording_store_reports_missing_keys():
    store = RecordingStore(zarr.storage.MemoryStore())
    array = zarr.create_array(store, shape=(4,), chunks=(2,), dtype="uint8", fill_value=3)
    store.reads.clear()
    assert array[:].tolist() == [3, 3, 3, 3]
    assert {r.found for r in store.reads} == {False}
    assert "missing" in str(store.reads[0])
