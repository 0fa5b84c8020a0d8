"""course_utils.inspect on stores other tools wrote (tests/inspect/inspect_corpus.py).

Every expectation is checked against the writer's own view where it has one
(tensorstore, zarr-python) or against the files on disk (os.walk), not
against inspect itself.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import zarr
from inspect_helpers import comparable, one_line, walk_sizes
from rich.console import Console

from course_utils.inspect import StoreError, inspect_store


def _text(summary) -> str:
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(summary)
    return " ".join(console.export_text().split())


def _data_files(root) -> int:
    return sum(1 for key in walk_sizes(root) if key.rsplit("/", 1)[-1] not in
               {"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata", "attributes.json"})


# --------------------------------------------------------------------------
# tensorstore
# --------------------------------------------------------------------------


def test_tensorstore_n5(corpus):
    import tensorstore as ts

    summary = inspect_store(corpus["ts-n5"])  # no attributes.json at its top: tensorstore writes none
    assert summary.format == "N5" and summary.zarr_format is None
    assert list(summary.arrays) == ["raw/s0"]
    info = summary.arrays["raw/s0"]
    array = ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(corpus["ts-n5"] / "raw" / "s0")}}).result()
    assert info.shape == tuple(array.shape) == (100, 60)
    assert info.chunks == tuple(array.chunk_layout.read_chunk.shape) == (32, 32)
    assert array.chunk_layout.inner_order == (1, 0)  # the first dimension varies fastest, as the note says
    assert any("the first dimension varies fastest" in note for note in summary.notes)
    assert info.dtype == "uint16" and info.codecs == ("gzip",) and info.separator == "/"
    assert (info.n_stored, info.n_possible) == (_data_files(corpus["ts-n5"]), 8) == (4, 8)
    assert (summary.n_metadata, summary.n_chunks) == (1, 4)
    # What the note promises: the blocks never written read as zeros.
    assert not array[80:, :].read().result().any()
    assert any("the other 4 read as 0 (N5 stores no fill value" in note for note in summary.notes)
    # The same container, pointed at below its top, where a group has no attributes.json either.
    assert list(inspect_store(corpus["ts-n5"] / "raw").arrays) == ["s0"]


def test_tensorstore_zarr_v2_blosc_nested(corpus):
    summary = inspect_store(corpus["ts-zarr2"])
    assert summary.format == "Zarr v2" and summary.zarr_format == 2
    info = summary.arrays[""]
    opened = zarr.open_array(corpus["ts-zarr2"], mode="r")
    assert info.shape == opened.shape and info.chunks == opened.chunks
    assert info.codecs == ("blosc(lz4, shuffle)",) and info.separator == "/"
    assert info.fill_value is None  # tensorstore writes "fill_value": null
    assert (info.n_stored, info.n_possible) == (8, 8)
    assert "null" in _text(summary)


def test_tensorstore_zarr_v3_with_and_without_sharding(corpus):
    summary = inspect_store(corpus["ts-zarr3"])
    assert summary.format == "Zarr v3"
    sharded, plain = summary.arrays["sharded"], summary.arrays["plain"]
    opened = zarr.open_array(corpus["ts-zarr3"] / "sharded", mode="r")
    assert sharded.shards == opened.shards == (64, 64)
    assert sharded.chunks == opened.chunks == (16, 16)
    assert sharded.codecs == ("sharding_indexed: bytes, zstd",)
    assert (sharded.n_stored, sharded.n_chunks_possible) == (2, 7 * 4)
    assert summary.n_chunks_in_shards == 28
    assert (plain.n_stored, plain.n_possible, plain.codecs) == (4, 8, ("bytes",))
    assert (summary.n_shards, summary.n_chunks) == (2, 4)


# --------------------------------------------------------------------------
# zarr-python 3 writing Zarr v2 and v3
# --------------------------------------------------------------------------

V2_CODECS = {
    "none": (), "zlib": ("zlib",), "gzip": ("gzip",), "bz2": ("bz2",), "lzma": ("lzma",),
    "lz4": ("lz4",), "zstd": ("zstd",), "blosc-lz4": ("blosc(lz4, shuffle)",),
    "blosc-zstd": ("blosc(zstd, bitshuffle)",),
}


def test_zarr_v2_every_codec_and_separator(corpus):
    root = corpus["zarr-v2-codecs"]
    summary = inspect_store(root)
    assert summary.format == "Zarr v2" and summary.consolidated == ".zmetadata"
    group = zarr.open_group(root, mode="r")
    for name, codecs in V2_CODECS.items():
        for suffix, separator in (("", "."), ("-nested", "/")):
            info = summary.arrays[name + suffix]
            array = group[name + suffix]
            assert (info.shape, info.chunks, info.dtype) == (array.shape, array.chunks, str(array.dtype))
            assert info.codecs == codecs, name
            assert info.separator == separator
            assert (info.n_stored, info.n_possible) == (6, 6)
    assert summary.arrays["delta-zlib"].codecs == ("delta", "zlib")
    sparse = summary.arrays["sparse-null-fill"]
    assert sparse.fill_value is None and (sparse.n_stored, sparse.n_possible) == (1, 6)
    assert np.all(group["sparse-null-fill"][20:, 20:] == 0)  # what the note says zarr-python reads
    assert any("fill_value is null; zarr-python 3 reads 0 for numbers" in note for note in summary.notes)
    assert summary.n_chunks == _data_files(root)


def test_zarr_v3_consolidated_metadata(corpus):
    root = corpus["zarr-v3-consolidated"]
    summary = inspect_store(root)
    assert summary.consolidated == "zarr.json consolidated_metadata"
    assert summary.arrays["b"].separator == "."
    a = summary.arrays["sub/a"]
    assert (a.dtype, a.fill_value, a.n_stored, a.n_possible) == ("float32", -1.0, 6, 12)
    assert summary.n_chunks == _data_files(root) == 8


# --------------------------------------------------------------------------
# OME-Zarr: ome-zarr-py, and layouts after the specification's examples
# --------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_py_image_with_labels(corpus, version):
    summary = inspect_store(corpus[f"ome-zarr-py-image-{version}"])
    assert summary.ome_version == version and summary.n_scales == 2
    assert summary.zarr_format == (2 if version == "0.4" else 3)
    assert summary.ome_nodes[""] == "image 'image': 2 scales (s0, s1)"
    assert summary.ome_nodes["labels"] == "labels: cells"
    assert summary.ome_nodes["labels/cells"].startswith("label image 'cells': ")
    assert summary.arrays["labels/cells/s0"].dtype == "uint8"
    assert "labels/cells: label image" in _text(summary)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_py_plate(corpus, version):
    summary = inspect_store(corpus[f"ome-zarr-py-plate-{version}"])
    assert summary.ome_version == version
    assert summary.ome_nodes[""] == "plate 'test plate': 2 rows x 2 columns, 2 wells, up to 1 field per well"
    assert summary.ome_nodes["A/1"] == summary.ome_nodes["B/2"] == "well: 1 field (0)"
    assert summary.ome_nodes["A/1/0"] == "image 'image': 2 scales (s0, s1)"
    assert set(summary.arrays) == {"A/1/0/s0", "A/1/0/s1", "B/2/0/s0", "B/2/0/s1"}


def test_spec_plate_and_wells(corpus):
    summary = inspect_store(corpus["spec-plate"])
    assert summary.ome_nodes[""] == (
        "plate 'sparse test': 8 rows x 12 columns, 2 wells, up to 2 fields per well, 1 acquisition"
    )
    assert summary.ome_nodes["C/5"] == "well: 2 fields (0, 1)"
    assert len(summary.arrays) == 4


def test_bioformats2raw_layout(corpus):
    summary = inspect_store(corpus["bioformats2raw"])
    assert summary.ome_nodes[""] == "bioformats2raw layout 3, 2 images (0, 1), with OME/METADATA.ome.xml"
    assert summary.ome_nodes["OME"] == "OME group, series 0, 1"
    assert summary.ome_nodes["0"] == "image: 2 scales (0, 1)"
    assert summary.ome_version == "0.5" and summary.n_scales is None  # the root is no image
    assert summary.n_other == 1  # OME/METADATA.ome.xml: neither metadata nor a chunk
    assert any("OME/METADATA.ome.xml" in note for note in summary.notes)


# --------------------------------------------------------------------------
# Pre-release Zarr v3, N5 by hand, Git LFS pointers
# --------------------------------------------------------------------------


def test_pre_release_zarr_v3_draft_is_named_and_described(corpus):
    root = corpus["zarr-v3-draft"]
    summary = inspect_store(root)
    assert summary.format == "Zarr v3 draft (pre-release)" and summary.zarr_format is None
    assert "Zarr v3 draft (pre-release)" in _text(summary)
    raw, sharded = summary.arrays["raw"], summary.arrays["sharded"]
    assert (raw.shape, raw.chunks, raw.dtype, raw.codecs) == ((20, 20), (10, 10), "uint16", ("zlib",))
    assert (sharded.shards, sharded.chunks, sharded.chunks_per_shard) == ((10, 10), (5, 5), 4)
    assert (summary.n_metadata, summary.n_chunks, summary.n_shards) == (4, 4, 1)
    assert summary.n_objects == len(walk_sizes(root))
    # zarr-python 3.1.6 cannot open it (a TypeError on the entry point's keys): why it is named.
    with pytest.raises((TypeError, ValueError)):
        zarr.open_group(root, mode="r")


def test_n5_legacy_compression_type(corpus):
    summary = inspect_store(corpus["n5-legacy"])
    assert summary.format == "N5 4.0.0"
    info = summary.arrays["volume/s0"]
    assert (info.shape, info.chunks, info.codecs, info.n_stored, info.n_possible) == (
        (30, 20, 10), (16, 16, 16), ("raw",), 2, 4)


def test_git_lfs_pointers_instead_of_the_store(corpus, capsys):
    from course_utils.cli import main as cli_main

    with pytest.raises(StoreError, match="Git LFS pointer file: the data was never fetched") as info:
        inspect_store(corpus["lfs-everything"])
    one_line(info.value)
    assert cli_main(["inspect", str(corpus["lfs-everything"])]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err


def test_git_lfs_pointers_instead_of_the_chunks(corpus):
    summary = inspect_store(corpus["lfs-chunks"])
    assert summary.n_chunks == 21  # the pointers sit where the chunks should be
    assert any("Git LFS pointer files: the chunk data was never fetched" in note for note in summary.notes)


# --------------------------------------------------------------------------
# Every backend agrees on every store of the corpus
# --------------------------------------------------------------------------

PARITY = [name for name in (
    "ts-zarr2", "ts-zarr3", "zarr-v2-codecs", "zarr-v3-consolidated", "ome-zarr-py-plate-0.4",
    "ome-zarr-py-image-0.5", "bioformats2raw", "zarr-v3-draft", "n5-legacy",
)]


@pytest.mark.parametrize("name", PARITY)
def test_zip_and_dict_agree_with_the_directory(corpus, tmp_path, name):
    root = corpus[name]
    reference = comparable(inspect_store(root))
    keys = walk_sizes(root)
    mapping = {key: (root / key).read_bytes() for key in keys}
    assert comparable(inspect_store(mapping)) == reference
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for key in sorted(keys):
            zf.write(root / key, arcname=key)
    assert comparable(inspect_store(archive)) == reference
