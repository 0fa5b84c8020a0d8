"""What a command loads: nothing of grading (nor dask) for ``inspect``; light grading modules stay light.

The grading package's ``__init__``, its constants (``limits``), its command
line parser and its worker check load no nbgrader and no dask, and change
nothing (``PATH`` as it was); checked in a fresh interpreter. (No import
cycle at all: ``tests/test_imports.py``.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _loaded_after(code: str) -> dict:
    """What a fresh interpreter has loaded, and its PATH, after running ``code``."""
    probe = code + (
        "\nimport json, os, sys\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'path': os.environ.get('PATH', '')}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


HEAVY = ("course_utils.grading.", "dask", "distributed", "nbgrader", "nbconvert", "jupyter_client", "zarr")


def test_inspect_loads_no_grading_code_and_no_dask(tmp_path):
    loaded = _loaded_after(
        "from course_utils import cli\n"
        f"cli.main(['inspect', {str(tmp_path / 'nothing')!r}])\n"
    )["modules"]
    assert [m for m in loaded if m.startswith(("course_utils.grading", "dask", "distributed", "nbgrader"))] == []


@pytest.mark.parametrize("module", ["course_utils.grading", "course_utils.grading.limits", "course_utils.grading.cli",
                                    "course_utils.grading.identity", "course_utils.grading.plugins"])
def test_light_grading_modules_load_nothing_heavy_and_change_nothing(module):
    """The package, its constants, the command line's parser: no nbgrader, no dask, PATH as it was."""
    before = _loaded_after("")
    after = _loaded_after(f"import {module}")
    new = set(after["modules"]) - set(before["modules"])
    allowed = {"course_utils.grading", module, "course_utils.grading.limits", "course_utils.grading.plugins"}
    assert [m for m in sorted(new) if m.startswith(HEAVY) and m not in allowed] == []
    assert after["path"] == before["path"]


def test_release_and_collect_take_no_option_they_would_ignore(capsys):
    from course_utils import cli

    for command in (["release", "--workers", "2"], ["release", "--isolation", "none"],
                    ["collect", "x.zip", "--workers", "2"], ["collect", "x.zip", "--scheduler", "tcp://a:1"]):
        with pytest.raises(SystemExit) as stopped:
            cli.main(command)
        assert stopped.value.code == 2
        assert "unrecognized arguments" in capsys.readouterr().err
