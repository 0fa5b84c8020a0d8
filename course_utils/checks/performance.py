"""Checks for notebook 09, chunking, compression and performance."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from course_utils.feedback import (
    AnswerError,
    answer,
    choice,
    expect,
    expect_type,
    lesson_value,
    passed,
    whole_number,
)

CHUNK_PIXELS = 64 * 1024
"""Exercise 1: every chunk shape holds exactly this many pixels (128 KiB of uint16)."""
DESIGN_VIEW = (slice(None), slice(64, 192), 130)
"""Exercise 1: the view the designed chunks must serve with one request."""
DEFAULT_TOLERANCE = 0.01
"""Exercise 2: relative tolerance on the stored bytes (edge chunks may be encoded unpadded)."""
SHARD = (32, 128, 128)
"""Exercise 4: the shard shape of the update question."""
INNER = (16, 64, 64)
"""Exercise 4: the inner chunk shape of the update question."""


def requests_for(shape: Sequence[int], chunks: Sequence[int], view: Sequence[Any]) -> int:
    """Chunks (one request each) that ``view`` (ints and step-1 slices) touches in an array of ``shape``."""
    return math.prod(touched_per_axis(shape, chunks, view))


def touched_per_axis(shape: Sequence[int], chunks: Sequence[int], view: Sequence[Any]) -> list[int]:
    """Along each axis, how many chunks the view's range overlaps."""
    counts = []
    for size, chunk, index in zip(shape, chunks, view):
        if isinstance(index, slice):
            start, stop, _ = index.indices(size)
        else:
            start, stop = int(index), int(index) + 1
        counts.append((stop - 1) // chunk - start // chunk + 1)
    return counts


# -- exercise 1 ------------------------------------------------------------------


def design_chunks(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: ``design_chunks`` has 64 Ki pixels, fits the volume, and reads ``DESIGN_VIEW`` in one request."""
    __tracebackhide__ = True
    value = answer(namespace, "design_chunks")
    shape = tuple(lesson_value(namespace, "volume").shape)
    expect_type(value, (tuple, list), "design_chunks", "(16, 64, 64)")
    try:
        chunks = tuple(int(n) for n in value)
    except (TypeError, ValueError):
        raise AnswerError(f"`design_chunks` should hold whole numbers, not {value!r}.", "for example: (16, 64, 64)") from None
    expect(len(chunks) == len(shape), f"`design_chunks` needs {len(shape)} numbers (z, y, x), not {len(chunks)}.")
    expect(min(chunks) >= 1, "every chunk side must be at least 1.")
    expect(
        math.prod(chunks) == CHUNK_PIXELS,
        f"{chunks} holds {math.prod(chunks):,} pixels, not {CHUNK_PIXELS:,}.",
        "the product of the three sides must be 65,536, like every layout above",
    )
    expect(
        all(c <= n for c, n in zip(chunks, shape)),
        f"{chunks} is larger than the volume {shape} along an axis: part of every chunk would be padding.",
        "keep each side within the volume's size on that axis",
    )
    per_axis = touched_per_axis(shape, chunks, DESIGN_VIEW)
    if math.prod(per_axis) != 1:
        axes = ", ".join(f"{name} {n}" for name, n in zip("zyx", per_axis))
        raise AnswerError(
            f"with chunks {chunks} the view needs {math.prod(per_axis)} requests (chunks per axis: {axes}).",
            "rows 64-191 must fall in one chunk along y: where do 64 and 191 fall for your chunk height?",
        )
    passed(f"design_chunks is right: {chunks} serves volume[:, 64:192, 130] with 1 request.")


# -- exercise 2 ------------------------------------------------------------------


def default_bytes_truth(image: np.ndarray, chunks: Sequence[int] = (256, 256)) -> int:
    """Bytes of the chunks zarr-python 3 stores for ``image`` with its default codecs."""
    import zarr

    keys: dict = {}
    zarr.create_array(zarr.storage.MemoryStore(keys), data=image, chunks=tuple(chunks))
    return sum(len(value.to_bytes()) for key, value in keys.items() if key.startswith("c/"))


def default_bytes(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``default_bytes`` = stored bytes of ``image``'s chunks with zarr-python's default codecs."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "default_bytes"), "default_bytes", "1234567")
    image = np.asarray(lesson_value(namespace, "image"))
    truth = default_bytes_truth(image)
    if math.isclose(value, truth, rel_tol=DEFAULT_TOLERANCE):
        passed(f"default_bytes is right: {truth:,} bytes, a ratio of {image.nbytes / truth:.2f} with plain zstd.")
        return
    import numcodecs

    blosc = sum(
        len(numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE).encode(np.ascontiguousarray(image[i : i + 256, j : j + 256])))
        for i in range(0, image.shape[0], 256)
        for j in range(0, image.shape[1], 256)
    )
    whole = len(numcodecs.Zstd(level=0).encode(np.ascontiguousarray(image)))
    if value == image.nbytes:
        why = "that is the raw size: the default codecs compress"
    elif math.isclose(value, blosc, rel_tol=0.02):
        why = "that is Blosc-Zstandard with shuffle, the codec measured above, not zarr-python's default"
    elif math.isclose(value, whole, rel_tol=0.005):
        why = "that is the whole image compressed at once; Zarr compresses each chunk on its own"
    elif value < 100:
        why = "that looks like a ratio; the question asks for bytes"
    else:
        why = f"the default codecs do not store these chunks in {value:,} bytes"
    raise AnswerError(
        f"default_bytes is not {value:,}: {why}.",
        "write `image` with zarr.create_array(..., chunks=(256, 256)) and no codec arguments into a "
        "MemoryStore of your own dict, and add up the sizes of its chunk keys",
    )


# -- exercise 3 ------------------------------------------------------------------

CODEC_WHY = {
    "A": "fast enough (16 cores x 1.2 GB/s), but 28.8 TB / 1.45 = 19.9 TB: over the 18 TB budget.",
    "C": "it fits (28.8 TB / 1.64 = 17.6 TB), but 16 cores x 0.04 GB/s = 0.64 GB/s cannot keep up with "
    "1 GB/s from the camera.",
    "D": "without compression the 28.8 TB need 28.8 TB: far over the budget.",
}


def codec_choice(namespace: Mapping[str, Any]) -> None:
    """Exercise 3: ``codec_choice`` is the letter of the codec that meets both the storage and the speed limit."""
    __tracebackhide__ = True
    value = answer(namespace, "codec_choice")
    choice(
        value, "codec_choice", "B", CODEC_WHY,
        "check both limits for each codec: stored size = raw size / ratio; speed = cores x speed per core",
    )
    passed("codec_choice is right: Blosc-Zstandard stores 15.1 TB and compresses 4 GB/s on 16 cores; "
           "the only codec within both limits.")


# -- exercise 4 ------------------------------------------------------------------


def shard_bytes(shard: Sequence[int] = SHARD, inner: Sequence[int] = INNER, itemsize: int = 2) -> tuple[int, int]:
    """``(pixel bytes, index bytes)`` of one uncompressed shard: 16 bytes per inner chunk plus a 4-byte CRC32C."""
    n_inner = math.prod(s // c for s, c in zip(shard, inner))
    return math.prod(shard) * itemsize, 16 * n_inner + 4


def shard_rewrite(namespace: Mapping[str, Any]) -> None:
    """Exercise 4: ``shard_rewrite`` = bytes uploaded to update one inner chunk of a (32, 128, 128) shard."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "shard_rewrite"), "shard_rewrite", "1234567")
    pixels, index = shard_bytes()
    chunk = math.prod(INNER) * 2
    if value == pixels + index:
        passed(f"shard_rewrite is right: the whole shard goes up again, {pixels:,} bytes of pixels and a {index}-byte index.")
        return
    if value == pixels:
        passed(f"shard_rewrite is right to within the index: {pixels:,} bytes of pixels, plus the shard's "
               f"{index}-byte index (16 bytes per inner chunk and a checksum) makes {pixels + index:,}.")
        return
    if value in (chunk, chunk + index):
        why = "an object cannot be edited in place: changing one inner chunk means uploading its whole shard again"
    elif value in (64 * 256 * 256 * 2, 8 * 2**20):
        why = "only the shard that holds the chunk is rewritten, not the whole volume"
    elif value == 2 * (pixels + index):
        why = "the shard is downloaded and then uploaded; the question asks only for the upload"
    else:
        why = f"{value:,} bytes is not what goes up"
    raise AnswerError(
        f"shard_rewrite is not {value:,}: {why}.",
        f"a shard of {SHARD} uint16 pixels, uncompressed, plus its index: look at the 'bytes up' of the update above",
    )
