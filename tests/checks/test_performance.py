"""course_utils.checks.performance, on the lesson's shapes and real encodings."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
import zarr

from course_utils import data
from course_utils.checks import performance as check
from course_utils.feedback import AnswerError


@pytest.fixture
def lesson():
    return {"volume": np.zeros((64, 256, 256), np.uint16)}


@pytest.mark.parametrize(
    "chunks, view, expected",
    [
        ((1, 256, 256), (32, slice(None), slice(None)), 1),
        ((1, 256, 256), (slice(None), 128, slice(None)), 64),
        ((16, 64, 64), (slice(None), 128, 128), 4),
        ((64, 4, 256), (slice(None), slice(64, 192), 130), 32),
        ((16, 64, 64), (slice(None), slice(64, 192), 130), 4 * 2 * 1),
        ((16, 64, 64), (slice(10, 20), slice(63, 65), slice(None)), 2 * 2 * 4),
    ],
)
def test_requests_for_counts_the_chunks_a_view_touches(chunks, view, expected):
    assert check.requests_for((64, 256, 256), chunks, view) == expected


def test_requests_for_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    shape = (20, 30)
    for _ in range(50):
        chunks = tuple(int(c) for c in rng.integers(1, 12, 2))
        start, last = sorted(int(i) for i in rng.integers(0, 20, 2))
        view = (slice(start, last + 1), int(rng.integers(0, 30)))
        grid = np.zeros(shape, bool)
        grid[view] = True
        touched = {(i // chunks[0], j // chunks[1]) for i, j in zip(*np.nonzero(grid))}
        assert check.requests_for(shape, chunks, view) == len(touched)


# -- exercise 1 ----------------------------------------------------------------


def test_the_only_design_within_the_volume():
    found = [
        (z, y, check.CHUNK_PIXELS // (z * y))
        for z in range(1, 65) for y in range(1, 257)
        if check.CHUNK_PIXELS % (z * y) == 0 and check.CHUNK_PIXELS // (z * y) <= 256
        and check.requests_for((64, 256, 256), (z, y, check.CHUNK_PIXELS // (z * y)), check.DESIGN_VIEW) == 1
    ]
    assert found == [(64, 256, 4)]


@pytest.mark.parametrize("value", [(64, 256, 4), [64, 256, 4], (np.int64(64), 256, 4)])
def test_design_chunks_right(lesson, value, capsys):
    check.design_chunks({**lesson, "design_chunks": value})
    assert "with 1 request" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        ((64, 128, 8), "needs 2 requests .*y 2"),
        ((32, 256, 8), "needs 2 requests .*z 2"),
        ((64, 256, 8), "131,072 pixels"),
        ((64, 1024, 1), "larger than the volume"),
        ((64, 256), "needs 3 numbers"),
        ("(64, 256, 4)", "should be a"),
        (("a", 2, 3), "whole numbers"),
        ((0, 256, 4), "at least 1"),
    ],
)
def test_design_chunks_mistakes(lesson, value, message):
    with pytest.raises(AnswerError, match=message):
        check.design_chunks({**lesson, "design_chunks": value})


# -- exercise 2 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def image():
    return data.synthetic_image((600, 700), "uint16", seed=3)  # partial edge chunks on both axes


def test_default_bytes_truth_is_zstd_on_padded_chunks(image):
    total = 0
    for i in range(0, 600, 256):
        for j in range(0, 700, 256):
            chunk = np.zeros((256, 256), np.uint16)
            part = image[i : i + 256, j : j + 256]
            chunk[: part.shape[0], : part.shape[1]] = part
            total += len(numcodecs.Zstd(level=0).encode(chunk))
    assert check.default_bytes_truth(image) == total


def test_default_bytes_right_and_within_tolerance(image, capsys):
    truth = check.default_bytes_truth(image)
    unpadded = sum(
        len(numcodecs.Zstd(level=0).encode(np.ascontiguousarray(image[i : i + 256, j : j + 256])))
        for i in range(0, 600, 256) for j in range(0, 700, 256)
    )
    check.default_bytes({"image": image, "default_bytes": truth})
    check.default_bytes({"image": image, "default_bytes": unpadded})  # edge chunks encoded without padding: close enough
    assert capsys.readouterr().out.count("✓") == 2


def test_default_bytes_mistakes(image):
    blosc = sum(
        len(numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE).encode(np.ascontiguousarray(image[i : i + 256, j : j + 256])))
        for i in range(0, 600, 256) for j in range(0, 700, 256)
    )
    whole = len(numcodecs.Zstd(level=0).encode(image))
    for value, message in [
        (image.nbytes, "raw size"),
        (blosc, "Blosc-Zstandard with shuffle"),
        (whole, "whole image compressed at once"),
        (2, "looks like a ratio"),
        (12345, "do not store"),
    ]:
        with pytest.raises(AnswerError, match=message):
            check.default_bytes({"image": image, "default_bytes": value})


def test_default_bytes_not_a_number(image):
    with pytest.raises(AnswerError, match="whole number"):
        check.default_bytes({"image": image, "default_bytes": 1.5e6})


def test_zarr_default_codecs_are_plain_zstd():
    array = zarr.create_array(zarr.storage.MemoryStore(), shape=(4, 4), dtype="uint16")
    codecs = array.metadata.to_dict()["codecs"]
    assert [c["name"] for c in codecs] == ["bytes", "zstd"]
    assert codecs[1]["configuration"]["level"] == 0


# -- exercise 3 ----------------------------------------------------------------


def test_codec_choice_right(capsys):
    check.codec_choice({"codec_choice": "b"})
    assert "15.1 TB" in capsys.readouterr().out


@pytest.mark.parametrize("value, message", [("A", "19.9 TB"), ("C", "0.64 GB/s"), ("D", "28.8 TB"), ("E", "one of")])
def test_codec_choice_wrong(value, message):
    with pytest.raises(AnswerError, match=message):
        check.codec_choice({"codec_choice": value})


def test_codec_choice_arithmetic():
    """The feedback's figures follow from the table in the notebook."""
    raw, budget, rate, cores = 28.8, 18.0, 1.0, 16
    table = {"A": (1.45, 1.2), "B": (1.91, 0.25), "C": (1.64, 0.04), "D": (1.0, float("inf"))}
    fits = {k for k, (ratio, speed) in table.items() if raw / ratio <= budget and cores * speed >= rate}
    assert fits == {"B"}
    assert set(check.CODEC_WHY) == {"A", "C", "D"}


# -- exercise 4 ----------------------------------------------------------------


def test_shard_bytes_match_what_zarr_writes():
    keys: dict = {}
    volume = np.ones((64, 256, 256), np.uint16)
    zarr.create_array(zarr.storage.MemoryStore(keys), data=volume, chunks=check.INNER, shards=check.SHARD, compressors=None)
    pixels, index = check.shard_bytes()
    assert {len(v.to_bytes()) for k, v in keys.items() if k.startswith("c/")} == {pixels + index}
    assert (pixels, index) == (1_048_576, 132)


@pytest.mark.parametrize("value", [1_048_708, 1_048_576])
def test_shard_rewrite_right(value, capsys):
    check.shard_rewrite({"shard_rewrite": value})
    assert "✓ shard_rewrite is right" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        (131_072, "cannot be edited in place"),
        (8 * 2**20, "not the whole volume"),
        (2 * 1_048_708, "only for the upload"),
        (1_000_000, "is not what goes up"),
        (1.0e6, "whole number"),
    ],
)
def test_shard_rewrite_mistakes(value, message):
    with pytest.raises(AnswerError, match=message):
        check.shard_rewrite({"shard_rewrite": value})
