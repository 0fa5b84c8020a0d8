"""How fast the same image goes into, and comes out of, every kind of store.

Notebook 09 writes one image, uncompressed and cut into the same chunks, to
each backend (memory, a local directory, a zip file, an S3 bucket on the
local S3 server) and reads it back; an HTTP server can only be read, so it
serves a directory copy. Next to them :func:`raw_disk` writes and reads the
same number of bytes as one plain file: the speed the disk itself gives,
with no Zarr, no chunks and no protocol (and, as a second row, the same file
through the operating system's page cache only, which is where the stores'
bytes go). :func:`throughput_table` shows every backend as a ratio of the
disk; :func:`plot_throughput` draws it.

Everything is sized by the caller: the notebook uses a small image so it
runs in seconds; pass a bigger one (and more ``repeats``) for steadier
numbers. Compression is off by default (``compressors=None``) so the
figures measure the storage, not a codec.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from zarr.abc.store import Store

MiB = 2**20
REFERENCE = "raw disk"
"""Name of the reference row: one plain file written to and read from the device."""
CACHED_FILE = "raw file, cached"
"""Name of the row of one plain file that only goes through the page cache."""

DEFAULT_SHAPE = (1024, 2048)
"""Image shape the notebook benchmarks (4 MiB of uint16, 32 chunks): seconds, not minutes."""
DEFAULT_CHUNKS = (256, 256)
"""Chunk shape of every store in the benchmark (128 KiB chunks of uint16)."""
DEFAULT_REPEATS = 3
"""Each measurement is the best of this many runs."""


@dataclass(frozen=True)
class Throughput:
    """One backend's best write and read times for ``nbytes`` of image.

    ``write_seconds`` is None for a read-only backend (HTTP).
    """

    backend: str
    nbytes: int
    write_seconds: float | None
    read_seconds: float
    note: str = ""

    @property
    def write_mib_s(self) -> float | None:
        """MiB written per second (None if the backend cannot be written)."""
        return None if self.write_seconds is None else self.nbytes / MiB / self.write_seconds

    @property
    def read_mib_s(self) -> float:
        """MiB read per second."""
        return self.nbytes / MiB / self.read_seconds


@dataclass
class Backend:
    """How to reach one kind of store for the benchmark.

    ``open_write()`` returns an empty store ready to be written (it clears
    what the previous run left), ``open_read()`` a store holding what was
    written, to read. ``read_only`` backends are filled once through
    ``fill(image_store_writer)`` and never timed for writing. ``close()``
    runs after the backend's measurements.
    """

    name: str
    open_write: Callable[[], Store] | None
    open_read: Callable[[], Store]
    note: str = ""
    fill: Callable[[Callable[[Store], None]], None] | None = None
    close: Callable[[], None] = field(default=lambda: None)


def raw_disk(nbytes: int, directory: str | os.PathLike, *, repeats: int = DEFAULT_REPEATS, device: bool = True) -> Throughput:
    """Write then read ``nbytes`` as one plain file in ``directory``, best of ``repeats``.

    The physical reference: one sequential ``write`` and one ``read`` of as
    many bytes as the image, with no Zarr, no chunks and no protocol.

    With ``device`` (the default) the write waits until the bytes are on
    the storage device (``fsync``) and the file is then dropped from the
    operating system's page cache, so the read comes from the device too:
    the speed of the disk itself (row :data:`REFERENCE`). Where the OS
    cannot drop a file from its cache (no ``posix_fadvise``), the read comes
    from memory and the note says so. Without ``device``, neither happens:
    the bytes only go through the page cache, as the stores' do (row
    :data:`CACHED_FILE`).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = np.random.default_rng(0).integers(0, 256, nbytes, dtype=np.uint8).tobytes()
    path = directory / "raw-disk-reference.bin"
    can_drop = device and hasattr(os, "posix_fadvise")

    def write() -> None:
        with open(path, "wb") as out:
            out.write(payload)
            if device:
                out.flush()
                os.fsync(out.fileno())
            if can_drop:
                os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def read() -> None:
        with open(path, "rb") as source:
            if len(source.read()) != nbytes:
                raise OSError(f"{path} did not give back {nbytes} bytes")

    best_write, best_read = _best_pair(write, read, repeats, before=lambda: path.unlink(missing_ok=True))
    path.unlink(missing_ok=True)
    if not device:
        return Throughput(CACHED_FILE, nbytes, best_write, best_read, "one file, OS page cache")
    note = "one file, fsync, read from the device" if can_drop else "one file, fsync, read from the page cache"
    return Throughput(REFERENCE, nbytes, best_write, best_read, note)


