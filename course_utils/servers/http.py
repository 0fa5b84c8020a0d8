"""A read-only web server for one directory, on 127.0.0.1, with range requests.

It serves files the way a public bucket does over HTTPS: ``GET`` and
``HEAD`` only, no directory listings (a directory answers 404, as an object
store does for a "folder"), ``Range: bytes=...`` answered with
``206 Partial Content``, and CORS headers (``Access-Control-Allow-Origin: *``,
on every answer, 404s included) so that web viewers on other origins can read
from it; ``cors=False`` leaves them out, as a server that was never set up
for the web would. Every request is counted::

    with LocalHTTPServer("data") as server:
        with server.measure() as cost:
            zarr.open_group(server.url("image.ome.zarr"), mode="r")
        print(cost.requests, cost.bytes)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from course_utils.servers.app import App
from course_utils.servers.process import LocalServer

__all__ = ["LocalHTTPServer", "build_app", "static_app"]

ALLOWED_METHODS = "GET, HEAD, OPTIONS"
CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers", "Range"),
    ("Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag"),
]


def _plain(start_response: Callable, status: str, text: str, extra: Iterable = ()) -> list[bytes]:
    body = (text + "\n").encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status, [*headers, *extra])
    return [body]


def static_app(root: str | os.PathLike, *, cors: bool = True) -> Callable:
    """A WSGI application serving the files under ``root``, read-only, with ranges.

    With ``cors`` every answer carries :data:`CORS_HEADERS` and a browser's
    pre-flight ``OPTIONS`` is answered; without it neither happens.
    """
    from werkzeug.exceptions import HTTPException
    from werkzeug.security import safe_join
    from werkzeug.utils import send_file

    root = os.fspath(Path(root).resolve())
    cors_headers = CORS_HEADERS if cors else []

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS" and cors:  # a browser's CORS pre-flight
            start_response("204 No Content", [("Allow", ALLOWED_METHODS), *cors_headers])
            return []
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", "read-only server",
                          [("Allow", ALLOWED_METHODS), *cors_headers])
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        target = safe_join(root, path.lstrip("/")) if path.strip("/") else None
        if target is None or not os.path.isfile(target):
            return _plain(start_response, "404 Not Found", f"not found: {path}", cors_headers)
        if "," in environ.get("HTTP_RANGE", ""):
            # Several ranges in one request: answer with the whole file, as S3 does.
            environ = {k: v for k, v in environ.items() if k != "HTTP_RANGE"}
        try:
            response = send_file(target, environ, conditional=True, etag=True, max_age=None)
        except HTTPException as error:  # e.g. 416 Range Not Satisfiable
            return error(environ, start_response)
        del response.headers["Date"]  # the server adds its own
        for name, value in cors_headers:
            response.headers[name] = value
        return response(environ, start_response)

    return app


def build_app(config: dict[str, Any]):
    """The server process's application (see :mod:`course_utils.servers.child`)."""
    return App(wsgi=static_app(config["root"], cors=config.get("cors", True)))


class LocalHTTPServer(LocalServer):
    """Serve ``directory`` read-only at ``http://127.0.0.1:<port>/``, counting requests.

    ``port=0`` (the default) takes a free port; ``cors=False`` serves without
    CORS headers, so a web page from another origin cannot read the files.
    ``latency_ms``, ``jitter_ms`` and ``bandwidth_mbps`` make it answer like
    a distant server (see :mod:`course_utils.servers.network`; change them
    while it runs with ``set_network()`` or ``with server.conditions(...):``).
    Use as a context manager, or :meth:`start` / :meth:`stop` it; a ``name``
    makes starting it replace the running server of that name (see
    :class:`LocalServer`). :meth:`url` gives the address of a path under the
    directory; ``stats()``, ``reset_stats()`` and ``measure()`` report what
    was served.
    """

    kind = "http"

    def __init__(
        self, directory: str | os.PathLike, *, port: int = 0, name: str | None = None, cors: bool = True,
        latency_ms: float = 0.0, jitter_ms: float = 0.0, bandwidth_mbps: float | None = None,
    ) -> None:
        super().__init__(
            port=port, name=name, latency_ms=latency_ms, jitter_ms=jitter_ms, bandwidth_mbps=bandwidth_mbps
        )
        self.cors = cors
        self.directory = Path(directory).resolve()
        if not self.directory.is_dir():
            raise NotADirectoryError(f"{directory} is not a directory")

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "root": str(self.directory), "cors": self.cors}

    def url(self, path: str | os.PathLike = "") -> str:
        """The URL of ``path``.

        A string is a path under the served directory (``"image.zarr/.zattrs"``);
        a :class:`~pathlib.Path` is a file or folder on disk, which must lie
        inside the served directory (relative ones are taken from the
        current directory, as ``open`` would).
        """
        if isinstance(path, os.PathLike):
            location = Path(path).resolve()
            try:
                text = location.relative_to(self.directory).as_posix()
            except ValueError:
                raise ValueError(f"{location} is not inside the served directory {self.directory}") from None
        else:
            text = str(path)
        text = text.strip("/")
        return f"{self.endpoint_url}/{quote(text)}" if text not in ("", ".") else f"{self.endpoint_url}/"

    def __repr__(self) -> str:
        state = f"{self.endpoint_url}, running" if self.running else "stopped"
        return f"<LocalHTTPServer of {self.directory} ({state})>"
