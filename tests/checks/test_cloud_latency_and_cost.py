"""course_utils.checks.cloud_latency_and_cost against a real local S3 server with the lesson's layouts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import zarr

from course_utils import pricing
from course_utils.checks import cloud_latency_and_cost as check
from course_utils.feedback import AnswerError
from course_utils.servers import LocalS3Server

SHAPE = (8, 256, 256)
LAYOUTS = {
    "chunks": {"chunks": (1, 64, 64)},
    "planes": {"chunks": (1, 256, 256)},
    "one-shard": {"chunks": (1, 64, 64), "shards": (8, 256, 256)},
}


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    """The lesson's namespace: the server, its arrays, ``chunked`` and ``prices``."""
    folder = tmp_path_factory.mktemp("layouts")
    volume = np.random.default_rng(4).integers(100, 3000, SHAPE, dtype=np.uint16)
    for name, shapes in LAYOUTS.items():
        zarr.create_array(str(folder / f"{name}.zarr"), data=volume, **shapes)
    with LocalS3Server(name="test latency checks") as s3:
        s3.upload(folder)
        arrays = {name: zarr.open_array(s3.zarr_store(f"{name}.zarr", read_only=True), mode="r") for name in LAYOUTS}
        yield {"s3": s3, "arrays": arrays, "chunked": arrays["chunks"], "prices": pricing.S3_STANDARD,
               "fs": s3.filesystem()}


# --------------------------------------------------------------------------
# Exercise 1: xz_seconds
# --------------------------------------------------------------------------

N_SIDE = 8 * 4  # z chunks x x chunks of chunked[:, 100, :]


def _xz(one, three):
    return {"one_at_a_time": one, "three_at_a_time": three}


def test_xz_seconds_right_answer_is_measured_too(lesson, capsys):
    check.xz_seconds({**lesson, "xz_seconds": _xz(N_SIDE * 0.05, math.ceil(N_SIDE / 3) * 0.05)})
    out = capsys.readouterr().out
    assert "✓ Right: 32 requests, 1.60 s one at a time, 11 waves of 3 = 0.55 s" in out
    assert "Measured just now with 3 at a time: 32 GETs" in out


@pytest.mark.parametrize(
    "one, three, message",
    [
        (N_SIDE * 50, 0.55, "in seconds"),
        (0.05, 0.55, "single round trip"),
        (16 * 0.05, 0.55, "z-plane"),
        (128 * 0.05, 0.55, "every chunk of the array"),
        (7.0, 0.55, "count the chunks"),
        (1.6, N_SIDE / 3 * 0.05, "round up"),
        (1.6, 4 * 0.05, "default of 10"),
        (1.6, 0.05, "not all at once"),
        (1.6, 550, "in seconds"),
        (1.6, 0.3, "how many waves"),
    ],
)
def test_xz_seconds_wrong_answers_get_a_hint(lesson, one, three, message):
    with pytest.raises(AnswerError, match=message):
        check.xz_seconds({**lesson, "xz_seconds": _xz(one, three)})


def test_xz_seconds_shape_of_the_answer(lesson):
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.xz_seconds({**lesson, "xz_seconds": {"one": 1.6}})
    with pytest.raises(AnswerError, match="should be a number"):
        check.xz_seconds({**lesson, "xz_seconds": _xz("1.6", 0.55)})
    with pytest.raises(AnswerError, match="should be a number"):
        check.xz_seconds({**lesson, "xz_seconds": _xz(True, 0.55)})
    with pytest.raises(AnswerError, match="not defined yet"):
        check.xz_seconds(lesson)
    with pytest.raises(AnswerError, match="lesson variable `chunked`"):
        check.xz_seconds({"xz_seconds": _xz(1.6, 0.55)})


# --------------------------------------------------------------------------
# Exercise 2: one_shard_plane
# --------------------------------------------------------------------------


def test_one_shard_plane_right_answer_agrees_with_the_server(lesson, capsys):
    check.one_shard_plane({**lesson, "one_shard_plane": {"requests": 17, "seconds": 0.85}})
    out = capsys.readouterr().out
    assert "✓ Right: 1 index read, then 16 chunk reads" in out
    assert "Measured just now: 17 GETs" in out  # zarr does what the model says


