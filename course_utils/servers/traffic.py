"""What a server served: one :class:`Request` per HTTP request, summed in a :class:`Cost`.

Both local servers (:mod:`course_utils.servers.s3`, :mod:`course_utils.servers.http`)
wrap their web application in :class:`CountingMiddleware`, which writes down
every request it answers: method, path, status, and the body bytes the
client downloaded and uploaded. The server process keeps that log; the
notebook side gets it back as a :class:`Cost` from ``server.stats()`` or
``with server.measure() as cost:``.

Everything here is worded from the reader's side, as a student sees it:
bytes *downloaded* (response bodies) and *uploaded* (request bodies). The
older names ``Request.sent`` / ``Request.received`` and
``Cost.bytes_received`` still work.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.jupyter import JupyterMixin

__all__ = ["Cost", "CountingMiddleware", "Request", "RequestLog", "costs_table"]

#: The server process keeps at most this many requests in its log (totals stay exact).
MAX_LOGGED_REQUESTS = 200_000


@dataclass(frozen=True)
class Request:
    """One HTTP request as the server answered it.

    ``downloaded`` counts the response body bytes the client got (headers
    excluded; 0 for HEAD), ``uploaded`` the request body bytes (a PUT's
    object). ``query`` is the raw query string (S3 puts its operation
    there, e.g. ``list-type=2``).
    ``started`` is when the server began answering (seconds on the server's
    clock), ``seconds`` how long it took until the last byte, and
    ``first_byte`` how long until the answer began (the status line and
    headers): with a latency set on the server, at least that latency.
    """

    seq: int
    method: str
    path: str
    query: str
    status: int
    downloaded: int
    uploaded: int
    started: float
    seconds: float
    first_byte: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "downloaded": self.downloaded,
            "uploaded": self.uploaded,
            "started": self.started,
            "seconds": self.seconds,
            "first_byte": self.first_byte,
        }

    @property
    def sent(self) -> int:
        """Older name of :attr:`downloaded` (what the server sent)."""
        return self.downloaded

    @property
    def received(self) -> int:
        """Older name of :attr:`uploaded` (what the server received)."""
        return self.uploaded

    @property
    def target(self) -> str:
        """The path with its query string, as a client asked for it."""
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class Cost(JupyterMixin):
    """The requests a server answered during some operation, and their totals.

    ``requests`` is the number of requests, ``bytes`` the body bytes the
    client downloaded, ``bytes_uploaded`` the body bytes it uploaded
    (``bytes_received`` is an older name of it), ``seconds`` the wall time of
    the ``with server.measure()`` block (None for :meth:`stats`). Filled in
    when the block ends; ``log`` holds every :class:`Request`, in the order
    they arrived.
    """

    log: tuple[Request, ...] = ()
    seconds: float | None = None
    complete: bool = True
    _done: bool = field(default=False, repr=False)

    @property
    def requests(self) -> int:
        """Number of requests."""
        self._check_done()
        return len(self.log)

    @property
    def bytes(self) -> int:
        """Bytes downloaded: the response bodies."""
        self._check_done()
        return sum(r.downloaded for r in self.log)

    @property
    def bytes_uploaded(self) -> int:
        """Bytes uploaded: the request bodies (objects written)."""
        self._check_done()
        return sum(r.uploaded for r in self.log)

    @property
    def bytes_received(self) -> int:
        """Older name of :attr:`bytes_uploaded` (what the server received)."""
        return self.bytes_uploaded

    def by_method(self) -> dict[str, int]:
        """Number of requests per HTTP method, e.g. ``{"GET": 12, "HEAD": 1}``."""
        self._check_done()
        return dict(Counter(r.method for r in self.log))

    @property
    def max_in_flight(self) -> int:
        """The largest number of requests in flight at the same time: sent, and not yet answered.

        A request counts from its arrival to its first byte (the time it
        waits its latency), so requests a client sends one after another
        never overlap, even when the server is still closing one as the
        next arrives.
        """
        self._check_done()

        def answered(r: Request) -> float:
            return r.started + (r.first_byte if r.first_byte is not None else r.seconds)

        events = sorted(
            [(r.started, 1) for r in self.log] + [(answered(r), -1) for r in self.log],
            key=lambda event: (event[0], event[1]),  # an end before a start at the same instant
        )
        busiest = current = 0
        for _, step in events:
            current += step
            busiest = max(busiest, current)
        return busiest

    def by_status(self) -> dict[int, int]:
        """Number of requests per HTTP status, e.g. ``{200: 12, 404: 2}``."""
        self._check_done()
        return dict(Counter(r.status for r in self.log))

    def _check_done(self) -> None:
        if not self._done:
            raise RuntimeError("the measurement is not finished: read it after the `with` block")

    def _finish(self, log: Iterable[Request], seconds: float | None, complete: bool) -> None:
        self.log = tuple(sorted(log, key=lambda r: (r.started, r.seq)))  # in order of arrival
        self.seconds = seconds
        self.complete = complete
        self._done = True

    def __str__(self) -> str:
        if not self._done:
            return "Cost(measuring...)"
        text = f"{self.requests} request{'' if self.requests == 1 else 's'}, {self.bytes:,} bytes downloaded"
        if self.bytes_uploaded:
            text += f", {self.bytes_uploaded:,} bytes uploaded"
        if self.seconds is not None:
            text += f", {self.seconds:.3f} s"
        return text

    def __rich__(self) -> Any:
        from rich import box
        from rich.table import Table

        self._check_done()
        table = Table(title=str(self), title_justify="left", box=box.SIMPLE_HEAD)
        for name, justify in (
            ("method", "left"), ("path", "left"), ("status", "right"),
            ("downloaded", "right"), ("uploaded", "right"),
        ):
            table.add_column(name, justify=justify, overflow="fold")
        shown = self.log if len(self.log) <= 20 else self.log[:10] + self.log[-10:]
        for index, request in enumerate(shown):
            if len(self.log) > 20 and index == 10:
                table.add_row("...", f"({len(self.log) - 20} more)", "", "", "")
            table.add_row(
                request.method, request.target, str(request.status),
                f"{request.downloaded:,}", f"{request.uploaded:,}",
            )
        return table


def _percent(part: int, whole: int | None) -> str:
    if not whole:
        return "-"
    share = 100 * part / whole
    return f"{share:.2f} %" if share < 10 else f"{share:.0f} %"


def _methods(cost: Cost) -> str:
    """``"32 GET, 13 HEAD, 69 PUT"``: requests per method, most common first."""
    counts = sorted(cost.by_method().items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{n} {method}" for method, n in counts) or "-"


def costs_table(costs: Mapping[str, Cost], *, store_bytes: int | None = None, title: str | None = None):
    """A rich table with one row per operation: requests, bytes and time.

    ``costs`` maps an operation's name to its measured :class:`Cost`. "bytes
    downloaded" are the response bodies, "bytes uploaded" the request bodies
    (shown when something was uploaded). The "not found" column
    (shown when there are any) counts requests answered 404: a client probing
    for a key that does not exist still pays a round trip. ``store_bytes`` (the size of everything in
    the store) adds the share of the store each operation downloaded.
    """
    from rich import box
    from rich.table import Table

    uploads = any(cost.bytes_uploaded for cost in costs.values())
    misses = any(404 in cost.by_status() for cost in costs.values())
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("operation", min_width=16)
    table.add_column("requests", justify="right", no_wrap=True)
    table.add_column("by method", no_wrap=True)
    if misses:
        table.add_column("not found", justify="right", no_wrap=True)
    table.add_column("bytes downloaded", justify="right", no_wrap=True)
    if store_bytes is not None:
        table.add_column("% of store", justify="right", no_wrap=True)
    if uploads:
        table.add_column("bytes uploaded", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    for name, cost in costs.items():
        row = [name, f"{cost.requests:,}", _methods(cost)]
        if misses:
            row.append(str(cost.by_status().get(404, 0)))
        row.append(f"{cost.bytes:,}")
        if store_bytes is not None:
            row.append(_percent(cost.bytes, store_bytes))
        if uploads:
            row.append(f"{cost.bytes_uploaded:,}")
        row.append("-" if cost.seconds is None else f"{cost.seconds * 1000:.0f} ms")
        table.add_row(*row)
    return table


# --------------------------------------------------------------------------
# The server side: a log of requests, filled by a WSGI middleware
# --------------------------------------------------------------------------


class RequestLog:
    """Thread-safe log of the requests a server answered, in the server process.

    Every request gets a sequence number; :meth:`since` returns the requests
    after a given number. :meth:`quiet` waits until no request is in flight,
    so a client that has just received its last response also finds that
    request in the log.
    """

    def __init__(self, maxlen: int = MAX_LOGGED_REQUESTS) -> None:
        self._lock = threading.Condition()
        self._log: deque[Request] = deque(maxlen=maxlen)
        self._seq = 0
        self._in_flight = 0

    def begin(self) -> None:
        """A request arrived."""
        with self._lock:
            self._in_flight += 1

    def end(self, **fields: Any) -> None:
        """A request was answered (or failed): log it."""
        with self._lock:
            self._seq += 1
            self._log.append(Request(seq=self._seq, **fields))
            self._in_flight -= 1
            self._lock.notify_all()

    def quiet(self, timeout: float) -> bool:
        """Wait until no request is in flight; False if that took longer than ``timeout``."""
        with self._lock:
            return self._lock.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    @property
    def seq(self) -> int:
        """Sequence number of the last logged request."""
        with self._lock:
            return self._seq

    def since(self, seq: int) -> tuple[list[Request], bool]:
        """Requests after number ``seq``, and whether none of them was dropped."""
        with self._lock:
            found = [r for r in self._log if r.seq > seq]
            oldest = self._log[0].seq if self._log else self._seq + 1
            return found, oldest <= seq + 1

    def clear(self) -> int:
        """Forget every request; returns the current sequence number."""
        with self._lock:
            self._log.clear()
            return self._seq


class _CountingInput:
    """Wraps ``wsgi.input`` and counts the bytes the application reads."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.count = 0

    def read(self, *args: Any) -> bytes:
        data = self._stream.read(*args)
        self.count += len(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data = self._stream.readline(*args)
        self.count += len(data)
        return data

    def readinto(self, buffer: Any) -> int | None:
        n = self._stream.readinto(buffer)
        self.count += n or 0
        return n

    def readlines(self, *args: Any) -> list[bytes]:
        lines = self._stream.readlines(*args)
        self.count += sum(len(line) for line in lines)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            self.count += len(line)
            yield line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _CountedBody:
    """The response body, passed through while its bytes are counted; logs on close."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[int], None], count: bool) -> None:
        self._body = body
        self._on_close = on_close
        self._count = count
        self._downloaded = 0

    def __iter__(self) -> Iterator[bytes]:
        for block in self._body:
            if self._count:
                self._downloaded += len(block)
            yield block

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close(self._downloaded)


class CountingMiddleware:
    """WSGI middleware that logs every request in a :class:`RequestLog`.

    A request is logged when its response body has been sent in full (or the
    application failed), with the bytes the client downloaded (the response
    body; none for HEAD) and uploaded (the request body).
    """

    def __init__(self, app: Callable, log: RequestLog) -> None:
        self.app = app
        self.log = log

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        start = time.monotonic()
        method = environ.get("REQUEST_METHOD", "GET")
        upload = _CountingInput(environ["wsgi.input"]) if "wsgi.input" in environ else None
        if upload is not None:
            environ["wsgi.input"] = upload
        status = [500]
        first_byte: list[float] = []

        def counting_start_response(status_line: str, headers: list, exc_info: Any = None):
            status[0] = int(status_line.split(None, 1)[0])
            if not first_byte:
                first_byte.append(time.monotonic() - start)
            return start_response(status_line, headers, exc_info)

        def finish(downloaded: int) -> None:
            try:
                declared = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            uploaded = max(declared, upload.count if upload is not None else 0)
            self.log.end(
                method=method,
                path=environ.get("PATH_INFO", ""),
                query=environ.get("QUERY_STRING", ""),
                status=status[0],
                downloaded=downloaded,
                uploaded=uploaded,
                started=start,
                seconds=time.monotonic() - start,
                first_byte=first_byte[0] if first_byte else None,
            )

        self.log.begin()
        try:
            body = self.app(environ, counting_start_response)
        except BaseException:
            finish(0)
            raise
        return _CountedBody(body, finish, count=method != "HEAD")
