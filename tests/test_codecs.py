"""course_utils.codecs: ratios and speeds of codecs on one chunk."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest

from course_utils import codecs


@pytest.fixture(scope="module")
def smooth_chunk():
    """A compressible 16-bit chunk: a smooth ramp with a little noise."""
    ramp = np.add.outer(np.arange(128), np.arange(128)).astype(np.uint16) * 3
    noise = np.random.default_rng(0).integers(0, 4, ramp.shape, dtype=np.uint16)
    return ramp + noise


def test_standard_codecs_are_the_three_of_the_lesson():
    found = codecs.standard_codecs(level=3)
    assert list(found) == ["blosc lz4", "blosc zstd", "zlib"]
    assert found["blosc lz4"].cname == "lz4" and found["blosc lz4"].shuffle == numcodecs.Blosc.SHUFFLE
    assert found["blosc zstd"].cname == "zstd" and found["blosc zstd"].clevel == 3
    assert isinstance(found["zlib"], numcodecs.Zlib) and found["zlib"].level == 3


def test_compression_ratio_is_raw_over_encoded(smooth_chunk):
    codec = numcodecs.Zlib(level=5)
    expected = smooth_chunk.nbytes / len(codec.encode(smooth_chunk))
    assert codecs.compression_ratio(codec, smooth_chunk) == pytest.approx(expected)
    assert codecs.compression_ratio(codec, smooth_chunk) > 2
    # a non-contiguous view is measured as the chunk it would be
    wide = np.zeros((128, 256), np.uint16)
    wide[:, ::2] = smooth_chunk
    assert codecs.compression_ratio(codec, wide[:, ::2]) == pytest.approx(expected)


def test_random_bytes_do_not_compress():
    noise = np.random.default_rng(1).integers(0, 2**16, (64, 64), dtype=np.uint16)
    assert codecs.compression_ratio(numcodecs.Zlib(level=9), noise) < 1.01


def test_compare_measures_every_codec(smooth_chunk):
    results = codecs.compare(smooth_chunk, repeats=2)
    assert [r.name for r in results] == ["blosc lz4", "blosc zstd", "zlib"]
    for r in results:
        assert r.raw_bytes == smooth_chunk.nbytes
        assert r.ratio == pytest.approx(r.raw_bytes / r.encoded_bytes)
        assert r.encode_seconds > 0 and r.decode_seconds > 0
        assert r.encode_mib_s == pytest.approx(r.raw_bytes / 2**20 / r.encode_seconds)
    by_name = {r.name: r for r in results}
    assert by_name["blosc zstd"].ratio > by_name["blosc lz4"].ratio * 0.99  # zstd squeezes at least as hard


def test_shuffle_is_what_makes_16_bit_pixels_compressible(smooth_chunk):
    with_shuffle = codecs.compression_ratio(numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE), smooth_chunk)
    without = codecs.compression_ratio(numcodecs.Blosc("lz4", 5, numcodecs.Blosc.NOSHUFFLE), smooth_chunk)
    assert with_shuffle > without


def test_measure_codec_refuses_a_lossy_codec(smooth_chunk):
    class Lossy(numcodecs.Zlib):
        def decode(self, buf, out=None):
            data = bytearray(super().decode(buf))
            data[0] ^= 1
            return bytes(data)

    with pytest.raises(ValueError, match="did not give back"):
        codecs.measure_codec("lossy", Lossy(), smooth_chunk, repeats=1)


def test_results_table_has_a_row_per_codec(smooth_chunk):
    from rich.console import Console

    table = codecs.results_table(codecs.compare(smooth_chunk, repeats=1), title="t")
    assert table.row_count == 3
    console = Console(width=120, record=True)
    console.print(table)
    text = console.export_text()
    assert "blosc zstd" in text and "MiB/s" in text
