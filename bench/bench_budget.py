"""The course's budgets in one table: every notebook's size and run, the whole course, a fresh install.

    python bench/bench_budget.py                # everything (the install takes minutes)
    python bench/bench_budget.py --skip-install # only the notebooks
    python bench/bench_budget.py notebooks/01_store_interface.ipynb

Per notebook: its size as :func:`course_utils.lessons.lesson_stats` counts it
(cells, words of prose, graded exercises and their points) and two solved,
offline Restart & Run All runs, each in a fresh worker process and kernel (so
the worker's ``RUSAGE_CHILDREN`` peak is the kernel's own): the first starts
with an empty data cache, as a student's first run does; the second finds it
warm. One data cache serves the whole course, in order, as for a student
going through it. The whole course is the sum of the first runs. The install
is what a new student does: a new virtual environment and ``pip install -e
".[course]"`` of this repository (a copy of it, so the checkout is not
touched), timed, then measured with ``du``. By default pip's cache is off, as
on a new machine.

Targets: each notebook within the lesson limits (:data:`~course_utils.lessons.MAX_CELLS`
cells, :data:`~course_utils.lessons.MAX_PROSE_WORDS` words), each run under
20 s and 1 GiB, the whole course under 90 s. The command exits with 1 when a
target is missed or a notebook fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_TARGET_SECONDS = 20
NOTEBOOK_TARGET_MIB = 1024
COURSE_TARGET_SECONDS = 90


# --- one notebook, in a worker process of its own -------------------------------------


def measure(path: Path, data_dir: str) -> dict:
    """Run one solved notebook offline in this process's kernel child; its time and peak memory."""
    from course_utils import authoring, runner

    nb = authoring.build(path, REPO / "solutions", "solved")
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        runner.execute(nb, Path(workdir), env={"COURSE_OFFLINE": "1", "COURSE_DATA_DIR": data_dir})
        seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"notebook": path.stem, "seconds": seconds, "peak_mib": peak_kib / 1024}


