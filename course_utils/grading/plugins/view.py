"""What a sandboxed grading kernel may read: an allow-list, computed from the interpreter itself.

The sandbox (:mod:`course_utils.grading.plugins.sandbox`) builds the kernel's file
system from :func:`kernel_view` and nothing else, so the answer to "could a
kernel read X?" is "only if X is listed here":

- the system's programs, libraries and settings: :data:`SYSTEM`;
- the Python environment the kernel runs in, wherever it was installed (a
  venv or conda environment under ``/tmp`` or ``/var/tmp``, in the home
  directory, inside the repository, or the system's own): the prefixes of
  the interpreter and of the environment it is based on, the real location
  of the executable, and each entry of ``sys.path``;
- the packages an editable install maps in from elsewhere (setuptools'
  ``__editable__`` finders), such as ``course_utils`` in the repository.

A ``sys.path`` entry that is a project folder rather than a place packages
are installed in (a repository put on ``PYTHONPATH``, say) is never shown
whole: only the ``course_utils`` package inside it. So the repository's
``solutions/``, ``.git``, build folders and caches, the course's
gradebook and other students' files are never part of the view, wherever
they are.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
"""System folders shown read-only (programs, shared libraries, certificates, time zones)."""

INSTALL_DIRS = ("site-packages", "dist-packages")
"""Names of folders packages are installed in: shown whole."""

PACKAGE = "course_utils"


def contains(parent: str, path: str) -> bool:
    """True if ``path`` is ``parent`` or inside it."""
    parent, path = os.path.abspath(parent), os.path.abspath(path)
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def outermost(paths: list[str]) -> list[str]:
    """``paths`` without those inside another listed path, parents first."""
    kept: list[str] = []
    for path in sorted({os.path.abspath(p) for p in paths if p}, key=lambda p: (p.count("/"), p)):
        if not any(contains(other, path) for other in kept):
            kept.append(path)
    return kept


def _prefixes() -> list[str]:
    found = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        found += [prefix, os.path.realpath(prefix)]
    return found


def _executable(path: str) -> list[str]:
    """The interpreter ``path``, the links it goes through, and the prefix each one lives in."""
    found = []
    seen = set()
    current = os.path.abspath(path)
    while current not in seen:
        seen.add(current)
        found.append(current)
        prefix = os.path.dirname(os.path.dirname(current))
        if prefix != "/" and _is_environment(prefix):
            found.append(prefix)
        if not os.path.islink(current):
            break
        current = os.path.abspath(os.path.join(os.path.dirname(current), os.readlink(current)))
    return found


def _is_environment(prefix: str) -> bool:
    """A folder a Python is installed in (a venv, a conda environment, a Python build)."""
    markers = ("pyvenv.cfg", "conda-meta")
    return any(os.path.exists(os.path.join(prefix, m)) for m in markers) or any(
        name.startswith("python3") for name in _listdir(os.path.join(prefix, "lib"))
    )


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _is_project_folder(path: str) -> bool:
    """A folder that is somebody's project (a repository, a course directory), not an install location."""
    return any(os.path.exists(os.path.join(path, marker))
               for marker in (".git", "solutions", "nbgrader_config.py", "gradebook.db", "pyproject.toml", "setup.py"))


def _path_entries(prefixes: list[str]) -> list[str]:
    found = []
    here = os.getcwd()
    for entry in sys.path:
        if not entry or not os.path.exists(entry) or os.path.abspath(entry) == here:
            continue  # the current directory (``python -m`` puts it first) is the kernel's own, shown writable
        entry = os.path.abspath(entry)
        if any(contains(prefix, entry) for prefix in prefixes) or os.path.basename(entry) in INSTALL_DIRS:
            found.append(entry)
        elif os.path.isfile(entry):  # a zip of modules
            found.append(entry)
        elif _is_project_folder(entry):
            if os.path.isdir(os.path.join(entry, PACKAGE)):
                found.append(os.path.join(entry, PACKAGE))
        else:
            found.append(entry)
    return found


def _editable_packages() -> list[str]:
    """Package folders that setuptools' editable finders map in from outside site-packages."""
    found = []
    for name, module in list(sys.modules.items()):
        if name.startswith("__editable__") and hasattr(module, "MAPPING"):
            found += [str(path) for path in getattr(module, "MAPPING", {}).values()]
    return found


def course_package() -> str:
    """The folder of the ``course_utils`` package this interpreter imports."""
    import course_utils

    return str(Path(course_utils.__file__).resolve().parent)


def kernel_view(command: list[str] | None = None, extra: list[str] | None = None) -> list[str]:
    """Every path a grading kernel started with ``command`` may read (see the module doc).

    ``command[0]`` is the kernel's interpreter (if it is not this one, its
    links and prefix are added too); ``extra`` are more read-only paths.
    """
    prefixes = _prefixes()
    paths = list(SYSTEM) + prefixes + _executable(sys.executable)
    if command:
        import shutil

        program = shutil.which(command[0]) or command[0]
        paths += _executable(program)
    paths += _path_entries(prefixes) + _editable_packages() + [course_package()] + list(extra or [])
    kept = [p for p in paths if p and os.path.abspath(p) != "/" and (os.path.exists(p) or os.path.islink(p))]
    return outermost(kept)
