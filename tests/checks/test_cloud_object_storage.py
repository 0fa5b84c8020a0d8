"""course_utils.checks.cloud_object_storage against a real local S3 server."""

from __future__ import annotations

import math

import ngff_zarr as nz
import numpy as np
import pytest
import zarr

from course_utils.checks import cloud_object_storage as check
from course_utils.feedback import AnswerError
from course_utils.servers import LocalS3Server

SHAPE, CHUNKS = (20, 256, 300), (8, 128, 128)


@pytest.fixture(scope="module")
def lesson():
    """The lesson's namespace: the server, the volume's URL and its scale arrays."""
    with LocalS3Server() as s3:
        image = np.random.default_rng(2).integers(1, 4000, SHAPE, dtype=np.uint16)
        multiscales = nz.to_multiscales(
            nz.to_ngff_image(image, dims=("z", "y", "x")), scale_factors=[2],
            method=nz.Methods.ITKWASM_BIN_SHRINK, chunks=CHUNKS,
        )
        nz.to_ngff_zarr(s3.zarr_store("volume.ome.zarr"), multiscales, version="0.5", chunks=CHUNKS)
        root = zarr.open_group(s3.zarr_store("volume.ome.zarr", read_only=True), mode="r")
        scales = [root[d["path"]] for d in root.attrs["ome"]["multiscales"][0]["datasets"]]
        yield {"s3": s3, "volume_url": s3.url("volume.ome.zarr"), "scales": scales}


def _sizes(lesson):
    found = lesson["s3"].filesystem().find(lesson["volume_url"], detail=True)
    total = sum(info["size"] for info in found.values())
    metadata = sum(info["size"] for name, info in found.items() if name.endswith("zarr.json"))
    return total, metadata


def _right(lesson):
    s3 = lesson["s3"]
    with s3.measure() as cost:
        fresh = zarr.open_group(s3.zarr_store("volume.ome.zarr", read_only=True), mode="r")
        [fresh[d["path"]].shape for d in fresh.attrs["ome"]["multiscales"][0]["datasets"]]
    return {"metadata_bytes": cost.bytes, "total_bytes": _sizes(lesson)[0], "answer": "B"}


def test_metadata_only_right_answer_passes(lesson, capsys):
    check.metadata_only({**lesson, "metadata_only": _right(lesson)})
    assert "✓ Right: the metadata took" in capsys.readouterr().out


def test_metadata_only_accepts_a_lower_case_letter(lesson, capsys):
    check.metadata_only({**lesson, "metadata_only": {**_right(lesson), "answer": " b "}})
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, message",
    [
        ({"total_bytes": 12345}, "add up"),
        ({"metadata_bytes": 0}, "nothing was downloaded"),
        ({"answer": "A"}, "Your own numbers say otherwise"),
        ({"answer": "C"}, "should be 'A' or 'B'"),
        ({"answer": 2}, "should be a string"),
        ({"metadata_bytes": 1.5}, "whole number"),
    ],
)
def test_metadata_only_wrong_answers(lesson, change, message):
    with pytest.raises(AnswerError, match=message):
        check.metadata_only({**lesson, "metadata_only": {**_right(lesson), **change}})


def test_metadata_only_that_read_pixels_is_refused(lesson):
    total, metadata = _sizes(lesson)
    answer = {"metadata_bytes": metadata + 100_000, "total_bytes": total, "answer": "B"}
    with pytest.raises(AnswerError, match="more than all the metadata documents"):
        check.metadata_only({**lesson, "metadata_only": answer})


def test_metadata_only_shape_of_the_answer(lesson):
    with pytest.raises(AnswerError, match="should be a dict"):
        check.metadata_only({**lesson, "metadata_only": [1, 2]})
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.metadata_only({**lesson, "metadata_only": {"bytes": 1}})
    with pytest.raises(AnswerError, match="not defined yet"):
        check.metadata_only(lesson)


def test_metadata_only_without_the_lesson_says_run_the_cells():
    with pytest.raises(AnswerError, match="lesson variable `s3`"):
        check.metadata_only({"metadata_only": {"metadata_bytes": 1, "total_bytes": 2, "answer": "B"}})


def _grid(axis_fixed):
    return math.prod(math.ceil(n / c) for a, (n, c) in enumerate(zip(SHAPE, CHUNKS)) if a != axis_fixed)


def test_xz_plane_requests_right_answer_agrees_with_the_server(lesson, capsys):
    check.xz_plane_requests({**lesson, "xz_plane_requests": _grid(1)})
    out = capsys.readouterr().out
    assert f"the server counted {_grid(1)} GET requests" in out


@pytest.mark.parametrize(
    "value, message",
    [
        (math.prod(math.ceil(n / c) for n, c in zip(SHAPE, CHUNKS)), "every chunk"),
        ((SHAPE[0] // CHUNKS[0]) * (SHAPE[2] // CHUNKS[2]), "round up"),
        (_grid(0), "another axis fixed"),
        (1000, "ceil"),
    ],
)
def test_xz_plane_requests_wrong_answers_get_a_hint(lesson, value, message):
    with pytest.raises(AnswerError, match=message):
        check.xz_plane_requests({**lesson, "xz_plane_requests": value})


def test_xz_plane_requests_must_be_a_whole_number(lesson):
    with pytest.raises(AnswerError, match="whole number"):
        check.xz_plane_requests({**lesson, "xz_plane_requests": 9.0})
    with pytest.raises(AnswerError, match="not defined yet"):
        check.xz_plane_requests(lesson)
