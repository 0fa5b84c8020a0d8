"""What :func:`~course_utils.inspect.inspect_store` returns.

:class:`StoreSummary` (with one :class:`ArrayInfo` per array) and its rich /
Jupyter table; :func:`format_bytes`. Plain data: this module imports nothing
else from the package.

The words follow the Zarr specifications: a **chunk** is one tile of an
array's chunk grid; with the sharding codec (Zarr v3) a **shard** is one
stored object that holds several chunks, and the chunk grid is the inner
one. An **object** (a file in a directory, a key in a bucket, an entry in a
zip) is what the store holds: metadata documents, chunks, shards, anything
else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rich.jupyter import JupyterMixin

__all__ = ["ArrayInfo", "StoreSummary", "format_bytes", "format_count", "short_repr"]


def format_bytes(n: int | None) -> str:
    """Human-friendly binary size: ``format_bytes(6_400_000) == '6.1 MiB'``."""
    if n is None:
        return "unknown"
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        value /= 1024.0
        if value < 1024.0 or unit == "EiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def format_count(n: int | None) -> str:
    """A count with thousands separators (``1,024``); absurdly large ones as ``9.81e+55``."""
    if n is None:
        return "?"
    if n >= 10**15:
        return f"{float(n):.3g}"
    return f"{n:,}"


def _shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "-"
    if len(shape) > 8:
        return f"({', '.join(format_count(s) for s in shape[:4])}, ... {len(shape)} dims)"
    return "(" + ", ".join(format_count(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _plural(n: int | None, word: str) -> str:
    return f"{format_count(n)} {word}{'' if n == 1 else 's'}"


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b) if b > 0 else 0


@dataclass(frozen=True)
class ArrayInfo:
    """What one array's metadata says, and how many of its objects are stored.

    ``chunks`` is the chunk shape (for a sharded array, the inner chunk);
    ``shards`` the shard shape, or None when the array is not sharded.
    ``codecs`` lists codec names in order; a sharded array shows its inner
    codecs as ``"sharding_indexed: bytes, zstd"``. ``zarr_format`` is 2 or 3
    (None for N5 and for pre-release Zarr v3 drafts; ``format`` names those).
    ``separator`` is the character between the indices of a chunk key.

    ``fill_value`` is the value the metadata gives for chunks that are not
    stored (JSON as written; for a Zarr v2 ``null``, zarr-python 3 reads
    the data type's default, 0 for numbers; N5 stores none and readers
    return zeros, so it is 0). ``n_stored`` counts the array's data
    objects found in the store (shards when sharded, chunks otherwise) and
    ``stored_bytes`` their size; both are None when the objects could not
    be listed (HTTP). :attr:`n_possible` is how many the grid allows.
    """

    shape: tuple[int, ...]
    dtype: str
    chunks: tuple[int, ...] | None
    shards: tuple[int, ...] | None
    codecs: tuple[str, ...]
    zarr_format: int | None
    separator: str
    fill_value: Any = None
    format: str = ""
    n_stored: int | None = None
    stored_bytes: int | None = None
    #: For a sharded array: the chunk positions (inside the array) that the stored shards cover.
    n_chunks_in_stored_shards: int | None = None

    @property
    def sharded(self) -> bool:
        """Whether the array's data objects are shards."""
        return self.shards is not None

    @property
    def grid(self) -> tuple[int, ...]:
        """Data objects the grid allows along each axis: shards when sharded, else chunks."""
        outer = self.shards or self.chunks
        if outer is None or len(outer) != len(self.shape):
            return tuple(1 for _ in self.shape)
        return tuple(_ceil_div(s, c) for s, c in zip(self.shape, outer))

    @property
    def n_possible(self) -> int:
        """How many data objects (shards when sharded, else chunks) the grid allows."""
        return math.prod(self.grid)

    @property
    def n_chunks_possible(self) -> int:
        """How many chunks the chunk grid has (the inner chunks of a sharded array)."""
        if self.chunks is None or len(self.chunks) != len(self.shape):
            return self.n_possible
        return math.prod(_ceil_div(s, c) for s, c in zip(self.shape, self.chunks))

    @property
    def chunks_per_shard(self) -> int | None:
        """Chunks one shard holds (None when the array is not sharded)."""
        if self.shards is None or self.chunks is None or len(self.shards) != len(self.chunks):
            return None
        return math.prod(_ceil_div(s, c) for s, c in zip(self.shards, self.chunks))

    @property
    def n_missing(self) -> int | None:
        """Data objects the grid allows but the store does not hold (None: not listed)."""
        if self.n_stored is None:
            return None
        return max(self.n_possible - self.n_stored, 0)

    @property
    def object_word(self) -> str:
        """``"shard"`` or ``"chunk"``: what one data object of this array is."""
        return "shard" if self.sharded else "chunk"

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists), derived counts included."""
        return {
            "shape": list(self.shape),
            "dtype": self.dtype,
            "chunks": None if self.chunks is None else list(self.chunks),
            "shards": None if self.shards is None else list(self.shards),
            "codecs": list(self.codecs),
            "zarr_format": self.zarr_format,
            "format": self.format,
            "separator": self.separator,
            "fill_value": _json_value(self.fill_value),
            "n_stored": self.n_stored,
            "n_possible": self.n_possible,
            "n_chunks_possible": self.n_chunks_possible,
            "chunks_per_shard": self.chunks_per_shard,
            "n_chunks_in_stored_shards": self.n_chunks_in_stored_shards,
            "stored_bytes": self.stored_bytes,
        }


def _json_value(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready builtins; nesting past a few levels becomes a short string."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and depth < 4 and len(value) <= 64:
        return [_json_value(v, depth + 1) for v in value]
    return short_repr(value)


def short_repr(value: Any) -> str:
    """A short, bounded repr (nested or long values are cut with "...")."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxlevel, shortener.maxlist, shortener.maxstring, shortener.maxother = 2, 4, 40, 40
    return shortener.repr(value)


