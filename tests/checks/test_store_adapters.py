"""course_utils.checks.store_adapters, on a small lesson namespace."""

from __future__ import annotations

import json

import icechunk
import numpy as np
import pytest
import tensorstore as ts
import zarr

from course_utils.checks import store_adapters as check
from course_utils.feedback import AnswerError

icechunk.set_logs_filter("error")


@pytest.fixture(scope="module")
def tiff():
    return np.random.default_rng(5).integers(1, 60000, (1600, 2000), dtype=np.uint16)


# -- exercise 1 ----------------------------------------------------------------


def test_tiff_region_right(tiff, capsys):
    check.tiff_region({"tiff": tiff, "tiff_region": tiff[1000:1200, 300:700].copy()})
    assert "✓ tiff_region matches" in capsys.readouterr().out


@pytest.mark.parametrize(
    "region, message",
    [
        (lambda t: t[1000:1199, 300:699], "make \\(200, 400\\)"),
        (lambda t: t[1000:1200, 300:700].astype("float32"), "dtype"),
        (lambda t: t[1001:1201, 300:700], "same pixels"),
        (lambda t: t[1000:1200, 300:700].tolist(), "numpy array"),
    ],
)
def test_tiff_region_wrong(tiff, region, message):
    with pytest.raises(AnswerError, match=message):
        check.tiff_region({"tiff": tiff, "tiff_region": region(tiff)})


def test_tiff_region_swapped_axes_gets_a_hint(tiff):
    with pytest.raises(AnswerError, match="swapped") as info:
        check.tiff_region({"tiff": tiff, "tiff_region": tiff[300:700, 1000:1200]})
    assert "rows come first" in info.value.hint


def test_tiff_region_zarr_array_instead_of_pixels(tiff):
    view = zarr.create_array(zarr.storage.MemoryStore(), shape=(10, 10), dtype="uint16")
    with pytest.raises(AnswerError, match="Zarr array object"):
        check.tiff_region({"tiff": tiff, "tiff_region": view})


def test_tiff_region_missing():
    with pytest.raises(AnswerError, match="not defined yet"):
        check.tiff_region({"tiff": np.zeros((2, 2))})


# -- exercise 2 ----------------------------------------------------------------


@pytest.fixture
def bands():
    refs = {".zarray": json.dumps({"chunks": [100, 2000], "shape": [1600, 2000]})}
    for k in range(16):
        refs[f"{k}.0"] = ["/data/x.tif", 448 + k * 400_000, 400_000]
    return refs


def test_row_cost_right(bands, capsys):
    check.row_cost({"bands": bands, "row_cost": {"key": "10.0", "bytes": 400_000}})
    assert "chunk 10.0" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        ({"key": "9.0", "bytes": 400_000}, "not in chunk"),
        ({"key": "10.0", "bytes": 4_000}, "does not cost"),
        ({"key": "10.0"}, "exactly the keys"),
        ({"key": 10, "bytes": 400_000}, "should be a string"),
        ({"key": "10.0", "bytes": 4e5}, "whole number"),
        ("10.0", "should be a dict"),
    ],
)
def test_row_cost_wrong(bands, value, message):
    with pytest.raises(AnswerError, match=message):
        check.row_cost({"bands": bands, "row_cost": value})


def test_row_cost_follows_the_lesson_bands(bands, capsys):
    bands[".zarray"] = json.dumps({"chunks": [200, 2000]})
    bands["5.0"] = ["/data/x.tif", 0, 800_000]
    check.row_cost({"bands": bands, "row_cost": {"key": "5.0", "bytes": 800_000}})
    assert "✓" in capsys.readouterr().out


# -- exercise 3 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(tmp_path_factory.mktemp("ic"))))
    session = repo.writable_session("main")
    array = zarr.create_array(session.store, name="image", shape=(1600, 2000), chunks=(256, 256), dtype="uint16")
    array[:] = 5
    acquired = session.commit("first")
    session = repo.writable_session("main")
    zarr.open_array(session.store, path="image")[700:800, :] = 0
    corrected = session.commit("fix")
    return {"repo": repo, "acquired": acquired, "corrected": corrected}


def test_new_chunks_right(versions, capsys):
    check.new_chunks({**versions, "new_chunks": 16})
    assert "16 chunks" in capsys.readouterr().out


@pytest.mark.parametrize("value, message", [(8, "did not write 8"), (56, "did not write 56"), (16.0, "whole number")])
def test_new_chunks_wrong(versions, value, message):
    with pytest.raises(AnswerError, match=message):
        check.new_chunks({**versions, "new_chunks": value})


def test_new_chunks_without_the_lesson():
    with pytest.raises(AnswerError, match="lesson variable `repo`"):
        check.new_chunks({"new_chunks": 16})


# -- exercise 4 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def n5_lesson(tmp_path_factory):
    path = tmp_path_factory.mktemp("n5") / "image.n5" / "s0"
    n5 = ts.open(
        {
            "driver": "n5",
            "kvstore": {"driver": "file", "path": str(path)},
            "metadata": {"dimensions": [2000, 1600], "blockSize": [256, 256], "dataType": "uint16",
                         "compression": {"type": "raw"}},
        },
        create=True,
    ).result()
    n5.T.write(np.ones((1600, 2000), np.uint16)).result()
    return {"n5": n5, "n5_path": path}


@pytest.mark.parametrize("value", ["1/3", " 1/3/", "/1/3"])
def test_n5_key_right(n5_lesson, value, capsys):
    check.n5_key({**n5_lesson, "n5_key": value})
    assert "block file 1/3" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [("3/1", "Zarr order"), ("1/4", "is not in N5 block"), ("c/3/1", "is not in N5 block"), (13, "should be a string")],
)
def test_n5_key_wrong(n5_lesson, value, message):
    with pytest.raises(AnswerError, match=message):
        check.n5_key({**n5_lesson, "n5_key": value})


def test_n5_key_needs_the_blocks_on_disk(n5_lesson, tmp_path):
    with pytest.raises(AnswerError, match="no block file"):
        check.n5_key({**n5_lesson, "n5_path": tmp_path, "n5_key": "1/3"})
