"""Objects, shards and the chunks inside them are counted apart, with the right words.

The bug this guards against: 16 shards of 64 chunks each were reported as
"16 chunks".
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import zarr
from rich.console import Console

from course_utils.cli import main as cli_main
from course_utils.inspect import inspect_store


def _render(summary, width=200) -> str:
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(summary)
    return console.export_text()


def _sharded(path, shape, chunks, shards, rows=None):
    """A uint8 Zarr v3 array with the sharding codec, written by tensorstore (fast; zarr-python
    encodes inner chunks one by one), all ones, or only its first ``rows`` rows."""
    import tensorstore as ts

    array = ts.open({
        "driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}, "create": True,
        "metadata": {
            "data_type": "uint8", "shape": list(shape),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shards)}},
            "codecs": [{"name": "sharding_indexed", "configuration": {
                "chunk_shape": list(chunks), "codecs": [{"name": "bytes"}]}}],
        },
    }).result()
    array[: rows or shape[0]].write(np.ones((rows or shape[0], shape[1]), "uint8")).result()
    return path


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """1024 x 1024 uint8 in 16 shards of 256 x 256, each holding 8 x 8 = 64 chunks of 32 x 32."""
    root = tmp_path_factory.mktemp("sharded")
    return {
        "full": _sharded(root / "full.zarr", (1024, 1024), (32, 32), (256, 256)),
        "partial": _sharded(root / "partial.zarr", (1024, 1024), (32, 32), (256, 256), rows=256),
        "edges": _sharded(root / "edges.zarr", (300, 300), (64, 64), (128, 128)),
    }


def test_zarr_python_reads_the_fixture_as_described(sharded):
    array = zarr.open_array(sharded["full"], mode="r")
    assert (array.shards, array.chunks, array.nchunks) == ((256, 256), (32, 32), 1024)
    assert int(array[:].sum()) == 1024 * 1024


def test_sixteen_shards_of_sixty_four_chunks(sharded):
    summary = inspect_store(sharded["full"])
    assert (summary.n_objects, summary.n_metadata) == (17, 1)
    assert (summary.n_shards, summary.n_chunks, summary.n_other) == (16, 0, 0)
    assert summary.n_data_objects == 16
    assert summary.n_chunks_in_shards == 1024
    info = summary.arrays[""]
    assert info.shards == (256, 256) and info.chunks == (32, 32)
    assert info.chunks_per_shard == 64
    assert (info.n_stored, info.n_possible, info.n_chunks_possible) == (16, 16, 1024)
    assert info.object_word == "shard"

    data = summary.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert (data["n_shards"], data["n_chunks"], data["n_chunks_in_shards"]) == (16, 0, 1024)
    assert data["arrays"][""]["chunks_per_shard"] == 64
    assert data["arrays"][""]["n_chunks_possible"] == 1024

    text = _render(summary)
    assert "17 (1 metadata, 16 shards)" in text
    assert "16 shards cover 1,024 chunks, 64 per full shard" in text
    assert "16 of 16 shards" in text
    assert "16 chunks" not in text


def test_the_command_line_uses_the_same_words(sharded, capsys):
    assert cli_main(["inspect", str(sharded["full"])]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "16 shards" in out and "1,024 chunks" in out
    assert "16 chunks" not in out


def test_shards_not_written_are_counted_and_explained(sharded):
    summary = inspect_store(sharded["partial"])
    info = summary.arrays[""]
    assert (info.n_stored, info.n_possible, info.n_missing) == (4, 16, 12)
    assert summary.n_chunks_in_shards == 4 * 64
    assert any("4 of 16 shards stored; the other 12 read as the fill value 0" in n for n in summary.notes)


def test_edge_shards_cover_only_the_chunks_inside_the_array(sharded):
    # 300 = 2 full shards of 128 + one of 44: chunks per axis 2 + 2 + 1 = 5.
    summary = inspect_store(sharded["edges"])
    info = summary.arrays[""]
    assert info.n_possible == 9 and info.n_chunks_possible == 25
    assert summary.n_chunks_in_shards == 25
    assert info.chunks_per_shard == 4


def test_unsharded_chunks_stay_chunks(stores):
    summary = inspect_store(stores["0.5"])
    assert summary.n_shards == 0 and summary.n_chunks_in_shards == 0
    assert summary.n_chunks == 16 + 4 + 1
    text = _render(summary)
    assert "(7 metadata, 21 chunks)" in text
    assert "Chunks in shards" not in text


def test_sparse_arrays_say_what_the_missing_chunks_read_as(tmp_path):
    array = zarr.create_array(tmp_path / "sparse.zarr", shape=(100, 100), chunks=(10, 10),
                              dtype="float32", fill_value=-1.5)
    array[:10, :30] = 2.0  # 3 of 100 chunks
    summary = inspect_store(tmp_path / "sparse.zarr")
    info = summary.arrays[""]
    assert (info.n_stored, info.n_possible, info.fill_value) == (3, 100, -1.5)
    assert summary.n_chunks == 3
    assert "3 of 100 chunks stored; the other 97 read as the fill value -1.5" in " ".join(summary.notes)
    assert np.all(zarr.open_array(tmp_path / "sparse.zarr")[50:60, 50:60] == -1.5)  # what the note says
    assert "3 of 100 chunks" in _render(summary)


def test_files_that_are_not_chunk_keys_are_other(tmp_path, stores):
    import shutil

    store = shutil.copytree(stores["0.5"], tmp_path / "copy.zarr")
    (store / "README.md").write_text("notes")
    (store / "scale0" / "image" / ".DS_Store").write_bytes(b"\0")
    (store / "scale0" / "image" / "c" / "0" / "junk").write_bytes(b"\0")
    summary = inspect_store(store)
    assert summary.n_other == 3
    assert summary.n_chunks == 21
    assert summary.n_objects == summary.n_metadata + summary.n_chunks + summary.n_shards + summary.n_other
    assert any("3 objects belong to no array" in note for note in summary.notes)
