"""The test session's one data cache: ``COURSE_DATA_DIR`` for every test, kernel and worker.

``tests/conftest.py`` points ``COURSE_DATA_DIR`` at one folder for the whole
run (``<basetemp>/course-data``; with pytest-xdist the controller makes it and
every worker gets the same path), before any test module is imported, so
every test, every kernel a test starts and every server inherits it. Set
``COURSE_TEST_DATA_DIR`` to use a folder of your own instead (it is kept
between runs, so the stand-ins are built only once).

:func:`warm` builds the offline stand-ins into it, once per run across all
workers: the first process to get the lock builds them, the others wait and
then find them there. The stand-ins are whatever ``course_utils`` defines:
every file dataset's synthetic TIFF and every zero-argument function of
:mod:`course_utils.standins` that returns a ``StandIn``.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
from pathlib import Path

#: Where the session's data cache is: set by tests/conftest.py for the whole run.
DATA_VARIABLE = "COURSE_DATA_DIR"
#: Optional: a data cache of your own, kept between runs.
OVERRIDE_VARIABLE = "COURSE_TEST_DATA_DIR"
LOCK_FILE = ".stand-ins.lock"


def data_dir() -> Path:
    """The session's data cache (``$COURSE_DATA_DIR``, set by tests/conftest.py)."""
    return Path(os.environ[DATA_VARIABLE])


@contextlib.contextmanager
def data_dir_set(directory: Path):
    """``COURSE_DATA_DIR`` pointed at ``directory`` inside the block, put back after it."""
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATA_VARIABLE, str(directory))
        yield Path(directory)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` between processes (``flock``; no lock where there is none)."""
    try:
        import fcntl
    except ImportError:  # Windows: the stand-ins are written atomically anyway, perhaps twice
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def builders() -> dict:
    """Name -> zero-argument function that writes one stand-in into the data cache."""
    from course_utils import data, standins

    found = {
        f"synthetic {name}": (lambda name=name: data.fetch(name, offline=True))
        for name, dataset in data.REGISTRY.items()
        if dataset.kind == "tiff" and dataset.fname and dataset.shape
    }
    for name in getattr(standins, "__all__", dir(standins)):
        function = getattr(standins, name, None)
        if not inspect.isfunction(function) or function.__module__ != standins.__name__:
            continue
        signature = inspect.signature(function)
        returns = signature.return_annotation
        if returns in ("StandIn", getattr(standins, "StandIn", None)) and not signature.parameters:
            found[f"stand-in {name}"] = function
    return found


def warm(directory: Path | None = None) -> Path:
    """Build every stand-in into ``directory`` (default: the session's cache) once; return it."""
    directory = Path(directory or data_dir())
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory / LOCK_FILE), data_dir_set(directory):  # a stand-in already there is found
        with contextlib.redirect_stdout(io.StringIO()):  # "Using SYNTHETIC stand-in data ..."
            for build in builders().values():
                build()
    return directory
