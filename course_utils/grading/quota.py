"""What one submission may use: :class:`Limits` while it is graded, :class:`UploadLimits` when it is collected.

Kept apart from :mod:`course_utils.grading.limits` (which enforces them and
imports jupyter_client) so that ``course-utils`` can show the defaults in
its help without loading the grading machinery.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

GIB = 2**30
MIB = 2**20


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
    """

    cell_seconds: int = 120
    notebook_seconds: int = 600
    memory_bytes: int = 3 * GIB
    file_bytes: int = 1 * GIB
    output_bytes: int = 1 * MIB
    scratch_bytes: int = 512 * MIB

    def as_dict(self) -> dict:
        """The limits as a plain dict (for JSON and traitlets config)."""
        return asdict(self)

    def describe(self) -> str:
        """One line for logs and the instructor guide."""
        return (
            f"{self.cell_seconds} s per cell, {self.notebook_seconds} s per notebook, "
            f"{self.memory_bytes / GIB:g} GiB memory, {self.file_bytes / GIB:g} GiB per file, "
            f"{self.output_bytes / MIB:g} MiB output per cell, {self.scratch_bytes / MIB:g} MiB of /tmp and /dev/shm"
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
