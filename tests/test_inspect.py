"""Tests for course_utils.inspect: real stores written with ngff-zarr / zarr.

Every count is checked against an independent one (os.walk, zipfile, the
store's own key list); HTTP runs against a local stdlib server that counts
the requests and bytes it serves.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import sys
import threading
import warnings
import zipfile
from pathlib import Path

import fsspec
import ngff_zarr as nz
import numpy as np
import pytest
import zarr
from rich.console import Console

import course_utils.inspect as ci
from course_utils.cli import main as cli_main
from course_utils.inspect import ArrayInfo, StoreError, StoreSummary, inspect_store

METADATA = {"zarr.json", ".zgroup", ".zattrs", ".zarray", ".zmetadata"}
SCALE_SHAPES = [(256, 256), (128, 128), (64, 64)]


# --------------------------------------------------------------------------
# Independent counts
# --------------------------------------------------------------------------


def expected_from_keys(sizes: dict[str, int]) -> dict:
    """Counts from a flat key -> size listing, computed the obvious way."""
    children: dict[str, set[str]] = collections.defaultdict(set)
    for key in sizes:
        parts = key.split("/")
        for depth in range(len(parts)):
            children["/".join(parts[:depth])].add(parts[depth])
    busiest = max(len(c) for c in children.values())
    busiest_dir = min(d for d, c in children.items() if len(c) == busiest)
    n_metadata = sum(1 for key in sizes if key.rsplit("/", 1)[-1] in METADATA)
    return {
        "n_objects": len(sizes),
        "total_bytes": sum(sizes.values()),
        "n_metadata": n_metadata,
        "n_chunks": len(sizes) - n_metadata,
        "max_entries_per_directory": busiest,
        "max_entries_directory": busiest_dir,
    }


def walk_sizes(root: Path) -> dict[str, int]:
    sizes = {}
    for here, _dirs, files in os.walk(root):
        rel = os.path.relpath(here, root)
        for name in files:
            key = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            sizes[key] = os.path.getsize(os.path.join(here, name))
    return sizes


def expected_from_walk(root: Path) -> dict:
    """Like expected_from_keys, but with os.walk's own view of directories."""
    expected = expected_from_keys(walk_sizes(root))
    entries = {}
    for here, dirs, files in os.walk(root):
        rel = os.path.relpath(here, root)
        entries["" if rel == "." else rel.replace(os.sep, "/")] = len(dirs) + len(files)
    busiest = max(entries.values())
    expected["max_entries_per_directory"] = busiest
    expected["max_entries_directory"] = min(
        d for d, n in entries.items() if n == busiest
    )
    return expected


def counts(summary: StoreSummary) -> dict:
    return {key: getattr(summary, key) for key in (
        "n_objects", "total_bytes", "n_metadata", "n_chunks",
        "max_entries_per_directory", "max_entries_directory",
    )}


def comparable(summary: StoreSummary) -> dict:
    """as_dict() without what legitimately differs between backends."""
    data = summary.as_dict()
    for key in ("source", "kind", "notes"):
        data.pop(key)
    return data


def one_line(error: BaseException) -> str:
    text = str(error)
    assert text and "\n" not in text, repr(text)
    return text


# --------------------------------------------------------------------------
# Stores
# --------------------------------------------------------------------------


def multiscales(size: int, scale_factors: list[int], seed: int = 0):
    rng = np.random.default_rng(seed)
    # Non-zero: zarr does not write chunks that equal the fill value 0.
    data = rng.integers(1, 65535, size=(size, size), dtype=np.uint16)
    image = nz.to_ngff_image(data, dims=("y", "x"))
    return nz.to_multiscales(
        image,
        scale_factors=scale_factors,
        method=nz.Methods.ITKWASM_BIN_SHRINK,
        chunks=64,
    )


def write(target, ms, kind: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "0.4":
            nz.to_ngff_zarr(target, ms, version="0.4")
        elif kind == "0.5":
            # ngff-zarr 0.18.2 ignores the multiscale's chunks for 0.5 without chunks=.
            nz.to_ngff_zarr(target, ms, version="0.5", chunks=(64, 64))
        elif kind == "0.5-sharded":
            nz.to_ngff_zarr(target, ms, version="0.5", chunks_per_shard=2)
        else:
            raise ValueError(kind)
    return target


@pytest.fixture(scope="module")
def small_ms():
    return multiscales(256, [2, 4])


@pytest.fixture(scope="module")
def stores(tmp_path_factory, small_ms):
    """The small 3-scale image as OME-Zarr 0.4, 0.5 and sharded 0.5 directories."""
    root = tmp_path_factory.mktemp("stores")
    return {
        kind: write(root / f"image-{kind}.zarr", small_ms, kind)
        for kind in ("0.4", "0.5", "0.5-sharded")
    }


def zip_directory(directory: Path, target: Path, folder: str = "") -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(walk_sizes(directory)):
            zf.write(directory / key, arcname=folder + key)
    return target


# --------------------------------------------------------------------------
# Local directories
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["0.4", "0.5", "0.5-sharded"])
def test_directory_counts_match_os_walk(stores, kind):
    summary = inspect_store(stores[kind])
    assert counts(summary) == expected_from_walk(stores[kind])
    assert summary.complete is True
    assert summary.kind == "directory"
    assert summary.source == str(stores[kind])
    assert summary.duplicate_entries == 0
    assert summary.n_objects == summary.n_metadata + summary.n_chunks


