"""course_utils.inspect.remote: fsspec URLs and stores, and HTTP.

fsspec runs against its memory filesystem and a local moto S3 server; HTTP
against a local stdlib server that counts the requests and bytes it serves.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import threading
import warnings
from pathlib import Path

import fsspec
import pytest
import zarr
from inspect_helpers import (
    METADATA,
    comparable,
    counts,
    metadata_only,
    multiscales,
    one_line,
    walk_sizes,
    write,
    zip_directory,
)
from rich.console import Console

from course_utils.inspect import StoreError, inspect_store


@pytest.fixture
def memory_copy(stores, request):
    """The 0.5 store copied into fsspec's memory filesystem."""
    fs = fsspec.filesystem("memory")
    root = f"/inspect-{request.node.name}".replace("[", "-").replace("]", "")
    directory = stores["0.5"]
    for key in walk_sizes(directory):
        fs.pipe_file(f"{root}/{key}", (directory / key).read_bytes())
    yield f"memory://{root}"
    fs.rm(root, recursive=True)


def test_memory_url(stores, memory_copy):
    summary = inspect_store(memory_copy)
    assert summary.kind == "fsspec memory"
    assert summary.complete is True
    assert comparable(summary) == comparable(inspect_store(stores["0.5"]))


def test_fsspec_store_object(stores, memory_copy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = zarr.storage.FsspecStore.from_url(memory_copy)
    assert comparable(inspect_store(store)) == comparable(inspect_store(stores["0.5"]))


@pytest.fixture(scope="module")
def s3_options():
    """A local moto S3 server (127.0.0.1, a free port) and the options to reach it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield {
            "key": "testing",
            "secret": "testing",
            "endpoint_url": f"http://{host}:{port}",
        }
    finally:
        server.stop()


def test_s3_url_and_store(stores, s3_options):
    fs = fsspec.filesystem("s3", skip_instance_cache=True, **s3_options)
    fs.mkdir("course-bucket")
    fs.put(str(stores["0.5-sharded"]), "course-bucket/image.zarr", recursive=True)
    n_keys = len(fs.find("course-bucket/image.zarr"))
    assert n_keys == inspect_store(stores["0.5-sharded"]).n_objects

    reference = comparable(inspect_store(stores["0.5-sharded"]))
    summary = inspect_store("s3://course-bucket/image.zarr", storage_options=s3_options)
    assert summary.kind == "fsspec s3/s3a"
    assert summary.complete is True
    assert comparable(summary) == reference

    # zarr's own FsspecStore (an asynchronous filesystem on zarr's event loop).
    store = zarr.storage.FsspecStore.from_url(
        "s3://course-bucket/image.zarr", storage_options=s3_options, read_only=True
    )
    assert comparable(inspect_store(store)) == reference

    with pytest.raises(StoreError, match="does not exist") as info:
        inspect_store("s3://course-bucket/nothing.zarr", storage_options=s3_options)
    one_line(info.value)


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.bytes = 0

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.bytes = 0


class _CountingWriter:
    def __init__(self, inner, stats: _Stats) -> None:
        self._inner, self._stats = inner, stats

    def write(self, data) -> int:
        with self._stats.lock:
            self._stats.bytes += len(data)
        return self._inner.write(data)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, with request/byte counting and single byte ranges (for zips)."""

    stats: _Stats

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile, self.stats)

    def log_message(self, *args) -> None:
        pass

    def _count(self) -> None:
        with self.stats.lock:
            self.stats.requests.append(f"{self.command} {self.path}")

    def do_HEAD(self) -> None:
        self._count()
        super().do_HEAD()

    def do_GET(self) -> None:
        self._count()
        spec = self.headers.get("Range", "")
        path = self.translate_path(self.path)
        if not (spec.startswith("bytes=") and os.path.isfile(path)):
            return super().do_GET()
        size = os.path.getsize(path)
        first, _, last = spec[len("bytes="):].partition("-")
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:
            start, end = max(size - int(last), 0), size - 1
        with open(path, "rb") as file:
            file.seek(start)
            body = file.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve(directory: Path):
    stats = _Stats()
    handler = type("Handler", (_CountingHandler,), {"stats": stats})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", stats
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def big_stores(tmp_path_factory):
    """A 1024x1024 random uint16 image in 5 scales, with and without consolidation."""
    root = tmp_path_factory.mktemp("big")
    ms = multiscales(1024, [2, 4, 8, 16], seed=3)
    out = {}
    for kind in ("0.4", "0.5"):
        out[kind] = write(root / f"big-{kind}.zarr", ms, kind)
    out["0.4-plain"] = Path(shutil.copytree(out["0.4"], root / "big-0.4-plain.zarr"))
    (out["0.4-plain"] / ".zmetadata").unlink()
    out["0.5-plain"] = Path(shutil.copytree(out["0.5"], root / "big-0.5-plain.zarr"))
    root_json = out["0.5-plain"] / "zarr.json"
    document = json.loads(root_json.read_text())
    assert document.pop("consolidated_metadata")
    root_json.write_text(json.dumps(document))
    return out