def _best_pair(write: Callable[[], object], read: Callable[[], object], repeats: int, before: Callable[[], object] | None = None) -> tuple[float, float]:
    """Best write and best read time over ``repeats`` rounds of write-then-read."""
    best_write = best_read = float("inf")
    for _ in range(max(1, repeats)):
        if before is not None:
            before()
        start = time.perf_counter()
        write()
        best_write = min(best_write, time.perf_counter() - start)
        start = time.perf_counter()
        read()
        best_read = min(best_read, time.perf_counter() - start)
    return best_write, best_read


def write_image(store: Store, image: np.ndarray, chunks: Sequence[int], compressors: Any = None) -> None:
    """Write ``image`` as a Zarr v3 array at the root of ``store`` (replacing what is there)."""
    array = zarr.create_array(
        store, shape=image.shape, chunks=tuple(chunks), dtype=image.dtype,
        compressors=compressors, overwrite=True,
    )
    array[...] = image


def read_image(store: Store) -> np.ndarray:
    """Read the whole array at the root of ``store``."""
    return zarr.open_array(store, mode="r")[...]


def measure_backend(backend: Backend, image: np.ndarray, chunks: Sequence[int], *, repeats: int = DEFAULT_REPEATS, compressors: Any = None) -> Throughput:
    """Best write and read times of ``image`` through ``backend``; checks what comes back."""
    def write() -> None:
        write_image(backend.open_write(), image, chunks, compressors)

    def read() -> None:
        if not np.array_equal(read_image(backend.open_read()), image):
            raise AssertionError(f"{backend.name} did not give back the image it was given")

    try:
        if backend.open_write is None:
            if backend.fill is not None:
                backend.fill(lambda store: write_image(store, image, chunks, compressors))
            read_seconds = min(_timed(read) for _ in range(max(1, repeats)))
            return Throughput(backend.name, image.nbytes, None, read_seconds, backend.note)
        write_seconds, read_seconds = _best_pair(write, read, repeats)
        return Throughput(backend.name, image.nbytes, write_seconds, read_seconds, backend.note)
    finally:
        backend.close()


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


# --------------------------------------------------------------------------
# The backends
# --------------------------------------------------------------------------


def memory_backend() -> Backend:
    """A ``MemoryStore``: a Python dict, no disk, no network."""
    keys: dict = {}

    def open_write() -> Store:
        keys.clear()
        return zarr.storage.MemoryStore(keys)

    return Backend("memory", open_write, lambda: zarr.storage.MemoryStore(keys, read_only=True), "dict in RAM")


def directory_backend(path: str | os.PathLike) -> Backend:
    """A ``LocalStore``: one file per chunk under ``path``."""
    path = Path(path)

    def open_write() -> Store:
        shutil.rmtree(path, ignore_errors=True)
        return zarr.storage.LocalStore(path)

    return Backend(
        "directory", open_write, lambda: zarr.storage.LocalStore(path, read_only=True),
        "one file per chunk", close=lambda: shutil.rmtree(path, ignore_errors=True),
    )


def zip_backend(path: str | os.PathLike) -> Backend:
    """A ``ZipStore``: every chunk a member of one zip file (stored, not deflated)."""
    path = Path(path)
    opened: list[zarr.storage.ZipStore] = []

    def close_all() -> None:
        while opened:
            opened.pop().close()

    def open_write() -> Store:
        close_all()
        path.unlink(missing_ok=True)
        store = zarr.storage.ZipStore(path, mode="w")
        opened.append(store)
        return store

    def open_read() -> Store:
        close_all()  # the writer must be closed for the zip's directory to be written
        store = zarr.storage.ZipStore(path, mode="r", read_only=True)
        opened.append(store)
        return store

    def close() -> None:
        close_all()
        path.unlink(missing_ok=True)

    return Backend("zip", open_write, open_read, "one file, many members", close=close)


def fsspec_backend(
    name: str,
    url: str,
    storage_options: Mapping[str, Any] | None = None,
    *,
    note: str = "",
    clear: Callable[[], None] | None = None,
) -> Backend:
    """A store at fsspec ``url`` (for example ``s3://bucket/prefix``), written and read.

    ``clear()`` empties the location before each write (default: remove
    everything under ``url`` with fsspec).
    """
    options = dict(storage_options or {})

    def open_store(read_only: bool) -> Store:
        return zarr.storage.FsspecStore.from_url(url, storage_options=options, read_only=read_only)

    def remove_all() -> None:
        import fsspec

        fs, root = fsspec.core.url_to_fs(url, **options)
        fs.invalidate_cache()  # never trust a listing cached before the last write
        if fs.exists(root):
            fs.rm(root, recursive=True)
        fs.invalidate_cache()

    wipe = clear or remove_all

    def open_write() -> Store:
        wipe()
        return open_store(False)

    return Backend(name, open_write, lambda: open_store(True), note, close=wipe)


