"""course_utils.servers: local S3 and HTTP servers that count what they serve, and always stop.

Also describing the stand-ins they serve offline (the stand-ins themselves
are tested in ``test_standins.py``), and the ``course-utils serve-s3`` /
``serve-http`` commands.
"""

from __future__ import annotations

import gc
import io
import json
import math
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ngff_zarr as nz
import numpy as np
import pytest
import requests
import zarr

from course_utils import standins
from course_utils.inspect import inspect_store
from course_utils.servers import (
    Cost,
    LocalHTTPServer,
    LocalS3Server,
    Network,
    ServerError,
    costs_table,
    is_listening,
)
from course_utils.servers.serve import network_change
from course_utils.servers.traffic import RequestLog
from course_utils.validate import validate_ome_zarr

REPO = Path(__file__).resolve().parents[1]


def _gone(pid: int, port: int, timeout: float = 10.0) -> bool:
    """True once process ``pid`` has exited and nothing listens on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        if not alive and not is_listening(port):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def s3():
    """One S3 server for the read/write tests of this module, with a public bucket."""
    with LocalS3Server(bucket="course", public_buckets=["public"]) as server:
        yield server


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A directory to serve: a 1 KiB file of known bytes and a sub-directory."""
    root = tmp_path_factory.mktemp("site")
    (root / "sub").mkdir()
    (root / "sub" / "data.bin").write_bytes(bytes(range(256)) * 4)
    (root / "hello.txt").write_text("hello\n")
    return root


@pytest.fixture(scope="module")
def web(site):
    with LocalHTTPServer(site) as server:
        yield server


@pytest.fixture(scope="module")
def data_dir(course_data):
    """The session's data cache, stand-ins built."""
    return course_data


# --------------------------------------------------------------------------
# Life cycle: start, stop, always stop
# --------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda d: LocalS3Server(), lambda d: LocalHTTPServer(d)], ids=["s3", "http"])
def test_server_listens_on_loopback_only_while_running(make, site):
    server = make(site)
    with server:
        assert server.running
        assert server.endpoint_url == f"http://127.0.0.1:{server.port}"
        assert is_listening(server.port)
        pid, port = server._process.pid, server.port
        with socket.socket() as probe:  # bound to 127.0.0.1, not to every interface
            probe.settimeout(0.5)
            local = probe.connect_ex(("127.0.0.1", port))
        assert local == 0
    assert not server.running
    assert _gone(pid, port)
    server.stop()  # a second stop is harmless


@pytest.mark.parametrize("make", [lambda d: LocalS3Server(), lambda d: LocalHTTPServer(d)], ids=["s3", "http"])
def test_server_stops_when_the_block_raises(make, site):
    server = make(site)
    with pytest.raises(ZeroDivisionError):
        with server:
            pid, port = server._process.pid, server.port
            1 / 0
    assert not server.running
    assert _gone(pid, port)


def test_start_and_stop_across_cells_and_restart(site):
    server = LocalHTTPServer(site).start()
    first = server.port
    assert requests.get(server.url("hello.txt"), timeout=5).text == "hello\n"
    server.stop()
    assert not is_listening(first)
    server.start()  # the same object can serve again, on a new free port
    try:
        assert requests.get(server.url("hello.txt"), timeout=5).status_code == 200
    finally:
        server.stop()


def test_starting_twice_is_refused(site):
    with LocalHTTPServer(site) as server:
        with pytest.raises(ServerError, match="already running"):
            server.start()


def test_a_named_server_started_again_replaces_the_first(site):
    """A notebook cell `web = LocalHTTPServer(..., name="lesson").start()` run twice keeps one server."""
    first = LocalHTTPServer(site, name="lesson").start()
    other = LocalHTTPServer(site, name="another lesson").start()
    unnamed = LocalHTTPServer(site).start()
    try:
        pid, port = first._process.pid, first.port
        second = LocalHTTPServer(site, name="lesson").start()
        try:
            assert _gone(pid, port) and not first.running
            assert second.running and other.running and unnamed.running
            assert requests.get(second.url("hello.txt"), timeout=5).text == "hello\n"
        finally:
            second.stop()
    finally:
        other.stop()
        unnamed.stop()


def test_a_forgotten_server_stops_when_garbage_collected(site):
    server = LocalHTTPServer(site).start()
    pid, port = server._process.pid, server.port
    del server
    gc.collect()
    assert _gone(pid, port)


