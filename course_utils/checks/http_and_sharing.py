"""Checks for notebook 05, sharing over HTTP.

The exercise describes the OME-Zarr that ``ome_zarr download`` copied into the
lesson's ``copy`` directory; the check reads the truth from the copy's own
``.zattrs`` and ``.zarray`` files (OME-Zarr 0.4) or ``zarr.json`` (0.5).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from course_utils.feedback import (
    AnswerError,
    answer,
    expect,
    expect_keys,
    lesson_value,
    passed,
    whole_number,
)

EXAMPLE = '{"axes": ["z", "y", "x"], "n_scales": 2, "shapes": [(10, 64, 64), (10, 32, 32)]}'


def _truth(copy: Path) -> tuple[list[str], list[tuple[int, ...]], list[tuple[int, ...]]]:
    """(axis names, shape of each scale, chunk shape of each scale) from the copy's files."""
    if (copy / "zarr.json").is_file():  # OME-Zarr 0.5
        multiscale = json.loads((copy / "zarr.json").read_text())["attributes"]["ome"]["multiscales"][0]
        arrays = [json.loads((copy / d["path"] / "zarr.json").read_text()) for d in multiscale["datasets"]]
        chunks = [tuple(a["chunk_grid"]["configuration"]["chunk_shape"]) for a in arrays]
    else:  # OME-Zarr 0.4
        multiscale = json.loads((copy / ".zattrs").read_text())["multiscales"][0]
        arrays = [json.loads((copy / d["path"] / ".zarray").read_text()) for d in multiscale["datasets"]]
        chunks = [tuple(a["chunks"]) for a in arrays]
    axes = [axis["name"] if isinstance(axis, Mapping) else str(axis) for axis in multiscale["axes"]]
    return axes, [tuple(a["shape"]) for a in arrays], chunks


def _shape(value: Any, index: int) -> tuple[int, ...]:
    name = f"copy_description['shapes'][{index}]"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise AnswerError(f"`{name}` should be a tuple of whole numbers, not {value!r}.", f"for example: {EXAMPLE}")
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in value):
        raise AnswerError(f"`{name}` should hold whole numbers only, not {value!r}.", "array.shape is such a tuple")
    return tuple(int(n) for n in value)


def copy_description(namespace: Mapping[str, Any]) -> None:
    """Exercise: ``copy_description`` gives the copy's axes, number of scales and each scale's shape."""
    __tracebackhide__ = True
    value = answer(namespace, "copy_description")
    copy = Path(lesson_value(namespace, "copy"))
    expect_keys(value, ("axes", "n_scales", "shapes"), "copy_description", EXAMPLE)
    axes, shapes, chunks = _truth(copy)

    given_axes = value["axes"]
    expect(
        isinstance(given_axes, Sequence) and not isinstance(given_axes, str)
        and all(isinstance(a, str) for a in given_axes),
        f"copy_description['axes'] should be a list of axis names (strings), not {given_axes!r}.",
        'for example: ["z", "y", "x"]',
    )
    given_axes = [a.strip() for a in given_axes]
    if given_axes != axes:
        hint = (
            "the names are right, but in a different order: keep the order of the `axes` list"
            if sorted(given_axes) == sorted(axes)
            else "look at the `axes` of the multiscales entry in the copy's .zattrs: use each axis's name"
        )
        raise AnswerError(f"copy_description['axes'] is {given_axes}, which is not the copy's axes.", hint)

    n_scales = whole_number(value["n_scales"], "copy_description['n_scales']", "3")
    expect(
        n_scales == len(shapes),
        f"copy_description['n_scales'] is {n_scales}, but the multiscales entry lists a different number of scales.",
        "count the `datasets` of the multiscales entry (or the arrays 0, 1, 2, ... of the copy)",
    )

    given = value["shapes"]
    expect(
        isinstance(given, Sequence) and not isinstance(given, (str, bytes)),
        f"copy_description['shapes'] should be a list of shapes, not {given!r}.",
        f"for example: {EXAMPLE}",
    )
    given = [_shape(shape, i) for i, shape in enumerate(given)]
    expect(
        len(given) == n_scales,
        f"copy_description['shapes'] holds {len(given)} shapes for {n_scales} scales.",
        "give one shape per scale",
    )
    if given != shapes:
        if given == chunks:
            hint = "those are the chunk shapes: the shape of the whole array is `shape` in each .zarray"
        elif given == shapes[::-1]:
            hint = "list the shapes finest first, in the order of the `datasets`"
        else:
            hint = "read `shape` from the .zarray of each scale (or `.shape` of each zarr array)"
        raise AnswerError("copy_description['shapes'] does not match the arrays of the copy.", hint)
    passed(
        f"Right: axes {', '.join(axes)}; {n_scales} scales, from {shapes[0]} down to {shapes[-1]}."
    )
