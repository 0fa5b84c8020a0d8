"""Tests of course_utils.data: the real pooch download path, against a local server."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import logging
import socket
import threading
import time

import numpy as np
import pooch
import pytest
import tifffile

from course_utils import data

SMARTSPIM_SHA256 = "529bc0c4e5de8fe3386f0be0a7f88c3a59ee10dff8ea7605b0f7ccd0780ea78e"


class _Server:
    """A real HTTP server on 127.0.0.1 serving ``files``, counting requests per path."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # the default writes to stderr
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes) -> str:
        self.files[path] = body
        return self.url + path

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server():
    running = _Server()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test caches into its own directory and starts online."""
    directory = tmp_path / "cache"
    monkeypatch.setenv(data.CACHE_VARIABLE, str(directory))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    return directory


def _tiff_bytes(tmp_path, seed=1) -> bytes:
    path = tmp_path / "served.tiff"
    tifffile.imwrite(path, data.synthetic_image((32, 40), "uint16", seed=seed))
    return path.read_bytes()


def _dataset(url: str, body: bytes | None = None, sha256: str | None = None) -> data.Dataset:
    """The registry's TIFF entry, pointed at ``url`` (the hash of ``body`` by default)."""
    if sha256 is None:
        sha256 = hashlib.sha256(body).hexdigest()
    return dataclasses.replace(data.REGISTRY["smartspim-mip"], url=url, sha256=sha256)


def _dead_url() -> str:
    with socket.socket() as sock:  # bound, then closed: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/040000.tiff"


def _leftovers(directory, fname="040000.tiff"):
    """Files in the cache other than synthetic stand-ins (the real file, temp files)."""
    if not directory.exists():
        return []
    return [p.name for p in directory.iterdir() if not p.name.startswith(data.SYNTHETIC_PREFIX)]


def _assert_synthetic(path, capsys, *words):
    out, err = capsys.readouterr()
    assert path.name.startswith(data.SYNTHETIC_PREFIX)
    image = tifffile.imread(path)
    assert image.shape == (1600, 2000) and image.dtype == np.uint16
    assert np.array_equal(image, data.synthetic_image((1600, 2000), "uint16"))
    assert err == ""
    assert len(out.splitlines()) == 1, out
    assert "synthetic" in out.lower()
    for word in words:
        assert word in out


def test_good_file_is_downloaded_verified_and_cached(server, tmp_path, cache):
    body = _tiff_bytes(tmp_path)
    dataset = _dataset(server.serve("/good.tiff", body), body)

    path = data.fetch(dataset)

    assert path == cache / "040000.tiff"
    assert path.read_bytes() == body
    assert server.hits == {"/good.tiff": 1}
    assert data.fetch(dataset) == path  # the cache answers: no second request
    assert server.hits == {"/good.tiff": 1}
    assert np.array_equal(data.load_image(dataset), tifffile.imread(path))
    assert sorted(p.name for p in cache.iterdir()) == ["040000.tiff"]  # no temp files


def test_download_is_silent_on_stderr_and_pooch_logger(server, tmp_path, capsys):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    pooch.get_logger().addHandler(handler)
    try:
        body = _tiff_bytes(tmp_path)
        data.fetch(_dataset(server.serve("/good.tiff", body), body))
    finally:
        pooch.get_logger().removeHandler(handler)
    assert records == []
    assert capsys.readouterr().err == ""


def test_wrong_hash_raises_and_leaves_nothing(server, tmp_path, cache):
    body = _tiff_bytes(tmp_path)
    dataset = _dataset(server.serve("/bad.tiff", body), sha256="0" * 64)

    with pytest.raises(data.DataError) as raised:
        data.fetch(dataset)

    message = str(raised.value)
    assert "\n" not in message
    assert "checksum" in message and "again" in message and "COURSE_OFFLINE=1" in message
    assert isinstance(raised.value, RuntimeError)
    assert server.hits == {"/bad.tiff": 1}
    assert _leftovers(cache) == []


def test_wrong_hash_also_removes_a_stale_cached_copy(server, tmp_path, cache):
    body = _tiff_bytes(tmp_path)
    cache.mkdir(parents=True)
    (cache / "040000.tiff").write_bytes(b"stale copy")
    dataset = _dataset(server.serve("/bad.tiff", body), sha256="0" * 64)

    with pytest.raises(data.DataError):
        data.fetch(dataset)

    assert _leftovers(cache) == []