def test_stopping_is_quick_with_many_connections_still_open(site):
    """A client that keeps its connections (zarr, ome_zarr download) must not slow the stop down.

    The child's stop must not wait for connection threads (it would wait up to
    ``STOP_TIMEOUT`` per stop, then terminate): measured 3 ms with these 120.
    """
    server = LocalHTTPServer(site).start()
    kept = []
    for _ in range(100):  # keep-alive connections, idle after one answer
        connection = socket.create_connection(("127.0.0.1", server.port))
        connection.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        kept.append(connection)
    for _ in range(20):  # half-sent requests
        connection = socket.create_connection(("127.0.0.1", server.port))
        connection.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
        kept.append(connection)
    start = time.perf_counter()
    server.stop()
    seconds = time.perf_counter() - start
    for connection in kept:
        connection.close()
    assert seconds < 2.0, f"stopping took {seconds:.1f} s with {len(kept)} connections open"


def test_servers_die_with_their_parent_process(tmp_path):
    """A kernel killed outright (restart, kill -9) leaves no server behind."""
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from course_utils.servers import LocalHTTPServer, LocalS3Server
        s3 = LocalS3Server().start()
        web = LocalHTTPServer({str(tmp_path)!r}).start()
        print(json.dumps([[s3._process.pid, s3.port], [web._process.pid, web.port]]), flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        children = json.loads(parent.stdout.readline())
        for _, port in children:
            assert is_listening(port)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    for pid, port in children:
        assert _gone(pid, port), f"server {pid} on port {port} outlived its parent"


def test_a_busy_port_is_reported(site):
    with LocalHTTPServer(site) as first:
        with pytest.raises(ServerError, match="Address already in use|could not start"):
            LocalHTTPServer(site, port=first.port).start()


def test_commands_to_a_stopped_server_explain(site):
    server = LocalHTTPServer(site)
    with pytest.raises(ServerError, match="not been started"):
        server.port
    with pytest.raises(ServerError, match="not running"):
        server.stats()


def test_http_server_needs_a_directory(tmp_path):
    with pytest.raises(NotADirectoryError):
        LocalHTTPServer(tmp_path / "missing")


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------


def test_http_counts_requests_and_bytes(web):
    web.reset_stats()
    with web.measure() as cost:
        assert requests.get(web.url("sub/data.bin"), timeout=5).content == bytes(range(256)) * 4
        assert requests.head(web.url("sub/data.bin"), timeout=5).headers["Content-Length"] == "1024"
        assert requests.get(web.url("nothing-here"), timeout=5).status_code == 404
    assert cost.requests == 3
    assert [(r.method, r.path, r.status) for r in cost.log] == [
        ("GET", "/sub/data.bin", 200), ("HEAD", "/sub/data.bin", 200), ("GET", "/nothing-here", 404),
    ]
    assert cost.log[0].downloaded == 1024 and cost.log[1].downloaded == 0  # HEAD sends no body
    assert cost.bytes == 1024 + cost.log[2].downloaded
    assert cost.log[0].sent == cost.log[0].downloaded  # the older name still works
    assert cost.by_method() == {"GET": 2, "HEAD": 1}
    assert cost.by_status() == {200: 2, 404: 1}
    assert cost.seconds is not None and cost.seconds > 0
    assert web.stats().requests == 3  # stats() sees everything since the reset


def test_measurements_nest_and_reset_forgets(web):
    web.reset_stats()
    with web.measure() as outer:
        requests.get(web.url("hello.txt"), timeout=5)
        with web.measure() as inner:
            requests.get(web.url("hello.txt"), timeout=5)
    assert (outer.requests, inner.requests) == (2, 1)
    assert outer.bytes == 12 and inner.bytes == 6
    web.reset_stats()
    assert web.stats().requests == 0


def test_requests_since_gives_the_newer_requests_only(web):
    def since(seq, count):
        deadline = time.monotonic() + 5
        while len(found := web.requests_since(seq)) < count and time.monotonic() < deadline:
            time.sleep(0.05)  # a request is logged once its answer is sent: poll, as `course-utils serve` does
        return found

    requests.get(web.url("hello.txt"), timeout=5)
    last = max(r.seq for r in since(0, 1))
    requests.get(web.url("sub/data.bin"), timeout=5)
    newer = since(last, 1)
    assert [(r.method, r.path, r.downloaded) for r in newer] == [("GET", "/sub/data.bin", 1024)]
    assert web.requests_since(newer[-1].seq) == []


def test_a_cost_cannot_be_read_before_its_block_ends(web):
    with web.measure() as cost:
        with pytest.raises(RuntimeError, match="not finished"):
            cost.requests
    assert cost.requests == 0
    assert str(cost).startswith("0 requests")


def test_s3_counts_uploads_and_downloads(s3):
    fs = s3.filesystem()
    with s3.measure() as put:
        fs.pipe("course/counted/hello.txt", b"hello world")
    with s3.measure() as get:
        assert fs.cat("course/counted/hello.txt") == b"hello world"
    assert (put.requests, put.bytes_uploaded) == (1, 11)
    assert put.bytes_received == 11 and put.log[0].received == 11  # the older names still work
    assert put.log[0].method == "PUT"
    assert (get.requests, get.bytes) == (1, 11)  # one GET, no HEAD first (max_concurrency=1)


def test_costs_table_has_a_row_per_operation(web):
    with web.measure() as one:
        requests.get(web.url("hello.txt"), timeout=5)
    with web.measure() as two:
        requests.get(web.url("sub/data.bin"), timeout=5)
        requests.get(web.url("missing"), timeout=5)
    from rich.console import Console

    console = Console(width=150, record=True, file=io.StringIO())
    console.print(costs_table({"small": one, "big": two}, store_bytes=2048))
    text = console.export_text()
    assert "small" in text and "big" in text
    assert "51 %" in text and "0.29 %" in text  # (1024 + a 20-byte 404 body) and 6 bytes, of 2048
    assert "not found" in text
    assert "bytes downloaded" in text and "sent" not in text  # the reader's words


def test_cost_speaks_of_downloads_and_uploads(s3):
    with s3.measure() as cost:
        s3.filesystem().pipe("course/words.txt", b"12345")
        s3.filesystem().cat("course/words.txt")
    assert str(cost).startswith("2 requests, 5 bytes downloaded, 5 bytes uploaded")
    from rich.console import Console

    console = Console(width=150, record=True, file=io.StringIO())
    console.print(cost)
    text = console.export_text()
    assert "downloaded" in text and "uploaded" in text and "sent" not in text and "received" not in text


def test_request_log_waits_for_requests_in_flight():
    log = RequestLog()
    log.begin()
    assert not log.quiet(timeout=0.05)
    log.end(method="GET", path="/", query="", status=200, downloaded=1, uploaded=0, started=0.0, seconds=0.0)
    assert log.quiet(timeout=0.05)
    requests_, complete = log.since(0)
    assert [r.seq for r in requests_] == [1] and complete


def test_request_log_says_when_it_dropped_requests():
    log = RequestLog(maxlen=2)
    for _ in range(3):
        log.begin()
        log.end(method="GET", path="/", query="", status=200, downloaded=0, uploaded=0, started=0.0, seconds=0.0)
    found, complete = log.since(0)
    assert [r.seq for r in found] == [2, 3] and not complete
    assert log.since(1)[1]


def test_cost_totals_from_a_log():
    cost = Cost()
    log = RequestLog()
    for sent in (10, 20):
        log.begin()
        log.end(method="GET", path="/a", query="x=1", status=206, downloaded=sent, uploaded=0, started=0.0, seconds=0.1)
    cost._finish(log.since(0)[0], 0.5, True)
    assert (cost.requests, cost.bytes, cost.log[0].target) == (2, 30, "/a?x=1")


# --------------------------------------------------------------------------
# HTTP: read-only, ranges
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, status, expected, content_range",
    [
        ("bytes=10-19", 206, bytes(range(10, 20)), "bytes 10-19/1024"),
        ("bytes=-5", 206, bytes(range(251, 256)), "bytes 1019-1023/1024"),
        ("bytes=1000-", 206, bytes(range(232, 256)), "bytes 1000-1023/1024"),
        ("bytes=1020-5000", 206, bytes(range(252, 256)), "bytes 1020-1023/1024"),
        ("bytes=0-1,5-6", 200, bytes(range(256)) * 4, None),  # several ranges: the whole file
    ],
)
def test_range_requests_return_the_right_bytes(web, header, status, expected, content_range):
    with web.measure() as cost:
        response = requests.get(web.url("sub/data.bin"), headers={"Range": header}, timeout=5)
    assert response.status_code == status
    assert response.content == expected
    assert response.headers.get("Content-Range") == content_range
    assert cost.bytes == len(expected)  # the count is what was sent, not the file size


