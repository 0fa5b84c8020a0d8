"""The pins in pyproject.toml, the files generated from them, and the environment.

``pyproject.toml`` is the one place the course pins its dependencies; these
tests fail when a derived file (environment.yml, binder/) was not regenerated
after a pin changed, when a pin is not exact, when the running environment is
not the pinned one, and (``-m slow``) when a runtime pin has no wheel for a
supported CPython on x86-64 Linux (that one asks uv to resolve the pins
against pip's package index, in the background from the start of the run,
see :mod:`wheel_check`: marked ``package_index``, it is skipped when the
index cannot be reached).
"""

from __future__ import annotations

import importlib.metadata
import shutil
import stat
import subprocess
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from course_utils import pins

import wheel_check
from wheel_check import NO_SUCH_WHEEL, NO_WHEEL, SLOW_PYTHONS, distribution_name

RUNTIME = pins.runtime_requirements()
COURSE = pins.course_requirements()


def _pinned_version(requirement: str) -> str:
    """The version of an exact ``name==version`` pin (fails on anything else)."""
    specifiers = list(Requirement(requirement).specifier)
    assert len(specifiers) == 1, f"{requirement!r} is not one exact pin"
    (specifier,) = specifiers
    assert specifier.operator == "==", f"{requirement!r} is not pinned with =="
    assert "*" not in specifier.version, f"{requirement!r} pins a wildcard"
    return specifier.version


# --- derived files ------------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    [pins.ENVIRONMENT_FILE, pins.BINDER_ENVIRONMENT_FILE, pins.BINDER_POSTBUILD_FILE],
)
def test_derived_file_is_up_to_date(relative):
    path = pins.repo_root() / relative
    expected = pins.derived_files()[path]
    assert path.is_file(), f"{relative} is missing: run `course-utils pins --write`"
    assert path.read_text(encoding="utf-8") == expected, (
        f"{relative} does not match the pins in pyproject.toml: "
        "run `course-utils pins --write`"
    )


def test_no_derived_file_is_stale():
    assert pins.stale_derived_files() == []


def test_environment_yml_is_rendered_from_pyproject():
    path = pins.repo_root() / pins.ENVIRONMENT_FILE
    text = path.read_text(encoding="utf-8")
    assert text == pins.render_environment_yml(for_binder=False)
    assert "course-utils pins --write" in text.splitlines()[0]


def test_binder_environment_yml_is_rendered_from_pyproject():
    path = pins.repo_root() / pins.BINDER_ENVIRONMENT_FILE
    assert path.read_text(encoding="utf-8") == pins.render_environment_yml(for_binder=True)


def _pip_list(environment: dict) -> list[str]:
    pip_sections = [
        item for item in environment["dependencies"] if isinstance(item, dict)
    ]
    assert len(pip_sections) == 1 and set(pip_sections[0]) == {"pip"}
    return pip_sections[0]["pip"]


@pytest.mark.parametrize(
    ("relative", "installs_course_package"),
    [(pins.ENVIRONMENT_FILE, True), (pins.BINDER_ENVIRONMENT_FILE, False)],
)
def test_environment_yml_pins_exactly_runtime_and_course(relative, installs_course_package):
    environment = yaml.safe_load((pins.repo_root() / relative).read_text(encoding="utf-8"))
    assert environment["name"] == "ome-zarr-course"
    assert environment["channels"] == ["conda-forge"]
    conda_specs = [item for item in environment["dependencies"] if isinstance(item, str)]
    assert conda_specs == ["python=3.12", "pip"]

    pip_items = _pip_list(environment)
    assert all(isinstance(item, str) for item in pip_items)
    assert ("-e ." in pip_items) is installs_course_package
    requirements = [item for item in pip_items if item != "-e ."]
    assert len(requirements) == len(set(requirements)), "a pin is listed twice"
    assert set(requirements) == set(RUNTIME) | set(COURSE)
    for requirement in requirements:
        _pinned_version(requirement)


def test_binder_postbuild_installs_the_course_package_only():
    path = pins.repo_root() / pins.BINDER_POSTBUILD_FILE
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_mode & stat.S_IXUSR, "binder/postBuild must be executable"
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    commands = [
        line for line in text.splitlines()[1:] if line.strip() and not line.startswith("#")
    ]
    assert commands == [
        "set -euo pipefail",
        'cd "$(dirname "${BASH_SOURCE[0]}")/.."',
        "python -m pip install --no-deps .",
    ]
    if shutil.which("bash"):
        subprocess.run(["bash", "-n", str(path)], check=True)


