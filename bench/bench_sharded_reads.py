"""Requests, bytes and time of reads from IDR 6001240: the sharded OME-Zarr 0.5 copy against the 0.4 one.

    python bench/bench_sharded_reads.py            # the stand-ins, on a local server
    python bench/bench_sharded_reads.py --online   # the real copies on uk1s3.embassy.ebi.ac.uk

Each read is made on arrays already open (their metadata read), counted on
the client (course_utils.store_reads: one read is one HTTP request), and
timed as the best of ``--repeats``. Offline the local server answers on
loopback, so the times say little about a real network; the requests and
bytes do not depend on it (same metadata, same layout as the real copies;
only the pixels, and so the compressed sizes, differ).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time

import zarr
from rich.console import Console
from rich.table import Table

from course_utils import data, standins
from course_utils.servers import LocalHTTPServer
from course_utils.store_reads import ReadCounter

#: name -> (level, selection)
READS = {
    "one plane, one channel": ("0", (1, 117)),
    "100 x 100 box, 10 planes, 2 channels": ("0", (slice(None), slice(100, 110), slice(50, 150), slice(50, 150))),
    "32 x 32 column through every plane": ("0", (slice(None), slice(None), slice(120, 152), slice(120, 152))),
    "one plane of each channel, level 2": ("2", (slice(None), 118)),
    "all of level 2": ("2", (slice(None),)),
}


def measure(counter: ReadCounter, arrays: dict, repeats: int) -> dict:
    """name -> (ReadCost of the first run, best seconds) for every read of READS."""
    results = {}
    for name, (level, selection) in READS.items():
        best = math.inf
        first = None
        for _ in range(repeats):
            with counter.measure() as cost:
                start = time.perf_counter()
                arrays[level][selection]
                best = min(best, time.perf_counter() - start)
            first = first or cost
        results[name] = (first, best)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--online", action="store_true", help="read the real copies over HTTPS")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        if args.online:
            urls = {"0.4": data.REGISTRY["idr-6001240"].url, "0.5 sharded": data.REGISTRY["idr-6001240-sharded"].url}
            where = "the IDR (online)"
        else:
            v04, v05 = standins.idr_6001240(), standins.idr_6001240_sharded()
            server = stack.enter_context(LocalHTTPServer(v04.root))
            urls = {"0.4": server.url(v04.key), "0.5 sharded": server.url(v05.key)}
            where = "stand-ins on a local server (loopback: times are not a network's)"
        counter = ReadCounter()
        results = {}
        for copy, url in urls.items():
            group = zarr.open_group(counter.store(url), mode="r")
            arrays = {level: group[level] for level in ("0", "2")}
            results[copy] = measure(counter, arrays, args.repeats)

    table = Table(title=f"Reads of IDR 6001240 from {where}", title_justify="left")
    for column in ("read", "copy", "requests", "index", "inner chunks", "whole objects", "bytes downloaded",
                   "at once", "best time"):
        table.add_column(column, justify="left" if column in ("read", "copy") else "right")
    for name in READS:
        for copy in results:
            cost, seconds = results[copy][name]
            table.add_row(
                name, copy, f"{cost.requests:,}", f"{cost.index_reads:,}", f"{cost.chunk_reads:,}",
                f"{cost.whole_reads:,}", f"{cost.bytes:,}", f"{cost.max_in_flight}", f"{seconds * 1000:.0f} ms",
            )
        table.add_section()
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
