"""Run ome-zarr-py's command line tool, ``ome_zarr``, from a notebook.

``ome_zarr info URL`` and ``ome_zarr download URL --output DIR`` are what a
student types in a terminal. ome-zarr 0.18 installs the tool as a script
(there is no ``python -m ome_zarr``), so a notebook must find the copy that
belongs to its own Python environment, which may not be first on ``PATH``
(a virtual environment whose kernel was started without activating it, for
example). :func:`run` does that, runs the command and returns what it
printed; the tool's log messages on stderr (such as a "version mismatch"
warning when it reads OME-Zarr 0.4) are kept out of the lesson, and shown
only when the command fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig

__all__ = ["OmeZarrError", "command", "run"]

#: Long enough to download an image of tens of megabytes over a slow link.
TIMEOUT_SECONDS = 900


class OmeZarrError(RuntimeError):
    """The ``ome_zarr`` command failed; the message ends with what it wrote to stderr."""


def command() -> str:
    """The ``ome_zarr`` script of this Python environment (or the first on ``PATH``)."""
    found = shutil.which("ome_zarr", path=sysconfig.get_path("scripts")) or shutil.which("ome_zarr")
    if found is None:
        raise OmeZarrError("the ome_zarr command is not installed: pip install ome-zarr")
    return found


def run(*args: str, timeout: float = TIMEOUT_SECONDS) -> str:
    """Run ``ome_zarr *args`` and return its standard output.

    Raises :class:`OmeZarrError` with the last lines of its standard error if
    it exits with an error or runs longer than ``timeout`` seconds.
    """
    argv = [command(), *map(str, args)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OmeZarrError(f"`ome_zarr {' '.join(argv[1:])}` took longer than {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise OmeZarrError(f"`ome_zarr {' '.join(argv[1:])}` failed (exit {done.returncode}):\n{tail}")
    return done.stdout
