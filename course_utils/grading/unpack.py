"""Read LMS downloads and students' zip files without unpacking them.

A download (a zip file, or a folder the instructor unpacked) is listed as
:class:`Member` s: a path, a declared size, a time. Nothing is extracted:
the caller decides from the listing (sizes are known before a byte is
decompressed) and then reads or copies the one member it wants through
:func:`read_capped` / :func:`copy_capped`, which stop at a limit whatever
the archive claims. A zip file a student uploaded is opened one level deep
(:func:`open_zip`); archives inside it are never opened. Member names are
only ever used as text: nothing is written under a name taken from an
archive, so ``../`` tricks and names longer than the file system allows
cannot do harm.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

CHUNK = 1 << 20
MAX_DOWNLOAD_MEMBERS = 100_000
"""More files than any class uploads: a download beyond this is refused as not an LMS download."""

ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst")
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError)
"""What reading a damaged, encrypted or unsupported archive member can raise."""


class TooLarge(ValueError):
    """A member holds more bytes than the limit (found while reading, whatever its header said)."""


class NotADownload(ValueError):
    """The path is neither a zip file nor a folder, or is far too large to be an LMS download."""


@dataclass
class Member:
    """One file of a download or of an uploaded zip: where it is, what size it says it has."""

    path: str
    size: int
    mtime: float = 0.0
    _zip: zipfile.ZipFile | None = field(default=None, repr=False, compare=False)
    _info: zipfile.ZipInfo | None = field(default=None, repr=False, compare=False)
    _file: Path | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The last part of :attr:`path`."""
        return PurePosixPath(self.path).name

    @property
    def parts(self) -> tuple[str, ...]:
        """:attr:`path` split into its folders and name."""
        return PurePosixPath(self.path).parts

    @property
    def is_archive(self) -> bool:
        """True for a name ending like an archive (``.zip``, ``.tar.gz``, ``.7z``...)."""
        return self.name.lower().endswith(ARCHIVE_SUFFIXES)

    def open(self) -> BinaryIO:
        """A binary stream of the member's bytes."""
        if self._zip is not None:
            return self._zip.open(self._info)
        return open(self._file, "rb")


def read_capped(member: Member, limit: int) -> bytes:
    """The bytes of ``member``; :class:`TooLarge` as soon as there are more than ``limit``."""
    if member.size > limit:
        raise TooLarge(member.size)
    parts, total = [], 0
    with member.open() as stream:
        while chunk := stream.read(min(CHUNK, limit + 1 - total)):
            total += len(chunk)
            if total > limit:
                raise TooLarge(total)
            parts.append(chunk)
    return b"".join(parts)


def copy_capped(member: Member, target: Path, limit: int) -> int:
    """Copy ``member`` to ``target`` (written whole or not at all); the bytes copied.

    Stops with :class:`TooLarge` (and nothing left at ``target``) beyond ``limit``.
    """
    if member.size > limit:
        raise TooLarge(member.size)
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    total = 0
    try:
        with member.open() as stream, open(partial, "wb") as out:
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise TooLarge(total)
                out.write(chunk)
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return total


def _zip_members(archive: zipfile.ZipFile, prefix: str = "", skipped: list[str] | None = None) -> list[Member]:
    found = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = info.filename.replace("\\", "/").lstrip("/")
        parts = PurePosixPath(name).parts
        if not parts or ".." in parts:
            if skipped is not None:
                skipped.append(f"{info.filename!r} (not a name an LMS writes)")
            continue
        try:
            mtime = _zip_time(info)
        except (ValueError, OverflowError):
            mtime = 0.0
        found.append(Member(prefix + name, int(info.file_size), mtime, _zip=archive, _info=info))
    return found


def _zip_time(info: zipfile.ZipInfo) -> float:
    import datetime

    return datetime.datetime(*info.date_time).timestamp()


