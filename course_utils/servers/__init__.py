"""Local servers for the course: an S3-compatible object store and a web server.

Both run on 127.0.0.1 on a free port, in a child process that stops with the
``with`` block, with :meth:`~LocalServer.stop`, or when the notebook's kernel
goes away; and both count every request they serve, so a lesson can show
what an operation cost::

    from course_utils.servers import LocalS3Server

    with LocalS3Server(bucket="course") as s3:
        fs = s3.filesystem()
        with s3.measure() as cost:
            fs.pipe("course/hello.txt", b"hello")
        print(cost.requests, cost.bytes_uploaded)   # 1 request, 5 bytes uploaded

Both can also answer like a distant server, with a latency per request and
a bandwidth cap (:mod:`course_utils.servers.network`)::

    with LocalS3Server(latency_ms=80) as s3:
        with s3.conditions(latency_ms=20, bandwidth_mbps=100):
            ...

- :class:`LocalS3Server` (:mod:`course_utils.servers.s3`): moto's S3 on a
  loopback port, with fsspec/s3fs, zarr and obstore settings.
- :class:`LocalHTTPServer` (:mod:`course_utils.servers.http`): a read-only
  directory, with range requests.
- :class:`Cost`, :func:`costs_table` (:mod:`course_utils.servers.traffic`):
  what was served, and a table of it.
- :class:`Network` (:mod:`course_utils.servers.network`): latency, jitter
  and bandwidth cap.
"""

from course_utils.servers.http import LocalHTTPServer
from course_utils.servers.network import Network
from course_utils.servers.process import LocalServer, ServerError, is_listening
from course_utils.servers.s3 import LocalS3Server
from course_utils.servers.traffic import Cost, Request, costs_table

__all__ = [
    "Cost",
    "LocalHTTPServer",
    "LocalS3Server",
    "LocalServer",
    "Network",
    "Request",
    "ServerError",
    "costs_table",
    "is_listening",
]
