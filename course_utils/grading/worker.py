"""A grading worker process: reads submissions to grade, one JSON line each, answers likewise.

``python -m course_utils.grading.worker`` is started by
:func:`run_pool` (one per parallel slot). Each input line names one
submission (:func:`spec`); the worker grades it with
:func:`course_utils.grading.submission.grade_submission` and writes one line
of results. The protocol uses the worker's original standard output; the
worker points its own fd 1 at stderr first, so nothing a kernel or library
prints can corrupt it. A worker that dies or takes too long is killed
(its whole process group) and replaced; its submission is retried once.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from course_utils.grading import report
from course_utils.grading.limits import Limits

READY = "@@ready@@"


def spec(settings, snapshot: Path, scratch: Path, assignment: str, notebook_id: str, student: str) -> dict:
    """The JSON job description of one submission."""
    return {
        "course_root": str(settings.course_root),
        "repo": str(settings.repo),
        "limits": settings.limits.as_dict(),
        "isolation": settings.isolation,
        "data_dir": str(settings.data_dir) if settings.data_dir else None,
        "snapshot": str(snapshot),
        "scratch": str(scratch),
        "assignment": assignment,
        "notebook_id": notebook_id,
        "student": student,
    }


def result_to_json(result) -> str:
    """One line of JSON for a :class:`~course_utils.grading.submission.Result`."""
    data = asdict(result)
    return json.dumps(data)


def result_from_json(text: str):
    """The :class:`~course_utils.grading.submission.Result` of :func:`result_to_json`'s line."""
    from course_utils.grading.submission import Result

    data = json.loads(text)
    rep = data.pop("report")
    rep["tests"] = [report.TestResult(**t) for t in rep.get("tests", [])]
    return Result(report=report.Report(**rep), **data)


def _run_one(job: dict):
    from course_utils.grading.submission import Settings, safe_grade

    settings = Settings(
        course_root=Path(job["course_root"]),
        repo=Path(job["repo"]),
        limits=Limits(**job["limits"]),
        isolation=job["isolation"],
        data_dir=Path(job["data_dir"]) if job["data_dir"] else None,
    )
    return safe_grade(
        settings, Path(job["snapshot"]), Path(job["scratch"]), job["assignment"], job["notebook_id"], job["student"]
    )


def main() -> int:
    """Serve jobs from stdin until it closes."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed to stdout goes to stderr
    import course_utils.grading.submission  # noqa: F401  (warm up before saying ready)
    import nbgrader.apps  # noqa: F401

    protocol.write(READY + "\n")
    for line in sys.stdin:
        if line.strip():
            protocol.write(result_to_json(_run_one(json.loads(line))) + "\n")
    return 0


class WorkerDied(RuntimeError):
    """A worker exited or stopped answering."""


class Worker:
    """One ``python -m course_utils.grading.worker`` process, driven from a thread."""

    def __init__(self, log=None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "course_utils.grading.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log if log is not None else subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._buffer = ""
        if self._readline(120) != READY:
            self.kill()
            raise WorkerDied("the worker did not start")

    def _readline(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        stream = self.process.stdout
        while "\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerDied(f"no answer within {timeout:.0f} s")
            ready, _, _ = select.select([stream], [], [], remaining)
            if ready:
                chunk = os.read(stream.fileno(), 1 << 16).decode()
                if not chunk:
                    raise WorkerDied(f"the worker exited (code {self.process.wait()})")
                self._buffer += chunk
        line, self._buffer = self._buffer.split("\n", 1)
        return line

    def run(self, job: dict, timeout: float):
        """Send one job and wait at most ``timeout`` seconds for its result."""
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise WorkerDied(str(error)) from None
        return result_from_json(self._readline(timeout))

    def kill(self) -> None:
        """Kill the worker and everything it started (its process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()

    def close(self) -> None:
        """Let the worker finish (end of input), or kill it if it will not."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except (subprocess.TimeoutExpired, OSError):
            self.kill()


def run_pool(jobs: list[dict], workers: int, timeout: float, on_result, on_failure, max_attempts: int = 2, log=None) -> None:
    """Grade ``jobs`` on ``workers`` worker processes; call ``on_result(result)`` for each.

    A job whose worker dies or exceeds ``timeout`` is retried on a fresh
    worker up to ``max_attempts`` times in all, then ``on_failure(job,
    reason)`` is called. The callbacks run in the calling thread, one at a
    time, while the workers go on with the next jobs. An exception from a
    callback is raised once every job has ended.
    """
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put((job, 1))
    settled: queue.Queue = queue.Queue()  # (callback, arguments) of each job that has ended
    all_settled = threading.Event()
    count = [0]
    lock = threading.Lock()

    def settle(callback, *args) -> None:
        settled.put((callback, args))
        with lock:
            count[0] += 1
            if count[0] == len(jobs):
                all_settled.set()

    def slot() -> None:
        worker = None
        while not all_settled.is_set():
            try:
                job, attempt = todo.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                if worker is None:
                    worker = Worker(log)
                settle(on_result, worker.run(job, timeout))
            except Exception as error:  # WorkerDied, or an answer that is not a result: never lose the job
                if worker is not None:
                    worker.kill()
                worker = None
                if attempt < max_attempts:
                    todo.put((job, attempt + 1))
                else:
                    settle(on_failure, job, str(error))
        if worker is not None:
            worker.close()

    threads = [threading.Thread(target=slot, daemon=True) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    errors: list[BaseException] = []
    for _ in jobs:
        callback, args = settled.get()
        try:
            callback(*args)
        except BaseException as error:  # re-raised below, after every job has ended
            errors.append(error)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


if __name__ == "__main__":
    sys.exit(main())
