"""Checks for notebook 04, cloud latency, concurrency and cost.

The exercises ask for the time of a read at a given latency, and for what
reads cost in dollars. Each check works the right answer out from the
lesson's own arrays (their shapes, chunks and shards) and the server's
count, recognises the usual wrong turns, and once the answer is right
measures the read on the lesson's server so the student sees the model hold.

The time model the lesson teaches: a read that needs ``n`` requests, ``c``
at a time, waits ``ceil(n / c)`` latencies; zarr-python 3.1.6 reads the part
of a shard it needs as one request for the shard's index, then one request
per chunk, one after another.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from course_utils.feedback import AnswerError, answer, expect_keys, lesson_value, passed, whole_number

#: Exercise 1: the side view ``chunked[:, SIDE_Y, :]`` at this latency, one at a time and this many at a time.
SIDE_Y = 100
SIDE_LATENCY_MS = 50
SIDE_CONCURRENCY = 3
#: Exercise 2: plane ``ONE_SHARD_Z`` of ``arrays["one-shard"]`` at this latency, default concurrency.
ONE_SHARD_Z = 3
ONE_SHARD_LATENCY_MS = 50
#: Exercise 3: the tile ``[TILE]`` of these layouts, per this many views.
TILE = (5, slice(32, 160), slice(32, 160))
TILE_LAYOUTS = ("chunks", "planes")
VIEWS = 1_000_000
#: Relative tolerance for a computed answer (they are exact up to rounding).
TOLERANCE = 0.02


def _number(value: Any, name: str, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AnswerError(f"`{name}` should be a number, not {type(value).__name__} {value!r}.", f"for example: {example}")
    return float(value)


def _close(value: float, target: float, tolerance: float = TOLERANCE) -> bool:
    return math.isclose(value, target, rel_tol=tolerance, abs_tol=1e-12)


def _grid(shape: tuple[int, ...], block: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(math.ceil(n / b) for n, b in zip(shape, block))


def _requests_for_side_view(array: Any) -> int:
    """Chunks the XZ plane ``array[:, y, :]`` touches: every chunk along z and x, one along y."""
    z, _, x = _grid(tuple(array.shape), tuple(array.chunks))
    return z * x


# --------------------------------------------------------------------------
# Exercise 1: a side view at 50 ms
# --------------------------------------------------------------------------


def xz_seconds(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: seconds for ``chunked[:, 100, :]`` at 50 ms, one at a time and three at a time."""
    __tracebackhide__ = True
    value = answer(namespace, "xz_seconds")
    example = '{"one_at_a_time": 2.5, "three_at_a_time": 0.9}'
    expect_keys(value, ("one_at_a_time", "three_at_a_time"), "xz_seconds", example)
    one = _number(value["one_at_a_time"], "xz_seconds['one_at_a_time']", example)
    three = _number(value["three_at_a_time"], "xz_seconds['three_at_a_time']", example)
    chunked = lesson_value(namespace, "chunked")
    latency = SIDE_LATENCY_MS / 1000
    n = _requests_for_side_view(chunked)
    grid = _grid(tuple(chunked.shape), tuple(chunked.chunks))
    waves = math.ceil(n / SIDE_CONCURRENCY)

    if not _close(one, n * latency):
        if _close(one, n * SIDE_LATENCY_MS):
            hint = "the answer is in seconds: 50 ms is 0.05 s"
        elif _close(one, latency):
            hint = "that is a single round trip; one at a time, every request waits its own latency"
        elif _close(one, grid[1] * grid[2] * latency):
            hint = "that is the count for a z-plane; this plane fixes y, so it spans the chunks along z and x"
        elif _close(one, math.prod(grid) * latency):
            hint = "that is every chunk of the array; only the chunks that contain y = 100 are read"
        else:
            hint = "count the chunks the plane touches (ceil(shape / chunks) along z and x), then one latency each"
        raise AnswerError(f"xz_seconds['one_at_a_time'] is {one:g}, not the time of this read.", hint)

    if not _close(three, waves * latency):
        if _close(three, waves * SIDE_LATENCY_MS):
            hint = "the answer is in seconds: 50 ms is 0.05 s"
        elif _close(three, n / SIDE_CONCURRENCY * latency):
            hint = (f"{n} requests, 3 at a time, go out in waves; the last wave is not full, "
                    "but it still waits a whole latency: round up")
        elif _close(three, math.ceil(n / 10) * latency):
            hint = "that is zarr's default of 10 at a time; here async.concurrency is 3"
        elif _close(three, latency):
            hint = "three at a time is not all at once: only 3 requests are in flight together"
        else:
            hint = "how many waves of 3 requests does the read need? Each wave waits one latency"
        raise AnswerError(f"xz_seconds['three_at_a_time'] is {three:g}, not the time of this read.", hint)

    import zarr

    s3 = lesson_value(namespace, "s3")
    with s3.conditions(latency_ms=SIDE_LATENCY_MS), zarr.config.set({"async.concurrency": SIDE_CONCURRENCY}):
        with s3.measure() as cost:
            chunked[:, SIDE_Y, :]
    passed(
        f"Right: {n} requests, {n * latency:.2f} s one at a time, {waves} waves of 3 = {waves * latency:.2f} s. "
        f"Measured just now with 3 at a time: {cost.requests} GETs in {cost.seconds:.2f} s "
        "(the rest is the client's own work)."
    )