def test_editing_a_pin_makes_the_derived_files_stale(tmp_path):
    pyproject = (pins.repo_root() / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    assert len(pins.stale_derived_files(tmp_path)) == 3  # none written yet

    written = pins.write_derived_files(tmp_path)
    assert sorted(written) == sorted(pins.derived_files(tmp_path))
    assert pins.stale_derived_files(tmp_path) == []
    assert (tmp_path / pins.BINDER_POSTBUILD_FILE).stat().st_mode & stat.S_IXUSR

    pin = RUNTIME[0]
    assert f'"{pin}"' in pyproject  # the pin this test edits
    edited_pin = f"{Requirement(pin).name}==0.0.1"
    edited = pyproject.replace(f'"{pin}"', f'"{edited_pin}"', 1)
    (tmp_path / "pyproject.toml").write_text(edited, encoding="utf-8")
    assert pins.stale_derived_files(tmp_path) == [
        tmp_path / pins.ENVIRONMENT_FILE,
        tmp_path / pins.BINDER_ENVIRONMENT_FILE,
    ]
    assert edited_pin in pins.render_environment_yml(for_binder=True, root=tmp_path)

    pins.write_derived_files(tmp_path)
    (tmp_path / pins.BINDER_POSTBUILD_FILE).chmod(0o644)
    assert pins.stale_derived_files(tmp_path) == [tmp_path / pins.BINDER_POSTBUILD_FILE]


# --- the pins themselves --------------------------------------------------------


@pytest.mark.parametrize("requirement", RUNTIME, ids=distribution_name)
def test_runtime_requirement_is_pinned_exactly(requirement):
    assert Requirement(requirement).marker is None, f"{requirement!r} has a marker"
    Version(_pinned_version(requirement))


def test_requirement_groups_are_not_empty_and_not_duplicated():
    assert RUNTIME and COURSE and pins.test_requirements()
    names = [distribution_name(r) for r in RUNTIME + COURSE + pins.test_requirements()]
    assert len(names) == len(set(names)), "a package is pinned twice"


@pytest.mark.parametrize("requirement", RUNTIME + COURSE, ids=distribution_name)
def test_installed_version_matches_pin(requirement):
    name = distribution_name(requirement)
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{name} is pinned ({requirement}) but not installed")
    assert Version(installed) == Version(_pinned_version(requirement)), (
        f"{name} {installed} is installed but pyproject.toml pins {requirement}"
    )


# --- binary distributions for every supported Python (slow) ---------------------

assert {v.rsplit(".", 1)[0] for v in SLOW_PYTHONS} == set(pins.SUPPORTED_PYTHONS)


def test_requires_python_admits_exactly_the_tested_releases():
    spec = SpecifierSet(tomllib.loads((pins.repo_root() / "pyproject.toml").read_text())["project"]["requires-python"])
    assert all(Version(v) in spec for v in SLOW_PYTHONS)
    assert Version("3.11.0") not in spec, "ome-zarr==0.18.0 cannot be installed on 3.11.0"


def _resolved(text: str) -> dict:
    """``name==version`` lines of uv's output, as canonical name -> Version."""
    found = {}
    for line in text.splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            requirement = Requirement(line.split(";")[0].strip())
            found[canonicalize_name(requirement.name)] = Version(_pinned_version(str(requirement)))
    return found


@pytest.mark.slow
@pytest.mark.package_index
@pytest.mark.parametrize("python_version", SLOW_PYTHONS)
def test_runtime_pins_have_linux_wheels(python_version, wheel_check_folder, record_property):
    """uv resolves the runtime pins for this CPython from wheels alone (the check ran in the background)."""
    returncode, out, err, seconds = wheel_check.result(wheel_check_folder, python_version)
    record_property("resolution_seconds", seconds)
    print(f"uv pip compile for CPython {python_version}: {seconds:.1f} s (beside the other versions)")
    tail = "\n".join(err.splitlines()[-25:])
    assert returncode == 0, (
        f"the runtime pins have no complete set of wheels for CPython {python_version} "
        f"on x86-64 Linux ({pins.linux_x86_64_platform()}); uv says:\n{tail}"
    )
    resolved = _resolved(out)
    for requirement in RUNTIME:
        name = distribution_name(requirement)
        assert resolved.get(name) == Version(_pinned_version(requirement)), (
            f"{requirement}: uv resolved {resolved.get(name)}"
        )


@pytest.mark.slow
@pytest.mark.package_index
def test_the_wheel_check_fails_for_a_pin_without_a_wheel_for_the_platform(wheel_check_folder):
    returncode, _out, err, _ = wheel_check.result(wheel_check_folder, NO_WHEEL)
    assert returncode != 0, f"{NO_SUCH_WHEEL}: uv found a wheel where there is none"
    assert "no usable wheels" in err or "no wheels" in err, err[-2000:]
