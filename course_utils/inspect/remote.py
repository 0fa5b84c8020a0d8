"""URLs: fsspec filesystems, listed; HTTP, walked through the metadata only.

A filesystem that can list (``s3://``, ``gs://``, ``memory://``, ...) gives
the keys and sizes; HTTP cannot, so the root metadata (and, without
consolidated metadata, each scale's array metadata) is read and the counts
are computed from the chunk grids. A URL ending in ``.zip`` / ``.ozx`` is read
as a zip file through range requests.
"""

from __future__ import annotations

import asyncio
import json
import math
import zipfile
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from course_utils.keys import METADATA_NAMES, ROOT_MARKERS
from course_utils.keys import natural_key as _natural_key

from .counts import _busiest, _chunk_levels, _Counts, _grid, _summary_from_keys
from .local import _inspect_path
from .metadata import _Metadata, _ome
from .summary import StoreError, StoreSummary, _not_zarr, _one_line
from .zipped import ZIP_BLOCK_SIZE, ZIP_SUFFIXES, _summary_from_zipfile

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
                    f"access to {source} was denied ({_one_line(result, True)}); "
                    "the store is private or the URL is wrong"
                )
            if isinstance(status, int):
                message = f"{source} answered HTTP {status} ({_one_line(result, True)})"
                raise StoreError(message)
            raise StoreError(f"cannot reach {source} ({_one_line(result, True)})")


def _unwrap_fs(fs: Any) -> Any:
    try:
        from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper
    except ImportError:  # pragma: no cover - older fsspec
        return fs
    while isinstance(fs, AsyncFileSystemWrapper):
        fs = fs.sync_fs
    return fs


def _inspect_fs(fs: Any, path: str, source: str) -> StoreSummary:
    from fsspec.implementations.local import LocalFileSystem

    fs = _unwrap_fs(fs)
    if isinstance(fs, LocalFileSystem):
        return _inspect_path(path, source)
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
        raise StoreError(f"cannot reach {source} ({_one_line(error, True)})") from None
    if not {str(name).rstrip("/").rsplit("/", 1)[-1] for name in top} & set(ROOT_MARKERS):
        if not top:
            raise StoreError(f"{source} does not exist")
        raise _not_zarr(source)
    try:
        listing = _fs_call(fs, "find", root, detail=True)
    except Exception as error:  # noqa: BLE001
        raise StoreError(f"cannot list {source} ({_one_line(error, True)})") from None
    start = len(root) + 1 if root else 0
    items = []
    for name, info in listing.items():
        if info.get("type") == "directory":
            continue
        name = name.lstrip("/") if not root else name
        key = name[start:] if root else name
        if not key or key.endswith("/"):
            continue
        items.append((key, int(info.get("size") or 0)))

    def read(keys: list[str]) -> list[bytes | Exception]:
        try:
            return _fetch_many(fs, [join(k) for k in keys])
        except Exception as error:  # noqa: BLE001
            message = f"cannot read the metadata of {source} ({_one_line(error, True)})"
            raise StoreError(message) from None

    return _summary_from_keys(source=source, kind=kind, items=items, read=read)


# --------------------------------------------------------------------------
# HTTP: no listing; read the metadata, compute the counts
# --------------------------------------------------------------------------


