"""Every read a Zarr store passes to its server, written down on the reader's side.

The local servers count requests themselves (``server.measure()``), but a
public server such as the IDR's tells nobody. :class:`ReadCounter` counts on
the client instead, so the same cells measure the real URL online and the
stand-in offline. It wraps a zarr :class:`~zarr.storage.FsspecStore`; over
HTTP each ``get`` of that store is one ``GET`` request, for a whole object
or, with a byte range, a ``Range: bytes=...`` part of it (answered ``206``);
a missing key is a ``404``. So the reads it logs are the requests the server
answers (``tests/test_store_reads.py`` checks this against the local
server's own log)::

    reads = ReadCounter()
    group = zarr.open_group(reads.store(url), mode="r")
    with reads.measure() as cost:
        group["0"][1, 117]
    cost.requests, cost.bytes, cost.index_reads, cost.chunk_reads

Offline, pass the local server (``ReadCounter(server=site)``): each
measurement then also takes the server's own count, and its summary says
whether the two agree.

:class:`RecordingStore` is the wrapper underneath; on its own it records the
reads of any Zarr store (a local directory store, for instance, to show what
a reader fetches from a shard).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.jupyter import JupyterMixin
from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.storage import FsspecStore, WrapperStore

__all__ = ["Read", "ReadCost", "ReadCounter", "RecordingStore", "reads_table"]


@dataclass(frozen=True)
class Read:
    """One read: the key (under the store's root), what part of it, and the bytes that came back.

    ``part`` is ``"whole"``, ``"last N"`` (the final N bytes: where a shard
    keeps its index) or ``"start-end"`` (bytes ``start`` to ``end - 1``).
    ``found`` is False for a key the server does not have (``bytes`` is 0).
    """

    key: str
    part: str
    bytes: int
    found: bool
    started: float
    seconds: float

    @property
    def ranged(self) -> bool:
        """Whether the read asked for part of an object (an HTTP range request)."""
        return self.part != "whole"

    def __str__(self) -> str:
        if self.part == "whole" or self.part.startswith("last"):
            asked = self.part if self.part == "whole" else f"{self.part} bytes"
        else:
            asked = f"bytes {self.part}"
        got = f"{self.bytes:,} bytes" if self.found else "missing"
        return f"{self.key:16} {asked:26} {got}"


@dataclass
class ReadCost(JupyterMixin):
    """The reads of one measurement: each :class:`Read`, and their totals."""

    reads: list[Read] = field(default_factory=list)
    seconds: float = 0.0
    server_requests: int | None = None

    @property
    def requests(self) -> int:
        """Number of reads, that is, of HTTP requests."""
        return len(self.reads)

    @property
    def bytes(self) -> int:
        """Bytes downloaded (response bodies of the keys that were found)."""
        return sum(read.bytes for read in self.reads)

    @property
    def not_found(self) -> int:
        """Reads of keys that do not exist (answered 404)."""
        return sum(not read.found for read in self.reads)

    @property
    def index_reads(self) -> int:
        """Reads of the last bytes of an object: how zarr fetches a shard's index."""
        return sum(read.part.startswith("last") for read in self.reads)

    @property
    def chunk_reads(self) -> int:
        """Reads of a byte range inside an object: one inner chunk of a shard each."""
        return sum(read.ranged and not read.part.startswith("last") for read in self.reads)

    @property
    def whole_reads(self) -> int:
        """Reads of whole objects (a metadata document, a chunk object, or a whole shard)."""
        return sum(not read.ranged for read in self.reads)

    @property
    def max_in_flight(self) -> int:
        """The most reads that were waiting for the server at the same time."""
        events = sorted(
            [(r.started, 1) for r in self.reads] + [(r.started + r.seconds, -1) for r in self.reads],
            key=lambda event: (event[0], event[1]),
        )
        busiest = current = 0
        for _, step in events:
            current += step
            busiest = max(busiest, current)
        return busiest

    def __str__(self) -> str:
        text = f"{self.requests} requests, {self.bytes:,} bytes downloaded"
        if self.server_requests is not None:
            agree = "the same" if self.server_requests == self.requests else "DIFFERENT"
            text += f" (the local server counted {self.server_requests}: {agree})"
        return text

    def __rich__(self) -> Any:
        from rich import box
        from rich.table import Table

        table = Table(title=str(self), title_justify="left", box=box.SIMPLE_HEAD)
        for name, justify in (("key", "left"), ("part", "left"), ("bytes", "right")):
            table.add_column(name, justify=justify)
        shown = self.reads if len(self.reads) <= 12 else self.reads[:6] + self.reads[-6:]
        for index, read in enumerate(shown):
            if len(self.reads) > 12 and index == 6:
                table.add_row("...", f"({len(self.reads) - 12} more)", "")
            table.add_row(read.key, read.part, f"{read.bytes:,}" if read.found else "not found")
        return table


def _part(byte_range: Any) -> str:
    if byte_range is None:
        return "whole"
    if isinstance(byte_range, RangeByteRequest):
        return f"{byte_range.start}-{byte_range.end}"
    if isinstance(byte_range, SuffixByteRequest):
        return f"last {byte_range.suffix}"
    if isinstance(byte_range, OffsetByteRequest):
        return f"{byte_range.offset}-"
    return str(byte_range)


class RecordingStore(WrapperStore):
    """A Zarr store that passes everything to ``store`` and records each read in :attr:`reads`.

    ``RecordingStore(zarr.storage.LocalStore(path, read_only=True))`` opens
    like any store; after a read, :attr:`reads` lists one :class:`Read` per
    ``get``, in order (clear it between experiments). A ranged
    ``get_partial_values`` is recorded as one read per range, as an HTTP
    store sends one request per range. Copies zarr makes of the store
    (read-only views) share the list. ``on_read`` is also called with each
    :class:`Read` (how :class:`ReadCounter` collects them).
    """

    def __init__(self, store: Any, reads: list[Read] | None = None,
                 on_read: Callable[[Read], None] | None = None) -> None:
        super().__init__(store)
        self.reads: list[Read] = [] if reads is None else reads
        self._on_read = on_read

    def _with_store(self, store: Any) -> RecordingStore:
        return type(self)(store, self.reads, self._on_read)

    async def get(self, key: str, prototype: Any, byte_range: Any = None) -> Any:
        started = time.perf_counter()
        buffer = await self._store.get(key, prototype, byte_range)
        read = Read(
            key=key, part=_part(byte_range), bytes=0 if buffer is None else len(buffer),
            found=buffer is not None, started=started, seconds=time.perf_counter() - started,
        )
        self.reads.append(read)
        if self._on_read is not None:
            self._on_read(read)
        return buffer

    async def get_partial_values(self, prototype: Any, key_ranges: Any) -> list:
        # Read each range through get(), so that each is recorded as the request it is.
        return list(await asyncio.gather(*(self.get(key, prototype, rng) for key, rng in key_ranges)))

    def __repr__(self) -> str:
        return f"RecordingStore({self._store!r}, {len(self.reads)} reads)"


class ReadCounter:
    """Counts the reads of every store it made with :meth:`store` (see the module docstring).

    ``server`` is a local server whose own count each measurement also takes
    (None online, where nobody else counts).
    """

    def __init__(self, server: Any = None) -> None:
        self.server = server
        self._open: list[list[Read]] = []

    def store(self, url: str, **storage_options: Any) -> WrapperStore:
        """A read-only zarr store of ``url`` whose reads are counted."""
        store = FsspecStore.from_url(url, storage_options=storage_options, read_only=True)
        return RecordingStore(store, on_read=self._log)

    def _log(self, read: Read) -> None:
        for log in self._open:
            log.append(read)

    @contextlib.contextmanager
    def measure(self) -> Iterator[ReadCost]:
        """``with counter.measure() as cost:`` counts the reads made inside the block."""
        cost = ReadCost()
        log: list[Read] = []
        self._open.append(log)
        server = self.server.measure() if self.server is not None else contextlib.nullcontext()
        served = None
        start = time.perf_counter()
        try:
            with server as served:
                yield cost
        finally:
            self._open.remove(log)
            cost.reads = sorted(log, key=lambda read: read.started)
            cost.seconds = time.perf_counter() - start
            if served is not None:
                cost.server_requests = served.requests


def reads_table(costs: Mapping[str, ReadCost], title: str | None = None) -> Any:
    """A rich table with one row per measurement: requests of each kind, bytes, most at once."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("read", min_width=16)
    for name in ("requests", "whole objects", "shard indexes", "inner chunks", "bytes downloaded", "most at once"):
        table.add_column(name, justify="right", no_wrap=True)
    for name, cost in costs.items():
        table.add_row(
            name, f"{cost.requests:,}", f"{cost.whole_reads:,}", f"{cost.index_reads:,}",
            f"{cost.chunk_reads:,}", f"{cost.bytes:,}", f"{cost.max_in_flight:,}",
        )
    return table