def http_backend(url: str, served_directory: str | os.PathLike, *, note: str = "read only") -> Backend:
    """Read over HTTP a store that is written, untimed, into ``served_directory``.

    ``url`` is the HTTP address at which the server publishes that directory.
    """
    served_directory = Path(served_directory)

    def fill(write: Callable[[Store], None]) -> None:
        shutil.rmtree(served_directory, ignore_errors=True)
        write(zarr.storage.LocalStore(served_directory))

    return Backend(
        "HTTP", None,
        lambda: zarr.storage.FsspecStore.from_url(url, read_only=True),
        note, fill=fill, close=lambda: shutil.rmtree(served_directory, ignore_errors=True),
    )


def run(
    image: np.ndarray,
    backends: Sequence[Backend],
    *,
    chunks: Sequence[int] = DEFAULT_CHUNKS,
    repeats: int = DEFAULT_REPEATS,
    workdir: str | os.PathLike | None = None,
    compressors: Any = None,
) -> list[Throughput]:
    """Both :func:`raw_disk` rows for the image's byte count, then every backend, in order."""
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        results = [
            raw_disk(image.nbytes, scratch, repeats=repeats),
            raw_disk(image.nbytes, scratch, repeats=repeats, device=False),
        ]
    for backend in backends:
        results.append(measure_backend(backend, image, chunks, repeats=repeats, compressors=compressors))
    return results


# --------------------------------------------------------------------------
# Showing the results
# --------------------------------------------------------------------------


def reference(results: Sequence[Throughput]) -> Throughput:
    """The :data:`REFERENCE` row of ``results``."""
    for result in results:
        if result.backend == REFERENCE:
            return result
    raise ValueError(f"no {REFERENCE!r} row among the results")


def ratios(results: Sequence[Throughput]) -> dict[str, dict[str, float | None]]:
    """Each backend's write and read speed as a fraction of the raw disk's."""
    ref = reference(results)
    return {
        r.backend: {
            "write": None if r.write_mib_s is None else r.write_mib_s / ref.write_mib_s,
            "read": r.read_mib_s / ref.read_mib_s,
        }
        for r in results
    }


def throughput_table(results: Sequence[Throughput], title: str | None = None):
    """A rich table: MiB/s written and read, and the ratio to the raw disk."""
    from rich import box
    from rich.table import Table

    shares = ratios(results)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("backend", "write MiB/s", "× raw disk", "read MiB/s", "× raw disk", "what it is"):
        table.add_column(column, justify="left" if column in ("backend", "what it is") else "right")
    for r in results:
        share = shares[r.backend]
        table.add_row(
            r.backend,
            "-" if r.write_mib_s is None else f"{r.write_mib_s:,.0f}",
            "-" if share["write"] is None else f"{share['write']:.2f}",
            f"{r.read_mib_s:,.0f}",
            f"{share['read']:.2f}",
            r.note,
        )
    return table


def plot_throughput(results: Sequence[Throughput], ax=None):
    """Bars of write and read MiB/s per backend, log scale; returns the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 3.6), layout="constrained")
    else:
        fig = ax.figure
    names = [r.backend for r in results]
    positions = np.arange(len(results))
    width = 0.38
    writes = [np.nan if r.write_mib_s is None else r.write_mib_s for r in results]
    reads = [r.read_mib_s for r in results]
    ax.bar(positions - width / 2, writes, width, label="write", color="#4c72b0")
    ax.bar(positions + width / 2, reads, width, label="read", color="#dd8452")
    ref = reference(results)
    ax.axhline(ref.read_mib_s, color="#dd8452", linestyle=":", linewidth=1)
    ax.axhline(ref.write_mib_s, color="#4c72b0", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    for x, r in zip(positions, results):
        if r.write_mib_s is None:  # x in data units, y in axes units: just above the axis
            ax.text(x - width / 2, 0.02, "read\nonly", ha="center", va="bottom", fontsize=7,
                    color="#4c72b0", transform=ax.get_xaxis_transform())
    ax.set_xticks(positions, names)
    ax.set_ylabel("MiB/s (log scale)")
    size = results[0].nbytes / MiB
    ax.set_title(f"Writing and reading the same {size:.0f} MiB image (dotted: raw disk)")
    ax.legend(loc="upper right")
    return fig
