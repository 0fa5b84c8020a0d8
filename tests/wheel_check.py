"""The wheel check of ``tests/test_pins.py``, run in the background from the start of the test run.

The check asks uv to resolve the runtime pins for every supported CPython
on x86-64 Linux, wheels only, and once more for a pin on a platform it has
no wheel for (that one must fail). It waits on pip's package index for
about half a minute and needs almost no CPU. So it does not hold a
pytest-xdist worker while it waits: :func:`start` launches it as a process
of its own as soon as its tests are collected (``tests/conftest.py``), the
tests read what it found with :func:`result`, and :func:`stop` ends it, if
it is still going, when the session ends.

Run as a script (``python wheel_check.py FOLDER``) it is that process: it
writes, per label (a Python version, or ``"no-wheel"``), uv's output to
``LABEL.out`` and ``LABEL.err`` and then ``LABEL.json`` (exit code and
seconds); ``error.txt`` if it could not start; nothing but
``unreachable.txt`` when the package index does not answer (the tests that
read it are skipped then, see ``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Every minor version the course supports, at the first release its
# requires-python admits ("3.12" to pip means 3.12.0). 3.11 starts at 3.11.1:
# ome-zarr 0.17 and later declare Requires-Python ">3.11".
SLOW_PYTHONS = ["3.11.1", "3.12.0", "3.13.0"]
NO_SUCH_WHEEL = ("numpy", "x86_64-manylinux_2_17")
"""A pin and a platform it has no wheel for: the check must say so (numpy 2.4 ships manylinux_2_28 wheels)."""
NO_WHEEL = "no-wheel"
LABELS = [*SLOW_PYTHONS, NO_WHEEL]
WAIT_SECONDS = 600


def start(folder: Path) -> bool:
    """Launch the check writing into ``folder``, unless it was launched there already; True if this call did."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(folder / "started", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    with (folder / "check.log").open("w") as log:
        process = subprocess.Popen([sys.executable, __file__, str(folder)], stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, start_new_session=True)
    (folder / "pid").write_text(str(process.pid))
    threading.Thread(target=process.wait, daemon=True).start()  # reaped when it ends, not left a zombie
    return True


def stop(folder: Path) -> None:
    """End the check launched into ``folder`` (its whole process group) if it still runs."""
    try:
        pid = int((Path(folder) / "pid").read_text())
        if str(folder) not in psutil.Process(pid).cmdline():
            return  # it ended, and the number is another process's now
        os.killpg(pid, signal.SIGKILL)  # its own session: the group is the check and its uv processes
    except (OSError, ValueError, psutil.Error):
        return


def result(folder: Path, label: str, timeout: float = WAIT_SECONDS) -> tuple[int, str, str, float]:
    """``(exit code, stdout, stderr, seconds)`` of resolution ``label``, once the check has it."""
    folder = Path(folder)
    deadline = time.monotonic() + timeout
    while not (folder / f"{label}.json").exists():
        for name in ("error.txt", "unreachable.txt"):
            if (folder / name).exists():
                raise AssertionError(f"the wheel check did not run: {(folder / name).read_text().strip()}")
        if time.monotonic() > deadline:
            log = (folder / "check.log").read_text() if (folder / "check.log").exists() else ""
            raise AssertionError(f"no result for {label} within {timeout:.0f} s; the check said:\n{log[-2000:]}")
        time.sleep(0.5)
    done = json.loads((folder / f"{label}.json").read_text())
    return done["returncode"], (folder / f"{label}.out").read_text(), (folder / f"{label}.err").read_text(), done["seconds"]


def distribution_name(requirement: str) -> str:
    """The canonical distribution name of a requirement, extras (``dask[distributed]``) stripped."""
    return canonicalize_name(Requirement(requirement).name)


def _run(folder: Path) -> None:
    from course_utils import pins
    from package_index import index_url, package_index_unreachable

    if reason := package_index_unreachable():
        (folder / "unreachable.txt").write_text(reason)
        return
    built = folder / "built"
    subprocess.run(pins.sdist_wheel_command(built), check=True, capture_output=True, timeout=300)
    found = sorted(distribution_name(w.name.split("-")[0]) for w in built.glob("*.whl"))
    if found != sorted(pins.SDIST_ONLY):
        raise RuntimeError(f"pip built {found}, not the wheels of {sorted(pins.SDIST_ONLY)}")
    runtime = pins.runtime_requirements()
    name, platform = NO_SUCH_WHEEL
    commands = {version: (pins.wheel_resolution_command(version, built, index_url()), runtime)
                for version in SLOW_PYTHONS}
    commands[NO_WHEEL] = (pins.wheel_resolution_command(SLOW_PYTHONS[-1], index_url=index_url(), platform=platform),
                          [r for r in runtime if distribution_name(r) == name])
    running = {}
    for label, (command, requirements) in commands.items():
        with (folder / f"{label}.out").open("w") as out, (folder / f"{label}.err").open("w") as err:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err, text=True)
        process.stdin.write("\n".join(requirements) + "\n")
        process.stdin.close()
        running[label] = (process, time.perf_counter())
    deadline = time.perf_counter() + WAIT_SECONDS
    while running:
        if time.perf_counter() > deadline:
            for process, _ in running.values():
                process.kill()
            raise TimeoutError(f"uv did not finish {sorted(running)} within {WAIT_SECONDS} s")
        for label, (process, started) in list(running.items()):
            if process.poll() is not None:  # as each ends, so its seconds are its own
                del running[label]
                done = {"returncode": process.returncode, "seconds": round(time.perf_counter() - started, 1)}
                staging = folder / f"{label}.tmp"
                staging.write_text(json.dumps(done))
                os.replace(staging, folder / f"{label}.json")
        time.sleep(0.2)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    try:
        _run(target)
    except Exception as error:  # the tests that read the check say this line
        (target / "error.txt").write_text(f"{type(error).__name__}: {error}")
        raise