def _inspect_http(fs: Any, url: str, source: str) -> StoreSummary:
    base = url.rstrip("/")
    n_requests = 0

    def fetch(keys: list[str]) -> dict[str, bytes | Exception]:
        nonlocal n_requests
        n_requests += len(keys)
        try:
            results = _fetch_many(fs, [f"{base}/{key}" for key in keys])
        except Exception as error:  # noqa: BLE001 - e.g. a timeout
            message = f"cannot reach {source} ({_one_line(error, True)})"
            raise StoreError(message) from None
        return dict(zip(keys, results))

    metadata = _Metadata()
    present: set[str] = set()  # metadata keys known to exist

    def take(results: Mapping[str, bytes | Exception], required: bool = False) -> None:
        for key, value in results.items():
            if isinstance(value, bytes):
                present.add(key)
                metadata.add_raw(key, value)
            elif required and isinstance(value, FileNotFoundError):
                metadata.notes.append(f"{key}: listed in the multiscales but not found")
            elif required:
                metadata.add_raw(key, value)

    # One round trip: v3 root, v2 consolidated metadata, v2 root attributes.
    first = fetch(["zarr.json", ".zmetadata", ".zattrs"])
    _raise_unreachable(first.values(), source)
    consolidated = False
    if isinstance(first["zarr.json"], bytes):
        take({"zarr.json": first["zarr.json"]})
        root = metadata.docs.get("zarr.json", {})
        inline = root.get("consolidated_metadata")
        inline = inline.get("metadata") if isinstance(inline, Mapping) else None
        if isinstance(inline, Mapping):
            consolidated = True
            for path, doc in inline.items():
                key = f"{str(path).strip('/')}/zarr.json"
                present.add(key)
                metadata.add(key, doc)
        elif root.get("node_type") == "group":
            _, _, paths = _ome(root.get("attributes"))
            if paths:
                take(fetch([f"{p}/zarr.json" for p in paths]), required=True)
    elif isinstance(first[".zmetadata"], bytes):
        try:
            inline = json.loads(first[".zmetadata"]).get("metadata")
        except (ValueError, UnicodeDecodeError, AttributeError):
            inline = None
        if isinstance(inline, Mapping):
            consolidated = True
            present.add(".zmetadata")
            for key, doc in inline.items():
                present.add(str(key))
                metadata.add(str(key), doc)
        else:
            metadata.notes.append(".zmetadata: not valid consolidated metadata")
    if not consolidated and "zarr.json" not in present:
        take({".zattrs": first[".zattrs"]})
        _, _, paths = _ome(metadata.docs.get(".zattrs"))
        if paths:
            results = fetch([".zgroup"] + [f"{p}/.zarray" for p in paths])
            take({".zgroup": results.pop(".zgroup")})
            take(results, required=True)
        else:
            take(fetch([".zgroup", ".zarray"]))
    if not present.intersection(ROOT_MARKERS):
        hint = "nothing found over HTTP: does the URL point at the top of the store?"
        raise _not_zarr(source, hint)

    # Counts from the metadata: every chunk (or shard) of the grid is one object.
    counts = _Counts()
    for key in sorted(present, key=_natural_key):
        counts.add(key, 0)
    arrays = metadata.arrays()
    n_chunks = 0
    deeper: list[tuple[str, int]] = []
    for path, (info, prefix) in arrays.items():
        n_chunks += math.prod(_grid(info))
        levels = _chunk_levels(info, prefix)
        counts.entries[path] = counts.entries.get(path, 0) + levels[0]
        segments = ([prefix] if prefix else []) + ["0"] * len(info.shape)
        for depth in range(1, len(levels)):
            directory = "/".join(([path] if path else []) + segments[:depth])
            deeper.append((directory, levels[depth]))
    busiest_n, busiest_dir = _busiest([*counts.entries.items(), *deeper])
    ome_version, n_scales, _ = _ome(metadata.root_attributes())
    how = "consolidated metadata" if consolidated else "the metadata documents"
    notes = [
        f"HTTP cannot list objects: counts come from {how} ({n_requests} requests) and "
        "assume every chunk was written; sizes are unknown"
    ]
    if not consolidated:
        notes.append("metadata of intermediate groups is not counted (not read)")
    return StoreSummary(
        source=source,
        kind="http",
        complete=False,
        n_objects=len(present) + n_chunks,
        total_bytes=None,
        n_metadata=len(present),
        n_chunks=n_chunks,
        max_entries_per_directory=busiest_n,
        max_entries_directory=busiest_dir,
        arrays={path: info for path, (info, _) in arrays.items()},
        zarr_format=metadata.root_format(),
        ome_version=ome_version,
        n_scales=n_scales,
        notes=tuple(notes + metadata.notes),
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


def _inspect_url(url: str, storage_options: Mapping[str, Any]) -> StoreSummary:
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
                    message = f"{url} is not a valid zip file ({_one_line(error)})"
                    raise StoreError(message) from None
                with zf:
                    return _summary_from_zipfile(zf, url)
        except StoreError:
            raise
        except FileNotFoundError:
            raise StoreError(f"{url} does not exist") from None
        except Exception as error:  # noqa: BLE001 - whatever the transport raises
            raise StoreError(f"cannot read {url} ({_one_line(error, True)})") from None
    try:
        fs, path = url_to_fs(target, **storage_options)
    except ImportError as error:
        message = f"cannot open {url}: a package is missing ({_one_line(error)})"
        raise StoreError(message) from None
    except Exception as error:  # noqa: BLE001 - unknown protocol, bad options
        raise StoreError(f"cannot open {url} ({_one_line(error, True)})") from None
    return _inspect_fs(fs, path, url)