def test_unsatisfiable_range_is_416(web):
    response = requests.get(web.url("sub/data.bin"), headers={"Range": "bytes=5000-"}, timeout=5)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */1024"


def test_http_server_is_read_only_and_lists_nothing(web, site):
    assert requests.put(web.url("hello.txt"), data=b"x", timeout=5).status_code == 405
    assert requests.delete(web.url("hello.txt"), timeout=5).status_code == 405
    assert (site / "hello.txt").read_text() == "hello\n"
    assert requests.get(web.url("sub"), timeout=5).status_code == 404  # no directory listing
    assert requests.get(web.url(), timeout=5).status_code == 404
    outside = f"{web.endpoint_url}/%2e%2e/%2e%2e/etc/passwd"
    assert requests.get(outside, timeout=5).status_code == 404


def test_http_server_allows_browser_viewers(web):
    response = requests.options(web.url("hello.txt"), timeout=5)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert requests.get(web.url("hello.txt"), timeout=5).headers["Access-Control-Allow-Origin"] == "*"


def test_http_server_answers_404s_with_cors_too(web):
    response = requests.get(web.url("missing/zarr.json"), timeout=5)
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_http_server_without_cors_sends_no_cors_headers(site):
    with LocalHTTPServer(site, cors=False) as plain:
        answers = [
            requests.get(plain.url("hello.txt"), timeout=5),
            requests.get(plain.url("missing.txt"), timeout=5),
            requests.options(plain.url("hello.txt"), timeout=5),
        ]
    assert [a.status_code for a in answers] == [200, 404, 405]
    for answer in answers:
        assert not any(name.lower().startswith("access-control-") for name in answer.headers)


