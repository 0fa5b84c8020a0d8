"""course_utils.throughput: the backend benchmark of notebook 09."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest
import zarr

from course_utils import throughput
from course_utils.servers import LocalHTTPServer, LocalS3Server

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(3).integers(0, 4000, (256, 384), dtype=np.uint16)


def test_raw_disk_reference_writes_and_reads_the_bytes(tmp_path):
    device = throughput.raw_disk(1 << 20, tmp_path, repeats=2)
    assert device.backend == throughput.REFERENCE
    assert device.nbytes == 1 << 20
    assert device.write_seconds > 0 and device.read_seconds > 0
    assert "fsync" in device.note
    if hasattr(os, "posix_fadvise"):
        assert "from the device" in device.note
    cached = throughput.raw_disk(1 << 20, tmp_path, repeats=2, device=False)
    assert cached.backend == throughput.CACHED_FILE and "page cache" in cached.note
    assert list(tmp_path.iterdir()) == []  # cleans up after itself


def test_throughput_figures():
    row = throughput.Throughput("x", 4 * 2**20, 2.0, 0.5)
    assert row.write_mib_s == pytest.approx(2.0) and row.read_mib_s == pytest.approx(8.0)
    assert throughput.Throughput("http", 2**20, None, 1.0).write_mib_s is None


@pytest.mark.parametrize("make", ["memory", "directory", "zip"])
def test_local_backends_round_trip(make, image, tmp_path):
    backend = {
        "memory": throughput.memory_backend,
        "directory": lambda: throughput.directory_backend(tmp_path / "d.zarr"),
        "zip": lambda: throughput.zip_backend(tmp_path / "d.zip"),
    }[make]()
    result = throughput.measure_backend(backend, image, (64, 128), repeats=2)
    assert result.backend == make and result.nbytes == image.nbytes
    assert result.write_seconds > 0 and result.read_seconds > 0
    assert not (tmp_path / "d.zarr").exists() and not (tmp_path / "d.zip").exists()


def test_written_arrays_are_uncompressed_and_chunked(image):
    keys: dict = {}
    throughput.write_image(zarr.storage.MemoryStore(keys), image, (64, 128))
    array = zarr.open_array(zarr.storage.MemoryStore(keys), mode="r")
    assert array.chunks == (64, 128) and array.compressors == ()
    assert len([k for k in keys if k.startswith("c/")]) == 4 * 3
    assert np.array_equal(throughput.read_image(zarr.storage.MemoryStore(keys)), image)


def test_a_backend_that_corrupts_data_is_caught(image):
    keys: dict = {}

    def open_read():
        store = zarr.storage.MemoryStore(keys)
        array = zarr.open_array(store, mode="r+")
        array[0, 0] = array[0, 0] + 1
        return store

    def open_write():
        keys.clear()
        return zarr.storage.MemoryStore(keys)

    with pytest.raises(AssertionError, match="did not give back"):
        throughput.measure_backend(throughput.Backend("bad", open_write, open_read), image, (64, 64), repeats=1)


def test_s3_and_http_backends_on_the_local_servers(image, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    with LocalS3Server(bucket="bench") as s3, LocalHTTPServer(served) as web:
        backends = [
            throughput.fsspec_backend("S3", s3.url("img.zarr"), s3.storage_options),
            throughput.http_backend(web.url("img.zarr"), served / "img.zarr"),
        ]
        with s3.measure() as s3_cost, web.measure() as web_cost:
            results = throughput.run(image, backends, chunks=(128, 128), repeats=2, workdir=tmp_path)
        assert [r.backend for r in results] == [throughput.REFERENCE, throughput.CACHED_FILE, "S3", "HTTP"]
        assert results[3].write_seconds is None and results[3].read_seconds > 0
        # written twice, then the bucket emptied: the server saw every chunk go up
        assert s3_cost.bytes_received >= 2 * image.nbytes, s3_cost.log
        assert web_cost.bytes >= 2 * image.nbytes, web_cost.log  # read twice over HTTP
        left = s3.filesystem().find("bench")
        assert left == [], left
    assert list(served.iterdir()) == []


def test_ratios_table_and_plot(image, tmp_path):
    results = throughput.run(image, [throughput.memory_backend()], chunks=(128, 128), repeats=1, workdir=tmp_path)
    shares = throughput.ratios(results)
    assert shares[throughput.REFERENCE] == {"write": pytest.approx(1.0), "read": pytest.approx(1.0)}
    assert shares["memory"]["read"] == pytest.approx(results[2].read_mib_s / results[0].read_mib_s)

    from rich.console import Console

    console = Console(width=140, record=True)
    console.print(throughput.throughput_table(results, title="bench"))
    text = console.export_text()
    assert "raw disk" in text and "memory" in text and "× raw disk" in text

    results.append(throughput.Throughput("HTTP", image.nbytes, None, 0.01, "read only"))
    figure = throughput.plot_throughput(results)
    ax = figure.axes[0]
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == [r.backend for r in results]
    assert any(t.get_text() == "read\nonly" for t in ax.texts)


def test_reference_is_required():
    with pytest.raises(ValueError, match="raw disk"):
        throughput.ratios([throughput.Throughput("memory", 1, 1.0, 1.0)])