@pytest.mark.parametrize("kind", ["0.4", "0.5", "0.4-plain", "0.5-plain"])
def test_http_reads_only_metadata(big_stores, kind):
    directory = big_stores[kind]
    local = inspect_store(directory)
    assert local.n_scales == 5
    with serve(directory.parent) as (base, stats):
        summary = inspect_store(f"{base}/{directory.name}")
        served_requests, served_bytes = list(stats.requests), stats.bytes

    assert len(served_requests) <= 10, served_requests
    assert served_bytes < 0.01 * local.total_bytes, (served_bytes, local.total_bytes)
    for request in served_requests:  # metadata only, never a chunk
        assert request.rsplit("/", 1)[-1] in METADATA, request

    assert summary.complete is False
    assert summary.kind == "http"
    assert summary.total_bytes is None
    assert summary.ome_version == local.ome_version
    assert summary.n_scales == 5
    assert summary.zarr_format == local.zarr_format
    assert {p: metadata_only(i) for p, i in summary.arrays.items()} == {
        p: metadata_only(i) for p, i in local.arrays.items()
    }
    assert all(i.n_stored is None for i in summary.arrays.values())
    # Random data: every chunk was written, so the computed count is exact.
    assert summary.n_chunks == local.n_chunks
    assert summary.n_chunks == sum(i.n_stored for i in local.arrays.values())
    if "plain" in kind:
        assert summary.n_metadata < local.n_metadata  # intermediate groups not read
    else:
        no_size = {"total_bytes": None}
        assert counts(summary) | no_size == counts(local) | no_size


def test_http_through_a_zarr_fsspec_store(big_stores):
    directory = big_stores["0.5-plain"]
    local = inspect_store(directory)
    with serve(directory.parent) as (base, stats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            store = zarr.storage.FsspecStore.from_url(f"{base}/{directory.name}")
        summary = inspect_store(store)
        assert len(stats.requests) <= 10
    assert summary.complete is False
    assert summary.n_chunks == local.n_chunks
    assert list(summary.arrays) == list(local.arrays)


def test_zip_over_http(big_stores, tmp_path):
    archive = zip_directory(big_stores["0.5"], tmp_path / "image.ozx")
    with serve(tmp_path) as (base, stats):
        summary = inspect_store(f"{base}/image.ozx")
        served_requests, served_bytes = list(stats.requests), stats.bytes
    # The end of the zip (central directory) and the metadata entries only.
    assert served_bytes < 0.05 * archive.stat().st_size, (served_bytes, served_requests)
    assert len(served_requests) <= 10, served_requests
    assert summary.complete is True
    assert comparable(summary) == comparable(inspect_store(big_stores["0.5"]))


def test_http_rendering_says_counts_are_computed(big_stores):
    with serve(big_stores["0.5"].parent) as (base, _):
        summary = inspect_store(f"{base}/{big_stores['0.5'].name}")
    console = Console(record=True, width=200)
    console.print(summary)
    text = console.export_text()
    assert "computed from the metadata" in text
    assert "unknown" in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dead_url():
    with pytest.raises(StoreError, match="cannot reach") as info:
        inspect_store(f"http://127.0.0.1:{free_port()}/image.zarr")
    one_line(info.value)


def test_http_url_without_a_store(tmp_path):
    with serve(tmp_path) as (base, _):
        with pytest.raises(StoreError, match="not a Zarr store") as info:
            inspect_store(f"{base}/nothing.zarr")
    one_line(info.value)


def test_missing_memory_url():
    with pytest.raises(StoreError, match="does not exist"):
        inspect_store("memory://inspect-no-such-store")


def test_unknown_protocol():
    with pytest.raises(StoreError) as info:
        inspect_store("nosuchprotocol://bucket/image.zarr")
    one_line(info.value)


def test_http_on_stores_of_other_writers(corpus):
    """What HTTP can tell without a listing: refuse N5 and the v3 draft in one line, describe the rest."""
    root = corpus["ts-n5"].parent
    with serve(root) as (base, stats):
        for name, message in (("n5-legacy", "is an N5 container: over HTTP its arrays cannot be listed"),
                              ("zarr-v3-draft", r"is a Zarr v3 draft \(pre-release\) store: over HTTP")):
            with pytest.raises(StoreError, match=message) as info:
                inspect_store(f"{base}/{corpus[name].name}")
            one_line(info.value)
        plate = inspect_store(f"{base}/{corpus['spec-plate'].name}")
        bf2raw = inspect_store(f"{base}/{corpus['bioformats2raw'].name}")
        consolidated = inspect_store(f"{base}/{corpus['zarr-v2-codecs'].name}")
        assert len(stats.requests) <= 30
    assert plate.ome_nodes[""].startswith("plate 'sparse test': 8 rows x 12 columns")
    assert plate.complete is False and plate.arrays == {}
    assert bf2raw.ome_nodes[""].startswith("bioformats2raw layout 3")
    local = inspect_store(corpus["zarr-v2-codecs"])
    assert consolidated.consolidated == ".zmetadata"
    assert {p: metadata_only(i) for p, i in consolidated.arrays.items()} == {
        p: metadata_only(i) for p, i in local.arrays.items()
    }
    # Computed counts assume every chunk was written: the sparse array is where they differ.
    assert consolidated.n_chunks == local.n_chunks + 5
