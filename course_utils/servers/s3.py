"""A local S3-compatible object store: moto's server on 127.0.0.1, counting requests.

:class:`LocalS3Server` starts `moto <https://docs.getmoto.org>`_'s S3
implementation in a child process, creates the buckets it is given, and hands
back what each client needs:

- fsspec / s3fs: :attr:`LocalS3Server.storage_options` (dummy keys, the
  endpoint, region us-east-1), for ``fsspec.filesystem("s3", **options)``,
  ``zarr.storage.FsspecStore.from_url(url, storage_options=options)`` or
  dask's ``to_zarr(..., storage_options=options)``;
- obstore: :meth:`LocalS3Server.obstore` (an ``obstore.store.S3Store``);
- anonymous readers: :attr:`LocalS3Server.anonymous_storage_options`.

Like a real account, it answers unsigned (anonymous) requests only for
buckets named in ``public_buckets``, and only to read: anonymous writes are
refused with ``403 AccessDenied``. The keys are dummies: the server accepts
any signature, and it listens on the loopback interface only.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from course_utils.servers.app import App
from course_utils.servers.process import LocalServer

__all__ = ["LocalS3Server", "anonymous_policy", "build_app"]

REGION = "us-east-1"
#: Dummy credentials: moto accepts any; nothing else ever sees them.
ACCESS_KEY = "course-local-key"
SECRET_KEY = "course-local-secret"
DEFAULT_BUCKET = "course"
#: s3fs option added to both option sets: with its default (10), s3fs sends a
#: HEAD before every whole-object read, to decide whether to split the object
#: into parallel range requests; with 1, one chunk is one GET.
READ_OPTIONS: dict[str, Any] = {"max_concurrency": 1}

_ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied: anonymous requests may only read public buckets"
    b"</Message></Error>"
)


_SESSION: Any = None


def _aio_session():
    """One aiobotocore session for the S3 clients that :class:`LocalS3Server` makes in this process.

    A client made from a new session loads and parses botocore's S3 service
    model and endpoint rules again (about 0.2 s of CPU); clients of one
    session share them. Each client (each filesystem) still has its own
    connections, credentials and, in s3fs, its own cached listings.
    """
    global _SESSION
    if _SESSION is None:
        import aiobotocore.session

        _SESSION = aiobotocore.session.AioSession()
    return _SESSION


def _is_signed(environ: dict) -> bool:
    if environ.get("HTTP_AUTHORIZATION"):
        return True
    query = parse_qs(environ.get("QUERY_STRING", ""))
    return "X-Amz-Credential" in query or "AWSAccessKeyId" in query


def anonymous_policy(app: Callable, public_buckets: Iterable[str]) -> Callable:
    """WSGI middleware: unsigned requests may only GET / HEAD a public bucket.

    Those it lets through reach moto as signed requests (moto would otherwise
    want a public-read ACL on every object); every other unsigned request is
    answered ``403 AccessDenied`` here.
    """
    public = frozenset(public_buckets)

    def policy(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not _is_signed(environ):
            bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
            method = environ.get("REQUEST_METHOD", "GET")
            if method not in ("GET", "HEAD") or bucket not in public:
                body = b"" if method == "HEAD" else _ACCESS_DENIED
                start_response("403 Forbidden", [
                    ("Content-Type", "application/xml"), ("Content-Length", str(len(body))),
                ])
                return [body]
            environ["HTTP_AUTHORIZATION"] = _AUTHORIZATION
        return app(environ, start_response)

    return policy


#: What moto needs to see to treat a request as a signed S3 request (it checks no signature).
_AUTHORIZATION = (
    f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20250101/{REGION}/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def _signed_headers(port: int) -> dict[str, str]:
    """Headers of an in-process set-up request."""
    return {"Host": f"127.0.0.1:{port}", "Authorization": _AUTHORIZATION}


def _direct_put(bucket: str) -> Callable[[str, bytes, str], None] | None:
    """A function that stores an object straight in moto's S3 backend, or None if that is not possible.

    Fifty times faster than a PUT through moto's HTTP layer (which parses and
    answers every request); the server's clients see the same objects. With
    another moto, or a bucket the backend does not know, ``upload`` falls
    back to PUT requests.
    """
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        backend.get_bucket(bucket)
    except Exception:  # noqa: BLE001 - any surprise: use the HTTP path
        return None

    def put(key: str, body: bytes, kind: str) -> None:
        stored = backend.put_object(bucket, key, body)
        stored.set_metadata({"Content-Type": kind})

    return put


def build_app(config: dict[str, Any]):
    """The server process's application (see :mod:`course_utils.servers.child`)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.test import Client

    class QuietMotoHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    class RememberingDispatcher(DomainDispatcherApplication):
        """moto's dispatcher, remembering which backend answers for each host name.

        moto 5.2.5 looks the backend up again for every request, listing its
        own package folder and testing each of its ~180 entries with a
        ``stat`` (``backends.list_of_moto_modules``) before matching the URL
        patterns: almost half of a small GET's time in the server. The answer
        depends on the host name only (calls come under the dispatcher's lock).
        """

        def __init__(self, create_app: Callable) -> None:
            super().__init__(create_app)
            self._backend_of: dict[Any, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backend_of:
                self._backend_of[host] = super().get_backend_for_host(host)
            return self._backend_of[host]

    moto = RememberingDispatcher(create_backend_app)
    internal = Client(moto)  # in-process requests: set-up work is not counted
    port_box: list[int] = []

    def request(method: str, path: str, data: bytes = b"", content_type: str | None = None) -> None:
        headers = _signed_headers(port_box[0])
        if content_type:
            headers["Content-Type"] = content_type
        response = internal.open(path, method=method, data=data, headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} failed: {response.status_code} {response.get_data(as_text=True)[:300]}")

    def setup(port: int) -> None:
        port_box.append(port)
        for bucket in config["buckets"]:
            request("PUT", f"/{bucket}")

    def upload(directory: str, bucket: str, prefix: str = "") -> dict:
        root = Path(directory)
        put = _direct_put(bucket)
        n_files = n_bytes = 0
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            key = "/".join(part for part in (prefix.strip("/"), path.relative_to(root).as_posix()) if part)
            body = path.read_bytes()
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if put is not None:
                put(key, body, kind)
            else:
                request("PUT", f"/{bucket}/{key}", body, kind)
            n_files += 1
            n_bytes += len(body)
        return {"objects": n_files, "bytes": n_bytes}

    wsgi = anonymous_policy(moto, config["public_buckets"])
    return App(wsgi=wsgi, handler=QuietMotoHandler, setup=setup, commands={"upload": upload})


class LocalS3Server(LocalServer):
    """An S3-compatible object store on 127.0.0.1 that counts the requests it serves.

    Parameters
    ----------
    bucket:
        The bucket to create (its name is :attr:`bucket`).
    public_buckets:
        More buckets to create, readable without credentials (like the public
        ``aind-open-data`` bucket). Anonymous writes are always refused.
    port:
        0 (default) for a free port.
    name:
        Starting a server with a name stops the running one of that name
        first (see :class:`LocalServer`): for notebook cells run twice.
    latency_ms, jitter_ms, bandwidth_mbps:
        Answer like a distant object store: each request waits ``latency_ms``
        (plus up to ``jitter_ms`` at random) before it is answered, and all
        downloads share ``bandwidth_mbps`` megabits per second (so do all
        uploads). See :mod:`course_utils.servers.network`; change them while
        it runs with ``set_network()`` or ``with s3.conditions(latency_ms=20):``.

    Use it as a context manager, or :meth:`start` and :meth:`stop` it across
    notebook cells. :meth:`upload` copies a local directory into a bucket
    (without counting it); ``stats()``, ``reset_stats()`` and ``measure()``
    report what was served.
    """

    kind = "s3"

    def __init__(
        self,
        bucket: str = DEFAULT_BUCKET,
        *,
        public_buckets: Sequence[str] = (),
        port: int = 0,
        name: str | None = None,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        bandwidth_mbps: float | None = None,
    ) -> None:
        super().__init__(
            port=port, name=name, latency_ms=latency_ms, jitter_ms=jitter_ms, bandwidth_mbps=bandwidth_mbps
        )
        self.bucket = bucket
        self.public_buckets = tuple(public_buckets)

    def _config(self) -> dict[str, Any]:
        buckets = list(dict.fromkeys([self.bucket, *self.public_buckets]))
        return {**super()._config(), "buckets": buckets, "public_buckets": list(self.public_buckets)}

    # -- what clients need ---------------------------------------------------

    def url(self, key: str = "", *, bucket: str | None = None) -> str:
        """``s3://<bucket>/<key>`` (the default bucket unless ``bucket`` is given)."""
        return f"s3://{bucket or self.bucket}/{key.lstrip('/')}".rstrip("/")

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec / s3fs options for this server, with the dummy keys (read and write)."""
        return {
            "key": ACCESS_KEY,
            "secret": SECRET_KEY,
            "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": REGION},
            **READ_OPTIONS,
        }

    @property
    def anonymous_storage_options(self) -> dict[str, Any]:
        """fsspec / s3fs options for unsigned requests (public buckets, read only)."""
        return {
            "anon": True,
            "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": REGION},
            **READ_OPTIONS,
        }

    def filesystem(self, *, anonymous: bool = False):
        """An ``s3fs.S3FileSystem`` for this server (a fresh one, no cached listings)."""
        import s3fs

        options = self.anonymous_storage_options if anonymous else self.storage_options
        return s3fs.S3FileSystem(skip_instance_cache=True, session=_aio_session(), **options)

    def zarr_store(self, key: str = "", *, bucket: str | None = None, read_only: bool = False,
                   anonymous: bool = False):
        """A ``zarr.storage.FsspecStore`` for ``s3://<bucket>/<key>`` on this server."""
        from zarr.storage import FsspecStore

        options = self.anonymous_storage_options if anonymous else self.storage_options
        return FsspecStore.from_url(
            self.url(key, bucket=bucket), storage_options={**options, "session": _aio_session()},
            read_only=read_only or anonymous,
        )

    @property
    def obstore_config(self) -> dict[str, Any]:
        """``config`` for ``obstore.store.S3Store`` (pass ``client_options={"allow_http": True}`` too)."""
        return {
            "endpoint": self.endpoint_url,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "region": REGION,
            "virtual_hosted_style_request": False,
        }

    def obstore(self, prefix: str | None = None, *, bucket: str | None = None, anonymous: bool = False):
        """An ``obstore.store.S3Store`` for a bucket of this server (plain HTTP allowed)."""
        from obstore.store import S3Store

        config = dict(self.obstore_config)
        if anonymous:
            config = {k: v for k, v in config.items() if k not in ("access_key_id", "secret_access_key")}
            config["skip_signature"] = True
        return S3Store(
            bucket or self.bucket, prefix=prefix, config=config, client_options={"allow_http": True}
        )

    # -- set-up --------------------------------------------------------------

    def upload(self, directory: str | os.PathLike, prefix: str = "", *, bucket: str | None = None) -> dict[str, int]:
        """Copy every file under ``directory`` to ``s3://<bucket>/<prefix>/...``.

        Done inside the server process, so it is fast and not counted. Returns
        ``{"objects": ..., "bytes": ...}``.
        """
        directory = Path(directory).resolve()
        if not directory.is_dir():
            raise NotADirectoryError(f"{directory} is not a directory")
        reply = self._call("upload", directory=str(directory), bucket=bucket or self.bucket, prefix=prefix)
        return {"objects": int(reply["objects"]), "bytes": int(reply["bytes"])}

    def __repr__(self) -> str:
        state = f"{self.endpoint_url}, running" if self.running else "stopped"
        return f"<LocalS3Server bucket={self.bucket!r} ({state})>"
