"""Restart & Run All of every notebook: wall time and peak kernel memory.

    python bench/bench_notebooks.py [notebooks/01_store_interface.ipynb ...]

Each notebook runs with the answers from solutions/ put in (so every cell
does its full work), offline, in a fresh kernel started from a fresh worker
process, so the worker's ``RUSAGE_CHILDREN`` peak is the kernel's own.
Targets: under 30 s and under 1 GiB per notebook.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30
TARGET_MIB = 1024


def measure(path: Path, data_dir: str) -> dict:
    """Run one solved notebook in this process's kernel child; return time and peak memory."""
    from course_utils import authoring, runner

    nb = authoring.build(path, REPO / "solutions", "solved")
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        runner.execute(nb, Path(workdir), env={"COURSE_OFFLINE": "1", "COURSE_DATA_DIR": data_dir})
        seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"notebook": path.stem, "seconds": seconds, "peak_mib": peak_kib / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.data_dir)))
        return 0

    paths = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        for path in paths:
            # A warm-up run fills the data cache, as a student's second run would find it.
            for _ in range(2):
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", str(path), "--data-dir", data_dir],
                    capture_output=True, text=True, check=True,
                )
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))

    table = Table(title="Restart & Run All (solved, offline, warm data cache)")
    for column in ("notebook", "wall time", "peak kernel memory", "within targets"):
        table.add_column(column)
    for row in rows:
        ok = row["seconds"] < TARGET_SECONDS and row["peak_mib"] < TARGET_MIB
        table.add_row(row["notebook"], f"{row['seconds']:.1f} s", f"{row['peak_mib']:.0f} MiB", "yes" if ok else "NO")
    table.add_row("whole course", f"{sum(r['seconds'] for r in rows):.1f} s", "", "")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
