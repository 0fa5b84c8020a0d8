"""How fast is ``inspect_store`` on a big local directory store?

Builds (once) a Zarr v2 directory store of ``--files`` files (default
100,000): an OME-Zarr 0.4 multiscale of a few 2-D arrays with flat ``.``
chunk keys (``0.0``, ``0.1``, ...), small chunk files, plus the metadata.
Then times, in turns, a few times each:

* ``find DIR -type f | wc -l`` (lists names only: no ``stat``);
* ``inspect_store(DIR)`` as shipped: the ``lstat`` calls shared by a pool of
  threads (``course_utils.inspect.local.STAT_THREADS``);
* the same with the ``lstat`` calls in one thread;
* the same with the ``lstat`` calls shared by forked processes, the way an
  earlier version did it (kept here only as the reference to beat).

and prints the medians and their ratios to ``find``.

    python bench/bench_inspect.py                  # build in a temp dir
    python bench/bench_inspect.py --dir /tmp/bench # build once, reuse later

The target: ``inspect_store`` within 2x of ``find``. The simpler thread pool
stays unless the forked processes are needed to reach it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np  # a course kernel always has it loaded (it changes fork costs)
from rich.console import Console
from rich.table import Table

import course_utils.inspect as ci
from course_utils.inspect import local as inspect_local

CHUNK = 64
N_SCALES = 4


def _plan(n_files: int) -> list[int]:
    """Chunk files per array: each scale a quarter of the one before."""
    n_metadata = 3 + 2 * N_SCALES  # .zgroup .zattrs .zmetadata, .zarray + .zattrs each
    n_chunks = n_files - n_metadata
    weights = [4.0 ** -k for k in range(N_SCALES)]
    counts = [int(n_chunks * w / sum(weights)) for w in weights]
    counts[0] += n_chunks - sum(counts)
    return counts


def build(root: Path, n_files: int) -> Path:
    """Write the store under ``root`` unless an identical one is already there."""
    store = root / f"flat-v2-{n_files}.zarr"
    done = root / f"flat-v2-{n_files}.done"  # next to the store, not in it
    if done.exists():
        return store
    if store.exists():
        shutil.rmtree(store)
    store.mkdir(parents=True)
    rng = np.random.default_rng(0)
    payload = rng.integers(1, 255, size=4096, dtype=np.uint8).tobytes()
    datasets, arrays = [], {}
    for scale, n_chunks in enumerate(_plan(n_files)):
        side = math.isqrt(n_chunks - 1) + 1 if n_chunks > 1 else 1
        path = store / str(scale)
        path.mkdir()
        zarray = {
            "zarr_format": 2,
            "shape": [side * CHUNK, side * CHUNK],
            "chunks": [CHUNK, CHUNK],
            "dtype": "<u2",
            "compressor": {"id": "zstd", "level": 0},
            "fill_value": 0,
            "filters": None,
            "order": "C",
            "dimension_separator": ".",
        }
        zattrs = {"_ARRAY_DIMENSIONS": ["y", "x"]}
        (path / ".zarray").write_text(json.dumps(zarray))
        (path / ".zattrs").write_text(json.dumps(zattrs))
        arrays[f"{scale}/.zarray"] = zarray
        arrays[f"{scale}/.zattrs"] = zattrs
        # Chunks in row-major order; the last rows stay unwritten (fill value).
        for i in range(n_chunks):
            size = 200 + (i * 37) % 800
            with open(path / f"{i // side}.{i % side}", "wb") as file:
                file.write(payload[:size])
        datasets.append({
            "path": str(scale),
            "coordinateTransformations": [{"type": "scale", "scale": [2.0**scale] * 2}],
        })
    zattrs = {"multiscales": [{
        "version": "0.4",
        "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": datasets,
    }]}
    (store / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (store / ".zattrs").write_text(json.dumps(zattrs))
    consolidated = {".zgroup": {"zarr_format": 2}, ".zattrs": zattrs, **arrays}
    (store / ".zmetadata").write_text(
        json.dumps({"zarr_consolidated_format": 1, "metadata": consolidated})
    )
    done.write_text("ok\n")
    return store


def time_find(store: Path) -> tuple[float, int]:
    start = time.perf_counter()
    out = subprocess.run(
        f"find '{store}' -type f | wc -l",
        shell=True,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return time.perf_counter() - start, int(out.strip())


def time_inspect(store: Path) -> tuple[float, ci.StoreSummary]:
    start = time.perf_counter()
    summary = ci.inspect_store(store)
    return time.perf_counter() - start, summary


def time_inspect_serial(store: Path) -> tuple[float, ci.StoreSummary]:
    saved = inspect_local.PARALLEL_STAT_MIN_FILES
    inspect_local.PARALLEL_STAT_MIN_FILES = sys.maxsize
    try:
        return time_inspect(store)
    finally:
        inspect_local.PARALLEL_STAT_MIN_FILES = saved


# --------------------------------------------------------------------------
# The reference: lstat in forked processes (what an earlier version shipped)
# --------------------------------------------------------------------------


def _forked_sizes(dirs: inspect_local.Directories, threads: int | None = None) -> dict[str, int]:
    """``directory_sizes`` with the calls shared by forked children that send back JSON."""
    n_procs = min(inspect_local.STAT_THREADS, len(os.sched_getaffinity(0)))
    parts = inspect_local.split_directories(dirs, n_procs)
    children = []
    sizes: dict[str, int] = {}

    def merge(pairs) -> None:
        for rel, total in pairs:
            sizes[rel] = sizes.get(rel, 0) + total

    for part in parts[1:]:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: sizes to the pipe, then exit without cleanup
            status = 1
            try:
                os.close(read_fd)
                data = json.dumps(inspect_local.sizes_of(part)).encode()
                while data:
                    data = data[os.write(write_fd, data):]
                status = 0
            finally:
                os._exit(status)
        os.close(write_fd)
        children.append((pid, read_fd))
    merge(inspect_local.sizes_of(parts[0]))
    for pid, read_fd in children:
        chunks = []
        while data := os.read(read_fd, 65536):
            chunks.append(data)
        os.close(read_fd)
        os.waitpid(pid, 0)
        merge(json.loads(b"".join(chunks)))
    return sizes


def time_inspect_forked(store: Path) -> tuple[float, ci.StoreSummary]:
    saved = inspect_local.directory_sizes
    inspect_local.directory_sizes = _forked_sizes
    try:
        return time_inspect(store)
    finally:
        inspect_local.directory_sizes = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000, help="files in the store")
    parser.add_argument("--dir", type=Path, help="cache directory for the store (kept)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each")
    args = parser.parse_args(argv)

    console = Console()
    temporary = None
    if args.dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="bench-inspect-")
        root = Path(temporary.name)
    else:
        root = args.dir
        root.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        store = build(root, args.files)
        console.print(f"store: {store} (ready in {time.perf_counter() - start:.1f} s)")

        # Warm the page cache and the imports, then take turns.
        _, n_found = time_find(store)
        _, summary = time_inspect(store)
        _, serial_summary = time_inspect_serial(store)
        _, forked_summary = time_inspect_forked(store)
        same = summary.as_dict() == serial_summary.as_dict() == forked_summary.as_dict()
        finds, inspects, serials, forks = [], [], [], []
        for _ in range(args.repeats):
            finds.append(time_find(store)[0])
            inspects.append(time_inspect(store)[0])
            serials.append(time_inspect_serial(store)[0])
            forks.append(time_inspect_forked(store)[0])
        find_median = statistics.median(finds)

        table = Table(title=f"inspect_store vs find on {n_found:,} files "
                            f"({args.repeats} runs each, {os.cpu_count()} CPUs)")
        table.add_column("command")
        table.add_column("median", justify="right")
        table.add_column("min", justify="right")
        table.add_column("max", justify="right")
        table.add_column("ratio to find", justify="right")
        for name, times in (
            ("find DIR -type f | wc -l", finds),
            (f"inspect_store(DIR): lstat in {inspect_local.STAT_THREADS} threads (shipped)", inspects),
            ("inspect_store(DIR): lstat in one thread", serials),
            ("inspect_store(DIR): lstat in forked processes (earlier)", forks),
        ):
            median = statistics.median(times)
            table.add_row(
                name,
                f"{median * 1000:.1f} ms",
                f"{min(times) * 1000:.1f} ms",
                f"{max(times) * 1000:.1f} ms",
                f"{median / find_median:.2f}x",
            )
        console.print(table)
        ok = summary.n_objects == n_found and same
        console.print(
            f"inspect_store counted {summary.n_objects:,} objects "
            f"({summary.n_chunks:,} chunks, {ci.format_bytes(summary.total_bytes)}), "
            f"find counted {n_found:,}: {'same' if summary.n_objects == n_found else 'DIFFERENT'}; "
            f"the three ways of stat-ing agree: {'yes' if same else 'NO'}"
        )
        ratio = statistics.median(inspects) / find_median
        forked = statistics.median(forks) / find_median
        console.print(
            f"ratio inspect/find = {ratio:.2f} with threads, {forked:.2f} with forked processes "
            f"(target: at most 2); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        return 0 if ok else 1
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    sys.exit(main())
