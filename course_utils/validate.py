"""Is this really OME-Zarr? Ask an independent validator.

The course calls a store OME-Zarr only when `ome-zarr-models
<https://ome-zarr-models-py.readthedocs.io>`_ (a validator written by other
people, from the specification) accepts it. :func:`validate_ome_zarr` wraps
it: give it a directory, a ``.zip`` / ``.ozx`` file, a zarr store or a zarr
group; it returns the OME-Zarr version (``"0.4"`` or ``"0.5"``), or raises
:class:`NotOmeZarrError` with one readable line saying what is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["NotOmeZarrError", "SUPPORTED_VERSIONS", "declared_version", "validate_ome_zarr"]

#: OME-Zarr versions the validator knows.
SUPPORTED_VERSIONS = ("0.4", "0.5")
_ZIP_SUFFIXES = (".zip", ".ozx")


class NotOmeZarrError(ValueError):
    """The store is not valid OME-Zarr; the message says why in one line."""


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def declared_version(attributes: Any) -> str | None:
    """The OME-Zarr version a group's attributes claim, or None when they claim none.

    OME-Zarr 0.5 keeps it at ``attributes["ome"]["version"]``; 0.4 in each
    ``multiscales`` entry (or in ``plate`` / ``well``) as ``"version"``.
    """
    if not isinstance(attributes, dict):
        return None
    ome = attributes.get("ome")
    if isinstance(ome, dict) and "version" in ome:
        return str(ome["version"])
    multiscales = attributes.get("multiscales")
    if isinstance(multiscales, list) and multiscales and isinstance(multiscales[0], dict):
        if "version" in multiscales[0]:
            return str(multiscales[0]["version"])
    for key in ("plate", "well"):
        entry = attributes.get(key)
        if isinstance(entry, dict) and "version" in entry:
            return str(entry["version"])
    if "labels" in attributes or "bioformats2raw.layout" in attributes:
        return "0.4"
    return None


def _open(target: Any) -> tuple[Any, Any, str]:
    """``(group, store to close or None, name for messages)`` for any accepted target."""
    import zarr

    if isinstance(target, zarr.Group):
        return target, None, str(target.store_path)
    if isinstance(target, (str, os.PathLike)):
        path = Path(target)
        if not path.exists():
            raise NotOmeZarrError(f"{path} does not exist")
        if path.is_file() and path.suffix.lower() in _ZIP_SUFFIXES:
            store = zarr.storage.ZipStore(path, mode="r")
            try:
                return zarr.open_group(store, mode="r"), store, str(path)
            except Exception as error:
                _close(store)
                raise NotOmeZarrError(
                    f"{path} does not hold a Zarr group at its top ({_one_line(error)})"
                ) from None
        name, target = str(path), str(path)
    else:
        name = str(target)
    try:
        return zarr.open_group(target, mode="r"), None, name
    except Exception as error:
        raise NotOmeZarrError(f"{name} is not a Zarr group ({_one_line(error)})") from None


def _close(store: Any) -> None:
    if store is None:
        return
    try:
        store.close()
    except AttributeError:  # zarr 3.1: closing a ZipStore that never opened
        pass


def _first_problem(error: BaseException) -> str:
    """The first validation error as ``where: what`` (pydantic), or the error's first line."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        try:
            found = errors()
        except Exception:
            found = []
        if found:
            first = found[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "metadata"
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            return f"{where}: {first.get('msg', 'invalid')}{more}"
    return _one_line(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)


def validate_ome_zarr(path_or_store: Any) -> str:
    """Validate ``path_or_store`` with ome-zarr-models; return its OME-Zarr version.

    ``path_or_store`` is a directory, a ``.zip`` / ``.ozx`` file, a zarr
    store (``LocalStore``, ``ZipStore``, ``MemoryStore``...) or a zarr
    ``Group``. Returns ``"0.4"`` or ``"0.5"``. Raises
    :class:`NotOmeZarrError`, with one line saying why, when it is missing,
    not a Zarr group, declares no or an unknown OME-Zarr version, or does
    not match the specification of the version it declares.
    """
    import ome_zarr_models

    group, opened, name = _open(path_or_store)
    try:
        version = declared_version(dict(group.attrs))
        if version is None:
            raise NotOmeZarrError(
                f"{name} is a Zarr group but not OME-Zarr: its attributes have no "
                "'ome' (0.5) or 'multiscales' (0.4) metadata"
            )
        if version not in SUPPORTED_VERSIONS:
            raise NotOmeZarrError(
                f"{name} declares OME-Zarr {version}; the validator knows "
                f"{', '.join(SUPPORTED_VERSIONS)}"
            )
        try:
            ome_zarr_models.open_ome_zarr(group, version=version)
        except Exception:
            raise NotOmeZarrError(
                f"{name} is not valid OME-Zarr {version}: {_explain(group, version)}"
            ) from None
        return version
    finally:
        _close(opened)


def _explain(group: Any, version: str) -> str:
    """Why ``group`` fails as an OME-Zarr ``version`` image (the most common kind)."""
    if version == "0.5":
        from ome_zarr_models.v05.image import Image
    else:
        from ome_zarr_models.v04.image import Image
    try:
        Image.from_zarr(group)
    except Exception as error:
        return _first_problem(error)
    return "it matches no OME-Zarr group type"  # pragma: no cover (open_ome_zarr failed)