def run_worker(notebook: Path, data_dir: str) -> dict:
    """One solved, offline run of ``notebook`` in a fresh worker process: seconds and peak MiB."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(notebook), "--data-dir", data_dir],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"notebook": notebook.stem, "error": last[:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_notebooks(paths: list[Path]) -> list[dict]:
    """Size, then a cold and a warm run, of every notebook in ``paths`` (one data cache for all)."""
    from course_utils.lessons import lesson_stats

    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        for path in paths:
            cold = run_worker(path, data_dir)
            warm = run_worker(path, data_dir) if "error" not in cold else cold
            rows.append({"notebook": path.stem, "stats": lesson_stats(path), "cold": cold, "warm": warm})
    return rows


# --- a fresh install ------------------------------------------------------------------------


def _copy_for_install(destination: Path) -> Path:
    """What ``pip install -e .`` of the repository needs, copied to ``destination``."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, destination / name)
    shutil.copytree(REPO / "course_utils", destination / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


def measure_install(use_pip_cache: bool = False) -> dict:
    """Create a virtual environment, ``pip install -e ".[course]"``; time it and measure its size."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        (scratch / "course").mkdir()
        source = _copy_for_install(scratch / "course")
        venv = scratch / "venv"
        env = {**os.environ}
        if not use_pip_cache:
            env["PIP_NO_CACHE_DIR"] = "1"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-e", ".[course]"],
            cwd=source, env=env, capture_output=True, text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            return {"error": f"pip install failed:\n{tail}"}
        size_kib = int(subprocess.run(["du", "-sk", str(venv)], capture_output=True, text=True,
                                      check=True).stdout.split()[0])
        packages = len(json.loads(subprocess.run(
            [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True,
        ).stdout))
        sources = subprocess.run([str(python), "-m", "pip", "config", "list"], capture_output=True,
                                 text=True).stdout
    return {"seconds": seconds, "size_mib": size_kib / 1024, "packages": packages,
            "local_sources": [line for line in sources.splitlines() if "find-links" in line or "index-url" in line]}


# --- the report -------------------------------------------------------------------------------


def _ok(condition: bool) -> str:
    return "yes" if condition else "[bold red]NO[/bold red]"


def _points(points: float) -> str:
    return f"{points:g}"


def report(rows: list[dict], install: dict | None, console: Console) -> bool:
    """Print the budget tables; return True when every target is met."""
    from course_utils.lessons import MAX_CELLS, MAX_PROSE_WORDS

    table = Table(title="Notebooks (solved, offline; the first run starts with an empty data cache)")
    table.add_column("notebook", no_wrap=True)
    for column in ("cells", "prose words", "exercises", "points", "first run", "second run",
                   "peak kernel memory", "within targets"):
        table.add_column(column, justify="right", no_wrap=True)
    all_ok = True
    course_seconds = 0.0
    totals = {"cells": 0, "words": 0, "exercises": 0, "points": 0.0}
    for row in rows:
        stats, cold, warm = row["stats"], row["cold"], row["warm"]
        totals["cells"] += stats.cells
        totals["words"] += stats.prose_words
        totals["exercises"] += stats.exercises
        totals["points"] += stats.points
        size = [str(stats.cells), str(stats.prose_words), str(stats.exercises), _points(stats.points)]
        if "error" in cold or "error" in warm:
            table.add_row(row["notebook"], *size, "failed", "", "", _ok(False))
            console.print(f"[red]{row['notebook']}:[/red] {escape(cold.get('error') or warm.get('error'))}")
            all_ok = False
            continue
        seconds = max(cold["seconds"], warm["seconds"])
        peak = max(cold["peak_mib"], warm["peak_mib"])
        missed = [name for name, within in (
            ("cells", stats.cells <= MAX_CELLS), ("words", stats.prose_words <= MAX_PROSE_WORDS),
            ("time", seconds < NOTEBOOK_TARGET_SECONDS), ("memory", peak < NOTEBOOK_TARGET_MIB),
        ) if not within]
        all_ok &= not missed
        course_seconds += cold["seconds"]
        table.add_row(row["notebook"], *size, f"{cold['seconds']:.1f} s", f"{warm['seconds']:.1f} s",
                      f"{peak:.0f} MiB", "yes" if not missed else f"[bold red]NO[/bold red]: {', '.join(missed)}")
    if rows:
        course_ok = course_seconds < COURSE_TARGET_SECONDS and all("error" not in r["cold"] for r in rows)
        all_ok &= course_ok
        table.add_section()
        table.add_row("whole course", str(totals["cells"]), str(totals["words"]), str(totals["exercises"]),
                      _points(totals["points"]), f"{course_seconds:.1f} s", "", "", _ok(course_ok))
    console.print(table)
    console.print(
        f"Targets: each notebook at most {MAX_CELLS} cells and {MAX_PROSE_WORDS} words of prose, each run "
        f"under {NOTEBOOK_TARGET_SECONDS} s and {NOTEBOOK_TARGET_MIB} MiB, the whole course under "
        f"{COURSE_TARGET_SECONDS} s. Load when measured: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs."
    )
    if install is not None:
        if "error" in install:
            console.print(f"[red]fresh install failed:[/red] {escape(install['error'])}")
            return False
        installed = Table(title=escape('A fresh environment: python -m venv, then pip install -e ".[course]"'))
        for column in ("install time", "size on disk", "packages"):
            installed.add_column(column, justify="right", no_wrap=True)
        installed.add_row(f"{install['seconds']:.0f} s", f"{install['size_mib']:.0f} MiB", str(install["packages"]))
        console.print(installed)
        if install.get("local_sources"):
            console.print(escape("Note: pip here also uses " + "; ".join(install["local_sources"])
                                 + " (local wheels make the install faster than on a student's machine)."))
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in notebooks/")
    parser.add_argument("--skip-install", action="store_true", help="do not measure a fresh install")
    parser.add_argument("--pip-cache", action="store_true", help="let the install use pip's cache")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.data_dir)))
        return 0
    paths = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    console = Console(width=max(shutil.get_terminal_size().columns, 170))
    rows = measure_notebooks(paths)
    install = None if args.skip_install else measure_install(args.pip_cache)
    return 0 if report(rows, install, console) else 1


if __name__ == "__main__":
    sys.exit(main())
