"""URLs: fsspec filesystems, listed; HTTP, walked through the metadata only.

A filesystem that can list (``s3://``, ``gs://``, ``memory://``, ...) gives
the keys and sizes; HTTP cannot, so the root metadata (and, without
consolidated metadata, each scale's array metadata) is read and the counts
are computed from the chunk grids. Over HTTP an N5 container or a
pre-release Zarr v3 draft is named and refused in one line: without a
listing their arrays cannot be found. A URL ending in ``.zip`` / ``.ozx`` is
read as a zip file through range requests.
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from course_utils.keys import METADATA_NAMES, ROOT_MARKERS

from .assemble import add_documents, summarise, summarise_metadata
from .common import MAX_METADATA_BYTES, Listing, StoreError, not_a_store, one_line
from .formats import N5_ATTRIBUTES, Zarr, detect
from .local import inspect_path
from .ome import root_image
from .summary import StoreSummary
from .zipped import ZIP_BLOCK_SIZE, ZIP_SUFFIXES, summarise_zipfile

__all__ = ["FETCH_CONCURRENCY", "REMOTE_TIMEOUT_SECONDS", "inspect_fs", "inspect_url"]

#: Concurrent metadata requests against a remote store.
FETCH_CONCURRENCY = 32
#: Give up on a remote store after this many seconds per batch of requests.
REMOTE_TIMEOUT_SECONDS = 60.0


# --------------------------------------------------------------------------
# fsspec filesystems: list the keys and sizes
# --------------------------------------------------------------------------


def _run_async(fs: Any, make_coro: Callable[[], Any]) -> Any:
    """Run a coroutine of an async filesystem on the loop it belongs to."""
    if getattr(fs, "asynchronous", False):
        # An FsspecStore's filesystem lives on zarr's event loop.
        from zarr.core.sync import sync as zarr_sync

        return zarr_sync(make_coro(), timeout=REMOTE_TIMEOUT_SECONDS)
    from fsspec.asyn import sync as fsspec_sync

    return fsspec_sync(fs.loop, make_coro, timeout=REMOTE_TIMEOUT_SECONDS)


def _fetch_many(fs: Any, paths: list[str]) -> list[bytes | Exception]:
    """Whole objects (or the exception each raised), requested concurrently.

    What ``fs.cat(paths, on_error="return")`` does, minus its glob expansion
    (a ``?`` in a signed URL must not trigger a listing).
    """
    if not paths:
        return []
    if getattr(fs, "async_impl", False):

        async def gather() -> list[Any]:
            limit = asyncio.Semaphore(FETCH_CONCURRENCY)

            async def one(path: str) -> Any:
                async with limit:
                    return await fs._cat_file(path)

            coros = [one(p) for p in paths]
            return await asyncio.gather(*coros, return_exceptions=True)

        return list(_run_async(fs, gather))
    out: list[bytes | Exception] = []
    for path in paths:
        try:
            out.append(fs.cat_file(path))
        except Exception as error:  # noqa: BLE001 - reported per path
            out.append(error)
    return out


def _fs_call(fs: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    if getattr(fs, "async_impl", False) and getattr(fs, "asynchronous", False):
        method = getattr(fs, "_" + name)
        return _run_async(fs, lambda: method(*args, **kwargs))
    return getattr(fs, name)(*args, **kwargs)


def _protocols(fs: Any) -> set[str]:
    protocol = getattr(fs, "protocol", ())
    return {protocol} if isinstance(protocol, str) else set(protocol)


def _raise_unreachable(results: Iterable[bytes | Exception], source: str) -> None:
    """StoreError when nothing came back and something else than 'not found' failed."""
    results = list(results)
    if any(isinstance(r, (bytes, bytearray)) for r in results):
        return
    for result in results:
        if isinstance(result, FileNotFoundError):
            continue
        if isinstance(result, BaseException):
            status = getattr(result, "status", None)
            if isinstance(result, PermissionError) or status in (401, 403):
                raise StoreError(
                    f"access to {source} was denied ({one_line(result, True)}); "
                    "the store is private or the URL is wrong"
                )
            if isinstance(status, int):
                message = f"{source} answered HTTP {status} ({one_line(result, True)})"
                raise StoreError(message)
            raise StoreError(f"cannot reach {source} ({one_line(result, True)})")


def _unwrap_fs(fs: Any) -> Any:
    try:
        from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper
    except ImportError:  # pragma: no cover - older fsspec
        return fs
    while isinstance(fs, AsyncFileSystemWrapper):
        fs = fs.sync_fs
    return fs


def inspect_fs(fs: Any, path: str, source: str) -> StoreSummary:
    """Summarise the store at ``path`` of the fsspec filesystem ``fs`` (HTTP: metadata only)."""
    from fsspec.implementations.local import LocalFileSystem

    fs = _unwrap_fs(fs)
    if isinstance(fs, LocalFileSystem):
        return inspect_path(path, source)
    if _protocols(fs) & {"http", "https"}:
        return _inspect_http(fs, path, source)
    kind = "fsspec " + "/".join(sorted(_protocols(fs)))
    root = fs._strip_protocol(path).rstrip("/") if path else ""

    def join(key: str) -> str:
        return f"{root}/{key}" if root else key

    # One request for the top level: is this a Zarr store at all? Only then
    # list everything below it (a wrong path must never list a whole bucket).
    try:
        top = _fs_call(fs, "ls", root, detail=False)
    except FileNotFoundError:
        raise StoreError(f"{source} does not exist") from None
    except Exception as error:  # noqa: BLE001 - the filesystem's own errors
        raise StoreError(f"cannot reach {source} ({one_line(error, True)})") from None
    if not {str(name).rstrip("/").rsplit("/", 1)[-1] for name in top} & {*ROOT_MARKERS, N5_ATTRIBUTES}:
        if not top:
            raise StoreError(f"{source} does not exist")
        raise not_a_store(source)
    try:
        found = _fs_call(fs, "find", root, detail=True)
    except Exception as error:  # noqa: BLE001
        raise StoreError(f"cannot list {source} ({one_line(error, True)})") from None
    start = len(root) + 1 if root else 0
    sizes: dict[str, int] = {}
    for name, info in found.items():
        if info.get("type") == "directory":
            continue
        name = name.lstrip("/") if not root else name
        key = name[start:] if root else name
        if not key or key.endswith("/"):
            continue
        sizes[key] = int(info.get("size") or 0)

    def read(keys: list[str]) -> list[bytes | Exception]:
        small = [k for k in keys if sizes.get(k, 0) <= MAX_METADATA_BYTES]
        try:
            fetched = dict(zip(small, _fetch_many(fs, [join(k) for k in small])))
        except Exception as error:  # noqa: BLE001
            message = f"cannot read the metadata of {source} ({one_line(error, True)})"
            raise StoreError(message) from None
        too_big = ValueError(f"over {MAX_METADATA_BYTES:,} bytes, not read")
        return [fetched.get(k, too_big) for k in keys]

    return summarise(Listing.from_keys(sizes.items()), read, source=source, kind=kind)


# --------------------------------------------------------------------------
# HTTP: no listing; read the metadata, compute the counts
# --------------------------------------------------------------------------


def _inspect_http(fs: Any, url: str, source: str) -> StoreSummary:
    """Read the root metadata (and, without consolidated metadata, each scale's);
    compute the counts from the chunk grids."""
    base = url.rstrip("/")
    n_requests = 0

    def fetch(keys: list[str]) -> dict[str, bytes | Exception]:
        nonlocal n_requests
        n_requests += len(keys)
        try:
            results = _fetch_many(fs, [f"{base}/{key}" for key in keys])
        except Exception as error:  # noqa: BLE001 - e.g. a timeout
            message = f"cannot reach {source} ({one_line(error, True)})"
            raise StoreError(message) from None
        return dict(zip(keys, results))

    notes: list[str] = []
    docs: dict[str, Any] = {}
    present: set[str] = set()  # metadata keys known to exist

    def take(results: Mapping[str, bytes | Exception], required: bool = False) -> None:
        for key, value in results.items():
            if isinstance(value, bytes):
                present.add(key)
                add_documents(docs, [key], [value], notes)
            elif required and isinstance(value, FileNotFoundError):
                notes.append(f"{key}: listed in the multiscales but not found")
            elif required:
                add_documents(docs, [key], [value], notes)

    # One round trip: v3 root, v2 consolidated metadata, v2 root attributes.
    first = fetch(["zarr.json", ".zmetadata", ".zattrs"])
    _raise_unreachable(first.values(), source)
    scale_paths: list[str] = []
    if not isinstance(first["zarr.json"], bytes) and not isinstance(first[".zmetadata"], bytes):
        # Zarr v2 without consolidated metadata: the root group and, if the
        # attributes list them, the scales' arrays in one more round trip.
        attrs: dict[str, Any] = {}
        if isinstance(first[".zattrs"], bytes):
            add_documents(attrs, [".zattrs"], [first[".zattrs"]], [])
        _, _, scale_paths = root_image(attrs.get(".zattrs"))
        keys = [".zgroup"] + [f"{p}/.zarray" for p in scale_paths] if scale_paths else [".zgroup", ".zarray"]
        first.update(fetch(keys))
        if not any(isinstance(v, bytes) for v in first.values()):
            first.update(fetch([N5_ATTRIBUTES]))
    root_names = {key for key, value in first.items() if isinstance(value, bytes) and "/" not in key}
    if ".zmetadata" in root_names and not root_names.intersection(ROOT_MARKERS):
        # Consolidated v2 metadata holds the root group's document too.
        zmetadata: dict[str, Any] = {}
        add_documents(zmetadata, [".zmetadata"], [first[".zmetadata"]], [])
        inline = Zarr(None).inline(".zmetadata", zmetadata.get(".zmetadata"))
        for marker in (".zgroup", ".zarray"):
            if isinstance(inline.get(marker), Mapping):
                root_names.add(marker)
                first[marker] = json.dumps(inline[marker]).encode()
    hint = "nothing found over HTTP: does the URL point at the top of the store?"

    def read_root(key: str) -> bytes:
        value = first[key]
        if isinstance(value, BaseException):
            raise value
        return value

    fmt, root_docs = detect(source, root_names, read_root, hint)
    if not isinstance(fmt, Zarr):
        what = "an N5 container" if fmt.name.startswith("N5") else f"a {fmt.name} store"
        raise StoreError(
            f"{source} is {what}: over HTTP its arrays cannot be listed "
            "(inspect a local copy or a bucket URL)"
        )
    consolidated = None
    if "zarr.json" in root_docs:
        take({"zarr.json": first["zarr.json"]})
        root = docs.get("zarr.json", {})
        inline = fmt.inline("zarr.json", root)
        if inline:
            consolidated = "zarr.json consolidated_metadata"
            for key, doc in inline.items():
                present.add(key)
                if isinstance(doc, Mapping):
                    docs[key] = doc
        elif root.get("node_type") == "group":
            _, _, paths = root_image(root.get("attributes"))
            if paths:
                take(fetch([f"{p}/zarr.json" for p in paths]), required=True)
    elif isinstance(first[".zmetadata"], bytes):
        zmetadata: dict[str, Any] = {}
        add_documents(zmetadata, [".zmetadata"], [first[".zmetadata"]], notes)
        inline = fmt.inline(".zmetadata", zmetadata.get(".zmetadata"))
        if inline:
            consolidated = ".zmetadata"
            present.add(".zmetadata")
            for key, doc in inline.items():
                present.add(str(key))
                if isinstance(doc, Mapping):
                    docs[str(key)] = doc
        else:
            notes.append(".zmetadata: not valid consolidated metadata")
    if consolidated is None and "zarr.json" not in root_docs:
        take({key: first[key] for key in first if key != ".zmetadata" and key != "zarr.json"},
             required=False)
        for path in scale_paths:
            key = f"{path}/.zarray"
            if not isinstance(first.get(key), bytes):
                take({key: first[key]}, required=True)
    if not present.intersection(ROOT_MARKERS):
        raise not_a_store(source, hint)

    how = "consolidated metadata" if consolidated else "the metadata documents"
    notes.insert(
        0,
        f"HTTP cannot list objects: counts come from {how} ({n_requests} requests) and "
        "assume every chunk was written; sizes are unknown",
    )
    if not consolidated:
        notes.insert(1, "metadata of intermediate groups is not counted (not read)")
    return summarise_metadata(
        fmt, docs, source=source, kind="http", present=present,
        consolidated=consolidated, notes=notes,
    )


# --------------------------------------------------------------------------
# URLs: a remote zip, or a filesystem
# --------------------------------------------------------------------------


def _strip_metadata_name(text: str) -> str:
    """A path or URL that names a metadata file stands for its folder."""
    head, sep, tail = text.rstrip("/").rpartition("/")
    if sep and tail in METADATA_NAMES:
        return head
    return text


def inspect_url(url: str, storage_options: Mapping[str, Any]) -> StoreSummary:
    """Summarise the store at an fsspec URL (a remote ``.zip`` / ``.ozx`` through range requests)."""
    try:
        import fsspec
        from fsspec.core import url_to_fs
    except ImportError:  # pragma: no cover - a course dependency
        raise StoreError("reading URLs needs the fsspec package") from None
    target = _strip_metadata_name(url)
    remote_zip = (
        target.lower().rstrip("/").endswith(ZIP_SUFFIXES)
        and "::" not in target  # "zip::..." chains go through fsspec's zip filesystem
        and not target.startswith("file://")
    )
    if remote_zip:
        try:
            options = {"block_size": ZIP_BLOCK_SIZE, **storage_options}
            with fsspec.open(target, "rb", **options) as file:
                try:
                    zf = zipfile.ZipFile(file)
                except zipfile.BadZipFile as error:
                    message = f"{url} is not a valid zip file ({one_line(error)})"
                    raise StoreError(message) from None
                with zf:
                    return summarise_zipfile(zf, url, remote=True)
        except StoreError:
            raise
        except FileNotFoundError:
            raise StoreError(f"{url} does not exist") from None
        except Exception as error:  # noqa: BLE001 - whatever the transport raises
            raise StoreError(f"cannot read {url} ({one_line(error, True)})") from None
    try:
        fs, path = url_to_fs(target, **storage_options)
    except ImportError as error:
        message = f"cannot open {url}: a package is missing ({one_line(error)})"
        raise StoreError(message) from None
    except Exception as error:  # noqa: BLE001 - unknown protocol, bad options
        raise StoreError(f"cannot open {url} ({one_line(error, True)})") from None
    return inspect_fs(fs, path, url)