def test_ome_zarr_04_arrays(stores):
    summary = inspect_store(stores["0.4"])
    assert summary.zarr_format == 2
    assert summary.ome_version == "0.4"
    assert summary.n_scales == 3
    assert list(summary.arrays) == ["scale0/image", "scale1/image", "scale2/image"]
    for info, shape in zip(summary.arrays.values(), SCALE_SHAPES):
        assert info == ArrayInfo(
            shape=shape, dtype="uint16", chunks=(64, 64), shards=None,
            codecs=("zstd",), zarr_format=2, separator="/",
        )


def test_ome_zarr_05_arrays(stores):
    summary = inspect_store(str(stores["0.5"]))
    assert summary.zarr_format == 3
    assert summary.ome_version == "0.5"
    assert summary.n_scales == 3
    for info, shape in zip(summary.arrays.values(), SCALE_SHAPES):
        assert info == ArrayInfo(
            shape=shape, dtype="uint16", chunks=(64, 64), shards=None,
            codecs=("bytes", "zstd"), zarr_format=3, separator="/",
        )


def test_ome_zarr_05_sharded_arrays(stores):
    summary = inspect_store(stores["0.5-sharded"])
    assert summary.ome_version == "0.5"
    for info, shape in zip(summary.arrays.values(), SCALE_SHAPES):
        assert info.shape == shape
        assert info.chunks == (64, 64)  # the inner chunk
        assert info.shards == (128, 128)  # 2 chunks per shard along each axis
        assert info.codecs == ("sharding_indexed: bytes, zstd",)
    # One object per shard: 2x2 + 1 + 1.
    assert summary.n_chunks == 6


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


def test_path_to_a_metadata_file_means_its_store(stores):
    assert comparable(inspect_store(stores["0.5"] / "zarr.json")) == comparable(
        inspect_store(stores["0.5"])
    )


def test_forked_stat_gives_the_same_total(stores, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("parallel stat is Linux-only")
    serial = inspect_store(stores["0.4"])
    monkeypatch.setattr(ci, "PARALLEL_STAT_MIN_FILES", 1)
    monkeypatch.setattr(ci, "_stat_processes", lambda n_files: 3)
    parallel = inspect_store(stores["0.4"])
    assert parallel.total_bytes == serial.total_bytes
    assert comparable(parallel) == comparable(serial)


def test_split_covers_every_name_once():
    dirs = [("a", [f"a{i}" for i in range(7)]), ("c", [f"c{i}" for i in range(5)])]
    parts = ci._split(dirs, 3, 12)
    assert len(parts) == 3
    names = [(d, n) for part in parts for d, names in part for n in names]
    assert names == [(d, n) for d, ns in dirs for n in ns]


# --------------------------------------------------------------------------
# Zip files and zarr store objects
# --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".zip", ".ozx"])
def test_zip_of_a_directory(stores, tmp_path, suffix):
    archive = zip_directory(stores["0.5"], tmp_path / f"image{suffix}")
    summary = inspect_store(archive)
    with zipfile.ZipFile(archive) as zf:
        sizes = {info.filename: info.file_size for info in zf.infolist()}
    assert counts(summary) == expected_from_keys(sizes)
    assert summary.kind == "zip"
    assert summary.duplicate_entries == 0
    assert comparable(summary) == comparable(inspect_store(stores["0.5"]))


def test_zip_with_the_store_in_a_folder(stores, tmp_path):
    archive = zip_directory(
        stores["0.4"], tmp_path / "folder.zip", folder="image.zarr/"
    )
    summary = inspect_store(archive)
    assert comparable(summary) == comparable(inspect_store(stores["0.4"]))
    assert any("image.zarr/" in note for note in summary.notes)


def test_zip_written_through_zipstore_has_duplicates(small_ms, tmp_path):
    archive = tmp_path / "direct.zip"
    store = zarr.storage.ZipStore(archive, mode="a")
    write(store, small_ms, "0.5")
    store.close()
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
    names = [info.filename for info in infos]
    duplicates = len(names) - len(set(names))
    assert duplicates > 0  # what the course warns about
    last = {info.filename: info.file_size for info in infos}
    summary = inspect_store(archive)
    assert summary.duplicate_entries == duplicates
    assert counts(summary) == expected_from_keys(last)
    assert summary.ome_version == "0.5" and summary.n_scales == 3
    assert any("duplicate" in note for note in summary.notes)

    reopened = zarr.storage.ZipStore(archive, mode="r")
    assert comparable(inspect_store(reopened)) == comparable(summary)


def test_zipstore_still_open_for_writing(tmp_path):
    archive = tmp_path / "open.zip"
    store = zarr.storage.ZipStore(archive, mode="w")
    group = zarr.open_group(store, mode="w")
    group.create_array("a", shape=(10, 10), chunks=(5, 5), dtype="int16")[:] = 3
    # No central directory on disk yet: the open ZipFile is read instead.
    summary = inspect_store(store)
    names = [info.filename for info in store._zf.infolist()]
    assert summary.n_objects == len(names) == 6  # 2 zarr.json + 4 chunks
    assert summary.arrays["a"].shape == (10, 10)
    store.close()
    assert comparable(inspect_store(archive)) == comparable(summary)


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


# --------------------------------------------------------------------------
# HTTP: a local server that counts what it serves
# --------------------------------------------------------------------------


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
    """A 2048x2048 random uint16 image in 5 scales, with and without consolidation."""
    root = tmp_path_factory.mktemp("big")
    ms = multiscales(2048, [2, 4, 8, 16], seed=3)
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
    assert {p: i.as_dict() for p, i in summary.arrays.items()} == {
        p: i.as_dict() for p, i in local.arrays.items()
    }
    # Random data: every chunk was written, so the computed count is exact.
    assert summary.n_chunks == local.n_chunks
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


# --------------------------------------------------------------------------
# Errors: one clear line, always a StoreError (a ValueError)
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_missing_path(tmp_path):
    with pytest.raises(StoreError, match="does not exist") as info:
        inspect_store(tmp_path / "missing.zarr")
    assert isinstance(info.value, ValueError)
    one_line(info.value)


def test_directory_that_is_not_zarr(tmp_path, stores):
    (tmp_path / "notes.txt").write_text("hello")
    shutil.copytree(stores["0.5"], tmp_path / "image.zarr")
    with pytest.raises(StoreError, match="not a Zarr store") as info:
        inspect_store(tmp_path)
    assert "image.zarr" in one_line(info.value)  # "did you mean ...?"


def test_plain_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StoreError, match="is a file") as info:
        inspect_store(tmp_path / "notes.txt")
    one_line(info.value)