def test_http_url_of_a_path_inside_the_directory(web, site):
    assert web.url(site / "sub" / "data.bin") == web.url("sub/data.bin")
    assert web.url("a b.txt").endswith("/a%20b.txt")


def test_fsspec_http_reads_ranges(web):
    import fsspec

    fs = fsspec.filesystem("http", skip_instance_cache=True)
    with web.measure() as cost:
        part = fs.cat_file(web.url("sub/data.bin"), start=100, end=110)
    assert part == bytes(range(100, 110))
    assert [r.status for r in cost.log if r.method == "GET"] == [206]


# --------------------------------------------------------------------------
# S3: clients, anonymous access, uploads
# --------------------------------------------------------------------------


def test_storage_options_shape(s3):
    options = s3.storage_options
    assert options["client_kwargs"] == {"endpoint_url": s3.endpoint_url, "region_name": "us-east-1"}
    assert options["key"] and options["secret"]
    assert s3.anonymous_storage_options["anon"] is True
    assert s3.url("a/b") == "s3://course/a/b" and s3.url() == "s3://course"
    assert s3.url("x", bucket="public") == "s3://public/x"


def test_anonymous_reads_only_public_buckets_and_never_writes(s3):
    fs, anonymous = s3.filesystem(), s3.filesystem(anonymous=True)
    fs.pipe("public/open.txt", b"open")
    fs.pipe("course/private.txt", b"private")
    assert anonymous.cat("public/open.txt") == b"open"
    assert anonymous.ls("public") == ["public/open.txt"]
    with pytest.raises(PermissionError):
        anonymous.cat("course/private.txt")
    with pytest.raises(PermissionError):
        anonymous.pipe("public/vandal.txt", b"x")
    assert not fs.exists("public/vandal.txt")


def test_s3_app_finds_its_backend_once_not_at_every_request(monkeypatch):
    """moto's dispatcher stats ~180 folders to route a request; the course's app does it once per host."""
    import moto.backends
    from werkzeug.test import Client

    from course_utils.servers import s3 as s3_module

    app = s3_module.build_app({"buckets": ["course"], "public_buckets": ["public"]})
    app.setup(9)
    listed = []
    original = moto.backends.list_of_moto_modules
    monkeypatch.setattr(moto.backends, "list_of_moto_modules", lambda: listed.append(1) or original())
    client, headers = Client(app.wsgi), s3_module._signed_headers(9)
    for i in range(20):
        assert client.put(f"/course/k{i}", data=b"x" * i, headers=headers).status_code == 200
        assert client.get(f"/course/k{i}", headers=headers).get_data() == b"x" * i
        assert client.get(f"/public/k{i}").status_code == 404  # anonymous: routed as a signed read
    assert len(listed) <= 2, f"the backend was looked up {len(listed)} times for 60 requests"


