"""Run ome-zarr-py's command line tool, ``ome_zarr``, from a notebook.

``ome_zarr info URL`` and ``ome_zarr download URL --output DIR`` are what a
student types in a terminal. :func:`run` runs the same command, the tool's
own entry point (``ome_zarr.cli.main``, which the ``ome_zarr`` script calls),
in the notebook's own Python, and returns what it printed. A terminal would
start a new Python for each command, which imports ome-zarr and its
dependencies again (about 2 s of CPU each time); in the kernel that happens
once. The tool's log messages (such as a "version mismatch" warning when it
reads OME-Zarr 0.4) are kept out of the lesson, and shown only when the
command fails; the logging set-up the tool makes for itself is undone
afterwards, so it does not change what the rest of the notebook logs.

:func:`command` finds the ``ome_zarr`` script of the kernel's environment,
which may not be first on ``PATH`` (ome-zarr 0.18 installs the tool as a
script only; there is no ``python -m ome_zarr``), for running it in a
terminal or a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import sysconfig
import traceback
import warnings

__all__ = ["OmeZarrError", "command", "run"]


class OmeZarrError(RuntimeError):
    """The ``ome_zarr`` command failed; the message ends with what it wrote to stderr."""


def command() -> str:
    """The ``ome_zarr`` script of this Python environment (or the first on ``PATH``)."""
    found = shutil.which("ome_zarr", path=sysconfig.get_path("scripts")) or shutil.which("ome_zarr")
    if found is None:
        raise OmeZarrError("the ome_zarr command is not installed: pip install ome-zarr")
    return found


@contextlib.contextmanager
def _tool_logging():
    """Let the tool configure logging as it does at start-up, then put everything back.

    ``ome_zarr.cli`` calls ``logging.basicConfig`` (a handler on the root
    logger, to stderr) and sets the ``s3fs`` logger to DEBUG. In a notebook
    both would outlive the command; here the root logger's handlers and
    level and the ``s3fs`` logger's level are restored when it ends.
    """
    root, s3fs = logging.getLogger(), logging.getLogger("s3fs")
    handlers, level, s3fs_level = root.handlers[:], root.level, s3fs.level
    root.handlers = []  # so that basicConfig adds its handler, on the captured stderr
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers = handlers
        root.setLevel(level)
        s3fs.setLevel(s3fs_level)


def run(*args: str) -> str:
    """Run ``ome_zarr *args`` and return its standard output.

    Raises :class:`OmeZarrError` with the last lines of its standard error
    (and of the traceback, if it raised) if it fails.
    """
    with warnings.catch_warnings():  # ome-zarr 0.18 deprecates one of its own classes as it imports
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.cli import main

    argv = [str(arg) for arg in args]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with _tool_logging(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as stop:  # argparse: --help, or bad arguments
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except Exception:  # noqa: BLE001 - reported like the script reports it: traceback, exit 1
            traceback.print_exc(file=err)
            code = 1
    if code != 0:
        tail = "\n".join(err.getvalue().strip().splitlines()[-8:])
        raise OmeZarrError(f"`ome_zarr {' '.join(argv)}` failed (exit {code}):\n{tail}")
    return out.getvalue()