def test_http_error_raises_data_error(server, cache):
    dataset = _dataset(server.url + "/missing.tiff", sha256="0" * 64)

    with pytest.raises(data.DataError, match="HTTP 404") as raised:
        data.fetch(dataset)

    assert "\n" not in str(raised.value)
    assert _leftovers(cache) == []


def test_corrupted_cache_is_downloaded_again(server, tmp_path):
    body = _tiff_bytes(tmp_path)
    dataset = _dataset(server.serve("/good.tiff", body), body)
    path = data.fetch(dataset)
    path.write_bytes(b"\0" * 100 + body[100:])  # same size, wrong bytes

    again = data.fetch(dataset)

    assert again == path
    assert again.read_bytes() == body
    assert server.hits == {"/good.tiff": 2}


def test_unreachable_host_falls_back_to_synthetic(capsys, cache):
    path = data.fetch(_dataset(_dead_url(), sha256=SMARTSPIM_SHA256))

    _assert_synthetic(path, capsys, "failed")
    assert path.parent == cache
    assert _leftovers(cache) == []


def test_silent_host_times_out_and_falls_back(monkeypatch, capsys):
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT_SECONDS", (1.0, 0.5))
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/040000.tiff"
        start = time.monotonic()
        path = data.fetch(_dataset(url, sha256=SMARTSPIM_SHA256))
        elapsed = time.monotonic() - start

    assert elapsed < 10
    _assert_synthetic(path, capsys, "Timeout")


def test_offline_variable_makes_no_request(server, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    body = b"never served"
    path = data.fetch(_dataset(server.serve("/good.tiff", body), body))

    assert server.hits == {}
    _assert_synthetic(path, capsys, "COURSE_OFFLINE")


def test_offline_argument_makes_no_request(server, capsys):
    body = b"never served"
    path = data.fetch(_dataset(server.serve("/good.tiff", body), body), offline=True)

    assert server.hits == {}
    _assert_synthetic(path, capsys)


@pytest.mark.parametrize("damage", ["not a tiff", "wrong shape"])
def test_damaged_stand_in_is_rewritten(capsys, damage):
    first = data.fetch("smartspim-mip", offline=True)
    if damage == "not a tiff":
        first.write_bytes(b"not a tiff")
    else:
        tifffile.imwrite(first, np.ones((4, 4), np.uint16))

    second = data.fetch("smartspim-mip", offline=True)

    assert second == first
    capsys.readouterr()  # two fetches, two lines
    image = tifffile.imread(second)
    assert image.shape == (1600, 2000) and image.dtype == np.uint16


def test_synthetic_image_is_deterministic_fast_and_never_zero():
    shape = (1600, 2000)
    data.synthetic_image((16, 16))  # imports and first-call costs out of the timing
    start = time.perf_counter()
    image = data.synthetic_image(shape, "uint16")
    elapsed = time.perf_counter() - start

    assert image.shape == shape and image.dtype == np.uint16
    assert np.array_equal(image, data.synthetic_image(shape, "uint16"))
    assert not np.array_equal(image, data.synthetic_image(shape, "uint16", seed=1))
    assert image.min() >= data.CAMERA_OFFSET / 2  # the camera offset: no pixel near 0
    assert image.max() < np.iinfo(np.uint16).max
    assert elapsed < 5.0  # about 0.3 s on a quiet laptop; generous for a loaded CI machine


def test_synthetic_image_looks_like_a_light_sheet_image():
    image = data.synthetic_image((1600, 2000), "uint16").astype(np.float64)
    low, median, high, top = np.percentile(image, [5, 50, 99.9, 100])
    assert 150 < low < 400  # dark background: camera offset plus a little light
    assert median < 1500  # mostly background and dim tissue ...
    assert high > 4 * median and top > 8000  # ... with sparse bright structures
    # shot noise: neighbouring pixels differ by about sqrt(gain x signal), not by nothing
    background = image[image < np.percentile(image, 20)]
    assert 150 < background.mean() < 400
    rows = image[:, :1000]  # stripes run along x: row means vary more than column means
    assert rows.mean(axis=1).std() > rows.mean(axis=0).std()


@pytest.mark.parametrize(
    "codec, low, high",
    [
        ("zstd", 1.6, 2.1),  # real SmartSPIM tile: 1.91
        ("lz4-noshuffle", 0.98, 1.15),  # real: 1.04
    ],
)
def test_synthetic_image_compresses_like_the_real_data(codec, low, high):
    import numcodecs

    image = data.synthetic_image((1600, 2000), "uint16")
    encoder = {
        "zstd": numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE),
        "lz4-noshuffle": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.NOSHUFFLE),
    }[codec]
    chunks = [np.ascontiguousarray(image[i : i + 256, j : j + 256]) for i in range(0, 1536, 256) for j in range(0, 1792, 256)]
    ratio = sum(c.nbytes for c in chunks) / sum(len(encoder.encode(c)) for c in chunks)
    assert low < ratio < high
    reference = {"zstd": "blosc zstd (level 5, shuffle)", "lz4-noshuffle": "blosc lz4 (level 5, no shuffle)"}[codec]
    assert low < data.SMARTSPIM_REFERENCE_RATIOS[reference] < high + 0.05


