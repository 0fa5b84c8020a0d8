"""What latency, concurrency, shards, the S3 client and the chunking do to reading one plane.

The figures of notebook 04, measured on the course's local S3 server with a
latency added in the server process (``LocalS3Server(latency_ms=...)``):

1. the server itself: N requests sent at once take about one latency, N
   requests one after another N latencies;
2. one z-plane (16 chunks of 64 x 64) at 0, 20 and 80 ms, one request at a
   time (``async.concurrency`` 1) and zarr's default of 10 at a time;
3. the same plane from plain chunks, shards read whole and deep shards read
   in part, at each latency;
4. s3fs (``FsspecStore``) against obstore (``ObjectStore``) at each latency;
5. dollars per million views of the plane for each chunking, at the list
   prices of ``course_utils.pricing.S3_STANDARD``.

    python bench/bench_cloud.py              # best of 3 per figure
    python bench/bench_cloud.py --repeats 5

Times are the best of ``--repeats`` runs (the least disturbed by other work on
the machine); the model column is ceil(requests / concurrency) x latency
(for deep shards: the index read, then each chunk one after another).
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import zarr
from rich.console import Console
from rich.table import Table

from course_utils import data, pricing
from course_utils.servers import LocalS3Server

LATENCIES_MS = (0, 20, 80)
SHAPE = (8, 256, 256)
LAYOUTS = {  # as in notebook 04
    "chunks": {"chunks": (1, 64, 64)},
    "thick": {"chunks": (8, 64, 64)},
    "planes": {"chunks": (1, 256, 256)},
    "shards": {"chunks": (1, 64, 64), "shards": (1, 128, 128)},
    "deep-shards": {"chunks": (1, 64, 64), "shards": (8, 128, 128)},
    "one-shard": {"chunks": (1, 64, 64), "shards": (8, 256, 256)},
}


def best(run, repeats: int):
    """(best seconds, the measurement of the last run) of ``repeats`` runs of ``run() -> Cost``."""
    times, cost = [], None
    for _ in range(repeats):
        cost = run()
        times.append(cost.seconds)
    return min(times), cost


def measured(s3, read):
    with s3.measure() as cost:
        read()
    return cost


def server_figures(s3, console: Console, repeats: int) -> None:
    """Raw HTTP: n requests at once against one after another, at 80 ms."""
    n, latency_ms = 10, 80
    url = f"{s3.endpoint_url}/course/chunks.zarr/zarr.json"
    session = requests.Session()
    session.get(url, timeout=30)

    def all_at_once():
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda _: requests.get(url, timeout=30).status_code, range(n)))

    with s3.conditions(latency_ms=latency_ms):
        together, _ = best(lambda: measured(s3, all_at_once), repeats)
        in_turn, _ = best(lambda: measured(s3, lambda: [session.get(url, timeout=30) for _ in range(n)]), repeats)
    table = Table(title=f"1. The server: {n} GETs at {latency_ms} ms latency", title_justify="left")
    for column in ("", "seconds", "latencies"):
        table.add_column(column, justify="right")
    table.add_row("all at once", f"{together:.3f}", f"{together / (latency_ms / 1000):.1f}")
    table.add_row("one after another", f"{in_turn:.3f}", f"{in_turn / (latency_ms / 1000):.1f}")
    console.print(table)


def plane_figures(s3, arrays, console: Console, repeats: int) -> None:
    table = Table(title="2. One plane of `chunks` (16 chunks): seconds", title_justify="left")
    table.add_column("latency", justify="right")
    for concurrency in (1, 10):
        table.add_column(f"{concurrency} at a time", justify="right")
        table.add_column("model", justify="right")
    for ms in LATENCIES_MS:
        row = [f"{ms} ms"]
        for concurrency in (1, 10):
            with s3.conditions(latency_ms=ms), zarr.config.set({"async.concurrency": concurrency}):
                seconds, cost = best(lambda: measured(s3, lambda: arrays["chunks"][3]), repeats)
            row += [f"{seconds:.3f}", f"{math.ceil(cost.requests / concurrency) * ms / 1000:.3f}"]
        table.add_row(*row)
    console.print(table)


def shard_figures(s3, arrays, console: Console, repeats: int) -> None:
    table = Table(title="3. One plane, 64 x 64 chunks, 10 at a time: seconds (requests)", title_justify="left")
    table.add_column("latency", justify="right")
    names = ("chunks", "shards", "deep-shards", "one-shard")
    for name in names:
        table.add_column(name, justify="right")
    for ms in LATENCIES_MS:
        row = [f"{ms} ms"]
        with s3.conditions(latency_ms=ms):
            for name in names:
                seconds, cost = best(lambda: measured(s3, lambda: arrays[name][3]), repeats)
                row.append(f"{seconds:.3f} ({cost.requests})")
        table.add_row(*row)
    console.print(table)


def client_figures(s3, arrays, console: Console, repeats: int) -> None:
    obstore_array = zarr.open_array(zarr.storage.ObjectStore(s3.obstore("chunks.zarr"), read_only=True), mode="r")
    obstore_array[3]
    clients = {"s3fs": arrays["chunks"], "obstore": obstore_array}
    table = Table(title="4. One plane of `chunks`, 10 at a time: s3fs against obstore, seconds", title_justify="left")
    for column in ("latency", *clients, "s3fs / obstore"):
        table.add_column(column, justify="right")
    for ms in LATENCIES_MS:
        with s3.conditions(latency_ms=ms):
            seconds = {name: best(lambda: measured(s3, lambda: array[3]), repeats)[0] for name, array in clients.items()}
        table.add_row(f"{ms} ms", *(f"{s:.3f}" for s in seconds.values()), f"{seconds['s3fs'] / seconds['obstore']:.2f}")
    console.print(table)


def dollar_figures(s3, arrays, console: Console) -> None:
    prices = pricing.S3_STANDARD
    table = Table(title=f"5. Dollars per million views of one plane ({prices.name}, {prices.region}, "
                        f"{prices.as_of})", title_justify="left")
    for column in ("layout", "GETs", "bytes a view", "requests $", "egress $", "total $"):
        table.add_column(column, justify="right")
    for name, array in arrays.items():
        bill = prices.bill(measured(s3, lambda: array[3])) * 1_000_000
        table.add_row(name, f"{bill.get_requests // 1_000_000}", f"{bill.downloaded // 1_000_000:,}",
                      f"{bill.get_dollars:.2f}", f"{bill.egress_dollars:.2f}", f"{bill.dollars:.2f}")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; the best is shown (default 3)")
    args = parser.parse_args()
    console = Console(width=120)
    start = time.perf_counter()
    console.print(f"machine: {os.cpu_count()} cores, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    volume = data.synthetic_image(SHAPE, "uint16", seed=4)
    with LocalS3Server(name="bench cloud") as s3, tempfile.TemporaryDirectory() as folder:
        for name, shapes in LAYOUTS.items():
            zarr.create_array(f"{folder}/{name}.zarr", data=volume, **shapes)
        s3.upload(folder)
        arrays = {name: zarr.open_array(s3.zarr_store(f"{name}.zarr", read_only=True), mode="r") for name in LAYOUTS}
        for array in arrays.values():
            array[3]  # connections open, metadata read
        server_figures(s3, console, args.repeats)
        plane_figures(s3, arrays, console, args.repeats)
        shard_figures(s3, arrays, console, args.repeats)
        client_figures(s3, arrays, console, args.repeats)
        dollar_figures(s3, arrays, console)
    console.print(f"total {time.perf_counter() - start:.0f} s; load average now "
                  f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