# --------------------------------------------------------------------------
# Exercise 2: one big shard
# --------------------------------------------------------------------------


def _one_shard_model(array: Any, z: int = ONE_SHARD_Z) -> tuple[int, int, int]:
    """(shards touched, chunks read per shard, whole shards?) for plane ``z`` of a sharded (z, y, x) array."""
    shape, shard, chunk = tuple(array.shape), tuple(array.shards), tuple(array.chunks)
    shards = _grid(shape[1:], shard[1:])
    per_shard = _grid(shard[1:], chunk[1:])
    whole = chunk[0] == shard[0]  # one chunk deep: a plane needs every chunk of the shards it touches
    return math.prod(shards), math.prod(per_shard), whole


def one_shard_requests_and_seconds(array: Any, latency_s: float) -> tuple[int, float]:
    """Requests and seconds (latency only) of reading one z-plane of ``array``, as zarr 3.1.6 does it."""
    shards, per_shard, whole = _one_shard_model(array)
    if whole:
        return shards, math.ceil(shards / 10) * latency_s
    return shards * (1 + per_shard), math.ceil(shards / 10) * (1 + per_shard) * latency_s


def one_shard_plane(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: requests and seconds for ``arrays["one-shard"][3]`` at 50 ms."""
    __tracebackhide__ = True
    value = answer(namespace, "one_shard_plane")
    example = '{"requests": 5, "seconds": 0.25}'
    expect_keys(value, ("requests", "seconds"), "one_shard_plane", example)
    requests = whole_number(value["requests"], "one_shard_plane['requests']", "5")
    seconds = _number(value["seconds"], "one_shard_plane['seconds']", "0.25")
    arrays = lesson_value(namespace, "arrays")
    array = arrays["one-shard"]
    latency = ONE_SHARD_LATENCY_MS / 1000
    shards, per_shard, _ = _one_shard_model(array)
    right_requests, right_seconds = one_shard_requests_and_seconds(array, latency)

    if requests != right_requests:
        if requests == shards * per_shard:
            hint = "before any chunk, zarr reads where the chunks are inside the shard: its index, one more request"
        elif requests == shards:
            hint = ("one request for the whole shard is what zarr sends when the read needs every chunk in it; "
                    "plane 3 needs only the chunks of one z")
        elif requests == math.prod(_grid(tuple(array.shape), tuple(array.chunks))):
            hint = "that is every chunk of the volume; plane 3 needs the chunks of one z only"
        else:
            hint = "count the index read, then one range request per chunk of plane 3 (64 x 64 chunks in 256 x 256)"
        raise AnswerError(f"one_shard_plane['requests'] is {requests}, not what zarr sends for plane 3.", hint)

    if not _close(seconds, right_seconds):
        if _close(seconds, right_seconds * 1000):
            hint = "the answer is in seconds: 50 ms is 0.05 s"
        elif _close(seconds, math.ceil(right_requests / 10) * latency) or _close(seconds, latency * 2):
            hint = ("zarr's 10 requests at a time apply across shards; inside one shard, zarr-python 3.1.6 "
                    "reads the chunks one after another")
        elif _close(seconds, per_shard * latency):
            hint = "the chunk reads wait for the index read: one more round trip first"
        elif _close(seconds, latency):
            hint = "a single round trip would be a whole-shard read; this read needs the index, then each chunk"
        else:
            hint = "how many round trips happen one after another? The index read, then each chunk"
        raise AnswerError(f"one_shard_plane['seconds'] is {seconds:g}, not the time of this read.", hint)

    s3 = lesson_value(namespace, "s3")
    with s3.conditions(latency_ms=ONE_SHARD_LATENCY_MS):
        with s3.measure() as cost:
            array[ONE_SHARD_Z]
    passed(
        f"Right: 1 index read, then {per_shard} chunk reads one after another: {right_requests} round trips, "
        f"{right_seconds:.2f} s. Measured just now: {cost.requests} GETs in {cost.seconds:.2f} s."
    )


# --------------------------------------------------------------------------
# Exercise 3: the price of a tile
# --------------------------------------------------------------------------


def tile_bills(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The measured :class:`~course_utils.pricing.Bill` of one view of the tile, per layout."""
    s3 = lesson_value(namespace, "s3")
    arrays = lesson_value(namespace, "arrays")
    prices = lesson_value(namespace, "prices")
    bills = {}
    for name in TILE_LAYOUTS:
        with s3.measure() as cost:
            arrays[name][TILE]
        bills[name] = prices.bill(cost)
    return bills


def tile_dollars(namespace: Mapping[str, Any]) -> None:
    """Exercise 3: dollars of a million views of ``[5, 32:160, 32:160]`` from ``chunks`` and ``planes``."""
    __tracebackhide__ = True
    value = answer(namespace, "tile_dollars")
    example = '{"chunks": 12.5, "planes": 30.0}'
    expect_keys(value, TILE_LAYOUTS, "tile_dollars", example)
    given = {name: _number(value[name], f"tile_dollars[{name!r}]", example) for name in TILE_LAYOUTS}
    prices = lesson_value(namespace, "prices")
    bills = tile_bills(namespace)
    right = {name: bill.dollars * VIEWS for name, bill in bills.items()}
    if all(_close(given[n], right[b]) for n, b in zip(TILE_LAYOUTS, reversed(TILE_LAYOUTS))) and not all(
        _close(given[n], right[n]) for n in TILE_LAYOUTS
    ):
        raise AnswerError("Your two figures are swapped.", "tile_dollars['chunks'] is the cost of reading from arrays['chunks']")
    for name in TILE_LAYOUTS:
        bill, dollars, target = bills[name], given[name], right[name]
        if _close(dollars, target):
            continue
        get_dollars, egress = bill.get_dollars * VIEWS, bill.egress_dollars * VIEWS
        tile_bytes = 128 * 128 * _itemsize(namespace, name)
        if _close(dollars, target / VIEWS):
            hint = "that is one view; the question asks for a million of them"
        elif _close(dollars, get_dollars + egress * (2**30 / 1e9)):
            hint = "S3 bills a GB of 2**30 bytes (1,073,741,824), not 10**9"
        elif _close(dollars, egress):
            hint = "that is the data transfer alone: every GET request is billed too"
        elif _close(dollars, get_dollars):
            hint = "that is the requests alone: every byte downloaded is billed too (egress)"
        elif _close(dollars, get_dollars * 1000 + egress):
            hint = "the request price is per 1,000 requests"
        elif _close(dollars, get_dollars + tile_bytes / 2**30 * prices.egress_per_gb * VIEWS):
            hint = ("the tile has 128 x 128 pixels, but the reader downloads whole chunks, compressed: "
                    "measure the bytes downloaded")
        else:
            hint = ("measure one view with `with s3.measure() as cost:`, then GETs x price per 1,000 / 1,000 "
                    "+ bytes / 2**30 x price per GB, times a million")
        raise AnswerError(f"tile_dollars[{name!r}] is {dollars:g}, but a million views of that tile cost something else.", hint)
    a, b = TILE_LAYOUTS
    passed(
        f"Right: a million views cost ${right[a]:.2f} from {a} ({bills[a].get_requests} GETs, "
        f"{bills[a].downloaded:,} bytes a view) and ${right[b]:.2f} from {b} ({bills[b].get_requests} GET, "
        f"{bills[b].downloaded:,} bytes a view)."
    )


def _itemsize(namespace: Mapping[str, Any], name: str) -> int:
    """Bytes per pixel of the lesson's array ``name``."""
    return int(lesson_value(namespace, "arrays")[name].dtype.itemsize)