def test_zarr_fsspec_store_reads_one_get_per_chunk(s3):
    array = zarr.create_array(s3.zarr_store("grid.zarr"), shape=(4, 60, 80), chunks=(2, 32, 32), dtype="uint16")
    with s3.measure() as write:
        array[:] = np.arange(4 * 60 * 80, dtype="uint16").reshape(4, 60, 80)
    assert write.by_method().get("PUT") == 2 * 2 * 3
    reader = zarr.open_array(s3.zarr_store("grid.zarr", read_only=True), mode="r", zarr_format=3)
    with s3.measure() as plane:
        values = reader[1]
    assert plane.requests == math.ceil(60 / 32) * math.ceil(80 / 32)
    assert plane.by_method() == {"GET": plane.requests}
    np.testing.assert_array_equal(values, np.arange(4 * 60 * 80, dtype="uint16").reshape(4, 60, 80)[1])


def test_obstore_reads_and_writes(s3):
    import obstore

    store = s3.obstore("ob")
    with s3.measure() as cost:
        obstore.put(store, "x.bin", b"12345")
        assert bytes(obstore.get(store, "x.bin").bytes()) == b"12345"
    assert [r.method for r in cost.log] == ["PUT", "GET"]
    assert s3.filesystem().cat("course/ob/x.bin") == b"12345"
    s3.filesystem().pipe("public/ob.txt", b"anon")
    assert bytes(obstore.get(s3.obstore(bucket="public", anonymous=True), "ob.txt").bytes()) == b"anon"


def test_zarr_over_obstore(s3):
    from zarr.storage import ObjectStore

    zarr.create_array(ObjectStore(s3.obstore("obz.zarr")), shape=(8,), chunks=(4,), dtype="int8")[:] = 3
    assert zarr.open_array(s3.zarr_store("obz.zarr", read_only=True), mode="r")[:].tolist() == [3] * 8


def test_upload_copies_a_directory_without_counting(s3, site):
    s3.reset_stats()
    copied = s3.upload(site, "copy")
    assert copied == {"objects": 2, "bytes": 1024 + 6}
    assert s3.stats().requests == 0
    fs = s3.filesystem()
    assert fs.cat("course/copy/sub/data.bin") == bytes(range(256)) * 4
    with pytest.raises(NotADirectoryError):
        s3.upload(site / "hello.txt", "x")


def test_two_s3_servers_do_not_share_buckets():
    with LocalS3Server(bucket="one") as first, LocalS3Server(bucket="one") as second:
        first.filesystem().pipe("one/only-here.txt", b"1")
        assert not second.filesystem().exists("one/only-here.txt")


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_written_to_the_bucket_is_valid(s3, version):
    image = np.random.default_rng(0).integers(1, 500, (12, 64, 80), dtype=np.uint16)
    multiscales = nz.to_multiscales(
        nz.to_ngff_image(image, dims=("z", "y", "x")), scale_factors=[2], method=nz.Methods.ITKWASM_BIN_SHRINK,
        chunks=(8, 32, 32),
    )
    key = f"valid-{version}.ome.zarr"
    extra = {"chunks": (8, 32, 32)} if version == "0.5" else {}
    nz.to_ngff_zarr(s3.zarr_store(key), multiscales, version=version, **extra)
    group = zarr.open_group(s3.zarr_store(key, read_only=True), mode="r")
    assert validate_ome_zarr(group) == version


# --------------------------------------------------------------------------
# Describing a served OME-Zarr reads only metadata
# --------------------------------------------------------------------------


def _store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@pytest.mark.parametrize("which", ["idr_6001240", "aind_smartspim"])
def test_inspecting_over_http_reads_metadata_only(which, data_dir):
    standin = getattr(standins, which)()
    total = _store_bytes(standin.store)
    with LocalHTTPServer(standin.root) as server:
        with server.measure() as cost:
            summary = inspect_store(server.url(standin.key))
    print(f"\nHTTP {which}: {cost.requests} requests, {cost.bytes:,} of {total:,} bytes "
          f"({100 * cost.bytes / total:.3f} %)")
    assert summary.n_scales in (3, 5)
    assert cost.requests <= 10
    assert cost.bytes <= 0.01 * total


