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
    return {"keys_v05": keys, "multiscales": ms}


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


def test_scale0_chunk_keys(lesson, capsys):
    expected = math.ceil(300 / 64) * math.ceil(200 / 64)
    check.scale0_chunk_keys({**lesson, "scale0_chunk_keys": expected})
    assert "✓" in capsys.readouterr().out
    with pytest.raises(AnswerError, match="round up"):
        check.scale0_chunk_keys({**lesson, "scale0_chunk_keys": (300 // 64) * (200 // 64)})


def test_scale0_chunk_keys_without_the_lesson_says_run_the_cells():
    with pytest.raises(AnswerError, match="lesson variable `keys_v05`"):
        check.scale0_chunk_keys({"scale0_chunk_keys": 3})


@pytest.mark.parametrize("value", ["A", " a "])
def test_why_many_keys_right(value, capsys):
    check.why_many_keys({"why_many_keys": value})
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("value, message", [("B", "not the reason"), ("E", "one of"), (1, "should be a string")])
def test_why_many_keys_wrong(value, message):
    with pytest.raises(AnswerError, match=message):
        check.why_many_keys({"why_many_keys": value})
