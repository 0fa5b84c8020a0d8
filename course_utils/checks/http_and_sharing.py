"""Checks for notebook 05, sharing over HTTP.

- ``copy_description`` gives each level's chunk shape and number of chunk
  files in the OME-Zarr that ``ome_zarr download`` copied into the lesson's
  ``copy`` directory; the check reads the truth from the copy's own files
  (``.zattrs`` and ``.zarray`` for OME-Zarr 0.4, ``zarr.json`` for 0.5).
- ``consolidated_saving`` is the number of requests consolidated metadata
  saves when the copy and all its levels are opened over HTTP; the check
  measures both on the lesson's local server (``web``, ``copy_url``).
- ``shard_requests`` predicts the requests of three reads of the sharded
  copy; the check derives them from the arrays' chunk and shard shapes by
  the rule zarr-python 3.1 follows (``tests/checks`` confirms it by
  measurement): one request for a whole shard when a read needs every inner
  chunk of it, otherwise one for the shard's index and one per inner chunk.
"""

from __future__ import annotations

import itertools
import json
import math
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

__all__ = ["SHARD_VIEWS", "consolidated_saving", "copy_description", "shard_requests", "shard_read_requests"]

EXAMPLE = '{"chunks": [(1, 64, 64), (1, 32, 32)], "chunk_files": [10, 10]}'
DESCRIPTION_KEYS = ("chunks", "chunk_files")


def _is_metadata(name: str) -> bool:
    return name.startswith(".") or name == "zarr.json"


def _truth(copy: Path) -> tuple[list[str], list[tuple[int, ...]], list[tuple[int, ...]], list[int]]:
    """(dataset paths, shape, chunk shape and number of chunk files of each level) from the copy's files."""
    if (copy / "zarr.json").is_file():  # OME-Zarr 0.5
        multiscale = json.loads((copy / "zarr.json").read_text())["attributes"]["ome"]["multiscales"][0]
        arrays = [json.loads((copy / d["path"] / "zarr.json").read_text()) for d in multiscale["datasets"]]
        chunks = [tuple(a["chunk_grid"]["configuration"]["chunk_shape"]) for a in arrays]
    else:  # OME-Zarr 0.4
        multiscale = json.loads((copy / ".zattrs").read_text())["multiscales"][0]
        arrays = [json.loads((copy / d["path"] / ".zarray").read_text()) for d in multiscale["datasets"]]
        chunks = [tuple(a["chunks"]) for a in arrays]
    paths = [d["path"] for d in multiscale["datasets"]]
    files = [
        sum(1 for f in (copy / path).rglob("*") if f.is_file() and not _is_metadata(f.name)) for path in paths
    ]
    return paths, [tuple(a["shape"]) for a in arrays], chunks, files


def _list_of(value: Any, name: str, count: int, what: str) -> list:
    expect(
        isinstance(value, Sequence) and not isinstance(value, (str, bytes)),
        f"copy_description[{name!r}] should be a list of {what}, one per level, not {value!r}.",
        f"for example: {EXAMPLE}",
    )
    expect(
        len(value) == count,
        f"copy_description[{name!r}] holds {len(value)} entries, but the copy has {count} levels.",
        "give one entry per level, finest first, in the order of `datasets`",
    )
    return list(value)


def _shape(value: Any, index: int) -> tuple[int, ...]:
    name = f"copy_description['chunks'][{index}]"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise AnswerError(f"`{name}` should be a tuple of whole numbers, not {value!r}.", f"for example: {EXAMPLE}")
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in value):
        raise AnswerError(f"`{name}` should hold whole numbers only, not {value!r}.", "array.chunks is such a tuple")
    return tuple(int(n) for n in value)