class Download:
    """An LMS download (zip file or folder), listed without unpacking; use as a context manager."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._archive: zipfile.ZipFile | None = None
        self.skipped: list[str] = []
        """Entries not listed (symbolic links, special files), for the instructor."""
        if self.path.is_dir():
            self.members = self._walk()
        elif zipfile.is_zipfile(self.path):
            try:
                self._archive = zipfile.ZipFile(self.path)
                infos = self._archive.infolist()
            except READ_ERRORS as error:
                raise NotADownload(f"{self.path} could not be read as a zip file ({why(error)})") from None
            if len(infos) > MAX_DOWNLOAD_MEMBERS:
                self.close()
                raise NotADownload(f"{self.path} holds more than {MAX_DOWNLOAD_MEMBERS} files: not an LMS download")
            self.members = _zip_members(self._archive, skipped=self.skipped)
        else:
            raise NotADownload(f"{self.path} is neither a zip file nor a folder")

    def _walk(self) -> list[Member]:
        found: list[Member] = []
        stack = [self.path]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as error:
                self.skipped.append(f"{folder}: {error.strerror}")
                continue
            for entry in entries:
                relative = Path(entry.path).relative_to(self.path).as_posix()
                if entry.is_symlink():
                    self.skipped.append(f"{relative} (a symbolic link: not followed)")
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    found.append(Member(relative, info.st_size, info.st_mtime, _file=Path(entry.path)))
                else:
                    self.skipped.append(f"{relative} (not a regular file)")
            if len(found) > MAX_DOWNLOAD_MEMBERS:
                raise NotADownload(f"{self.path} holds more than {MAX_DOWNLOAD_MEMBERS} files: not an LMS download")
        return sorted(found, key=lambda m: m.path)

    def close(self) -> None:
        """Close the zip file, if the download is one."""
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def __enter__(self) -> Download:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class OpenedZip:
    """A student's zip file, opened one level deep: its members, or why it was not opened."""

    members: list[Member] = field(default_factory=list)
    refused: str = ""
    """Empty if opened; else ``too-large`` or ``unreadable``."""
    reason: str = ""
    archive: zipfile.ZipFile | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close the zip file (its members cannot be read afterwards)."""
        if self.archive is not None:
            self.archive.close()
            self.archive = None


def open_zip(member: Member, copy: Path, *, upload_bytes: int, max_members: int) -> OpenedZip:
    """Open the zip file ``member`` (a student's upload) without unpacking it.

    It is copied to ``copy`` (at most ``upload_bytes``) and its listing
    checked before anything inside is read: more than ``max_members`` files,
    or more than ``upload_bytes`` in all once decompressed, and it is
    refused (``too-large``); a damaged or encrypted one is ``unreadable``.
    The members' paths start with the zip's own name and ``/``. The caller
    reads what it wants, then calls :meth:`OpenedZip.close` and deletes ``copy``.
    """
    copy = Path(copy)
    copy.parent.mkdir(parents=True, exist_ok=True)
    try:
        copy_capped(member, copy, upload_bytes)
    except TooLarge:
        return OpenedZip(refused="too-large", reason=f"it is larger than {human(upload_bytes)}")
    except READ_ERRORS as error:
        return OpenedZip(refused="unreadable", reason=f"it could not be read ({why(error)})")
    try:
        archive = zipfile.ZipFile(copy)
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except READ_ERRORS as error:
        return OpenedZip(refused="unreadable", reason=f"it is not a zip file that can be read ({why(error)})")
    total = sum(i.file_size for i in infos)
    if len(infos) > max_members:
        archive.close()
        return OpenedZip(refused="too-large", reason=f"it holds {len(infos)} files (the limit is {max_members})")
    if total > upload_bytes:
        archive.close()
        return OpenedZip(
            refused="too-large",
            reason=f"it holds {human(total)} once unpacked (the limit is {human(upload_bytes)} per upload)",
        )
    return OpenedZip(members=_zip_members(archive, prefix=member.name + "/"), archive=archive)


def why(error: BaseException) -> str:
    """``error`` in one short line: its type and first line."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def human(size: int) -> str:
    """``size`` bytes in words: ``2.2 GiB``, ``64 MiB``, ``512 bytes``."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.1f} {unit}" if value < 10 and value != int(value) else f"{value:.0f} {unit}"
    return f"{size} bytes"


def remove_tree(path: Path) -> None:
    """Delete ``path`` and everything in it, read-only files included."""

    def make_writable(function, name, _):
        os.chmod(name, stat.S_IRWXU)
        function(name)

    if Path(path).exists():
        shutil.rmtree(path, onerror=make_writable)
