"""Serve from the command line until Ctrl-C: ``course-utils serve-s3`` and ``serve-http``.

Both print where the server is and how to use it, then one line per request
as it is served (unless ``quiet``), and the totals when stopped. With
``--latency-ms``, ``--jitter-ms`` or ``--bandwidth-mbps`` the server answers
like a distant one (see :mod:`course_utils.servers.network`); while it runs,
a line typed on its standard input changes that:

    latency 80        every request waits 80 ms
    jitter 10         ... plus up to 10 ms at random
    bandwidth 50      50 Mbit/s shared by all downloads (and by all uploads)
    bandwidth off     no cap
    network           print the conditions in force
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

from course_utils.inspect import format_bytes
from course_utils.servers.http import LocalHTTPServer
from course_utils.servers.process import LocalServer
from course_utils.servers.s3 import LocalS3Server
from course_utils.servers.traffic import Request

__all__ = ["serve_http", "serve_s3"]

#: Seconds between two looks at the server's request log.
POLL_SECONDS = 0.5


#: Words a line typed while serving may start with, and the setting each changes.
NETWORK_COMMANDS = {"latency": "latency_ms", "jitter": "jitter_ms", "bandwidth": "bandwidth_mbps"}


def _line(request: Request) -> str:
    if request.method == "PUT":
        size = f"{format_bytes(request.uploaded)} uploaded"
    else:
        size = f"{format_bytes(request.downloaded)} downloaded"
    return f"{request.method:6} {request.target}  {request.status}  {size}"


def network_change(line: str) -> dict[str, Any] | None:
    """The settings a typed command changes: ``"latency 80"`` -> ``{"latency_ms": 80.0}``.

    ``"network"`` (show the conditions) gives ``{}``; a line that is not a
    command raises ValueError saying what is understood; a blank line gives None.
    """
    words = line.split()
    if not words:
        return None
    usage = "type: latency MS | jitter MS | bandwidth MBPS | bandwidth off | network"
    if words == ["network"]:
        return {}
    if len(words) != 2 or words[0] not in NETWORK_COMMANDS:
        raise ValueError(f"not understood: {line.strip()!r}; {usage}")
    name, value = NETWORK_COMMANDS[words[0]], words[1]
    if name == "bandwidth_mbps" and value.lower() in ("off", "none", "0"):
        return {name: None}
    try:
        return {name: float(value)}
    except ValueError:
        raise ValueError(f"not a number: {value!r}; {usage}") from None


def _read_commands(server: LocalServer, stream: IO[str]) -> None:
    """Thread: apply the network commands typed on ``stream`` until it ends."""
    for line in iter(stream.readline, ""):
        try:
            change = network_change(line)
            if change is None:
                continue
            network = server.set_network(**change) if change else server.network
        except (ValueError, TypeError) as error:
            print(f"network: {error}", flush=True)
            continue
        except Exception:  # noqa: BLE001 - the server stopped: nothing left to change
            return
        print(f"network      {network}", flush=True)


def _serve_until_interrupted(server: LocalServer, quiet: bool) -> None:
    # Ctrl-C and `kill` only set a flag: an exception raised in the middle of a
    # call to the server process would leave its answer unread on the pipe.
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):  # `kill` stops as cleanly as Ctrl-C
            signal.signal(signum, lambda signum, frame: stop.set())
    if sys.stdin is not None:
        threading.Thread(target=_read_commands, args=(server, sys.stdin), name="network-commands",
                         daemon=True).start()
    seq = 0

    def print_new_requests() -> None:
        nonlocal seq
        for request in server.requests_since(seq):
            seq = max(seq, int(request.seq))
            if not quiet:
                print(_line(request), flush=True)

    try:
        while not stop.wait(POLL_SECONDS):
            print_new_requests()
        print_new_requests()  # the last ones, so the summary below counts what was printed
    except KeyboardInterrupt:
        pass
    finally:
        if server.running:
            total = server.stats()
            print(f"\nstopped after {total.requests:,} request{'' if total.requests == 1 else 's'}, "
                  f"{format_bytes(total.bytes)} downloaded, {format_bytes(total.bytes_uploaded)} uploaded")
        server.stop()


def _print_network(server: LocalServer) -> None:
    print(f"network      {server.network}  (type e.g. `latency 80` + Enter to change it)")


def serve_s3(directory: str, *, bucket: str = "course", public: bool = False, port: int = 0,
             quiet: bool = False, latency_ms: float = 0.0, jitter_ms: float = 0.0,
             bandwidth_mbps: float | None = None) -> int:
    """Serve the files of ``directory`` from a local S3 bucket until Ctrl-C.

    ``latency_ms``, ``jitter_ms`` and ``bandwidth_mbps`` make it answer like
    a distant object store (see :mod:`course_utils.servers.network`).
    """
    source = Path(directory).resolve()
    if not source.is_dir():
        print(f"error: {directory} is not a directory")
        return 2
    try:
        server = LocalS3Server(bucket, public_buckets=[bucket] if public else [], port=port,
                               latency_ms=latency_ms, jitter_ms=jitter_ms, bandwidth_mbps=bandwidth_mbps)
    except ValueError as error:
        print(f"error: {error}")
        return 2
    with server:
        copied = server.upload(source, source.name)
        server.reset_stats()
        url = server.url(source.name)
        options = server.anonymous_storage_options if public else server.storage_options
        print(f"S3 endpoint  {server.endpoint_url}  (loopback only; dummy keys)")
        print(f"bucket       {bucket}{' (anonymous read allowed)' if public else ''}: "
              f"{copied['objects']:,} objects, {format_bytes(copied['bytes'])} copied from {source}")
        print(f"URL          {url}")
        print("Python       import zarr")
        print(f"             zarr.open_group({url!r}, mode='r',")
        print(f"                             storage_options={json.dumps(options)})")
        print(f"shell        export AWS_ENDPOINT_URL={server.endpoint_url} AWS_DEFAULT_REGION=us-east-1 "
              f"AWS_ACCESS_KEY_ID={server.storage_options['key']} "
              f"AWS_SECRET_ACCESS_KEY={server.storage_options['secret']}")
        print(f"             course-utils inspect {url}")
        _print_network(server)
        print("Changes live only in memory: they are lost when the server stops. Press Ctrl-C to stop.\n",
              flush=True)
        _serve_until_interrupted(server, quiet)
    return 0


def serve_http(directory: str, *, port: int = 0, quiet: bool = False, cors: bool = True,
               latency_ms: float = 0.0, jitter_ms: float = 0.0, bandwidth_mbps: float | None = None) -> int:
    """Serve ``directory`` read-only over HTTP (with range requests) until Ctrl-C.

    ``cors=False`` leaves out the CORS headers, so browsers block web viewers
    on other origins from reading it. ``latency_ms``, ``jitter_ms`` and
    ``bandwidth_mbps`` make it answer like a distant server (see
    :mod:`course_utils.servers.network`).
    """
    source = Path(directory).resolve()
    if not source.is_dir():
        print(f"error: {directory} is not a directory")
        return 2
    try:
        server = LocalHTTPServer(source, port=port, cors=cors, latency_ms=latency_ms, jitter_ms=jitter_ms,
                                 bandwidth_mbps=bandwidth_mbps)
    except ValueError as error:
        print(f"error: {error}")
        return 2
    with server:
        print(f"serving      {source}  (read-only, range requests, loopback only"
              f"{'' if cors else ', no CORS headers'})")
        print(f"URL          {server.url()}")
        stores = sorted(p.parent for name in (".zattrs", "zarr.json") for p in source.glob(f"*/{name}"))
        if (source / ".zattrs").is_file() or (source / "zarr.json").is_file():
            stores.insert(0, source)
        if stores:
            example = server.url(stores[0])
            print(f"try          ome_zarr info {example}")
            print(f"             course-utils inspect {example}")
        _print_network(server)
        print("Press Ctrl-C to stop.\n", flush=True)
        _serve_until_interrupted(server, quiet)
    return 0