@pytest.mark.parametrize("which", ["idr_6001240", "aind_smartspim"])
def test_inspecting_over_s3_reads_metadata_only(which, data_dir):
    standin = getattr(standins, which)()
    total = _store_bytes(standin.store)
    with LocalS3Server(public_buckets=["open"]) as server:
        server.upload(standin.store, standin.key, bucket="open")
        with server.measure() as cost:
            summary = inspect_store(server.url(standin.key, bucket="open"),
                                    storage_options=server.anonymous_storage_options)
    listings = [r for r in cost.log if "list-type" in r.query]
    print(f"\nS3 {which}: {cost.requests} requests ({len(listings)} listing), "
          f"{cost.bytes:,} of {total:,} bytes ({100 * cost.bytes / total:.3f} %)")
    assert summary.total_bytes == total  # listing gives every object's size...
    assert cost.requests <= 10
    assert cost.bytes <= 0.01 * total  # ...and no chunk bytes


# --------------------------------------------------------------------------
# Latency and bandwidth: a distant server, inside the server process
#
# The machine may be loaded: every timing assertion is a lower bound (a
# request never answers before its latency) or a generous ratio (concurrent
# requests take well under the sum of their latencies), never a tight upper bound.
# --------------------------------------------------------------------------


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def test_network_settings_are_checked_and_described():
    assert Network().is_direct and str(Network()) == "no added latency, no bandwidth cap"
    network = Network(latency_ms=80, jitter_ms=5, bandwidth_mbps=100)
    assert network.bytes_per_second == 12.5e6
    assert str(network) == "80 ms latency per request (+ up to 5 ms at random), 100 Mbit/s shared"
    assert network.replace(bandwidth_mbps=None).bandwidth_mbps is None
    for bad in ({"latency_ms": -1}, {"jitter_ms": "5"}, {"bandwidth_mbps": 0}, {"latency_ms": True}):
        with pytest.raises(ValueError):
            Network(**bad)
    with pytest.raises(TypeError):
        network.replace(latency=3)


@pytest.mark.parametrize("kind", ["s3", "http"])
def test_every_request_waits_the_latency(kind, site):
    latency = 0.15
    server = LocalS3Server(latency_ms=latency * 1000) if kind == "s3" else LocalHTTPServer(site, latency_ms=150)
    with server:
        if kind == "s3":
            fs = server.filesystem()
            fs.pipe("course/late.txt", b"late")
            def read():
                assert fs.cat("course/late.txt") == b"late"
        else:
            session = requests.Session()
            def read():
                assert session.get(server.url("hello.txt"), timeout=10).text == "hello\n"
        read()  # a first request opens the connection
        with server.measure() as cost:
            elapsed = _timed(read)
        with server.measure() as not_found:  # a 404 pays the round trip too
            if kind == "s3":
                assert not server.filesystem().exists("course/nothing-here")
            else:
                assert requests.get(server.url("nothing"), timeout=10).status_code == 404
    assert elapsed >= latency
    assert cost.requests == 1 and cost.log[0].seconds >= latency  # counted with its latency
    assert cost.log[0].first_byte >= latency  # the wait is before the first byte
    assert all(r.seconds >= latency for r in not_found.log) and not_found.requests >= 1


def test_concurrent_requests_wait_their_latency_at_the_same_time(web):
    n, latency = 8, 0.25
    with web.conditions(latency_ms=latency * 1000):
        with web.measure() as cost:
            with ThreadPoolExecutor(n) as pool:
                list(pool.map(lambda _: requests.get(web.url("hello.txt"), timeout=30).status_code, range(n)))
    assert cost.requests == n
    assert cost.seconds >= latency
    assert cost.seconds < n * latency / 2, f"{n} concurrent requests took {cost.seconds:.2f} s: not in parallel"
    assert cost.max_in_flight >= n // 2


def test_requests_one_after_another_each_pay_the_latency(web):
    n, latency = 4, 0.1
    session = requests.Session()
    with web.conditions(latency_ms=latency * 1000):
        seconds = _timed(lambda: [session.get(web.url("hello.txt"), timeout=10) for _ in range(n)])
    assert seconds >= n * latency


