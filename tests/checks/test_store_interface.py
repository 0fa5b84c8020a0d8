"""course_utils.checks.store_interface on a real OME-Zarr 0.5 memory store."""

from __future__ import annotations

import math

import ngff_zarr as nz
import numpy as np
import pytest
import zarr

from course_utils.checks import store_interface as check
from course_utils.feedback import AnswerError


@pytest.fixture(scope="module")
def lesson():
    """The lesson's namespace for a small image: 300 x 200 pixels, 64 x 64 chunks."""
    image = np.random.default_rng(1).integers(1, 1000, (300, 200), dtype=np.uint16)
    ms = nz.to_multiscales(
        nz.to_ngff_image(image, dims=("y", "x")), scale_factors=[2], method=nz.Methods.ITKWASM_BIN_SHRINK, chunks=64
    )
    keys = {}
    nz.to_ngff_zarr(zarr.storage.MemoryStore(keys), ms, version="0.5", chunks=(64, 64))
    # a label box of 100 x 140 pixels that starts inside chunk (0, 0) and reaches 3 x 3 chunks
    box = (slice(50, 150), slice(10, 150))
    return {"keys_v05": keys, "multiscales": ms, "image": image, "LABEL_CHUNKS": (64, 64), "OBJECT_BOX": box}


def _right_counts(keys):
    metadata = sum(k.endswith("zarr.json") for k in keys)
    return {"total": len(keys), "metadata": metadata, "chunks": len(keys) - metadata}


def test_right_key_counts_pass(lesson, capsys):
    check.key_counts({**lesson, "key_counts": _right_counts(lesson["keys_v05"])})
    assert "✓ key_counts is right" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, message",
    [
        ({"metadata": 0}, "should equal"),
        ({"total": 1, "metadata": 0, "chunks": 1}, "different number of keys"),
        ({"metadata": "five"}, "whole number"),
    ],
)
def test_wrong_key_counts_fail_with_a_message(lesson, change, message):
    answer = {**_right_counts(lesson["keys_v05"]), **change}
    with pytest.raises(AnswerError, match=message):
        check.key_counts({**lesson, "key_counts": answer})


def test_key_counts_with_wrong_metadata_split_fails(lesson):
    right = _right_counts(lesson["keys_v05"])
    answer = {"total": right["total"], "metadata": right["metadata"] + 1, "chunks": right["chunks"] - 1}
    with pytest.raises(AnswerError, match="metadata keys"):
        check.key_counts({**lesson, "key_counts": answer})


def test_key_counts_not_a_dict(lesson):
    with pytest.raises(AnswerError, match="should be a dict"):
        check.key_counts({**lesson, "key_counts": [1, 2, 3]})


RIGHT_CHUNKS = {"scale0_chunk_keys": math.ceil(300 / 64) * math.ceil(200 / 64), "label_chunk_keys": 3 * 3}


def test_right_chunk_keys_pass(lesson, capsys):
    check.scale0_chunk_keys({**lesson, **RIGHT_CHUNKS})
    out = capsys.readouterr().out
    assert "✓ Right: 20 chunk keys for the image; the label image stores 9 of its 20 chunks" in out


@pytest.mark.parametrize(
    "value, hint",
    [
        ((300 // 64) * (200 // 64), "round up"),  # partial edge chunks forgotten
        (21, "zarr.json is a metadata document"),
        (42, "divide each dimension"),
    ],
)
def test_wrong_image_chunk_keys(lesson, value, hint):
    with pytest.raises(AnswerError, match=hint):
        check.scale0_chunk_keys({**lesson, **RIGHT_CHUNKS, "scale0_chunk_keys": value})


@pytest.mark.parametrize(
    "value, hint",
    [
        (20, "every chunk of the grid"),  # empty chunks counted
        (2 * 3, "does not start on a chunk boundary"),  # ceil(100 / 64) * ceil(140 / 64)
        (1 * 2, "covers only in part"),  # 100 // 64 * 140 // 64
        (10, "zarr.json is a metadata document"),
        (4, "start // chunk to \\(stop - 1\\) // chunk"),
    ],
)
def test_wrong_label_chunk_keys_teach_the_common_mistakes(lesson, value, hint):
    with pytest.raises(AnswerError, match=hint):
        check.scale0_chunk_keys({**lesson, **RIGHT_CHUNKS, "label_chunk_keys": value})


def test_label_chunk_keys_missing_or_not_a_number(lesson):
    with pytest.raises(AnswerError, match="`label_chunk_keys` is not defined"):
        check.scale0_chunk_keys({**lesson, "scale0_chunk_keys": RIGHT_CHUNKS["scale0_chunk_keys"]})
    with pytest.raises(AnswerError, match="whole number"):
        check.scale0_chunk_keys({**lesson, **RIGHT_CHUNKS, "label_chunk_keys": 9.0})


def test_scale0_chunk_keys_without_the_lesson_says_run_the_cells():
    with pytest.raises(AnswerError, match="lesson variable `keys_v05`"):
        check.scale0_chunk_keys({"scale0_chunk_keys": 3})


def test_key_counts_hints_name_the_usual_mistakes(lesson):
    right = _right_counts(lesson["keys_v05"])
    total = right["total"]
    with pytest.raises(AnswerError, match="every group and every array"):
        check.key_counts({**lesson, "key_counts": {"total": total, "metadata": 1, "chunks": total - 1}})
    with pytest.raises(AnswerError, match="last part is zarr.json"):
        check.key_counts({**lesson, "key_counts": {"total": total, "metadata": 0, "chunks": total}})


@pytest.mark.parametrize("value", ["C", " c "])
def test_why_many_keys_right(value, capsys):
    check.why_many_keys({"why_many_keys": value})
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        ("A", "A: the single file held exactly the same encoded chunks"),
        ("B", "B: no chunk key is listed in zarr.json"),
        ("D", "D: Zarr reads only the chunks a selection touches"),
        ("E", "one of"),
        (1, "should be a string"),
    ],
)
def test_why_many_keys_wrong_letters_each_get_their_own_reason(value, message):
    with pytest.raises(AnswerError, match=message):
        check.why_many_keys({"why_many_keys": value})
