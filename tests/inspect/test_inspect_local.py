"""course_utils.inspect.local: directories, checked against os.walk."""

from __future__ import annotations

import shutil

import pytest
from inspect_helpers import comparable, counts, expected_from_walk, one_line

from course_utils.inspect import local as inspect_local
from course_utils.inspect import StoreError, inspect_store


@pytest.mark.parametrize("kind", ["0.4", "0.5", "0.5-sharded"])
def test_directory_counts_match_os_walk(stores, kind):
    summary = inspect_store(stores[kind])
    assert counts(summary) == expected_from_walk(stores[kind])
    assert summary.complete is True
    assert summary.kind == "directory"
    assert summary.source == str(stores[kind])
    assert summary.duplicate_entries == 0
    assert summary.n_objects == summary.n_metadata + summary.n_chunks + summary.n_shards + summary.n_other
    assert summary.n_other == 0


def test_path_to_a_metadata_file_means_its_store(stores):
    assert comparable(inspect_store(stores["0.5"] / "zarr.json")) == comparable(
        inspect_store(stores["0.5"])
    )


def test_thread_pool_gives_the_same_sizes(stores, monkeypatch):
    serial = inspect_store(stores["0.4"])
    listing, dirs = inspect_local.walk(str(stores["0.4"]))
    assert inspect_local.directory_sizes(dirs, threads=3) == inspect_local.directory_sizes(dirs, threads=1)
    used = []
    real_split = inspect_local.split_directories
    monkeypatch.setattr(inspect_local, "PARALLEL_STAT_MIN_FILES", 1)
    monkeypatch.setattr(inspect_local, "split_directories", lambda *a: used.append(real_split(*a)) or used[-1])
    parallel = inspect_store(stores["0.4"])
    assert used and len(used[0]) > 1, "the thread pool was not used"
    assert parallel.total_bytes == serial.total_bytes
    assert comparable(parallel) == comparable(serial)


def test_split_covers_every_name_once():
    dirs = [("/x/a", "a", [f"a{i}" for i in range(7)]), ("/x/c", "c", [f"c{i}" for i in range(5)])]
    parts = inspect_local.split_directories(dirs, 3)
    assert len(parts) == 3
    names = [(rel, n) for part in parts for _, rel, names in part for n in names]
    assert names == [(rel, n) for _, rel, ns in dirs for n in ns]


def test_missing_path(tmp_path):
    with pytest.raises(StoreError, match="does not exist") as info:
        inspect_store(tmp_path / "missing.zarr")
    assert isinstance(info.value, ValueError)
    one_line(info.value)


def test_directory_that_is_not_zarr(tmp_path, stores):
    (tmp_path / "notes.txt").write_text("hello")
    shutil.copytree(stores["0.5"], tmp_path / "image.zarr")
    with pytest.raises(StoreError, match="not a Zarr store") as info:
        inspect_store(tmp_path)
    assert "image.zarr" in one_line(info.value)  # "did you mean ...?"


def test_plain_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StoreError, match="is a file") as info:
        inspect_store(tmp_path / "notes.txt")
    one_line(info.value)