def copy_description(namespace: Mapping[str, Any]) -> None:
    """Exercise: ``copy_description`` gives each level's chunk shape and its number of chunk files in the copy."""
    __tracebackhide__ = True
    value = answer(namespace, "copy_description")
    copy = Path(lesson_value(namespace, "copy"))
    expect_keys(value, DESCRIPTION_KEYS, "copy_description", EXAMPLE)
    paths, shapes, chunks, files = _truth(copy)

    given = [_shape(shape, i) for i, shape in enumerate(_list_of(value["chunks"], "chunks", len(paths), "chunk shapes"))]
    if given != chunks:
        if given == shapes:
            hint = "those are the arrays' shapes: the chunk shape is `chunks` in each .zarray"
        elif given == chunks[::-1]:
            hint = "list the levels finest first, in the order of `datasets`"
        elif given[0] == chunks[0]:
            hint = "level 0 is right; read the .zarray of the other levels too: their chunks are smaller"
        else:
            hint = "read `chunks` from the .zarray of each level (or `.chunks` of each zarr array)"
        raise AnswerError("copy_description['chunks'] does not match the chunk shapes of the copy.", hint)

    counted = [
        whole_number(n, f"copy_description['chunk_files'][{i}]", "100")
        for i, n in enumerate(_list_of(value["chunk_files"], "chunk_files", len(paths), "numbers of files"))
    ]
    if counted != files:
        grid = [math.prod(math.ceil(n / c) for n, c in zip(shape, chunk)) for shape, chunk in zip(shapes, chunks)]
        if all(c == f + 2 for c, f in zip(counted, files)):
            hint = "you counted the .zarray and .zattrs too: they are metadata documents, not chunks"
        elif all(c in (f + 1, f + 2) for c, f in zip(counted, files)):
            hint = "leave the metadata documents (.zarray, .zattrs) out of the count"
        elif sum(files) in counted or sum(files) + 2 * len(files) in counted:
            hint = "count per level: the files under that level's folder only"
        elif counted == grid:
            hint = "that is the chunk grid, ceil(shape / chunks); count the files the copy actually holds"
        else:
            hint = "count the files under each level's folder (Path.rglob), leaving out .zarray and .zattrs"
        raise AnswerError("copy_description['chunk_files'] does not match the files of the copy.", hint)
    passed(
        f"Right: chunks of {chunks[0]} down to {chunks[-1]}, and {', '.join(map(str, files))} chunk files: "
        "every file of a level that is not a metadata document is one chunk."
    )


# -- consolidated metadata ---------------------------------------------------------


def _open_everything(web: Any, url: str, consolidated: bool) -> int:
    """Requests the lesson's server answers while zarr opens the group at ``url`` and every level."""
    import zarr

    with web.measure() as cost:
        group = zarr.open_group(url, mode="r", use_consolidated=consolidated)
        for dataset in group.attrs["multiscales"][0]["datasets"]:
            group[dataset["path"]]
    return cost.requests


