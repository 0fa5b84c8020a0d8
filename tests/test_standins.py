"""course_utils.standins: the offline stand-ins have the real stores' layout, and look like data.

The IDR stand-ins carry the published metadata documents byte for byte
(course_utils.idr_metadata), the real shapes, chunks, shards and codecs;
their synthetic pixels (course_utils.nuclei) are dim like the real image and
compress about as well. Moved here from test_servers.py, plus the IDR tests.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr

from course_utils import idr_metadata, standins
from course_utils.nuclei import NucleiStack, downsample
from course_utils.validate import validate_ome_zarr

import session_data

MIB = 2**20
#: Sizes in the challenge README's listing of the 0.5 copy, as bytes (the listing rounds).
LISTED_BYTES = {"24MiB": 24 * MIB, "6.0MiB": 6.0 * MIB, "1.6MiB": 1.6 * MIB, "2.7KiB": 2.7 * 1024, "1.2KiB": 1.2 * 1024}
#: blosc-lz4 bytes of the real chunks of plane 117 (LaminB1, Dapi), recorded in pizzarr's cassette.
REAL_PLANE_117_LZ4 = (77_872, 79_792)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A private course data cache, so the stand-ins are written fresh once per run."""
    with session_data.data_dir_set(tmp_path_factory.mktemp("course-data")) as path:
        yield path


@pytest.fixture(scope="module")
def idr(data_dir):
    """Both IDR stand-ins, written under tracemalloc: (0.4, 0.5, peak bytes of Python memory)."""
    tracemalloc.start()
    try:
        v04 = standins.idr_6001240()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return v04, standins.idr_6001240_sharded(), peak


def _files(store: Path) -> dict[str, int]:
    return {p.relative_to(store).as_posix(): p.stat().st_size for p in store.rglob("*") if p.is_file()}


# -- the recorded metadata ----------------------------------------------------------


def test_recorded_documents_have_the_published_sizes():
    v04 = {key: len(text.encode()) for key, text in idr_metadata.v04_documents().items()}
    assert v04[".zgroup"] == 24 and v04[".zattrs"] == 3343 and v04["0/.zarray"] == 417  # Content-Length
    v05 = {key: len(text.encode()) for key, text in idr_metadata.v05_documents().items()}
    for key in ("0/zarr.json", "1/zarr.json", "2/zarr.json"):
        assert f"{v05[key]}B" == idr_metadata.LISTED_SIZES_V05[key]
    for key in ("zarr.json", "ro-crate-metadata.json"):  # the listing rounds to 0.1 KiB
        assert f"{v05[key] / 1024:.1f}KiB" == idr_metadata.LISTED_SIZES_V05[key]


def test_recorded_v05_root_is_the_v04_attributes_under_ome():
    v04 = json.loads(idr_metadata.v04_documents()[".zattrs"])
    root = json.loads(idr_metadata.v05_documents()["zarr.json"])
    ome = root["attributes"]["ome"]
    assert root["zarr_format"] == 3 and root["node_type"] == "group"
    assert list(ome) == ["version", "_creator", "multiscales", "omero"] and ome["version"] == "0.5"
    assert "version" not in ome["multiscales"][0] and "version" not in ome["omero"]
    assert ome["multiscales"][0]["datasets"] == v04["multiscales"][0]["datasets"]
    assert ome["omero"]["channels"] == v04["omero"]["channels"]


def test_recorded_v05_arrays_are_one_shard_of_planes():
    for level, shape in enumerate(idr_metadata.LEVEL_SHAPES):
        array = json.loads(idr_metadata.v05_documents()[f"{level}/zarr.json"])
        assert array["shape"] == list(shape) == array["chunk_grid"]["configuration"]["chunk_shape"]
        sharding = array["codecs"][0]
        assert sharding["name"] == "sharding_indexed"
        assert sharding["configuration"]["chunk_shape"] == [1, 1, *shape[2:]]
        assert [c["name"] for c in sharding["configuration"]["index_codecs"]] == ["bytes", "crc32c"]


# -- the IDR stand-ins --------------------------------------------------------------


def test_idr_standins_share_a_root_at_the_real_paths(idr):
    v04, v05, _ = idr
    assert v04.root == v05.root
    assert v04.key == idr_metadata.V04_PATH == "idr/zarr/v0.4/idr0062A/6001240.zarr"
    assert v05.key == idr_metadata.V05_PATH == "idr/share/ome2024-ngff-challenge/0.0.5/6001240.zarr"
    assert validate_ome_zarr(v04.store) == "0.4"
    assert validate_ome_zarr(v05.store) == "0.5"


def test_idr_standins_carry_the_documents_byte_for_byte(idr):
    v04, v05, _ = idr
    for store, documents in ((v04.store, idr_metadata.v04_documents()), (v05.store, idr_metadata.v05_documents())):
        for key, text in documents.items():
            assert (store / key).read_bytes() == text.encode(), key


