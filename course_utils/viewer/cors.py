"""CORS on the course's local servers: what each sends, and an S3 server that behaves like S3.

:func:`cors_headers` asks a server what it answers a web page from another
origin. :func:`start_like_s3` starts a :class:`~course_utils.servers.LocalS3Server`
whose CORS headers come only from its buckets' CORS rules, as on Amazon S3:
moto's server otherwise adds ``Access-Control-Allow-Origin`` (the page's
origin) to every answer by itself (moto 5.2.5, ``flask_cors`` unless
``MOTO_DISABLE_GLOBAL_CORS`` is set), which would hide what a bucket rule
does.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["CORS_RESPONSE_HEADERS", "cors_headers", "start_like_s3"]

#: The response headers of CORS that a reader of OME-Zarr meets.
CORS_RESPONSE_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_like_s3(server):
    """Start ``server`` (a :class:`~course_utils.servers.LocalS3Server`) so that only bucket CORS rules add CORS headers."""
    with _environment(MOTO_DISABLE_GLOBAL_CORS="1"):  # read by the server process as it starts
        return server.start()


def cors_headers(method: str, url: str, origin: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Send ``method`` to ``url`` as a page of ``origin`` would, and return the status and CORS headers."""
    import requests

    answer = requests.request(method, url, headers={"Origin": origin, **(headers or {})}, timeout=30)
    found = {name: answer.headers.get(name, "—") for name in CORS_RESPONSE_HEADERS}
    return {"status": answer.status_code, **found}
