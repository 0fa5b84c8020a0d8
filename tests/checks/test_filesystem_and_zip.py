"""course_utils.checks.filesystem_and_zip on real flat and nested directory stores."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from course_utils.checks import filesystem_and_zip as check
from course_utils.feedback import AnswerError

SHAPE, CHUNKS = (3, 40, 50), (1, 10, 10)  # 3 x 4 x 5 = 60 chunks


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("separators")
    data = np.arange(np.prod(SHAPE), dtype="uint16").reshape(SHAPE) + 1
    paths = {}
    for name, separator in (("flat", "."), ("nested", "/")):
        paths[name] = root / f"{name}.zarr"
        zarr.create_array(
            zarr.storage.LocalStore(paths[name]), shape=SHAPE, chunks=CHUNKS, dtype=data.dtype,
            chunk_key_encoding={"name": "default", "separator": separator},
        )[:] = data
    return paths


@pytest.fixture
def lesson(stores):
    return {"flat_store": stores["flat"], "nested_store": stores["nested"]}


RIGHT = {".": 61, "/": 5}  # 60 chunk files + zarr.json in one directory; at most 5 columns per row


def test_right_busiest_directory_passes(lesson, capsys):
    check.busiest_directory({**lesson, "busiest_directory": dict(RIGHT), "small_directories": "/"})
    out = capsys.readouterr().out
    assert out.startswith("✓ Right: '.' puts 61 entries in one directory, '/' at most 5")


def test_numpy_integers_and_spaces_are_fine(lesson, capsys):
    answer = {".": np.int64(61), "/": np.int32(5)}
    check.busiest_directory({**lesson, "busiest_directory": answer, "small_directories": " / "})
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, message",
    [
        ({".": 60, "/": 5}, "zarr.json included"),  # chunk files only
        ({".": 61, "/": 61}, "whole store"),  # files of the whole nested store
        ({".": 61, "/": 4}, "files and subdirectories alike"),
        ({".": 61, "/": 3}, "os.walk"),
        ({".": 61}, "exactly the keys"),
        ({".": "61", "/": 5}, "whole number"),
        ([61, 5], "should be a dict"),
    ],
)
def test_wrong_busiest_directory_fails_with_a_hint(lesson, answer, message):
    with pytest.raises(AnswerError, match=message):
        check.busiest_directory({**lesson, "busiest_directory": answer, "small_directories": "/"})


@pytest.mark.parametrize(
    "choice, message", [(".", "one directory"), ("nested", "should be '.' or '/'"), (1, "should be a string")]
)
def test_wrong_separator_fails(lesson, choice, message):
    with pytest.raises(AnswerError, match=message):
        check.busiest_directory({**lesson, "busiest_directory": dict(RIGHT), "small_directories": choice})


def test_missing_answers_and_lesson_values(lesson):
    with pytest.raises(AnswerError, match="`busiest_directory` is not defined"):
        check.busiest_directory(lesson)
    with pytest.raises(AnswerError, match="`small_directories` is not defined"):
        check.busiest_directory({**lesson, "busiest_directory": dict(RIGHT)})
    with pytest.raises(AnswerError, match="lesson variable `flat_store`"):
        check.busiest_directory({"busiest_directory": dict(RIGHT), "small_directories": "/"})


# -- shard shape ------------------------------------------------------------


@pytest.fixture
def shard_lesson():
    return {
        "big_shape": (1024, 1600, 2000),
        "CHUNK_SHAPE": (1, 128, 128),
        "MAX_SHARDS": 1000,
        "MAX_SHARD_MIB": 64,
        "image": np.zeros((2, 2), dtype="uint16"),
    }


@pytest.mark.parametrize("shape", [(32, 512, 512), [16, 1024, 1024], (64, 512, 512), (1024, 128, 128)])
def test_shard_shapes_that_work(shard_lesson, shape, capsys):
    check.shard_shape({**shard_lesson, "shard_shape": shape})
    assert f"✓ shard_shape {tuple(shape)} works" in capsys.readouterr().out


def test_the_pass_message_counts_shards_and_chunks(shard_lesson, capsys):
    check.shard_shape({**shard_lesson, "shard_shape": (32, 512, 512)})
    out = capsys.readouterr().out
    assert "512 shards of 16 MiB, 512 chunks each, instead of 212,992 chunk objects" in out


@pytest.mark.parametrize(
    "shape, message",
    [
        ((16, 512, 512), "1,024 shards, more than MAX_SHARDS"),  # 64 x 4 x 4
        ((2, 512, 512), "more than MAX_SHARDS"),  # the lesson's own SHARD_SHAPE falls short
        ((1024, 1664, 2048), "more than MAX_SHARD_MIB"),  # one shard for everything
        ((32, 500, 512), "not a multiple of the chunk size 128"),
        ((0, 512, 512), "must be positive"),
        ((32, 512), "should have 3 numbers"),
        ((32.0, 512, 512), "whole number"),
        ("32, 512, 512", "should be a tuple or list"),
    ],
)
def test_shard_shapes_that_do_not(shard_lesson, shape, message):
    with pytest.raises(AnswerError, match=message):
        check.shard_shape({**shard_lesson, "shard_shape": shape})


def test_the_bound_comes_from_the_lesson(shard_lesson, capsys):
    check.shard_shape({**shard_lesson, "MAX_SHARDS": 2000, "shard_shape": (16, 512, 512)})
    assert "✓" in capsys.readouterr().out
    with pytest.raises(AnswerError, match="lesson variable `big_shape`"):
        check.shard_shape({"shard_shape": (16, 512, 512)})


# -- zip duplicates ---------------------------------------------------------


@pytest.mark.parametrize("value", ["C", " c "])
def test_zip_duplicates_right(value, capsys):
    check.zip_duplicates({"zip_duplicates": value})
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        ("A", "A: look at which names repeat"),
        ("B", "B: the cell deletes the zip"),
        ("D", "D: the duplicates are the very same full name"),
        ("E", "one of"),
        (None, "should be a string"),
    ],
)
def test_zip_duplicates_wrong_letters_each_get_their_own_reason(value, message):
    with pytest.raises(AnswerError, match=message):
        check.zip_duplicates({"zip_duplicates": value})


# -- object counts ------------------------------------------------------------


@pytest.fixture
def count_lesson():
    return {
        "big_shape": (1024, 1600, 2000),
        "CHUNK_SHAPE": (1, 128, 128),
        "SHARD_SHAPE": (2, 512, 512),
        "FILE_QUOTA": 1_000_000,
    }


RIGHT_COUNTS = {"unsharded": 1024 * 13 * 16 + 1, "sharded": 512 * 4 * 4 + 1}


def test_right_object_counts_pass_and_say_what_fits_the_quota(count_lesson, capsys):
    check.object_counts({**count_lesson, "object_counts": dict(RIGHT_COUNTS)})
    out = capsys.readouterr().out
    assert "✓ Right: 212,993 files without shards, 8,193 with them" in out
    assert "holds 4 such stacks as chunk files, 122 sharded" in out


@pytest.mark.parametrize(
    "change, message",
    [
        ({"unsharded": 1024 * 13 * 16}, "zarr.json is a file too"),
        ({"unsharded": 1024 * 12 * 15 + 1}, "round up"),  # partial edge chunks forgotten
        ({"unsharded": 5}, "ceil\\(size / chunk size\\)"),
        ({"sharded": 512 * 4 * 4}, "zarr.json is a file too"),
        ({"sharded": 212_992 // 32 + 1}, "forgets the edges"),  # chunks / chunks per shard
        ({"sharded": 8192 * 32 + 1}, "a shard is one file"),
        ({"sharded": 7}, "ceil\\(size / shard size\\)"),
        ({"sharded": "8193"}, "whole number"),
    ],
)
def test_wrong_object_counts_teach_the_common_mistakes(count_lesson, change, message):
    with pytest.raises(AnswerError, match=message):
        check.object_counts({**count_lesson, "object_counts": {**RIGHT_COUNTS, **change}})


def test_object_counts_shape_and_lesson_values(count_lesson):
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.object_counts({**count_lesson, "object_counts": {"directory": 1, "sharded": 2}})
    with pytest.raises(AnswerError, match="lesson variable `SHARD_SHAPE`"):
        check.object_counts({"big_shape": (4, 4), "CHUNK_SHAPE": (2, 2), "object_counts": dict(RIGHT_COUNTS)})
