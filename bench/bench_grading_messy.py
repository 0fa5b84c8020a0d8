"""Grading a messy class against a clean one of the same size: wall time and the grader's peak memory.

    python bench/bench_grading_messy.py [--workers N] [--bomb-gib 2.2]

Two courses are built in a temporary directory (``course-utils release`` of
notebook 01). The **messy** class is the download of
``tests/grading/messy_class.py`` (real Canvas, Moodle and Blackboard naming:
resubmissions, names in several scripts, nested zips named after other
students, deep JSON, files that are not notebooks...) with its bomb grown to
``--bomb-gib`` (default 2.2 GiB of zeros in a zip of a few MiB, the size an
earlier grader unpacked whole) and the default upload limits. The **clean**
class has as many students, each uploading the full solution under Canvas
naming. Each is graded by ``course-utils grade`` in a process of its own,
while the process tree is sampled every 0.2 s: resident memory of the
grader (the command, its workers, nbgrader) and of the kernels (sandbox
launchers and ipykernels) separately, and their peaks. The machine is
shared: compare the two rows of one run, not runs on different days.
Results go to bench/results/grading_messy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "grading"))

KERNEL_MARKERS = ("ipykernel_launcher", "course_utils.grading.plugins.sandbox")


def _sample(pid: int) -> tuple[int, int]:
    """Resident bytes of the grader's processes and of its kernels, now."""
    import psutil

    grader = kernels = 0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    for process in processes:
        try:
            rss = process.memory_info().rss
            command = " ".join(process.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if any(marker in command for marker in KERNEL_MARKERS):
            kernels += rss
        else:
            grader += rss
    return grader, kernels


def grade(download: Path, course: Path, workers: int | None, log: Path) -> dict:
    """Run ``course-utils grade`` on ``download``; wall time, exit code, peak memory of grader and kernels."""
    command = [sys.executable, "-m", "course_utils.cli", "grade", str(download), "--course", str(course)]
    command += ["--workers", str(workers)] if workers is not None else []
    start = time.perf_counter()
    peak_grader = peak_kernels = peak_total = 0
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        while process.poll() is None:
            grader, kernels = _sample(process.pid)
            peak_grader, peak_kernels = max(peak_grader, grader), max(peak_kernels, kernels)
            peak_total = max(peak_total, grader + kernels)
            time.sleep(0.2)
    seconds = time.perf_counter() - start
    last = log.read_text().strip().splitlines()[-1]
    return {"seconds": round(seconds, 1), "exit_code": process.returncode, "last_line": last,
            "peak_grader_mib": round(peak_grader / 2**20), "peak_kernels_mib": round(peak_kernels / 2**20),
            "peak_total_mib": round(peak_total / 2**20)}


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    import messy_class
    import nbformat

    from course_utils import authoring
    from course_utils.grading import course, warm
    from course_utils.grading.autograde import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None,
                        help="a fixed LocalCluster (default: the command's own, growing while a core is idle)")
    parser.add_argument("--bomb-gib", type=float, default=2.2)
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-messy-") as scratch:
        scratch = Path(scratch)
        os.environ["COURSE_DATA_DIR"] = str(scratch / "data")
        roots = {label: scratch / label / "course" for label in ("messy", "clean")}
        for root in roots.values():
            course.generate(root, REPO, [messy_class.ASSIGNMENT])
        found = course.find_assignment(messy_class.ASSIGNMENT)
        warm.ensure_warm(Settings(roots["messy"], REPO, data_dir=scratch / "data"), [found])
        release = course.release_notebook(roots["messy"], found)
        exercises = authoring.read_exercises(found.notebook, REPO / "solutions")
        messy = messy_class.build(scratch, release, exercises, REPO, bomb_bytes=int(args.bomb_gib * 2**30))
        students = len(messy_class.EXPECTED)
        clean = scratch / "clean.zip"
        solved = nbformat.writes(messy_class.subs.answered(release, exercises))
        with zipfile.ZipFile(clean, "w", zipfile.ZIP_DEFLATED) as archive:
            for index in range(students):
                archive.writestr(f"student{index}_{1000 + index}_{5000 + index}_{found.notebook_id}.ipynb", solved)
        load = os.getloadavg()[0]
        for label, download in (("clean", clean), ("messy", messy)):
            row = {"class": label, "students": students, "download_mib": round(download.stat().st_size / 2**20, 1),
                   "workers": args.workers, "load_average_before": round(load, 2)}
            row.update(grade(download, roots[label], args.workers, scratch / f"{label}.log"))
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)

    table = Table(title=f"Grading {students} students of notebook 01 ({os.cpu_count()} cores, {args.workers or 'default'} workers)")
    for column in ("class", "download MiB", "wall s", "grader peak MiB", "kernels peak MiB", "total peak MiB", "exit"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["class"], str(row["download_mib"]), str(row["seconds"]), str(row["peak_grader_mib"]),
                      str(row["peak_kernels_mib"]), str(row["peak_total_mib"]), str(row["exit_code"]))
    Console().print(table)
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "grading_messy.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
