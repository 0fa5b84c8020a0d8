"""course_utils.checks.http_and_sharing on OME-Zarr copies written to disk."""

from __future__ import annotations

import ngff_zarr as nz
import numpy as np
import pytest

from course_utils.checks import http_and_sharing as check
from course_utils.feedback import AnswerError

SHAPES = [(2, 6, 64, 48), (2, 6, 32, 24), (2, 6, 16, 12)]
CHUNKS = [(1, 1, 32, 32), (1, 1, 32, 24), (1, 1, 16, 12)]


def _write(path, version):
    image = np.random.default_rng(5).integers(1, 900, SHAPES[0], dtype=np.uint16)
    multiscales = nz.to_multiscales(
        nz.to_ngff_image(image, dims=("c", "z", "y", "x")),
        scale_factors=[{"y": 2, "x": 2}, {"y": 4, "x": 4}], method=nz.Methods.ITKWASM_BIN_SHRINK,
        chunks={"c": 1, "z": 1, "y": 32, "x": 32},
    )
    extra = {"chunks": (1, 1, 32, 32)} if version == "0.5" else {}
    nz.to_ngff_zarr(path, multiscales, version=version, **extra)
    return path


@pytest.fixture(scope="module", params=["0.4", "0.5"])
def lesson(request, tmp_path_factory):
    copy = _write(tmp_path_factory.mktemp("copy") / "image.zarr", request.param)
    return {"copy": copy}


def _right():
    return {"axes": ["c", "z", "y", "x"], "n_scales": 3, "shapes": list(SHAPES)}


def test_right_description_passes(lesson, capsys):
    check.copy_description({**lesson, "copy_description": _right()})
    assert "✓ Right: axes c, z, y, x; 3 scales" in capsys.readouterr().out


def test_lists_and_numpy_integers_are_fine(lesson, capsys):
    answer = {"axes": ("c", "z", "y", "x"), "n_scales": np.int64(3), "shapes": [list(s) for s in SHAPES]}
    check.copy_description({**lesson, "copy_description": answer})
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, message",
    [
        ({"axes": ["x", "y", "z", "c"]}, "different order"),
        ({"axes": ["channel", "z", "y", "x"]}, "use each axis's name"),
        ({"axes": "czyx"}, "list of axis names"),
        ({"n_scales": 2}, "different number of scales"),
        ({"n_scales": "3"}, "whole number"),
        ({"shapes": SHAPES[:2]}, "2 shapes for 3 scales"),
        ({"shapes": SHAPES[::-1]}, "finest first"),
        ({"shapes": [(2, 6, 64, 48), (2, 6, 32, 24), (2, 6, 16, 13)]}, "read `shape`"),
        ({"shapes": [(2, 6, 64, 48), "big", (2, 6, 16, 12)]}, "tuple of whole numbers"),
        ({"shapes": [(2, 6, 64.0, 48), (2, 6, 32, 24), (2, 6, 16, 12)]}, "whole numbers only"),
    ],
)
def test_wrong_descriptions_fail_with_a_hint(lesson, change, message):
    with pytest.raises(AnswerError, match=message):
        check.copy_description({**lesson, "copy_description": {**_right(), **change}})


def test_chunk_shapes_instead_of_shapes_are_spotted(lesson):
    _, _, chunks = check._truth(lesson["copy"])
    with pytest.raises(AnswerError, match="chunk shapes"):
        check.copy_description({**lesson, "copy_description": {**_right(), "shapes": chunks}})


def test_shape_of_the_answer(lesson):
    with pytest.raises(AnswerError, match="should be a dict"):
        check.copy_description({**lesson, "copy_description": ["c", "z"]})
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.copy_description({**lesson, "copy_description": {"axes": []}})
    with pytest.raises(AnswerError, match="not defined yet"):
        check.copy_description(lesson)


def test_without_the_lesson_says_run_the_cells():
    with pytest.raises(AnswerError, match="lesson variable `copy`"):
        check.copy_description({"copy_description": _right()})
