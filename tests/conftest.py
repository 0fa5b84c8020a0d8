"""Shared pytest configuration: one data cache per run, shared notebook runs, network markers.

* ``COURSE_DATA_DIR`` points at one folder for the whole run (every test,
  kernel, server and xdist worker; see :mod:`session_data`); the
  ``course_data`` fixture builds the offline stand-ins into it once.
* ``notebook_runs``: every notebook executed once per mode (solved, blank)
  per run, shared by the tests that read the run (see :mod:`notebook_runs`).
* Tests in one directory with its own ``conftest.py`` (``tests/grading/``,
  ``tests/inspect/``) share one ``xdist_group`` unless they name their own,
  so their session fixtures are built once, not once per worker; each
  notebook's tests share the group ``notebook_params()`` gives them.
* ``online``: needs the public internet; skipped unless ``COURSE_ONLINE_TESTS=1``.
* ``package_index``: needs pip's package index; skipped, with the reason, when
  a quick probe cannot reach it.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import session_data

ONLINE_VARIABLE = "COURSE_ONLINE_TESTS"
DEFAULT_INDEX = "https://pypi.org/simple"
INDEX_PROBE_SECONDS = 5
TESTS = Path(__file__).resolve().parent
_WORKER_KEY = "course_data_dir"


# --- one data cache for the whole run ---------------------------------------------------


def _session_data_dir(config) -> Path:
    if os.environ.get(session_data.OVERRIDE_VARIABLE, "").strip():
        return Path(os.environ[session_data.OVERRIDE_VARIABLE]).expanduser().resolve()
    return config._tmp_path_factory.getbasetemp() / "course-data"


@pytest.hookimpl(trylast=True)  # after the tmp_path plugin has set up the base temporary directory
def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)
    path = Path(workerinput[_WORKER_KEY]) if workerinput and _WORKER_KEY in workerinput else _session_data_dir(config)
    path.mkdir(parents=True, exist_ok=True)
    config._course_previous_data_dir = os.environ.get(session_data.DATA_VARIABLE)
    config._course_data_dir = path
    os.environ[session_data.DATA_VARIABLE] = str(path)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist, in the controller: every worker uses the controller's data cache."""
    node.workerinput[_WORKER_KEY] = str(node.config._course_data_dir)


def pytest_unconfigure(config):
    if not hasattr(config, "_course_data_dir"):
        return
    if config._course_previous_data_dir is None:
        os.environ.pop(session_data.DATA_VARIABLE, None)
    else:
        os.environ[session_data.DATA_VARIABLE] = config._course_previous_data_dir


@pytest.fixture(scope="session")
def course_data(pytestconfig) -> Path:
    """The session's data cache with every offline stand-in built (once per run, across workers)."""
    return session_data.warm(pytestconfig._course_data_dir)


@pytest.fixture(scope="session")
def offline_env(pytestconfig) -> dict:
    """Extra environment for a kernel: offline mode and the session's data cache."""
    return {"COURSE_OFFLINE": "1", session_data.DATA_VARIABLE: str(pytestconfig._course_data_dir)}


@pytest.fixture(scope="session")
def notebook_runs(tmp_path_factory, offline_env, pytestconfig):
    """Every notebook executed once per mode, solved or blank, for the whole session."""
    from notebook_runs import NotebookRuns  # imported here: nbclient is slow to import

    return NotebookRuns(
        tmp_path_factory.mktemp("notebook-runs"), offline_env,
        prepare=lambda: session_data.warm(pytestconfig._course_data_dir),
    )


# --- markers and scheduling -----------------------------------------------------------------


def _directory_group(item) -> str | None:
    """``tests/<dir>`` when the test lives below a directory of tests/ that has its own conftest.py."""
    try:
        relative = Path(item.path).resolve().relative_to(TESTS)
    except ValueError:
        return None
    if len(relative.parts) > 1 and (TESTS / relative.parts[0] / "conftest.py").is_file():
        return f"tests/{relative.parts[0]}"
    return None


def pytest_collection_modifyitems(config, items):
    """Skip ``online`` tests unless ``COURSE_ONLINE_TESTS=1``; give directory groups for xdist."""
    online = os.environ.get(ONLINE_VARIABLE) == "1"
    skip = pytest.mark.skip(reason=f"needs the internet; set {ONLINE_VARIABLE}=1 to run")
    for item in items:
        if not online and "online" in item.keywords:
            item.add_marker(skip)
        if item.get_closest_marker("xdist_group") is None and (name := _directory_group(item)):
            item.add_marker(pytest.mark.xdist_group(name))


def _index_url() -> str:
    """pip's index URL: ``PIP_INDEX_URL``, else pip's configuration, else PyPI."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].split()[0]
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".index-url") and value.strip("'\" "):
            return value.strip("'\" ").split()[0]
    return DEFAULT_INDEX


@functools.cache
def package_index_unreachable() -> str | None:
    """Why pip's package index cannot be reached (one line), or None when it answers."""
    url = _index_url()
    if url.startswith("file:"):
        path = Path(urllib.request.url2pathname(url.removeprefix("file:")))
        return None if path.is_dir() else f"needs the package index; {url} does not exist"
    probe = url.rstrip("/") + "/pip/"
    try:
        with urllib.request.urlopen(urllib.request.Request(probe, method="HEAD"), timeout=INDEX_PROBE_SECONDS):
            return None
    except urllib.error.HTTPError:  # it answered
        return None
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"needs the package index; {probe} could not be reached ({reason})"


def pytest_runtest_setup(item):
    if item.get_closest_marker("package_index") is not None and (reason := package_index_unreachable()):
        pytest.skip(reason)
