"""Checks for notebook 03, cloud object storage.

Both exercises are about what a read costs on the local S3 server the lesson
starts (``s3``): the checks ask that server, so a right answer is one the
server's own count agrees with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from course_utils.feedback import (
    AnswerError,
    answer,
    expect,
    expect_keys,
    expect_type,
    lesson_value,
    passed,
    whole_number,
)
from course_utils.keys import is_metadata

#: Bytes a metadata read may spend beyond the metadata documents: the small
#: error bodies of the keys zarr probes for and does not find (404).
PROBE_ALLOWANCE = 4096
CHOICES = ("A", "B")


def _store_sizes(namespace: Mapping[str, Any]) -> tuple[int, int]:
    """(total bytes, bytes of metadata documents) of the lesson's ``volume_url`` store."""
    s3 = lesson_value(namespace, "s3")
    url = lesson_value(namespace, "volume_url")
    found = s3.filesystem().find(url, detail=True)
    total = sum(int(info["size"]) for info in found.values())
    metadata = sum(int(info["size"]) for name, info in found.items() if is_metadata(name))
    return total, metadata


def metadata_only(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: ``metadata_only`` holds the measured metadata bytes, the store's bytes and a letter."""
    __tracebackhide__ = True
    value = answer(namespace, "metadata_only")
    example = '{"metadata_bytes": 1234, "total_bytes": 5678, "answer": "A"}'
    expect_keys(value, ("metadata_bytes", "total_bytes", "answer"), "metadata_only", example)
    metadata_bytes = whole_number(value["metadata_bytes"], "metadata_only['metadata_bytes']", "cost.bytes")
    total_bytes = whole_number(value["total_bytes"], "metadata_only['total_bytes']", "fs.du(volume_url)")
    letter = value["answer"]
    expect_type(letter, str, "metadata_only['answer']", '"A"')
    letter = letter.strip().upper()
    expect(letter in CHOICES, f"metadata_only['answer'] should be 'A' or 'B', not {value['answer']!r}.")

    true_total, true_metadata = _store_sizes(namespace)
    expect(
        total_bytes == true_total,
        f"metadata_only['total_bytes'] is {total_bytes:,}, but the objects of volume.ome.zarr add up "
        "to a different number of bytes.",
        "list the store with its sizes: fs.du(volume_url) sums them for you",
    )
    expect(
        metadata_bytes > 0,
        "metadata_only['metadata_bytes'] is 0: nothing was downloaded while you measured.",
        "open the group from a fresh store inside `with s3.measure() as cost:`, "
        "then use cost.bytes after the block",
    )
    expect(
        metadata_bytes <= true_metadata + PROBE_ALLOWANCE,
        f"metadata_only['metadata_bytes'] is {metadata_bytes:,}: more than all the metadata documents "
        f"of the store together ({true_metadata:,} bytes).",
        "measure only opening the group and its arrays; reading any pixels downloads chunks",
    )
    if letter != "B":
        raise AnswerError(
            f"Your own numbers say otherwise: {metadata_bytes:,} bytes were enough to read the metadata "
            f"of a {total_bytes:,}-byte store.",
            "is that the whole dataset?",
        )
    share = 100 * metadata_bytes / total_bytes
    passed(
        f"Right: the metadata took {metadata_bytes:,} bytes, {share:.2f} % of the {total_bytes:,}-byte store. "
        "Only the small JSON documents are downloaded."
    )


def _plane_requests(shape: tuple[int, ...], chunks: tuple[int, ...], fixed_axis: int) -> int:
    return math.prod(math.ceil(n / c) for axis, (n, c) in enumerate(zip(shape, chunks)) if axis != fixed_axis)


def xz_plane_requests(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``xz_plane_requests`` predicts the GETs for ``scales[0][:, 200, :]``; the server checks it."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "xz_plane_requests"), "xz_plane_requests", "16")
    s3 = lesson_value(namespace, "s3")
    scales = lesson_value(namespace, "scales")
    scale0 = scales[0]
    with s3.measure() as cost:
        scale0[:, 200, :]
    measured = cost.by_method().get("GET", 0)
    if value == measured:
        passed(
            f"Right: the server counted {measured} GET requests for the XZ plane, one per chunk it crosses."
        )
        return
    shape, chunks = tuple(scale0.shape), tuple(scale0.chunks)
    other_planes = {_plane_requests(shape, chunks, 0), _plane_requests(shape, chunks, 2)}
    every_chunk = math.prod(math.ceil(n / c) for n, c in zip(shape, chunks))
    rounded_down = math.prod(n // c for axis, (n, c) in enumerate(zip(shape, chunks)) if axis != 1)
    if value == every_chunk:
        hint = "that is every chunk of the array; only the chunks that contain y = 200 are read"
    elif value == rounded_down:
        hint = "a partly filled chunk at the edge is still a whole object: round up"
    elif value in other_planes:
        hint = "that is the count for a plane with another axis fixed; here y is fixed, so the plane spans z and x"
    else:
        hint = "count the chunks along each axis the plane spans (ceil(shape / chunks)), and multiply"
    raise AnswerError(
        f"You predicted {value} requests; the server counted {measured} GETs for scales[0][:, 200, :].",
        hint,
    )
