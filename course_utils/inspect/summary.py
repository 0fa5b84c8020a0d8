"""What :func:`~course_utils.inspect.inspect_store` returns, and what it raises.

:class:`StoreSummary` (with one :class:`ArrayInfo` per array) and its rich /
Jupyter table; :class:`StoreError` and the helpers that keep its message to
one readable line; :func:`format_bytes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.jupyter import JupyterMixin


class StoreError(ValueError):
    """The target cannot be inspected; the message says why in one line."""


def _one_line(error: BaseException, with_type: bool = False) -> str:
    """An exception as one short line (square brackets softened for rich markup)."""
    text = " ".join(str(error).split())
    name = type(error).__name__
    if not text:
        text = name
    elif with_type and name not in text:
        text = f"{name}: {text}"
    text = text.replace("[", "(").replace("]", ")")
    if len(text) > 200:
        text = text[:197] + "..."
    return text


def _not_zarr(what: str, hint: str = "") -> StoreError:
    return StoreError(
        f"{what} is not a Zarr store: no zarr.json, .zgroup or .zarray at its top level"
        + (f" ({hint})" if hint else "")
    )


def format_bytes(n: int | None) -> str:
    """Human-friendly binary size: ``format_bytes(6_400_000) == '6.1 MiB'``."""
    if n is None:
        return "unknown"
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024.0
        if value < 1024.0 or unit == "PiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def _shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "-"
    return str(tuple(shape))


@dataclass(frozen=True)
class ArrayInfo:
    """What one array's metadata says.

    ``chunks`` is the (inner) chunk shape; ``shards`` the shard shape, or None
    when the array is not sharded. ``codecs`` lists codec names in order; a
    sharded array shows its inner codecs as ``"sharding_indexed: bytes, zstd"``.
    """

    shape: tuple[int, ...]
    dtype: str
    chunks: tuple[int, ...] | None
    shards: tuple[int, ...] | None
    codecs: tuple[str, ...]
    zarr_format: int
    separator: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists)."""
        return {
            "shape": list(self.shape),
            "dtype": self.dtype,
            "chunks": None if self.chunks is None else list(self.chunks),
            "shards": None if self.shards is None else list(self.shards),
            "codecs": list(self.codecs),
            "zarr_format": self.zarr_format,
            "separator": self.separator,
        }


@dataclass(frozen=True)
class StoreSummary(JupyterMixin):
    """A Zarr store at a glance; shows as a table in rich and in Jupyter.

    Counts: ``n_objects == n_metadata + n_chunks``. ``n_metadata`` counts keys
    named ``zarr.json``, ``.zgroup``, ``.zattrs``, ``.zarray`` or
    ``.zmetadata``; everything else is a chunk (or shard). ``complete`` is
    False when the objects could not be listed (HTTP): the counts are then
    computed from the metadata and ``total_bytes`` is None.
    """

    source: str
    kind: str
    complete: bool
    n_objects: int
    total_bytes: int | None
    n_metadata: int
    n_chunks: int
    max_entries_per_directory: int
    max_entries_directory: str
    arrays: dict[str, ArrayInfo]
    zarr_format: int | None
    ome_version: str | None
    n_scales: int | None
    duplicate_entries: int = 0
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """Only builtins (dict, list, str, int, bool, None): survives JSON."""
        return {
            "source": self.source,
            "kind": self.kind,
            "complete": self.complete,
            "n_objects": self.n_objects,
            "total_bytes": self.total_bytes,
            "n_metadata": self.n_metadata,
            "n_chunks": self.n_chunks,
            "max_entries_per_directory": self.max_entries_per_directory,
            "max_entries_directory": self.max_entries_directory,
            "arrays": {path: info.as_dict() for path, info in self.arrays.items()},
            "zarr_format": self.zarr_format,
            "ome_version": self.ome_version,
            "n_scales": self.n_scales,
            "duplicate_entries": self.duplicate_entries,
            "notes": list(self.notes),
        }

    def __rich__(self) -> Any:
        from rich import box
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        overview = Table(
            title=Text("Zarr store", style="bold"),
            title_justify="left",
            show_header=False,
            box=box.SIMPLE,
        )
        overview.add_column("what", style="bold cyan", no_wrap=True)
        overview.add_column("value", overflow="fold")
        overview.add_row("Source", self.source)
        overview.add_row("Kind", self.kind)
        fmt = "unknown" if self.zarr_format is None else f"Zarr v{self.zarr_format}"
        if self.ome_version is not None:
            fmt += f", OME-Zarr {self.ome_version}"
            if self.n_scales is not None:
                fmt += f" ({self.n_scales} scale{'s' if self.n_scales != 1 else ''})"
        else:
            fmt += ", not OME-Zarr"
        overview.add_row("Format", fmt)
        objects = (
            f"{self.n_objects:,} ({self.n_metadata:,} metadata, "
            f"{self.n_chunks:,} chunks)"
        )
        if not self.complete:
            objects += "; computed from the metadata, the objects could not be listed"
        overview.add_row("Objects", objects)
        if self.total_bytes is None:
            overview.add_row("Total size", "unknown (the objects could not be listed)")
        else:
            overview.add_row(
                "Total size",
                f"{format_bytes(self.total_bytes)} ({self.total_bytes:,} bytes)",
            )
        where = self.max_entries_directory or "(root)"
        overview.add_row(
            "Busiest directory",
            f"{self.max_entries_per_directory:,} entries in {where}",
        )
        if self.duplicate_entries:
            overview.add_row(
                "Duplicate zip entries",
                Text(f"{self.duplicate_entries:,} (only the last copy of each is read)",
                     style="yellow"),
            )

        parts: list[Any] = [overview]
        if self.arrays:
            arrays = Table(
                title="Arrays",
                title_justify="left",
                box=box.SIMPLE_HEAD,
                pad_edge=False,
                collapse_padding=True,
            )
            longest = max(len(path or "(root)") for path in self.arrays)
            arrays.add_column("Path", min_width=min(longest, 40), overflow="fold")
            arrays.add_column("Shape", justify="right", no_wrap=True)
            arrays.add_column("dtype", no_wrap=True)
            arrays.add_column("Chunks", justify="right", no_wrap=True)
            arrays.add_column("Shards", justify="right", no_wrap=True)
            arrays.add_column("Codecs", ratio=1, min_width=10, overflow="fold")
            arrays.add_column("Zarr", justify="right", no_wrap=True)
            # The chunk key separator: "0.1" or "0/1".
            arrays.add_column("Sep", justify="center", no_wrap=True)
            for path, info in self.arrays.items():
                arrays.add_row(
                    path or "(root)",
                    _shape_text(info.shape),
                    info.dtype,
                    _shape_text(info.chunks),
                    _shape_text(info.shards),
                    ", ".join(info.codecs) or "-",
                    str(info.zarr_format),
                    info.separator,
                )
            parts.append(arrays)
        else:
            parts.append(Text("No arrays found.", style="yellow"))
        for note in self.notes:
            parts.append(Text(f"note: {note}", style="yellow"))
        return Group(*parts)
