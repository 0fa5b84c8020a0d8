"""Python objects: zarr stores, groups and arrays, and plain mappings.

Stores backed by files or a filesystem are handed to the local, zip or fsspec
code; a ``dict`` or ``MemoryStore`` is read in place; any other zarr store
through its own async API.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from .assemble import summarise
from .common import MAX_METADATA_BYTES, Listing, StoreError, one_line
from .local import inspect_path
from .remote import FETCH_CONCURRENCY, REMOTE_TIMEOUT_SECONDS, inspect_fs
from .summary import StoreSummary
from .zipped import inspect_zipstore

__all__ = ["inspect_mapping", "inspect_zarr_object"]


def _nbytes(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, memoryview):
        return value.nbytes
    if hasattr(value, "to_bytes") and hasattr(value, "__len__"):  # zarr Buffer
        return len(value)
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    return len(value)


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if hasattr(value, "to_bytes"):
        return value.to_bytes()
    return bytes(value)


def inspect_mapping(
    mapping: Mapping[Any, Any], source: str, kind: str, prefix: str = ""
) -> StoreSummary:
    """Summarise a mapping of key -> bytes (a dict, a MemoryStore's dict) below ``prefix``."""
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    snapshot = dict(mapping)  # a stable view if another thread writes
    keys: dict[str, Any] = {}
    for key in snapshot:
        text = key.decode("utf-8", errors="replace") if isinstance(key, bytes) else str(key)
        if text.startswith(prefix) and len(text) > len(prefix):
            keys[text[len(prefix) :]] = key
    items = [(rel, _nbytes(snapshot[key])) for rel, key in keys.items()]

    def read(wanted: list[str]) -> list[bytes | Exception]:
        return [_to_bytes(snapshot[keys[key]])[: MAX_METADATA_BYTES + 1] for key in wanted]

    def peek(wanted: list[str]) -> list[bytes]:
        return [_to_bytes(snapshot[keys[key]])[:100] for key in wanted]

    return summarise(Listing.from_keys(items), read, source=source, kind=kind, peek=peek)


def inspect_zarr_object(target: Any) -> StoreSummary | None:
    """Summarise a zarr store, group or array; None when ``target`` is none of those."""
    if not type(target).__module__.startswith("zarr"):
        return None
    import zarr.storage as zs

    store, prefix = target, ""
    store_path = getattr(target, "store_path", None)
    if store_path is not None:  # zarr.Group / zarr.Array
        store, prefix = store_path.store, store_path.path
    elif isinstance(target, zs.StorePath):
        store, prefix = target.store, target.path
    prefix = (prefix or "").strip("/")
    while isinstance(store, zs.WrapperStore):
        store = store._store
    if isinstance(store, zs.LocalStore):
        root = os.fspath(store.root)
        path = os.path.join(root, prefix) if prefix else root
        return inspect_path(path, str(store) + (f"/{prefix}" if prefix else ""))
    if isinstance(store, zs.ZipStore):
        return inspect_zipstore(store, prefix)
    if isinstance(store, zs.FsspecStore):
        path = store.path.rstrip("/")
        path = f"{path}/{prefix}" if prefix else path
        source = str(store) + (f"/{prefix}" if prefix else "")
        return inspect_fs(store.fs, path, source)
    if isinstance(store, zs.MemoryStore):
        return inspect_mapping(store._store_dict, str(store), "memory", prefix)
    from zarr.abc.store import Store

    if isinstance(store, Store):
        return _inspect_generic_store(store, prefix)
    return None


def _inspect_generic_store(store: Any, prefix: str) -> StoreSummary:
    """Any other zarr store: its own list / getsize / get (slower, but it works)."""
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync as zarr_sync

    source = str(store) + (f"/{prefix}" if prefix else "")
    start = len(prefix) + 1 if prefix else 0

    async def listing() -> list[tuple[str, int]]:
        keys = [k async for k in store.list_prefix(f"{prefix}/" if prefix else "")]
        limit = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def size(key: str) -> int:
            async with limit:
                return int(await store.getsize(key))

        sizes = await asyncio.gather(*(size(k) for k in keys))
        return [(k[start:], s) for k, s in zip(keys, sizes)]

    async def fetch(keys: list[str]) -> list[bytes | Exception]:
        prototype = default_buffer_prototype()
        out: list[bytes | Exception] = []
        for key in keys:
            buffer = await store.get(f"{prefix}/{key}" if prefix else key, prototype)
            out.append(FileNotFoundError(key) if buffer is None else buffer.to_bytes())
        return out

    try:
        items = zarr_sync(listing(), timeout=REMOTE_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001
        raise StoreError(f"cannot list {source} ({one_line(error, True)})") from None
    return summarise(
        Listing.from_keys(items),
        lambda keys: zarr_sync(fetch(keys), timeout=REMOTE_TIMEOUT_SECONDS),
        source=source,
        kind=type(store).__name__,
    )