def _fill_cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value[:40]
    return short_repr(value)


@dataclass(frozen=True)
class StoreSummary(JupyterMixin):
    """A Zarr store at a glance; shows as a table in rich and in Jupyter.

    Counts of stored objects: ``n_objects == n_metadata + n_chunks +
    n_shards + n_other``. ``n_metadata`` counts metadata documents
    (``zarr.json``, ``.zgroup``, ``.zattrs``, ``.zarray``, ``.zmetadata``;
    ``attributes.json`` in N5; ``meta/...`` in a Zarr v3 draft);
    ``n_chunks`` the objects that each hold one chunk (arrays without
    sharding); ``n_shards`` the shard objects of sharded arrays;
    ``n_other`` objects that belong to no array (e.g.
    ``OME/METADATA.ome.xml``). ``n_chunks_in_shards`` is how many chunk
    positions the stored shards cover (which of them hold data is in each
    shard's index, which is not read).

    ``complete`` is False when the objects could not be listed (HTTP): the
    counts are then computed from the metadata, assuming every chunk or
    shard was written, and ``total_bytes`` is None.

    ``format`` names the container ("Zarr v2", "Zarr v3", "Zarr v3 draft
    (pre-release)", "N5"); ``zarr_format`` is 2, 3 or None. ``ome_nodes``
    maps group paths to what OME-Zarr metadata they carry (image, plate,
    well, labels, bioformats2raw layout). ``consolidated`` names where
    consolidated metadata was found, if anywhere; ``archive_comment`` is a
    zip's archive comment (for ``.ozx``, RFC-9's JSON).
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
    format: str = ""
    n_shards: int = 0
    n_other: int = 0
    n_chunks_in_shards: int = 0
    consolidated: str | None = None
    ome_nodes: dict[str, str] = field(default_factory=dict)
    archive_comment: str | None = None

    @property
    def n_data_objects(self) -> int:
        """Objects holding array data: chunks plus shards."""
        return self.n_chunks + self.n_shards

    def as_dict(self) -> dict[str, Any]:
        """Only builtins (dict, list, str, int, bool, None): survives JSON."""
        return {
            "source": self.source,
            "kind": self.kind,
            "complete": self.complete,
            "format": self.format,
            "n_objects": self.n_objects,
            "total_bytes": self.total_bytes,
            "n_metadata": self.n_metadata,
            "n_chunks": self.n_chunks,
            "n_shards": self.n_shards,
            "n_other": self.n_other,
            "n_data_objects": self.n_data_objects,
            "n_chunks_in_shards": self.n_chunks_in_shards,
            "max_entries_per_directory": self.max_entries_per_directory,
            "max_entries_directory": self.max_entries_directory,
            "arrays": {path: info.as_dict() for path, info in self.arrays.items()},
            "zarr_format": self.zarr_format,
            "ome_version": self.ome_version,
            "n_scales": self.n_scales,
            "ome_nodes": dict(self.ome_nodes),
            "consolidated": self.consolidated,
            "archive_comment": self.archive_comment,
            "duplicate_entries": self.duplicate_entries,
            "notes": list(self.notes),
        }

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------

    def _format_text(self) -> str:
        fmt = self.format or (
            "unknown" if self.zarr_format is None else f"Zarr v{self.zarr_format}"
        )
        if self.ome_version is not None:
            fmt += f", OME-Zarr {self.ome_version}"
            if self.n_scales is not None:
                fmt += f" ({_plural(self.n_scales, 'scale')})"
        elif not self.ome_nodes:
            fmt += ", not OME-Zarr"
        return fmt

    def _objects_text(self) -> str:
        parts = [f"{format_count(self.n_metadata)} metadata"]
        if self.n_chunks or not self.n_shards:
            parts.append(_plural(self.n_chunks, "chunk"))
        if self.n_shards:
            parts.append(_plural(self.n_shards, "shard"))
        if self.n_other:
            parts.append(f"{format_count(self.n_other)} other")
        text = f"{format_count(self.n_objects)} ({', '.join(parts)})"
        if not self.complete:
            text += "; computed from the metadata, the objects could not be listed"
        return text

    def _shards_text(self) -> str:
        per_shard = {info.chunks_per_shard for info in self.arrays.values() if info.sharded}
        each = f", {format_count(per_shard.pop())} per full shard" if len(per_shard) == 1 else ""
        return (
            f"{_plural(self.n_shards, 'shard')} cover{'s' if self.n_shards == 1 else ''} "
            f"{_plural(self.n_chunks_in_shards, 'chunk')}"
            f"{each} (which hold data is in each shard's index, not read)"
        )

    @staticmethod
    def _stored_text(info: ArrayInfo) -> str:
        if info.n_stored is None:
            return f"{format_count(info.n_possible)} {info.object_word}s"
        return f"{format_count(info.n_stored)} of {format_count(info.n_possible)} {info.object_word}s"

    #: Notes shown in the table (``notes`` holds them all).
    _NOTES_SHOWN = 20
    #: Below this console width the codecs leave the arrays table for a table of their own.
    _WIDE = 110

    def __rich_console__(self, console: Any, options: Any) -> Any:
        """Rich's rendering protocol: the overview, the arrays, the notes."""
        yield self._renderable(wide=options.max_width >= self._WIDE)

    def _renderable(self, wide: bool = True) -> Any:
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

        def row(what: str, value: Any) -> None:
            # Text, never markup: names and attributes come from the store.
            overview.add_row(what, value if isinstance(value, Text) else Text(str(value)))

        row("Source", self.source)
        row("Kind", self.kind)
        row("Format", self._format_text())
        if self.consolidated:
            row("Consolidated", f"yes ({self.consolidated})")
        row("Objects", self._objects_text())
        if self.n_shards:
            row("Chunks in shards", self._shards_text())
        if self.total_bytes is None:
            row("Total size", "unknown (the objects could not be listed)")
        else:
            row(
                "Total size",
                f"{format_bytes(self.total_bytes)} ({self.total_bytes:,} bytes)",
            )
        where = self.max_entries_directory or "(root)"
        row(
            "Busiest directory",
            f"{self.max_entries_per_directory:,} entries in {where}",
        )
        for path, what in self.ome_nodes.items():
            row("OME-Zarr", f"{path or '(root)'}: {what}")
        if self.archive_comment is not None:
            row("Archive comment", self.archive_comment or "(none)")
        if self.duplicate_entries:
            row(
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
            arrays.add_column("Path", min_width=min(longest, 24), overflow="fold")
            arrays.add_column("Shape", justify="right", no_wrap=True)
            arrays.add_column("dtype", no_wrap=True)
            arrays.add_column("Chunk", justify="right", no_wrap=True)
            arrays.add_column("Shard", justify="right", no_wrap=True)
            arrays.add_column("Stored", justify="right", no_wrap=True)
            arrays.add_column("Fill", justify="right", max_width=12, overflow="ellipsis")
            if wide:
                arrays.add_column("Codecs", ratio=1, min_width=10, overflow="fold")
            formats = {info.format or f"Zarr v{info.zarr_format}" for info in self.arrays.values()}
            mixed = len(formats) > 1  # else the overview's Format row says it
            if mixed:
                arrays.add_column("Format", justify="right", no_wrap=True)
            # The chunk key separator: "0.1" or "0/1".
            arrays.add_column("Sep", justify="center", no_wrap=True)
            for path, info in self.arrays.items():
                cells = [
                    path or "(root)",
                    _shape_text(info.shape),
                    info.dtype,
                    _shape_text(info.chunks),
                    _shape_text(info.shards),
                    self._stored_text(info),
                    _fill_cell(info.fill_value),
                ]
                if wide:
                    cells.append(", ".join(info.codecs) or "none")
                if mixed:
                    cells.append((info.format or f"Zarr v{info.zarr_format}").removeprefix("Zarr "))
                arrays.add_row(*(Text(str(cell)) for cell in (*cells, info.separator)))
            parts.append(arrays)
            if not wide:
                codecs = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
                codecs.add_column("Path", overflow="fold")
                codecs.add_column("Codecs", overflow="fold")
                for path, info in self.arrays.items():
                    codecs.add_row(Text(path or "(root)"), Text(", ".join(info.codecs) or "none"))
                parts.append(codecs)
        else:
            parts.append(Text("No arrays found.", style="yellow"))
        for note in self.notes[: self._NOTES_SHOWN]:
            parts.append(Text(f"note: {note}", style="yellow"))
        if len(self.notes) > self._NOTES_SHOWN:
            more = len(self.notes) - self._NOTES_SHOWN
            parts.append(Text(f"note: ... and {more:,} more (all of them in .notes)", style="yellow"))
        return Group(*parts)
