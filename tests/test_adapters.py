"""course_utils.adapters: TIFF layouts and references, N5 headers, content addresses."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest
import tifffile
import zarr

from course_utils import adapters


@pytest.fixture(scope="module")
def image():
    return np.arange(120 * 50, dtype=np.uint16).reshape(120, 50) * 7


@pytest.fixture(scope="module")
def striped(tmp_path_factory, image):
    """An uncompressed TIFF written by tifffile: one strip, pixels in one run."""
    path = tmp_path_factory.mktemp("tiff") / "striped.tif"
    tifffile.imwrite(path, image)
    return path


@pytest.fixture(scope="module")
def tiled(tmp_path_factory, image):
    path = tmp_path_factory.mktemp("tiff") / "tiled.tif"
    tifffile.imwrite(path, image, tile=(32, 32))
    return path


@pytest.fixture(scope="module")
def compressed(tmp_path_factory, image):
    path = tmp_path_factory.mktemp("tiff") / "deflate.tif"
    tifffile.imwrite(path, image, compression="zlib", rowsperstrip=40)
    return path


def test_layout_of_an_uncompressed_striped_tiff(striped, image):
    layout = adapters.tiff_layout(striped)
    assert layout.shape == image.shape and layout.dtype == image.dtype
    assert layout.compression == "none" and not layout.tiled
    assert layout.contiguous
    assert layout.pixel_bytes == image.nbytes
    # the bytes at the first offset are the pixels, row after row
    raw = striped.read_bytes()[layout.offsets[0] : layout.offsets[0] + image.nbytes]
    assert np.array_equal(np.frombuffer(raw, dtype="<u2").reshape(image.shape), image)
    assert "one unbroken byte run: yes" in str(layout)


def test_layout_of_tiled_and_compressed_tiffs(tiled, compressed):
    tiles = adapters.tiff_layout(tiled)
    assert tiles.tiled and tiles.chunk_shape == (32, 32)
    assert tiles.n_chunks == 4 * 2  # ceil(120/32) x ceil(50/32)
    assert not tiles.contiguous
    strips = adapters.tiff_layout(compressed)
    assert "deflate" in strips.compression
    assert strips.chunk_shape == (40, 50) and strips.n_chunks == 3
    assert not strips.contiguous


@pytest.mark.parametrize("fixture", ["striped", "tiled", "compressed"])
def test_tiff_references_read_back_the_image(request, fixture, image):
    path = request.getfixturevalue(fixture)
    refs = adapters.tiff_references(path)
    chunk_refs = [v for v in refs.values() if isinstance(v, list)]
    assert chunk_refs and all(v[0] == str(path.resolve()) for v in chunk_refs)
    array = zarr.open_array(adapters.reference_store(refs), mode="r")
    assert np.array_equal(array[:], image)


def test_tiff_references_point_at_a_given_url(striped):
    refs = adapters.tiff_references(striped, url="http://example.invalid/x.tif")
    assert refs["0.0"][0] == "http://example.invalid/x.tif"


def test_band_references_are_byte_arithmetic(striped, image):
    layout = adapters.tiff_layout(striped)
    refs = adapters.band_references(striped, rows_per_chunk=30)
    assert json.loads(refs[".zarray"])["chunks"] == [30, 50]
    row_bytes = 50 * 2
    assert [refs[f"{k}.0"] for k in range(4)] == [
        [str(striped.resolve()), layout.offsets[0] + k * 30 * row_bytes, 30 * row_bytes] for k in range(4)
    ]
    assert "4.0" not in refs
    array = zarr.open_array(adapters.reference_store(refs), mode="r")
    assert array.chunks == (30, 50)
    assert np.array_equal(array[:], image)
    assert np.array_equal(array[61:95, 3:9], image[61:95, 3:9])


def test_band_references_need_a_divisor_of_the_height(striped):
    with pytest.raises(ValueError, match="divide the image height 120"):
        adapters.band_references(striped, rows_per_chunk=50)


def test_band_references_refuse_compressed_pixels_unless_not_strict(compressed, image):
    with pytest.raises(ValueError, match="only uncompressed pixels"):
        adapters.band_references(compressed, rows_per_chunk=40)
    refs = adapters.band_references(compressed, rows_per_chunk=40, strict=False)
    assert refs == adapters.tiff_references(compressed)
    assert np.array_equal(zarr.open_array(adapters.reference_store(refs), mode="r")[:], image)


def test_reference_store_is_read_only(striped):
    store = adapters.reference_store(adapters.tiff_references(striped))
    assert store.read_only


def test_files_with_sizes_lists_nested_files_naturally(tmp_path):
    for name, size in {"b/10": 3, "b/2": 1, "a.json": 5}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    assert adapters.files_with_sizes(tmp_path) == [("a.json", 5), ("b/2", 1), ("b/10", 3)]


def test_n5_block_header_parses_what_tensorstore_writes(tmp_path, image):
    ts = pytest.importorskip("tensorstore")
    store = ts.open(
        {
            "driver": "n5",
            "kvstore": {"driver": "file", "path": str(tmp_path / "a.n5")},
            "metadata": {"dimensions": [50, 120], "blockSize": [32, 64], "dataType": "uint16",
                         "compression": {"type": "gzip"}},
        },
        create=True,
    ).result()
    store.T.write(image).result()
    raw = (tmp_path / "a.n5" / "1" / "0").read_bytes()  # x block 1, y block 0
    header = adapters.n5_block_header(raw)
    assert header == adapters.N5BlockHeader(mode=0, shape=(32, 64), n_bytes=12)
    pixels = np.frombuffer(gzip.decompress(raw[12:]), dtype=">u2").reshape(64, 32)
    assert np.array_equal(pixels[:, : 50 - 32], image[0:64, 32:50])


def test_n5_block_header_rejects_short_input():
    with pytest.raises(ValueError):
        adapters.n5_block_header(b"\x00")
    with pytest.raises(ValueError, match="too short"):
        adapters.n5_block_header(struct.pack(">HH", 0, 3) + b"\x00" * 4)


def test_cids_match_known_test_vectors():
    assert adapters.raw_cid(b"hello world") == adapters.HELLO_WORLD_CID
    assert adapters.raw_cid(b"") == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert adapters.raw_cid(b"hello world!") != adapters.HELLO_WORLD_CID


def test_varint_encodes_multibyte_codes():
    assert adapters._varint(0x55) == b"\x55"
    assert adapters._varint(0x0129) == b"\xa9\x02"
    assert adapters.dag_json_cid({}).startswith("bagu")  # DAG-JSON CIDs start like this


def test_content_addresses_deduplicate_and_track_changes():
    keys: dict = {}
    array = zarr.create_array(zarr.storage.MemoryStore(keys), shape=(8, 8), chunks=(4, 4), dtype="uint8")
    array[:] = 9
    addresses = adapters.content_addresses(keys)
    assert set(addresses) == set(keys)
    chunk_cids = {cid for key, cid in addresses.items() if key.startswith("c/")}
    assert len(chunk_cids) == 1  # four identical chunks, one address
    root = adapters.dag_json_cid(addresses)
    array[0, 0] = 1
    changed = adapters.content_addresses(keys)
    assert [k for k in addresses if addresses[k] != changed[k]] == ["c/0/0"]
    assert adapters.dag_json_cid(changed) != root
    assert adapters.dag_json_cid(dict(reversed(list(addresses.items())))) == root  # order does not matter


def test_dag_json_is_canonical():
    assert adapters.dag_json({"b": "x", "a": "y"}) == b'{"a":{"/":"y"},"b":{"/":"x"}}'


def test_ipfs_fetch_never_touches_the_network_offline(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(adapters.mode, "host_reachable", no_network)
    monkeypatch.setattr("socket.create_connection", no_network)
    result = adapters.ipfs_fetch()
    assert not result.ok and result.data is None
    assert result.reason.startswith("skipped: offline mode")


def test_ipfs_fetch_skips_an_unreachable_gateway(monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setattr(adapters.mode, "is_offline", lambda *a, **k: False)
    monkeypatch.setattr(adapters.mode, "host_reachable", lambda *a, **k: False)
    result = adapters.ipfs_fetch(gateway="https://gateway.invalid")
    assert not result.ok and "cannot be reached" in result.reason


class _Response:
    def __init__(self, status_code, content):
        self.status_code, self.content = status_code, content


@pytest.mark.parametrize(
    "response, ok, reason",
    [
        (_Response(200, b"hello world"), True, "hash verified"),
        (_Response(200, b"tampered"), False, "do not hash"),
        (_Response(504, b""), False, "HTTP 504"),
    ],
)
def test_ipfs_fetch_verifies_what_the_gateway_sends(monkeypatch, response, ok, reason):
    import requests

    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setattr(adapters.mode, "is_offline", lambda *a, **k: False)
    monkeypatch.setattr(adapters.mode, "host_reachable", lambda *a, **k: True)
    asked = []
    monkeypatch.setattr(requests, "get", lambda url, **kw: asked.append(url) or response)
    result = adapters.ipfs_fetch(adapters.HELLO_WORLD_CID, gateway="https://gw.example")
    assert asked == [f"https://gw.example/ipfs/{adapters.HELLO_WORLD_CID}?format=raw"]
    assert result.ok is ok and reason in result.reason
    assert (result.data == b"hello world") is ok


@pytest.mark.online
def test_ipfs_fetch_online():
    result = adapters.ipfs_fetch()
    assert result.ok, result.reason
    assert result.data == b"hello world"


@pytest.mark.online
def test_the_real_smartspim_tiff_reads_through_the_adapter_and_references(tmp_path, monkeypatch):
    """Notebook 07 online: the real TIFF opens through tifffile's adapter and through references.

    Also prints its Blosc-zstd ratio on 256 x 256 chunks, for comparison with
    ``data.SMARTSPIM_REFERENCE_RATIOS`` and the stand-in (see bench/bench_standin.py).
    """
    import numcodecs

    from course_utils import data

    monkeypatch.setenv(data.CACHE_VARIABLE, str(tmp_path))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    path = data.fetch("smartspim-mip")
    assert not path.name.startswith(data.SYNTHETIC_PREFIX), "the real file could not be downloaded"
    image = tifffile.imread(path)
    with tifffile.imread(path, aszarr=True) as store:
        assert np.array_equal(zarr.open_array(store, mode="r")[1000:1200, 300:700], image[1000:1200, 300:700])
    refs = adapters.tiff_references(path)
    assert np.array_equal(zarr.open_array(adapters.reference_store(refs), mode="r")[:], image)
    layout = adapters.tiff_layout(path)
    codec = numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE)
    chunks = [np.ascontiguousarray(image[i : i + 256, j : j + 256]) for i in range(0, 1536, 256) for j in range(0, 1792, 256)]
    ratio = sum(c.nbytes for c in chunks) / sum(len(codec.encode(c)) for c in chunks)
    print(f"\n{layout}\nBlosc-zstd (5, shuffle) on 256 x 256 chunks: {ratio:.2f}x")
    assert 1.0 < ratio < 10.0