@pytest.mark.parametrize(
    "shape, chunks",
    [((1600, 2000), (16, 16)), ((64, 256, 256), (1, 8, 8)), ((2, 48, 275, 271), (1, 1, 4, 4)), ((1, 1, 64, 256, 320), (1, 1, 1, 8, 8))],
)
def test_synthetic_image_stores_every_chunk(shape, chunks):
    """Zarr skips a chunk that is all fill value (0): the stand-ins must never have one."""
    import zarr

    image = data.synthetic_image(shape, "uint16")
    assert image.min() >= 1
    keys: dict = {}
    small = tuple(min(n, 2 * c) for n, c in zip(shape, chunks))  # a corner, cut into many tiny chunks
    zarr.create_array(zarr.storage.MemoryStore(keys), data=image[tuple(slice(0, n) for n in small)], chunks=chunks)
    expected = int(np.prod([-(-n // c) for n, c in zip(small, chunks)]))
    assert len([k for k in keys if k.startswith("c/")]) == expected


def test_synthetic_image_volumes_and_channels():
    volume = data.synthetic_image((2, 48, 275, 271), "uint16", seed=6001240)
    assert not np.array_equal(volume[0], volume[1])  # each channel its own spots
    assert volume.max() > 3000  # bright structures in 3-D too


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32"])
def test_synthetic_image_other_dtypes_and_shapes(dtype):
    image = data.synthetic_image((2, 20, 33, 17), dtype)
    assert image.shape == (2, 20, 33, 17) and image.dtype == np.dtype(dtype)
    assert image.min() > 0


def test_synthetic_stand_in_file_is_named_by_generation(cache):
    path = data.fetch("smartspim-mip", offline=True)
    assert path.name == f"{data.SYNTHETIC_PREFIX}g{data.SYNTHETIC_GENERATION}-040000.tiff"
    old = cache / f"{data.SYNTHETIC_PREFIX}040000.tiff"  # what generation 1 wrote
    assert not old.exists()


def test_registry_tiff_entry():
    entry = data.REGISTRY["smartspim-mip"]
    assert entry.sha256 == SMARTSPIM_SHA256
    assert entry.shape == (1600, 2000) and entry.dtype == "uint16"
    assert entry.kind == "tiff"
    assert entry.url.endswith("/Ex_445_Em_469_MIP/442060/442060_177040/040000.tiff")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.sha256 = None


def test_registry_ome_zarr_entries():
    aind = data.REGISTRY["aind-smartspim-ome-zarr"]
    assert aind.s3_url.startswith("s3://aind-open-data/SmartSPIM_631680_")
    assert aind.url == aind.s3_url.replace(
        "s3://aind-open-data/", "https://s3.us-west-2.amazonaws.com/aind-open-data/"
    )
    assert aind.sha256 is None and aind.n_scales == 5 and aind.axes == "tczyx"
    assert aind.storage_options == {"anon": True, "client_kwargs": {"region_name": "us-west-2"}}
    assert data.REGISTRY["idr-6001240"].shape == (2, 236, 275, 271)
    with pytest.raises(ValueError, match="read it in place"):
        data.fetch("idr-6001240")


def test_unknown_name_lists_known_names():
    with pytest.raises(KeyError) as raised:
        data.fetch("no-such-data")
    for name in data.REGISTRY:
        assert name in str(raised.value)


def test_cache_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv(data.CACHE_VARIABLE, str(tmp_path / "elsewhere"))
    assert data.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(data.CACHE_VARIABLE)
    assert data.cache_dir() == pooch.os_cache("ome-zarr-course")