def test_idr_v04_standin_has_one_object_per_plane(idr):
    v04, _, _ = idr
    files = _files(v04.store)
    chunks = [key for key in files if not key.rsplit("/", 1)[-1].startswith(".")]
    assert len(chunks) == 3 * 2 * 236
    assert "0/1/117/0/0" in files and "2/0/235/0/0" in files
    assert set(files) - set(chunks) == {".zgroup", ".zattrs", "0/.zarray", "1/.zarray", "2/.zarray"}
    group = zarr.open_group(str(v04.store), mode="r")
    assert [group[p].shape for p in "012"] == list(idr_metadata.LEVEL_SHAPES)
    assert group["0"].chunks == standins.IDR_CHUNKS and group["0"].dtype == np.uint16


def test_idr_v05_standin_has_the_listed_objects_and_sizes(idr):
    _, v05, _ = idr
    files = _files(v05.store)
    assert set(files) == set(idr_metadata.LISTED_SIZES_V05)
    for key in ("0/c/0/0/0/0", "1/c/0/0/0/0", "2/c/0/0/0/0"):
        listed = LISTED_BYTES[idr_metadata.LISTED_SIZES_V05[key]]
        assert 0.8 * listed < files[key] < 1.2 * listed, (key, files[key], listed)


def test_both_copies_hold_the_same_pixels(idr):
    v04, v05, _ = idr
    old, new = zarr.open_group(str(v04.store), mode="r"), zarr.open_group(str(v05.store), mode="r")
    np.testing.assert_array_equal(old["2"][:], new["2"][:])  # whole shard (its CRC32C is checked)
    np.testing.assert_array_equal(old["0"][:, 117:119], new["0"][:, 117:119])  # index + inner chunks
    assert new["1"].shards == idr_metadata.LEVEL_SHAPES[1]


def test_idr_standin_is_dim_like_the_real_image(idr):
    v04, _, _ = idr
    level0 = zarr.open_group(str(v04.store), mode="r")["0"]
    for channel, background in ((0, 9), (1, 28)):
        edge, middle = level0[channel, 0], level0[channel, 117]
        assert abs(np.median(edge) - background) <= 3  # far from the cells: background only
        assert edge.max() < 200
        assert 800 < np.percentile(middle, 99) < 2500  # nuclei, a few hundred to a few thousand
        assert 0.1 < (middle > 100).mean() < 0.35
        assert middle.min() >= 1  # no all-zero chunk that zarr would skip


def test_idr_standin_compresses_like_the_real_planes(idr):
    v04, _, _ = idr
    for channel, real in enumerate(REAL_PLANE_117_LZ4):
        stored = (v04.store / "0" / str(channel) / "117" / "0" / "0").stat().st_size
        assert 0.85 * real < stored < 1.15 * real


def test_idr_standins_are_written_in_bounded_memory(idr):
    *_, peak = idr
    assert peak < 120 * MIB, f"{peak / MIB:.0f} MiB"  # the whole level 0 alone is 67 MiB


def test_standins_are_written_once(idr):
    first, *_ = idr
    stamp = (first.store / "0" / ".zarray").stat().st_mtime_ns
    again = standins.idr_6001240()
    assert again == first
    assert (again.store / "0" / ".zarray").stat().st_mtime_ns == stamp


# -- the synthetic nuclei -----------------------------------------------------------


def test_nuclei_planes_are_deterministic_in_any_order():
    small = (2, 40, 60, 50)
    one, other = NucleiStack(shape=small, seed=3), NucleiStack(shape=small, seed=3)
    later = other.plane(1, 30)
    np.testing.assert_array_equal(one.plane(1, 30), later)
    assert one.plane(1, 30).dtype == np.uint16 and one.plane(1, 30).shape == (60, 50)
    assert not np.array_equal(NucleiStack(shape=small, seed=4).plane(1, 30), later)
    with pytest.raises(IndexError):
        one.plane(2, 0)


def test_downsample_halves_y_and_x_by_block_means():
    plane = np.arange(5 * 7, dtype=np.uint16).reshape(5, 7)
    half = downsample(plane)
    assert half.shape == (2, 3) and half.dtype == np.uint16
    assert half[0, 0] == round(np.mean(plane[:2, :2]))


def test_real_plane_figures_are_what_blosc_lz4_gives(idr):
    v04, _, _ = idr
    codec = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE, blocksize=0)
    raw = (v04.store / "0" / "0" / "117" / "0" / "0").read_bytes()
    plane = np.frombuffer(codec.decode(raw), dtype="<u2")
    assert len(codec.encode(plane)) == len(raw)  # the stand-in's chunks are what the .zarray says


# -- AIND ---------------------------------------------------------------------------


def test_aind_standin_has_the_real_layout(data_dir):
    standin = standins.aind_smartspim()
    assert standin.bucket == "aind-open-data"
    assert standin.key.endswith("processed/OMEZarr/Ex_647_Em_690.zarr")
    assert validate_ome_zarr(standin.store) == "0.4"
    group = zarr.open_group(str(standin.store), mode="r")
    multiscale = group.attrs["multiscales"][0]
    assert [axis["name"] for axis in multiscale["axes"]] == ["t", "c", "z", "y", "x"]
    assert len(multiscale["datasets"]) == 5
    assert group["0"].shape == standins.AIND_SHAPE and group["0"].dtype == np.uint16
