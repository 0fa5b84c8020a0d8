"""Serve from the command line until Ctrl-C: ``course-utils serve-s3`` and ``serve-http``.

Both print where the server is and how to use it, then one line per request
as it is served (unless ``quiet``), and the totals when stopped.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

from course_utils.inspect import format_bytes
from course_utils.servers.http import LocalHTTPServer
from course_utils.servers.process import LocalServer
from course_utils.servers.s3 import LocalS3Server
from course_utils.servers.traffic import Request

__all__ = ["serve_http", "serve_s3"]

#: Seconds between two looks at the server's request log.
POLL_SECONDS = 0.5


def _line(request: Request) -> str:
    size = f"{format_bytes(request.sent)} sent" if request.method != "PUT" else f"{format_bytes(request.received)} received"
    return f"{request.method:6} {request.target}  {request.status}  {size}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve_until_interrupted(server: LocalServer, quiet: bool) -> None:
    seq = 0
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):  # `kill` stops as cleanly as Ctrl-C
            signal.signal(signum, _interrupt)
    try:
        while True:
            time.sleep(POLL_SECONDS)
            reply = server._call("since", seq=seq, quiet=0)
            for record in reply["requests"]:
                seq = max(seq, int(record["seq"]))
                if not quiet:
                    print(_line(Request(**record)), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        if server.running:
            total = server.stats()
            print(f"\nstopped after {total.requests:,} requests, {format_bytes(total.bytes)} sent, "
                  f"{format_bytes(total.bytes_received)} received")
        server.stop()


def serve_s3(directory: str, *, bucket: str = "course", public: bool = False, port: int = 0,
             quiet: bool = False) -> int:
    """Serve the files of ``directory`` from a local S3 bucket until Ctrl-C."""
    source = Path(directory).resolve()
    if not source.is_dir():
        print(f"error: {directory} is not a directory")
        return 2
    server = LocalS3Server(bucket, public_buckets=[bucket] if public else [], port=port)
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
        print("Changes live only in memory: they are lost when the server stops. Press Ctrl-C to stop.\n",
              flush=True)
        _serve_until_interrupted(server, quiet)
    return 0


def serve_http(directory: str, *, port: int = 0, quiet: bool = False, cors: bool = True) -> int:
    """Serve ``directory`` read-only over HTTP (with range requests) until Ctrl-C.

    ``cors=False`` leaves out the CORS headers, so browsers block web viewers
    on other origins from reading it.
    """
    source = Path(directory).resolve()
    if not source.is_dir():
        print(f"error: {directory} is not a directory")
        return 2
    server = LocalHTTPServer(source, port=port, cors=cors)
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
        print("Press Ctrl-C to stop.\n", flush=True)
        _serve_until_interrupted(server, quiet)
    return 0