def test_corrupt_zips(tmp_path, stores):
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(StoreError, match="not a valid zip") as info:
        inspect_store(garbage)
    one_line(info.value)

    good = zip_directory(stores["0.5"], tmp_path / "good.zip")
    truncated = tmp_path / "truncated.ozx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(StoreError, match="not a valid zip") as info:
        inspect_store(truncated)
    one_line(info.value)

    # Central directory intact, the root zarr.json's local header destroyed.
    damaged = tmp_path / "damaged.zip"
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        offset = zf.getinfo("zarr.json").header_offset
    data[offset : offset + 4] = b"XXXX"
    damaged.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupt zip") as info:
        inspect_store(damaged)
    one_line(info.value)


def test_zip_that_is_not_zarr(tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "hello")
    with pytest.raises(StoreError, match="not a Zarr store"):
        inspect_store(archive)


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


def test_wrong_type():
    with pytest.raises(TypeError):
        inspect_store(42)


# --------------------------------------------------------------------------
# Rendering, plain data, command line
# --------------------------------------------------------------------------


def test_rich_rendering_and_jupyter(stores):
    summary = inspect_store(stores["0.5-sharded"])
    console = Console(record=True, width=200)
    console.print(summary)
    text = console.export_text()
    for path, shape in zip(summary.arrays, SCALE_SHAPES):
        assert path in text
        assert str(shape) in text
    assert "OME-Zarr 0.5" in text
    assert "sharding_indexed: bytes, zstd" in text
    assert ci.format_bytes(summary.total_bytes) in text

    bundle = summary._repr_mimebundle_(include=None, exclude=None)
    assert "scale0/image" in bundle["text/plain"]
    assert "scale0/image" in bundle["text/html"]


def test_as_dict_is_plain_json_data(stores):
    data = inspect_store(stores["0.4"]).as_dict()

    def check(value):
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
        else:
            assert value is None or type(value) in (str, int, bool), type(value)

    check(data)
    assert json.loads(json.dumps(data)) == data
    assert data["arrays"]["scale0/image"]["shape"] == [256, 256]


def test_format_bytes():
    assert ci.format_bytes(0) == "0 B"
    assert ci.format_bytes(1023) == "1023 B"
    assert ci.format_bytes(1024) == "1.0 KiB"
    assert ci.format_bytes(6_400_000) == "6.1 MiB"
    assert ci.format_bytes(None) == "unknown"


def test_summary_is_frozen(stores):
    summary = inspect_store(stores["0.4"])
    with pytest.raises(AttributeError):
        summary.n_objects = 0  # type: ignore[misc]


def test_cli_prints_the_table(stores, capsys):
    assert cli_main(["inspect", str(stores["0.4"])]) == 0
    out = capsys.readouterr().out
    assert "scale0/image" in out
    assert "OME-Zarr 0.4" in out


def test_cli_bad_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["inspect", "missing.zarr"]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert "missing.zarr does not exist" in lines[0]
    assert "Traceback" not in captured.err + captured.out
