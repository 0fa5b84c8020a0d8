"""Compression codecs compared on one chunk: how small, how fast.

Notebook 09 runs :func:`compare` on one chunk of the image to show what a
codec buys (the compression ratio) and what it costs (encode and decode
speed). The codecs are numcodecs' implementations, the same code zarr-python
runs for Zarr v2 compressors and, through ``zarr.codecs.BloscCodec``, for the
Blosc codec of Zarr v3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numcodecs
import numpy as np
from numcodecs.abc import Codec

from course_utils.measure import best_time

MiB = 2**20


def standard_codecs(level: int = 5) -> dict[str, Codec]:
    """The codecs the course compares, all at compression ``level``.

    Blosc with LZ4 and with Zstandard (both after Blosc's byte shuffle,
    which groups the high bytes and the low bytes of every 16-bit pixel) and
    plain zlib (the DEFLATE of gzip and zip files).
    """
    return {
        "blosc lz4": numcodecs.Blosc(cname="lz4", clevel=level, shuffle=numcodecs.Blosc.SHUFFLE),
        "blosc zstd": numcodecs.Blosc(cname="zstd", clevel=level, shuffle=numcodecs.Blosc.SHUFFLE),
        "zlib": numcodecs.Zlib(level=level),
    }


def compression_ratio(codec: Codec, chunk: np.ndarray) -> float:
    """Raw bytes of ``chunk`` divided by its encoded bytes (2.0: half the size)."""
    chunk = np.ascontiguousarray(chunk)
    return chunk.nbytes / len(codec.encode(chunk))


@dataclass(frozen=True)
class CodecResult:
    """One codec on one chunk: sizes and best-of-``repeats`` times."""

    name: str
    raw_bytes: int
    encoded_bytes: int
    encode_seconds: float
    decode_seconds: float

    @property
    def ratio(self) -> float:
        """Raw bytes / encoded bytes."""
        return self.raw_bytes / self.encoded_bytes

    @property
    def encode_mib_s(self) -> float:
        """Raw MiB encoded per second."""
        return self.raw_bytes / MiB / self.encode_seconds

    @property
    def decode_mib_s(self) -> float:
        """Raw MiB decoded per second."""
        return self.raw_bytes / MiB / self.decode_seconds


def measure_codec(name: str, codec: Codec, chunk: np.ndarray, *, repeats: int = 5) -> CodecResult:
    """Encode and decode ``chunk`` with ``codec``; check the round trip is lossless."""
    chunk = np.ascontiguousarray(chunk)
    encoded = codec.encode(chunk)
    decoded = np.frombuffer(codec.decode(encoded), dtype=chunk.dtype).reshape(chunk.shape)
    if not np.array_equal(decoded, chunk):
        raise ValueError(f"{name} did not give back the chunk it was given")
    return CodecResult(
        name=name,
        raw_bytes=chunk.nbytes,
        encoded_bytes=len(encoded),
        encode_seconds=best_time(lambda: codec.encode(chunk), repeats=repeats),
        decode_seconds=best_time(lambda: codec.decode(encoded), repeats=repeats),
    )


def compare(
    chunk: np.ndarray, codecs: Mapping[str, Codec] | None = None, *, repeats: int = 5
) -> list[CodecResult]:
    """:func:`measure_codec` for each codec (default :func:`standard_codecs`)."""
    codecs = standard_codecs() if codecs is None else codecs
    return [measure_codec(name, codec, chunk, repeats=repeats) for name, codec in codecs.items()]


def results_table(results: list[CodecResult], title: str | None = None):
    """A rich table of :func:`compare`'s results: ratio, size, speeds."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("codec", "ratio", "encoded", "encode", "decode"):
        table.add_column(column, justify="left" if column == "codec" else "right")
    for r in results:
        table.add_row(
            r.name,
            f"{r.ratio:.2f}",
            f"{r.encoded_bytes:,} B",
            f"{r.encode_mib_s:,.0f} MiB/s",
            f"{r.decode_mib_s:,.0f} MiB/s",
        )
    return table
