"""The course package as Colab and Binder install it: a regular (non-editable) wheel.

pip builds the wheel in an isolated environment, so it fetches the build
backend (setuptools) from the package index: the test is marked
``package_index`` and skipped when the index cannot be reached. It builds
from a copy of the sources, so nothing is written into the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _source_copy(destination: Path) -> Path:
    """What building the wheel reads, copied, so the build writes nothing into the checkout (build/)."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, destination / name)
    shutil.copytree(REPO / "course_utils", destination / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


@pytest.mark.package_index
def test_wheel_holds_every_course_utils_module(tmp_path):
    (tmp_path / "source").mkdir()
    source = _source_copy(tmp_path / "source")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = (tmp_path / "dist").glob("course_utils-*.whl")
    packaged = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("course_utils/")}
    expected = {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "course_utils").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected <= packaged, f"missing from the wheel: {sorted(expected - packaged)}"