def consolidated_saving(namespace: Mapping[str, Any]) -> None:
    """Exercise: ``consolidated_saving`` is how many fewer requests opening the copy and every level takes."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "consolidated_saving"), "consolidated_saving", "5")
    web = lesson_value(namespace, "web")
    url = lesson_value(namespace, "copy_url")
    copy = Path(lesson_value(namespace, "copy"))
    expect(
        (copy / ".zmetadata").is_file(),
        "The copy has no consolidated metadata (.zmetadata) any more.",
        "run the lesson cell that calls zarr.consolidate_metadata again",
    )
    without = _open_everything(web, url, consolidated=False)
    with_it = _open_everything(web, url, consolidated=True)
    saving = without - with_it
    if value == saving:
        passed(
            f"Right: {without} requests without consolidated metadata, {with_it} with it: {saving} saved, "
            "three for each level (its .zarray, .zattrs and the .zgroup zarr looks for)."
        )
        return
    levels = len(json.loads((copy / ".zattrs").read_text())["multiscales"][0]["datasets"])
    per_level = saving // levels if levels else saving
    if value == -saving:
        hint = "the other way round: requests without consolidated metadata minus requests with it"
    elif value == without:
        hint = "that is how many requests opening everything takes without consolidated metadata; how many fewer with it?"
    elif value == with_it:
        hint = "that is the count with consolidated metadata; subtract it from the count without"
    elif value == per_level:
        hint = "that is the saving for one level; open the group and every level listed in `datasets`"
    elif value == levels:
        hint = "each level saves more than one request: count the documents zarr asks for per array in the log"
    else:
        hint = (
            "measure it: open the group and each level inside `with web.measure() as cost:`, once with "
            "use_consolidated=False and once with True, and subtract the two cost.requests"
        )
    raise AnswerError(f"consolidated_saving is {value}, but that is not how many requests it saves.", hint)


# -- requests of the sharded copy ----------------------------------------------------

#: The reads the exercise asks about: name -> (level, the selection, as text and as a tuple).
SHARD_VIEWS: dict[str, tuple[str, str, tuple]] = {
    "a": ("0", "[1, 60:90]", (1, slice(60, 90))),
    "b": ("2", "[:, 118]", (slice(None), 118)),
    "c": ("1", "[:, :, 40:80, 40:80]", (slice(None), slice(None), slice(40, 80), slice(40, 80))),
}


def _touched(selection: tuple, shape: Sequence[int], chunks: Sequence[int]) -> list[range]:
    """For each axis, the range of (inner) chunk indices a selection touches."""
    touched = []
    for axis, (size, chunk) in enumerate(zip(shape, chunks)):
        item = selection[axis] if axis < len(selection) else slice(None)
        if isinstance(item, slice):
            start, stop, _ = item.indices(size)
            touched.append(range(start // chunk, (stop - 1) // chunk + 1) if stop > start else range(0))
        else:
            touched.append(range(item // chunk, item // chunk + 1))
    return touched


def shard_read_requests(selection: tuple, shape: Sequence[int], shards: Sequence[int], chunks: Sequence[int]) -> int:
    """Requests zarr-python 3.1 makes to read ``selection`` of a sharded array (metadata already read).

    For each shard the selection touches: one request for the whole shard
    when it needs every inner chunk of that shard's grid (a shard at the
    array's edge counts the chunks past the edge too), otherwise one for the
    shard's index plus one per inner chunk it needs.
    """
    per_shard = [s // c for s, c in zip(shards, chunks)]
    inner = _touched(selection, shape, chunks)
    counts: dict[tuple[int, ...], int] = {}
    for position in itertools.product(*inner):
        shard = tuple(i // n for i, n in zip(position, per_shard))
        counts[shard] = counts.get(shard, 0) + 1
    in_shard = math.prod(per_shard)  # a shard at the array's edge still has its full grid
    return sum(1 if needed == in_shard else 1 + needed for needed in counts.values())


def shard_requests(namespace: Mapping[str, Any]) -> None:
    """Exercise: ``shard_requests`` gives the requests of the reads ``a``, ``b``, ``c`` of the sharded copy."""
    __tracebackhide__ = True
    value = answer(namespace, "shard_requests")
    example = '{"a": 10, "b": 10, "c": 10}'
    expect_keys(value, tuple(SHARD_VIEWS), "shard_requests", example)
    sharded = lesson_value(namespace, "sharded")
    wrong = []
    for name, (level, text, selection) in SHARD_VIEWS.items():
        given = whole_number(value[name], f"shard_requests[{name!r}]", "10")
        array = sharded[level]
        shape, shards, chunks = tuple(array.shape), tuple(array.shards), tuple(array.chunks)
        right = shard_read_requests(selection, shape, shards, chunks)
        if given == right:
            continue
        inner = math.prod(len(r) for r in _touched(selection, shape, chunks))
        if given == inner:
            hint = "each inner chunk is one range request, but zarr first reads the shard's index: one more"
        elif given == 2 * inner:
            hint = "zarr reads a shard's index once per read, not once per inner chunk"
        elif given == inner + 1 and right == 1:
            hint = (
                "this read needs every inner chunk of the shard (each inner chunk is a whole plane): "
                "zarr then fetches the whole shard in one request, index and all"
            )
        elif given == 1:
            hint = "one request is only enough when a read needs every inner chunk of the shard"
        else:
            hint = (
                "count the inner chunks the read touches (one plane of one channel each), add one for the "
                "shard's index, or measure it with `with reads.measure() as cost:`"
            )
        wrong.append((name, level, text, given, hint))
    if wrong:
        name, level, text, given, hint = wrong[0]
        others = f" ({len(wrong) - 1} more wrong)" if len(wrong) > 1 else ""
        raise AnswerError(
            f"shard_requests[{name!r}] is {given}, but reading sharded[{level!r}]{text} takes another "
            f"number of requests{others}.",
            hint,
        )
    passed(
        "Right: an index read plus one range request per plane for a and b; "
        "c needs every plane, so zarr fetches level 1's whole shard in one request."
    )
