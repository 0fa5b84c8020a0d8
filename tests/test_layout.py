"""course_utils.layout: directory trees measured, listing, inodes, parallel writers."""

from __future__ import annotations

import errno
import multiprocessing
import os
from collections import namedtuple
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import zarr

from course_utils import layout


@pytest.fixture
def tree(tmp_path):
    """root: a, b, sub/ (c, d, e, deeper/ (f))."""
    root = tmp_path / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    for name in ("a", "b", "sub/c", "sub/d", "sub/e", "sub/deeper/f"):
        (root / name).write_bytes(b"x" * 10)
    return root


def test_counts_per_directory(tree):
    assert layout.count_files(tree) == 6
    assert layout.entries_per_directory(tree) == {"": 3, "sub": 4, "sub/deeper": 1}
    assert layout.files_per_directory(tree) == {"": 2, "sub": 3, "sub/deeper": 1}
    assert layout.busiest_directory(tree) == ("sub", 4)
    assert layout.file_keys(tree) == {"a", "b", "sub/c", "sub/d", "sub/e", "sub/deeper/f"}


def test_busiest_directory_ties_go_to_the_first_in_sorted_order(tmp_path):
    for folder in ("b", "a"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x").touch()
        (tmp_path / folder / "y").touch()
    assert layout.busiest_directory(tmp_path) == ("", 2)  # the root also holds 2 entries
    (tmp_path / "a" / "z").touch()
    (tmp_path / "b" / "z").touch()
    assert layout.busiest_directory(tmp_path) == ("a", 3)


def test_describe(tree):
    summary = layout.describe(tree)
    assert (summary.files, summary.directories, summary.busiest_directory, summary.busiest_entries) == (6, 3, "sub", 4)
    assert str(summary) == "6 files in 3 directories; fullest directory 'sub' holds 4 entries"
    single = layout.describe(tree / "sub" / "deeper")
    assert str(single) == "1 files in 1 directory; fullest directory '(top)' holds 1 entries"


def test_allocated_bytes_counts_whole_blocks(tree):
    one = layout.allocated_bytes(tree / "a")
    assert one == (tree / "a").stat().st_blocks * 512
    assert layout.allocated_bytes(tree) >= 6 * one > 0


def test_not_a_directory_is_refused(tree):
    with pytest.raises(NotADirectoryError, match="is not a directory"):
        layout.count_files(tree / "a")
    with pytest.raises(NotADirectoryError):
        layout.entries_per_directory(tree / "missing")


@pytest.mark.parametrize("n", [0, 1, 5, 300])
def test_fill_directory_makes_exactly_n_entries(tmp_path, n):
    folder = layout.fill_directory(tmp_path / "many", n)
    assert folder == tmp_path / "many"
    assert len(os.listdir(folder)) == n
    assert layout.stat_all(folder) == n
    assert sorted(os.listdir(tmp_path)) == ["many"]  # nothing left next to it


def test_fill_directory_twice_replaces_the_old_entries(tmp_path):
    layout.fill_directory(tmp_path / "many", 50)
    (tmp_path / "many" / "stray").touch()
    layout.fill_directory(tmp_path / "many", 20)
    assert sorted(os.listdir(tmp_path / "many")) == [f"{i:07d}" for i in range(20)]


def test_fill_directory_rejects_a_negative_count(tmp_path):
    with pytest.raises(ValueError, match=">= 0"):
        layout.fill_directory(tmp_path / "many", -1)


def test_fill_directory_starts_a_new_file_when_links_run_out(tmp_path, monkeypatch):
    real_link = os.link
    links = {}

    def link(source, target):  # a file system allowing 3 links per file
        links[source] = links.get(source, 1) + 1
        if links[source] > 3:
            raise OSError(errno.EMLINK, "Too many links")
        real_link(source, target)

    monkeypatch.setattr(os, "link", link)
    folder = layout.fill_directory(tmp_path / "many", 10)
    assert len(os.listdir(folder)) == 10
    inodes = {os.stat(folder / name).st_ino for name in os.listdir(folder)}
    assert len(inodes) == 4  # 3 + 3 + 3 + 1 entries


def test_fill_directory_without_hard_links_makes_files(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    folder = layout.fill_directory(tmp_path / "many", 7)
    inodes = {os.stat(folder / name).st_ino for name in os.listdir(folder)}
    assert len(inodes) == 7


def test_inode_usage(tmp_path, monkeypatch):
    usage = layout.inode_usage(tmp_path)
    if usage is not None:
        assert usage.total >= usage.free >= 0 and usage.total > 0
    Stats = namedtuple("Stats", "f_files f_ffree")
    monkeypatch.setattr(os, "statvfs", lambda path: Stats(0, 0), raising=False)
    assert layout.inode_usage(tmp_path) is None
    monkeypatch.setattr(os, "statvfs", lambda path: Stats(100, 40), raising=False)
    assert layout.inode_usage(tmp_path) == layout.InodeUsage(total=100, free=40)


@pytest.mark.parametrize(
    "shape, chunks, n, starts",
    [
        ((10, 7), (2, 7), 2, [0, 4]),  # 5 chunks along axis 0: 2 + 3
        ((10, 7), (2, 7), 3, [0, 2, 6]),
        ((9,), (4,), 10, [0, 4, 8]),  # never more slabs than chunks
        ((8, 3, 3), (8, 3, 3), 4, [0]),
    ],
)
def test_chunk_aligned_slabs_cover_the_array_on_chunk_boundaries(shape, chunks, n, starts):
    slabs = layout.chunk_aligned_slabs(shape, chunks, n)
    assert [s[0].start for s in slabs] == starts
    covered = []
    for slab in slabs:
        assert slab[0].start % chunks[0] == 0
        assert slab[0].stop % chunks[0] == 0 or slab[0].stop == shape[0]
        assert all(s == slice(0, size) for s, size in zip(slab[1:], shape[1:]))
        covered.extend(range(slab[0].start, slab[0].stop))
    assert covered == list(range(shape[0]))  # every plane once, in order


def test_chunk_aligned_slabs_along_another_axis():
    # 1600 rows in chunks of 128 are 13 chunk rows: 6 + 7, so the cut is at row 768, not 800
    slabs = layout.chunk_aligned_slabs((2, 1600, 2000), (1, 128, 128), 2, axis=1)
    assert slabs == [
        (slice(0, 2), slice(0, 768), slice(0, 2000)),
        (slice(0, 2), slice(768, 1600), slice(0, 2000)),
    ]
    assert layout.chunk_aligned_slabs((2, 1600, 2000), (1, 128, 128), 2, axis=-2) == slabs


def test_chunk_aligned_slabs_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        layout.chunk_aligned_slabs((4,), (2,), 0)
    with pytest.raises(ValueError, match="same"):
        layout.chunk_aligned_slabs((4, 4), (2,), 2)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        layout.chunk_aligned_slabs((4, 4), (2, 2), 2, axis=2)


def _make_arrays(tmp_path, **encoding):
    data = np.arange(6 * 10 * 12, dtype="uint16").reshape(6, 10, 12) + 1
    source = tmp_path / "source.zarr"
    zarr.create_array(zarr.storage.LocalStore(source), shape=data.shape, chunks=(2, 5, 6), dtype=data.dtype)[:] = data
    target = tmp_path / "target.zarr"
    zarr.create_array(
        zarr.storage.LocalStore(target), shape=data.shape, chunks=(2, 5, 6), dtype=data.dtype, **encoding
    )
    return data, source, target


@pytest.mark.parametrize(
    "encoding",
    [{}, {"zarr_format": 2, "chunk_key_encoding": {"name": "v2", "separator": "."}}],
    ids=["v3-nested", "v2-flat"],
)
def test_copy_region_writes_its_own_chunks(tmp_path, encoding):
    data, source, target = _make_arrays(tmp_path, **encoding)
    region = layout.chunk_aligned_slabs(data.shape, (2, 5, 6), 3)[1]  # planes 2:4
    report = layout.copy_region(str(source), str(target), region)
    assert report.pid == os.getpid()
    assert report.region == region and report.seconds >= 0
    metadata = {"zarr.json", ".zarray", ".zattrs"}
    assert report.chunk_keys == layout.file_keys(target) - metadata
    assert len(report.chunk_keys) == 1 * 2 * 2
    result = zarr.open_array(target, mode="r")[:]
    assert np.array_equal(result[2:4], data[2:4])
    assert not result[:2].any() and not result[4:].any()
    assert "wrote [2:4, 0:10, 0:12] as 4 chunk files" in str(report)


def test_copy_region_reports_only_chunks_on_disk(tmp_path):
    data, source, target = _make_arrays(tmp_path)
    zeros = tmp_path / "zeros.zarr"
    zarr.create_array(zarr.storage.LocalStore(zeros), shape=data.shape, chunks=(2, 5, 6), dtype=data.dtype)
    # fill-value chunks are not written, so nothing is reported for them
    report = layout.copy_region(str(zeros), str(target), layout.chunk_aligned_slabs(data.shape, (2, 5, 6), 3)[0])
    assert report.chunk_keys == frozenset() == frozenset(layout.file_keys(target) - {"zarr.json"})


def test_copy_region_runs_in_spawned_processes(tmp_path):
    data, source, target = _make_arrays(tmp_path)
    slabs = layout.chunk_aligned_slabs(data.shape, (2, 5, 6), 3)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = list(pool.map(layout.copy_region, [str(source)] * 3, [str(target)] * 3, slabs))
    assert {r.pid for r in reports} != {os.getpid()}
    keys = [key for r in reports for key in r.chunk_keys]
    assert len(keys) == len(set(keys)) == 3 * 2 * 2  # no chunk written twice
    assert set(keys) == layout.file_keys(Path(target)) - {"zarr.json"}
    assert np.array_equal(zarr.open_array(target, mode="r")[:], data)


def test_copy_region_along_rows_in_spawned_processes(tmp_path):
    data, source, target = _make_arrays(tmp_path)
    slabs = layout.chunk_aligned_slabs(data.shape, (2, 5, 6), 2, axis=1)  # rows 0:5 and 5:10
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = list(pool.map(layout.copy_region, [str(source)] * 2, [str(target)] * 2, slabs))
    first, second = (r.chunk_keys for r in reports)
    assert not first & second and len(first) == len(second) == 3 * 1 * 2
    assert np.array_equal(zarr.open_array(target, mode="r")[:], data)