def test_one_shard_model_matches_zarr_for_whole_shards_too(lesson):
    """A plane that needs whole shards: one request per shard (the model the check teaches)."""
    s3 = lesson["s3"]
    folder_array = zarr.create_array(s3.zarr_store("flat-shards.zarr"), shape=SHAPE, dtype="uint16",
                                     chunks=(1, 64, 64), shards=(1, 128, 128))
    folder_array[:] = 7
    reader = zarr.open_array(s3.zarr_store("flat-shards.zarr", read_only=True), mode="r")
    with s3.measure() as cost:
        reader[3]
    assert check.one_shard_requests_and_seconds(reader, 0.05)[0] == cost.requests == 4


@pytest.mark.parametrize(
    "requests, seconds, message",
    [
        (16, 0.85, "its index"),
        (1, 0.85, "every chunk in it"),
        (128, 0.85, "every chunk of the volume"),
        (3, 0.85, "count the index read"),
        (17, 0.1, "one after another"),
        (17, 0.8, "one more round trip first"),
        (17, 0.05, "whole-shard read"),
        (17, 850, "in seconds"),
        (17, 3.0, "how many round trips"),
    ],
)
def test_one_shard_plane_wrong_answers_get_a_hint(lesson, requests, seconds, message):
    with pytest.raises(AnswerError, match=message):
        check.one_shard_plane({**lesson, "one_shard_plane": {"requests": requests, "seconds": seconds}})


def test_one_shard_plane_shape_of_the_answer(lesson):
    with pytest.raises(AnswerError, match="whole number"):
        check.one_shard_plane({**lesson, "one_shard_plane": {"requests": 17.0, "seconds": 0.85}})
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.one_shard_plane({**lesson, "one_shard_plane": {"requests": 17}})


# --------------------------------------------------------------------------
# Exercise 3: tile_dollars
# --------------------------------------------------------------------------


def _tile_parts(lesson, name):
    """(GET dollars, egress dollars) of a million views, from the objects the tile needs."""
    fs, prices = lesson["fs"], lesson["prices"]
    keys = ([f"course/chunks.zarr/c/5/{i}/{j}" for i in range(3) for j in range(3)]
            if name == "chunks" else ["course/planes.zarr/c/5/0/0"])
    size = sum(fs.size(key) for key in keys)
    return len(keys) * prices.get_per_1000 / 1000 * 1e6, size / 2**30 * prices.egress_per_gb * 1e6


def _right(lesson):
    return {name: sum(_tile_parts(lesson, name)) for name in ("chunks", "planes")}


def test_tile_dollars_right_answer_passes(lesson, capsys):
    check.tile_dollars({**lesson, "tile_dollars": _right(lesson)})
    out = capsys.readouterr().out
    assert "✓ Right: a million views cost" in out and "(9 GETs," in out and "(1 GET," in out


@pytest.mark.parametrize(
    "mistake, message",
    [
        (lambda g, e: (g + e) / 1e6, "that is one view"),
        (lambda g, e: g + e * 2**30 / 1e9, "2\\*\\*30"),
        (lambda g, e: e, "data transfer alone"),
        (lambda g, e: g, "requests alone"),
        (lambda g, e: g * 1000 + e, "per 1,000 requests"),
        (lambda g, e: (g + e) * 3, "measure one view"),
    ],
)
def test_tile_dollars_wrong_answers_get_a_hint(lesson, mistake, message):
    answer = _right(lesson)
    answer["chunks"] = mistake(*_tile_parts(lesson, "chunks"))
    with pytest.raises(AnswerError, match=message):
        check.tile_dollars({**lesson, "tile_dollars": answer})


def test_tile_dollars_with_the_tiles_own_bytes(lesson):
    gets, _ = _tile_parts(lesson, "planes")
    own = gets + 128 * 128 * 2 / 2**30 * lesson["prices"].egress_per_gb * 1e6
    with pytest.raises(AnswerError, match="downloads whole chunks"):
        check.tile_dollars({**lesson, "tile_dollars": {**_right(lesson), "planes": own}})


def test_tile_dollars_swapped(lesson):
    right = _right(lesson)
    with pytest.raises(AnswerError, match="swapped"):
        check.tile_dollars({**lesson, "tile_dollars": {"chunks": right["planes"], "planes": right["chunks"]}})
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.tile_dollars({**lesson, "tile_dollars": {"chunks": 1.0}})