def test_jitter_adds_a_random_extra_per_request(web):
    session = requests.Session()
    with web.conditions(jitter_ms=100):
        with web.measure() as cost:
            for _ in range(12):
                session.get(web.url("hello.txt"), timeout=10)
    waits = [r.seconds for r in cost.log]
    assert max(waits) >= 0.02 and max(waits) - min(waits) >= 0.01  # uniform in [0, 100 ms]: not constant


def test_a_download_keeps_to_the_bandwidth_cap(tmp_path):
    size, mbps = 400_000, 8.0  # 1 MB/s: 0.4 s
    (tmp_path / "big.bin").write_bytes(os.urandom(size))
    with LocalHTTPServer(tmp_path, bandwidth_mbps=mbps) as server:
        with server.measure() as cost:
            body = requests.get(server.url("big.bin"), timeout=30).content
    assert len(body) == size and cost.bytes == size
    rate = size / cost.seconds
    assert rate <= 1.05 * mbps * 1e6 / 8, f"{rate / 1e6:.2f} MB/s through an {mbps} Mbit/s cap"


def test_concurrent_downloads_share_one_link(tmp_path):
    """The cap is the server's (the reader's link), not each connection's: concurrency does not beat it."""
    size, mbps, n = 200_000, 8.0, 3
    (tmp_path / "part.bin").write_bytes(os.urandom(size))
    with LocalHTTPServer(tmp_path, bandwidth_mbps=mbps) as server:
        with server.measure() as cost:
            with ThreadPoolExecutor(n) as pool:
                sizes = list(pool.map(lambda _: len(requests.get(server.url("part.bin"), timeout=30).content), range(n)))
    assert sizes == [size] * n
    assert cost.seconds >= 0.95 * n * size / (mbps * 1e6 / 8)
    log = cost.log  # they did run at the same time, sharing the link:
    assert max(r.started for r in log) < min(r.started + r.seconds for r in log)


def test_an_upload_keeps_to_the_bandwidth_cap():
    size = 250_000
    with LocalS3Server(bandwidth_mbps=8) as s3:
        fs = s3.filesystem()
        fs.pipe("course/warm.txt", b"x")
        with s3.measure() as cost:
            fs.pipe("course/up.bin", os.urandom(size))
    assert cost.bytes_uploaded == size
    assert cost.seconds >= 0.95 * size / 1e6


def test_network_changes_while_running_and_conditions_restore(site):
    with LocalHTTPServer(site, latency_ms=200) as server:
        session = requests.Session()
        session.get(server.url("hello.txt"), timeout=10)
        assert _timed(lambda: session.get(server.url("hello.txt"), timeout=10)) >= 0.2
        with server.conditions(latency_ms=0, bandwidth_mbps=50) as inside:
            assert inside == Network(bandwidth_mbps=50)
            assert server._call("network")["network"]["bandwidth_mbps"] == 50  # the child applies it
        assert server.network == Network(latency_ms=200)
        assert server._call("network")["network"] == Network(latency_ms=200).as_dict()
        changed = server.set_network(latency_ms=300)
        assert changed.latency_ms == 300
        assert _timed(lambda: session.get(server.url("hello.txt"), timeout=10)) >= 0.3
        with pytest.raises(ValueError):
            server.set_network(latency_ms=-5)
        assert server.network.latency_ms == 300  # a refused change changes nothing


def test_network_set_before_start_applies_when_started(site):
    server = LocalHTTPServer(site)
    server.set_network(latency_ms=150)
    with server:
        session = requests.Session()
        session.get(server.url("hello.txt"), timeout=10)
        assert _timed(lambda: session.get(server.url("hello.txt"), timeout=10)) >= 0.15


def test_zarr_reads_chunks_concurrently_and_its_setting_turns_that_off(s3):
    """What the latency lesson measures: one GET per chunk, ~1 latency together, n latencies one by one."""
    array = zarr.create_array(s3.zarr_store("latency.zarr"), shape=(1, 64, 64), chunks=(1, 16, 32),
                              dtype="uint8", fill_value=1)
    array[:] = 7
    reader = zarr.open_array(s3.zarr_store("latency.zarr", read_only=True), mode="r", zarr_format=3)
    n, latency = 4 * 2, 0.15
    reader[0]  # connections opened, metadata read
    with s3.conditions(latency_ms=latency * 1000):
        with s3.measure() as together:
            reader[0]
        with zarr.config.set({"async.concurrency": 1}):
            with s3.measure() as one_by_one:
                reader[0]
    assert together.by_method() == one_by_one.by_method() == {"GET": n}
    assert one_by_one.seconds >= n * latency and one_by_one.max_in_flight == 1, one_by_one.log
    assert together.seconds < one_by_one.seconds / 3, (together.seconds, one_by_one.seconds)
    assert together.max_in_flight >= n // 2, together.log


