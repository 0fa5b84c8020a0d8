"""course_utils.checks.store_adapters, on a small lesson namespace."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr

from course_utils import adapters
from course_utils.checks import store_adapters as check
from course_utils.feedback import AnswerError


@pytest.fixture(scope="module")
def tiff():
    return np.random.default_rng(5).integers(1, 60000, (1600, 2000), dtype=np.uint16)


@pytest.fixture(scope="module")
def one_strip(tmp_path_factory, tiff):
    path = tmp_path_factory.mktemp("tiff") / "one.tif"
    tifffile.imwrite(path, tiff)
    return adapters.tiff_layout(path)


@pytest.fixture(scope="module")
def strips_of_64(tmp_path_factory, tiff):
    path = tmp_path_factory.mktemp("tiff") / "strips.tif"
    tifffile.imwrite(path, tiff, rowsperstrip=64)
    return adapters.tiff_layout(path)


@pytest.fixture(scope="module")
def tiles(tmp_path_factory, tiff):
    path = tmp_path_factory.mktemp("tiff") / "tiles.tif"
    tifffile.imwrite(path, tiff, tile=(256, 256))
    return adapters.tiff_layout(path)


# -- exercise 1 ----------------------------------------------------------------


def _region(tiff):
    return tiff[1000:1200, 300:700].copy()


@pytest.mark.parametrize(
    "layout_name, expected",
    [("one_strip", 6_400_000), ("strips_of_64", 4 * 64 * 4000), ("tiles", 2 * 2 * 256 * 256 * 2)],
)
def test_tiff_region_right(request, tiff, layout_name, expected, capsys):
    layout = request.getfixturevalue(layout_name)
    assert check.region_bytes_truth(layout) == expected  # rows 1000-1199: strips 15-18 of 64 rows; tiles rows 3-4, columns 1-2
    check.tiff_region({"tiff": tiff, "layout": layout, "tiff_region": _region(tiff), "region_bytes": expected})
    assert "✓ tiff_region matches" in capsys.readouterr().out


@pytest.mark.parametrize(
    "region, message",
    [
        (lambda t: t[1000:1199, 300:699], "make \\(200, 400\\)"),
        (lambda t: t[1000:1200, 300:700].astype("float32"), "dtype"),
        (lambda t: t[1001:1201, 300:700], "TIFF's pixels"),
        (lambda t: t[1000:1200, 300:700].tolist(), "numpy array"),
    ],
)
def test_tiff_region_wrong_pixels(tiff, one_strip, region, message):
    with pytest.raises(AnswerError, match=message):
        check.tiff_region({"tiff": tiff, "layout": one_strip, "tiff_region": region(tiff), "region_bytes": 6_400_000})


def test_tiff_region_swapped_axes_gets_a_hint(tiff, one_strip):
    with pytest.raises(AnswerError, match="swapped") as info:
        check.tiff_region({"tiff": tiff, "layout": one_strip, "tiff_region": tiff[300:700, 1000:1200]})
    assert "rows come first" in info.value.hint


def test_tiff_region_zarr_array_instead_of_pixels(tiff, one_strip):
    view = zarr.create_array(zarr.storage.MemoryStore(), shape=(10, 10), dtype="uint16")
    with pytest.raises(AnswerError, match="Zarr array object"):
        check.tiff_region({"tiff": tiff, "layout": one_strip, "tiff_region": view})


@pytest.mark.parametrize(
    "layout_name, value, message",
    [
        ("one_strip", lambda layout: 160_000, "region's own pixels"),
        ("one_strip", lambda layout: layout.file_size, "whole file"),
        ("strips_of_64", lambda layout: 800_000, "a strip holds 64 rows"),
        ("strips_of_64", lambda layout: 6_400_000, "does not read"),
        ("one_strip", lambda layout: 6.4e6, "whole number"),
    ],
)
def test_region_bytes_mistakes(request, tiff, layout_name, value, message):
    layout = request.getfixturevalue(layout_name)
    with pytest.raises(AnswerError, match=message):
        check.tiff_region({"tiff": tiff, "layout": layout, "tiff_region": _region(tiff), "region_bytes": value(layout)})


def test_region_bytes_missing(tiff, one_strip):
    with pytest.raises(AnswerError, match="`region_bytes` is not defined"):
        check.tiff_region({"tiff": tiff, "layout": one_strip, "tiff_region": _region(tiff)})


def test_tiff_region_missing():
    with pytest.raises(AnswerError, match="not defined yet"):
        check.tiff_region({"tiff": np.zeros((2, 2))})


# -- exercise 2 ----------------------------------------------------------------


def test_band_range_truth_is_the_notebook_arithmetic(one_strip):
    truth = check.band_range_truth(one_strip)
    assert truth == {"key": "30.0", "offset": one_strip.offsets[0] + 30 * 40 * 4000, "length": 160_000}


def test_band_range_agrees_with_band_references(tmp_path, tiff):
    path = tmp_path / "x.tif"
    tifffile.imwrite(path, tiff)
    refs = adapters.band_references(path, rows_per_chunk=40)
    truth = check.band_range_truth(adapters.tiff_layout(path))
    assert refs[truth["key"]][1:] == [truth["offset"], truth["length"]]


def test_band_range_right(one_strip, capsys):
    check.band_range({"layout": one_strip, "band_range": check.band_range_truth(one_strip)})
    assert "chunk 30.0" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda start: {"key": "12.0"}, "lesson's 100-row bands"),
        (lambda start: {"key": "31.0"}, "not in chunk"),
        (lambda start: {"length": 4000}, "one row"),
        (lambda start: {"length": 400_000}, "not 400,000 bytes"),
        (lambda start: {"offset": 30 * 40 * 4000}, "pixels start at byte"),
        (lambda start: {"offset": start + 1234 * 4000}, "where row 1234 itself starts"),
        (lambda start: {"offset": start + 30 * 40 * 4000 + 1}, "does not start at byte"),
        (lambda start: {"key": 30}, "should be a string"),
        (lambda start: {"offset": 4.8e6}, "whole number"),
    ],
)
def test_band_range_mistakes(one_strip, change, message):
    value = {**check.band_range_truth(one_strip), **change(one_strip.offsets[0])}
    with pytest.raises(AnswerError, match=message):
        check.band_range({"layout": one_strip, "band_range": value})


def test_band_range_needs_three_keys(one_strip):
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.band_range({"layout": one_strip, "band_range": {"key": "30.0"}})


# -- exercise 3 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_lesson():
    array = zarr.create_array(zarr.storage.MemoryStore(), shape=(1600, 2000), chunks=(256, 256), dtype="uint16")
    return {
        "plain_array": array,
        "view": (slice(200, 700), slice(300, 900)),
        "panned_view": (slice(200, 700), slice(556, 1156)),
    }


def test_chunk_ids_of_the_views(cache_lesson):
    first = check.chunk_ids((1600, 2000), (256, 256), cache_lesson["view"])
    second = check.chunk_ids((1600, 2000), (256, 256), cache_lesson["panned_view"])
    assert len(first) == len(second) == 9 and len(first & second) == 6
    assert check.chunk_ids((10, 10), (4, 4), (3, slice(None))) == {(0, 0), (0, 1), (0, 2)}


def test_cache_saved_right(cache_lesson, capsys):
    check.cache_saved({**cache_lesson, "cache_saved": 6})
    assert "share 6 chunks" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "keeps chunks, not views"),
        (9, "not every chunk of the panned view"),
        (3, "still makes"),
        (18, "first look fills the cache"),
        (12, "first look fills the cache"),
        (5, "does not save 5"),
        (6.0, "whole number"),
    ],
)
def test_cache_saved_mistakes(cache_lesson, value, message):
    with pytest.raises(AnswerError, match=message):
        check.cache_saved({**cache_lesson, "cache_saved": value})


def test_cache_saved_without_the_lesson():
    with pytest.raises(AnswerError, match="lesson variable `plain_array`"):
        check.cache_saved({"cache_saved": 6})


# -- exercise 4 ----------------------------------------------------------------


def test_n5_truth():
    assert check.n5_truth() == {"n5": "5/3/2", "zarr": "c/2/3/5"}


@pytest.mark.parametrize("value", [{"n5": "5/3/2", "zarr": "c/2/3/5"}, {"n5": " /5/3/2/", "zarr": "c/2/3/5/"}])
def test_n5_key_right(value, capsys):
    check.n5_key({"n5_key": value})
    assert "N5 block 5/3/2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        ({"n5": "2/3/5", "zarr": "c/2/3/5"}, "Zarr's order"),
        ({"n5": "c/5/3/2", "zarr": "c/2/3/5"}, "no prefix"),
        ({"n5": "5/3/1", "zarr": "c/2/3/5"}, "not in N5 block"),
        ({"n5": "5/3/2", "zarr": "2/3/5"}, "lacks the prefix"),
        ({"n5": "5/3/2", "zarr": "c/5/3/2"}, "wrong order"),
        ({"n5": "5/3/2", "zarr": "c/2/3/4"}, "not in Zarr chunk"),
        ({"n5": 532, "zarr": "c/2/3/5"}, "should be a string"),
        ({"n5": "5/3/2"}, "exactly the keys"),
        ("5/3/2", "should be a dict"),
    ],
)
def test_n5_key_mistakes(value, message):
    with pytest.raises(AnswerError, match=message):
        check.n5_key({"n5_key": value})


def test_n5_truth_matches_what_tensorstore_and_zarr_write(tmp_path):
    """The keys the check expects are the files the two libraries write for that voxel."""
    ts = pytest.importorskip("tensorstore")
    shape = (48, 1100, 1400)  # z, y, x: just big enough to hold the voxel
    n5 = ts.open(
        {
            "driver": "n5",
            "kvstore": {"driver": "file", "path": str(tmp_path / "a.n5")},
            "metadata": {"dimensions": list(shape[::-1]), "blockSize": [256, 256, 16], "dataType": "uint8",
                         "compression": {"type": "raw"}},
        },
        create=True,
    ).result()
    voxel = (check.VOXEL["z"], check.VOXEL["y"], check.VOXEL["x"])
    n5.T[voxel].write(np.uint8(1)).result()
    array = zarr.create_array(tmp_path / "a.zarr", shape=shape, chunks=(16, 256, 256), dtype="uint8")
    array[voxel] = 1
    truth = check.n5_truth()
    assert [p.relative_to(tmp_path / "a.n5").as_posix() for p in (tmp_path / "a.n5").rglob("*") if p.is_file() and p.name != "attributes.json"] == [truth["n5"]]
    assert [p.relative_to(tmp_path / "a.zarr").as_posix() for p in (tmp_path / "a.zarr").rglob("*") if p.is_file() and p.name != "zarr.json"] == [truth["zarr"]]
