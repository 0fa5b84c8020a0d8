"""What every grading module shares: the limits of a submission, and the constants they all name.

A light module (the standard library only, no side effects when imported):
``course-utils`` shows the defaults in its help, and a dask worker checks a
job, without loading nbgrader.

- :class:`Limits`: what one submission may use while it is graded (enforced
  by :mod:`course_utils.grading.plugins.kernel` and
  :mod:`course_utils.grading.plugins.execute`);
- :class:`UploadLimits`: how much of an LMS download is read
  (:mod:`course_utils.grading.intake`);
- where the course is (:data:`REPO`), its nbgrader course id, and the
  course entries a grading kernel never sees;
- the error names and notes the execute step writes into a graded notebook
  and the report reads back (:data:`KERNEL_DIED`, :data:`NOT_RUN`,
  :data:`OUTPUT_TRUNCATED`, :data:`STDERR_NOTE`);
- :func:`scripts_on_path`, called by whatever opens a new gradebook.
"""

from __future__ import annotations

import os
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

GIB = 2**30
MIB = 2**20

REPO = Path(__file__).resolve().parents[2]
"""The course repository this package belongs to (``notebooks/``, ``solutions/``)."""
COURSE_ID = "ome-zarr-course"

HIDDEN_COURSE_ENTRIES = ("gradebook.db", "source", "release", "submitted", "autograded", "feedback", "downloaded")
"""Course-directory entries a grading kernel never sees (the gradebook, answers, other students).

The sandbox shows a kernel only an allow-list (:mod:`course_utils.grading.plugins.view`),
in which none of these are; they are covered as well, in case a course
directory ever lies inside what the kernel may read."""
HIDDEN_REPO_ENTRIES = ("solutions", ".git", "build", ".pytest_cache", "source", "autograded", "feedback",
                       "submitted", "downloaded", "gradebook.db")
"""Repository entries covered the same way (the answers, the history, build folders and caches)."""

KERNEL_DIED = "KernelDied"
"""Error name of a cell during which the kernel died or was stopped."""
NOT_RUN = "NotRun"
"""Error name of a cell that could not run (the kernel was gone, the notebook's time was up)."""
OUTPUT_TRUNCATED = "[output truncated by the grader: more than {limit} bytes]\n"
"""Note after a cell's output beyond the output limit was dropped."""
STDERR_NOTE = "[written to stderr; not counted against the test]\n"
"""Prefix of a test cell's stderr, turned into ordinary output."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use while it is graded.

    ``cell_seconds``: wall time of one cell before it is interrupted (and
    the kernel stopped if it does not stop). ``notebook_seconds``: wall time
    of the whole notebook; cells after it is used up are not run.
    ``memory_bytes``: the kernel's data segment (``RLIMIT_DATA``); an
    allocation beyond it raises ``MemoryError`` in the cell. ``file_bytes``:
    the largest file the kernel may write. ``output_bytes``: text and data a
    cell may print that is kept (the rest is dropped with a note).
    ``scratch_bytes``: the kernel's private ``/tmp``, ``/var/tmp`` and
    ``/dev/shm`` together (one size-limited file system in memory, so files
    there count against this limit, on top of ``memory_bytes``).
    ``processes``: processes the kernel may run at once, itself included;
    together they may hold twice ``memory_bytes`` (:attr:`memory_total_bytes`),
    so one process at its own limit still gets its ``MemoryError``. These
    two are enforced by the sandbox (a fork bomb is stopped in a quarter of
    a second); without it (``--isolation none``) only the per-process limits hold.
    """

    cell_seconds: int = 120
    notebook_seconds: int = 600
    memory_bytes: int = 3 * GIB
    file_bytes: int = 1 * GIB
    output_bytes: int = 1 * MIB
    scratch_bytes: int = 512 * MIB
    processes: int = 256

    @property
    def memory_total_bytes(self) -> int:
        """Memory all of the kernel's processes may hold together (0: no limit)."""
        return 2 * self.memory_bytes

    def as_dict(self) -> dict:
        """The limits as a plain dict (for JSON and traitlets config)."""
        return asdict(self)

    def describe(self) -> str:
        """One line for logs and the instructor guide."""
        return (
            f"{self.cell_seconds} s per cell, {self.notebook_seconds} s per notebook, "
            f"{self.memory_bytes / GIB:g} GiB memory, {self.file_bytes / GIB:g} GiB per file, "
            f"{self.output_bytes / MIB:g} MiB output per cell, {self.scratch_bytes / MIB:g} MiB of /tmp and /dev/shm, "
            f"{self.processes} processes"
        )


@dataclass(frozen=True)
class UploadLimits:
    """How much of an LMS download is read, checked before anything is unpacked.

    ``file_bytes``: one file, uncompressed: an uploaded notebook, or one
    file inside a zip a student uploaded (a notebook with its outputs is
    rarely over 20 MiB). ``upload_bytes``: everything one upload holds once
    unpacked (a student's zip file, a Moodle folder). ``archive_members``:
    files in one uploaded zip. An upload beyond them is refused without a
    byte of it being written to disk, and the student's row says so.
    """

    file_bytes: int = 64 * MIB
    upload_bytes: int = 256 * MIB
    archive_members: int = 1000

    def as_dict(self) -> dict:
        """The limits as a plain dict."""
        return asdict(self)

    def describe(self) -> str:
        """One line for logs."""
        return (
            f"{self.file_bytes / MIB:g} MiB per file, {self.upload_bytes / MIB:g} MiB per upload, "
            f"{self.archive_members} files per uploaded zip"
        )


def scripts_on_path() -> None:
    """Make this environment's console scripts findable by name (a call, never done on import).

    nbgrader runs ``alembic`` by name when it creates a gradebook; an
    instructor who calls ``.venv/bin/course-utils`` without activating the
    environment (as the README's commands do), or a dask worker started the
    same way, would otherwise get a FileNotFoundError from deep inside
    nbgrader. :func:`course_utils.grading.course.api` and
    :mod:`course_utils.grading.gradebook` call it before they open one.
    """
    scripts = sysconfig.get_path("scripts")
    path = os.environ.get("PATH", "")
    if scripts and scripts not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join(filter(None, [scripts, path]))
