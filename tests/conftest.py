"""Shared pytest configuration: one data cache per run, shared notebook runs, network markers.

* ``COURSE_DATA_DIR`` points at one folder for the whole run (every test,
  kernel, server and xdist worker; see :mod:`session_data`); the
  ``course_data`` fixture builds the offline stand-ins into it once.
* ``notebook_runs``: every notebook executed once per mode (solved, blank)
  per run, shared by the tests that read the run (see :mod:`notebook_runs`).
* pytest-xdist (``-n 2 --dist loadgroup``): a test's ``xdist_group`` is its
  own mark's (each notebook's tests share the one ``notebook_params()`` gives
  them; the browser tests share one), else its folder's when it is below a
  folder of tests/ with its own conftest.py, else its module's: fixtures are
  built by one worker; the groups with slow tests start first.
* ``wheel_check_folder``: the wheel check of ``test_pins.py`` (:mod:`wheel_check`)
  runs in the background from the moment its tests are collected; the folder it writes.
* ``online``: needs the public internet; skipped unless ``COURSE_ONLINE_TESTS=1``.
* ``package_index``: needs pip's package index; skipped, with the reason, when
  a quick probe cannot reach it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import session_data
import wheel_check
from package_index import package_index_unreachable

ONLINE_VARIABLE = "COURSE_ONLINE_TESTS"
_WORKER_KEY = "course_data_dir"
_GROUPS_KEY = "course_xdist_groups"
_WHEELS_KEY = "course_wheel_check"
TESTS = Path(__file__).resolve().parent


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
    if workerinput and _WHEELS_KEY in workerinput:
        config._course_wheel_dir = Path(workerinput[_WHEELS_KEY])
    else:
        config._course_wheel_dir = config._tmp_path_factory.getbasetemp() / "wheel-check"
    if not workerinput:
        config._course_groups_dir = config._tmp_path_factory.getbasetemp() / "xdist-groups"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist, in the controller: every worker uses the controller's data cache and group folder."""
    node.workerinput[_WORKER_KEY] = str(node.config._course_data_dir)
    node.workerinput[_WHEELS_KEY] = str(node.config._course_wheel_dir)
    node.config._course_groups_dir.mkdir(parents=True, exist_ok=True)
    node.workerinput[_GROUPS_KEY] = str(node.config._course_groups_dir)


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput") and hasattr(session.config, "_course_wheel_dir"):
        wheel_check.stop(session.config._course_wheel_dir)  # the controller ends last: nobody reads it any more


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
def wheel_check_folder(pytestconfig) -> Path:
    """Where the background wheel check (:mod:`wheel_check`) writes; launched here if collection did not."""
    wheel_check.start(pytestconfig._course_wheel_dir)
    return pytestconfig._course_wheel_dir


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


def _default_group(item) -> str:
    """``tests/<dir>`` below a folder of tests/ with its own conftest.py (its session fixtures), else the module."""
    module = item.nodeid.split("::", 1)[0]
    parts = module.split("/")
    if len(parts) > 2 and parts[0] == TESTS.name and (TESTS / parts[1] / "conftest.py").is_file():
        return "/".join(parts[:2])
    return module


def _group(item) -> str:
    """The item's ``xdist_group`` as pytest-xdist names it (several marks: their names joined), else its default."""
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names)) if names else _default_group(item)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Skip ``online`` tests unless ``COURSE_ONLINE_TESTS=1``; group and order the tests for xdist.

    A test without an ``xdist_group`` gets its module's or, below a folder of
    tests/ with its own conftest.py (tests/grading, tests/inspect), the
    folder's: its fixtures, session-scoped ones too, are built by one worker
    only. In an xdist worker (whose order the scheduler keeps,
    ``--no-loadscope-reorder``) the groups that hold a ``slow`` test come
    first: the long ones start early, the short ones fill the end of the run.
    """
    online = os.environ.get(ONLINE_VARIABLE) == "1"
    skip = pytest.mark.skip(reason=f"needs the internet; set {ONLINE_VARIABLE}=1 to run")
    for item in items:
        if not online and "online" in item.keywords:
            item.add_marker(skip)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(_group(item)))
    if hasattr(config, "workerinput"):
        groups = {id(item): _group(item) for item in items}
        slow = {groups[id(item)] for item in items if item.get_closest_marker("slow") is not None}
        items.sort(key=lambda item: groups[id(item)] not in slow)  # stable: collection order otherwise


# pytest-xdist 3.8's loadgroup tells the scheduler each test's group by appending
# "@group" to item._nodeid, which pytest 9.2 no longer reads (node ids are structured
# now), so the groups are silently ignored:
# https://github.com/pytest-dev/pytest-xdist/issues/1386 (fix proposed: pull request 1388).
# Instead each worker writes node id -> group to a file the controller's scheduler reads.


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reports the collection to the controller
def pytest_collection_finish(session):
    # The wheel check waits on the package index for half a minute: start it now, in the background.
    wanted = any("wheel_check_folder" in getattr(item, "fixturenames", ()) for item in session.items)
    if wanted and not session.config.option.collectonly:
        wheel_check.start(session.config._course_wheel_dir)
    folder = getattr(session.config, "workerinput", {}).get(_GROUPS_KEY)
    if folder:
        mapping = {item.nodeid: _group(item) for item in session.items}
        path = Path(folder) / f"{session.config.workerinput['workerid']}.json"
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps(mapping), encoding="utf-8")
        os.replace(staging, path)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup``: xdist's LoadScope scheduling, by the groups the workers wrote."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    folder = Path(config._course_groups_dir)

    class GroupScheduling(LoadScopeScheduling):
        """Each group one unit of work, sent whole to one worker."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # read once, after every worker has collected
                self.groups = {}
                for path in sorted(folder.glob("*.json")):
                    self.groups.update(json.loads(path.read_text(encoding="utf-8")))
            return self.groups.get(nodeid) or self.groups.get(nodeid.rsplit("@", 1)[0]) or nodeid

    return GroupScheduling(config, log)


def pytest_runtest_setup(item):
    if item.get_closest_marker("package_index") is not None and (reason := package_index_unreachable()):
        pytest.skip(reason)
