"""A slower network, inside the local servers: latency per request and a bandwidth cap.

On loopback every request is answered in well under a millisecond, so a
lesson could count requests but not show what they cost in time. The local
servers can behave like a distant object store instead. :class:`Network`
holds the settings and :class:`SlowNetwork`, a WSGI middleware in the server
process, applies them to every request of every client (s3fs, obstore,
zarr, ``requests``, a web viewer)::

    with LocalS3Server(latency_ms=80) as s3:          # from the start
        with s3.conditions(latency_ms=20):            # for a while
            ...

What is modelled
----------------
- **Latency: the time to first byte.** Each request waits ``latency_ms``
  (plus a random extra between 0 and ``jitter_ms``) before the server starts
  answering it: a client sees its first response byte that much later. This
  stands for the round trip to a distant data centre and the service's own
  first-byte time. Requests are answered by threads of their own, so
  requests sent at the same time wait *at the same time*: ten concurrent
  requests take about one latency, ten requests one after another take ten.
  The time to open a TCP or TLS connection is not modelled (clients reuse
  their connections).
- **Bandwidth: one shared link per direction.** ``bandwidth_mbps`` (megabits
  per second, 10**6 bits) caps the bytes per second of the server as a whole,
  downloads (response bodies) and uploads (request bodies) separately: it
  stands for the reader's own connection. Concurrent transfers share it, as
  they share a home or campus link, so concurrency hides latency but never
  beats the bandwidth. ``None`` (the default) means no cap.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["Network", "SlowNetwork"]

#: Largest block sent at once under a bandwidth cap: concurrent transfers interleave at this grain.
BLOCK_BYTES = 16 * 1024


@dataclass(frozen=True)
class Network:
    """Network conditions of a local server (see the module docstring for what is modelled).

    ``latency_ms``: milliseconds every request waits before it is answered;
    ``jitter_ms``: up to this many milliseconds more, at random, per request;
    ``bandwidth_mbps``: megabits per second shared by all transfers in one
    direction, or ``None`` for no cap.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    bandwidth_mbps: float | None = None

    def __post_init__(self) -> None:
        for name in ("latency_ms", "jitter_ms"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
                raise ValueError(f"{name} should be a number of milliseconds >= 0, not {value!r}")
            object.__setattr__(self, name, float(value))
        if self.bandwidth_mbps is not None:
            value = self.bandwidth_mbps
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"bandwidth_mbps should be a number of megabits per second > 0, or None, not {value!r}")
            object.__setattr__(self, "bandwidth_mbps", float(value))

    @property
    def bytes_per_second(self) -> float | None:
        """The bandwidth cap in bytes per second, or None."""
        return None if self.bandwidth_mbps is None else self.bandwidth_mbps * 1e6 / 8

    @property
    def is_direct(self) -> bool:
        """True when nothing is slowed down (no latency, no jitter, no cap)."""
        return self.latency_ms == 0 and self.jitter_ms == 0 and self.bandwidth_mbps is None

    def replace(self, **changes: Any) -> Network:
        """A copy with some settings changed (unknown names raise TypeError)."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    def __str__(self) -> str:
        if self.is_direct:
            return "no added latency, no bandwidth cap"
        latency = f"{self.latency_ms:g} ms latency per request"
        if self.jitter_ms:
            latency += f" (+ up to {self.jitter_ms:g} ms at random)"
        cap = "no bandwidth cap" if self.bandwidth_mbps is None else f"{self.bandwidth_mbps:g} Mbit/s shared"
        return f"{latency}, {cap}"


class _Link:
    """A link of fixed rate shared by every transfer in one direction.

    Blocks are sent one after another in the order they ask: each reserves
    the next free slot of ``len(block) / rate`` seconds and waits until its
    slot has passed. An idle link keeps no credit: a burst after a pause is
    paced like any other.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free_at = 0.0

    def transmit(self, n_bytes: int, bytes_per_second: float) -> None:
        """Wait until ``n_bytes`` have crossed the link."""
        with self._lock:
            start = max(time.monotonic(), self._free_at)
            self._free_at = start + n_bytes / bytes_per_second
            done = self._free_at
        delay = done - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class _PacedBody:
    """A response body let through no faster than the down link allows."""

    def __init__(self, body: Iterable[bytes], link: _Link, rate: Callable[[], float | None]) -> None:
        self._body = body
        self._link = link
        self._rate = rate

    def __iter__(self) -> Iterator[bytes]:
        for block in self._body:
            if self._rate() is None:
                yield block
                continue
            for start in range(0, len(block), BLOCK_BYTES):
                piece = block[start:start + BLOCK_BYTES]
                rate = self._rate()
                if rate is not None:
                    self._link.transmit(len(piece), rate)
                yield piece

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


class _PacedInput:
    """``wsgi.input`` read no faster than the up link allows."""

    def __init__(self, stream: Any, link: _Link, rate: Callable[[], float | None]) -> None:
        self._stream = stream
        self._link = link
        self._rate = rate

    def _paced(self, data: bytes) -> bytes:
        rate = self._rate()
        if rate is not None and data:
            self._link.transmit(len(data), rate)
        return data

    def read(self, *args: Any) -> bytes:
        return self._paced(self._stream.read(*args))

    def readinto(self, buffer: Any) -> int | None:
        n = self._stream.readinto(buffer)
        rate = self._rate()
        if rate is not None and n:
            self._link.transmit(n, rate)
        return n

    def readline(self, *args: Any) -> bytes:
        return self._paced(self._stream.readline(*args))

    def readlines(self, *args: Any) -> list[bytes]:
        return [self._paced(line) for line in self._stream.readlines(*args)]

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            yield self._paced(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class SlowNetwork:
    """WSGI middleware: every request waits the latency, every body keeps to the bandwidth.

    ``network`` may be changed while the server runs (assign a new
    :class:`Network` to :attr:`network`); a request uses the settings of the
    moment it arrives for its latency, and those of each moment for its pace.
    """

    def __init__(self, app: Callable, network: Network | None = None, *, seed: int | None = None) -> None:
        self.app = app
        self._network = network or Network()
        self._random = random.Random(seed)
        self._random_lock = threading.Lock()
        self._down = _Link()
        self._up = _Link()

    @property
    def network(self) -> Network:
        """The conditions applied now."""
        return self._network

    @network.setter
    def network(self, value: Network) -> None:
        if not isinstance(value, Network):
            raise TypeError(f"expected a Network, not {type(value).__name__}")
        self._network = value  # one reference assignment: atomic for the request threads

    def _rate(self) -> float | None:
        return self._network.bytes_per_second

    def _delay(self, network: Network) -> float:
        extra = 0.0
        if network.jitter_ms:
            with self._random_lock:
                extra = self._random.uniform(0, network.jitter_ms)
        return (network.latency_ms + extra) / 1000

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        network = self._network
        if "wsgi.input" in environ:
            environ["wsgi.input"] = _PacedInput(environ["wsgi.input"], self._up, self._rate)
        delay = self._delay(network)
        if delay > 0:
            time.sleep(delay)  # the time to first byte
        return _PacedBody(self.app(environ, start_response), self._down, self._rate)
