"""What a dask worker must share with the client before it grades anything: the course, the pins, the sandbox.

A submission graded on another machine must get the grade this machine
would give. So every worker is checked as it joins, before its first job
(:func:`admit`), against the client's :func:`identity`:

- the same ``course_utils`` package, file for file (a digest of its
  source: the checks, the grading code, the data stand-ins);
- the same version of every package the course pins (its own requirements,
  with the ``course`` extra), and the same Python (major.minor);
- the sandbox the client grades with (``namespaces``, ``user-namespaces``;
  or ``none`` when asked for by name) works there.

A worker that differs is refused (:func:`admit` says what differs) and
given no work: :class:`course_utils.grading.dispatch.Admission` runs the
check on every worker, and the instructor's terminal names it. Standard library and ``packaging`` only: a
worker runs this before it loads any of the grading machinery.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
import socket
from pathlib import Path

DISTRIBUTION = "course-utils"
EXTRAS = ("course",)
"""The extras whose pins a grading worker must match (the test tools do not grade)."""


@functools.lru_cache(maxsize=None)
def course_digest() -> str:
    """A digest of the installed ``course_utils`` package: every file's path and bytes (no caches)."""
    import course_utils

    package = Path(course_utils.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.is_file()):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo"):
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def pinned_packages() -> tuple[tuple[str, str], ...]:
    """``((name, installed version or "not installed"), ...)`` for every package the course pins."""
    from packaging.requirements import Requirement

    try:
        requirements = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return (("course-utils", "not installed"),)
    found = {}
    for text in requirements:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": extra}) for extra in ("", *EXTRAS)):
            continue
        try:
            found[requirement.name.lower()] = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            found[requirement.name.lower()] = "not installed"
    return tuple(sorted(found.items()))


def identity() -> dict:
    """What this process grades with: Python, the course package's digest, the pinned packages' versions."""
    return {
        "python": ".".join(platform.python_version_tuple()[:2]),
        "course_utils": course_digest(),
        "packages": dict(pinned_packages()),
    }


def differences(expected: dict, found: dict) -> list[str]:
    """What differs between the client's identity ``expected`` and a worker's ``found``, in words (empty: nothing)."""
    lines = []
    if expected.get("python") != found.get("python"):
        lines.append(f"Python {found.get('python')} there, {expected.get('python')} here")
    if expected.get("course_utils") != found.get("course_utils"):
        lines.append("its course_utils is not the same code as here (install the same commit of the course "
                     "there: pip install -e \".[course]\")")
    theirs, ours = found.get("packages", {}), expected.get("packages", {})
    for name in sorted(set(theirs) | set(ours)):
        if theirs.get(name) != ours.get(name):
            lines.append(f"{name} {theirs.get(name, 'not pinned')} there, {ours.get(name, 'not pinned')} here")
    return lines


def where() -> str:
    """This worker's dask address (or the host name, outside a worker)."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return socket.gethostname()


def admit(expected: dict, isolation: str) -> str | None:
    """On a worker: why it must not grade for a client with identity ``expected`` and sandbox ``isolation`` (None: it may)."""
    lines = differences(expected, identity())
    if lines:
        return "; ".join(lines)
    from course_utils.grading.plugins import sandbox

    try:
        if sandbox.require(isolation) != isolation:
            return f"it would grade with the {sandbox.require(isolation)} sandbox, not {isolation}"
    except sandbox.IsolationUnavailable as error:
        return f"it cannot grade in the {isolation} sandbox: {error}"
    return None