def test_network_commands_typed_while_serving():
    assert network_change("latency 80") == {"latency_ms": 80.0}
    assert network_change(" jitter 2.5\n") == {"jitter_ms": 2.5}
    assert network_change("bandwidth off") == {"bandwidth_mbps": None}
    assert network_change("network") == {} and network_change("  \n") is None
    for bad in ("latency", "latency fast", "speed 3"):
        with pytest.raises(ValueError, match="latency MS"):
            network_change(bad)


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


def _run_cli(args: list[str]) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "course_utils.cli", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if "Ctrl-C" in line:
            break
    return process, lines


def _interrupt(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    return rest


def test_cli_serve_http_prints_the_url_and_stops_on_ctrl_c(site):
    process, lines = _run_cli(["serve-http", str(site)])
    try:
        url = next(line.split()[-1] for line in lines if line.startswith("URL"))
        assert requests.get(url + "hello.txt", timeout=5).text == "hello\n"
        time.sleep(1)  # the request is printed within half a second
    finally:
        rest = _interrupt(process)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    assert process.returncode == 0
    assert "GET    /hello.txt  200" in rest
    assert "stopped after 1 request," in rest
    assert not is_listening(port)


def test_cli_serve_http_no_cors_sends_no_cors_headers(site):
    process, lines = _run_cli(["serve-http", str(site), "--no-cors", "--quiet"])
    try:
        url = next(line.split()[-1] for line in lines if line.startswith("URL"))
        response = requests.get(url + "hello.txt", timeout=5)
    finally:
        _interrupt(process)
    assert any("no CORS headers" in line for line in lines)
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers


def test_cli_serve_s3_uploads_the_directory_and_stops_on_ctrl_c(site):
    process, lines = _run_cli(["serve-s3", str(site), "--public", "--quiet"])
    try:
        text = "\n".join(lines)
        endpoint = next(line.split()[2] for line in lines if line.startswith("S3 endpoint"))
        assert f"s3://course/{site.name}" in text and "2 objects" in text
        listing = requests.get(f"{endpoint}/course?list-type=2", timeout=5).text  # anonymous: public
        assert f"{site.name}/sub/data.bin" in listing
    finally:
        rest = _interrupt(process)
    assert process.returncode == 0
    assert "stopped after 1 request," in rest
    assert not is_listening(int(endpoint.rsplit(":", 1)[1]))


def test_cli_serve_http_with_latency_changed_while_serving(site):
    process, lines = _run_cli(["serve-http", str(site), "--latency-ms", "300", "--quiet"])
    try:
        url = next(line.split()[-1] for line in lines if line.startswith("URL"))
        assert any(line.startswith("network      300 ms latency per request") for line in lines)
        session = requests.Session()
        session.get(url + "hello.txt", timeout=10)
        slow = _timed(lambda: session.get(url + "hello.txt", timeout=10))
        process.stdin.write("latency 0\nbandwidth fast\n")
        process.stdin.flush()
        answers = []
        while len(answers) < 2:
            line = process.stdout.readline()
            assert line, "the server stopped"
            if line.strip():
                answers.append(line.strip())
    finally:
        rest = _interrupt(process)
    assert slow >= 0.3
    assert answers[0] == "network      no added latency, no bandwidth cap"
    assert answers[1].startswith("network: not a number: 'fast'")
    assert "stopped after 2 requests" in rest and "downloaded" in rest


def test_cli_refuses_a_negative_latency_in_one_line(site):
    done = subprocess.run(
        [sys.executable, "-m", "course_utils.cli", "serve-s3", str(site), "--latency-ms", "-3"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2 and done.stdout.startswith("error: latency_ms") and "Traceback" not in done.stderr


def test_cli_rejects_a_missing_directory(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "course_utils.cli", "serve-http", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2 and "not a directory" in done.stdout
