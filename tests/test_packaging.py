"""The course package as Colab and Binder install it: a regular (non-editable) wheel.

pip builds the wheel in an isolated environment, so it fetches the build
backend (setuptools) from the package index: the test is marked
``package_index`` and skipped when the index cannot be reached.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.package_index
def test_wheel_holds_every_course_utils_module(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = tmp_path.glob("course_utils-*.whl")
    packaged = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("course_utils/")}
    expected = {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "course_utils").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected <= packaged, f"missing from the wheel: {sorted(expected - packaged)}"
