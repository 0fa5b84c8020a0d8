"""course_utils.checks.versioned_storage, on a small lesson namespace (and a real Icechunk repository)."""

from __future__ import annotations

import icechunk
import numpy as np
import pytest
import zarr

from course_utils import adapters
from course_utils.checks import versioned_storage as check
from course_utils.feedback import AnswerError

icechunk.set_logs_filter("error")


@pytest.fixture(scope="module")
def lesson():
    image = zarr.create_array(zarr.storage.MemoryStore(), shape=(1600, 2000), chunks=(256, 256), dtype="uint16")
    return {"image": image}


def test_chunks_touched():
    assert check.chunks_touched((1600, 2000), (256, 256), check.PLANNED_EDIT) == 14
    assert check.chunks_touched((1600, 2000), (256, 256), check.REWRITE) == 8
    assert check.chunks_touched((10, 10), (4, 4), (slice(3, 5), slice(None))) == 6


def test_new_chunks_matches_what_icechunk_writes(tmp_path):
    """The check's arithmetic is what a real commit stores."""
    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(tmp_path / "repo")))
    session = repo.writable_session("main")
    noise = np.random.default_rng(0).integers(0, 60000, (1600, 2000), dtype=np.uint16)  # chunks too big to inline
    zarr.create_array(session.store, name="image", data=noise, chunks=(256, 256))
    first = session.commit("first")
    chunks_before = len(list((tmp_path / "repo" / "chunks").iterdir()))
    session = repo.writable_session("main")
    zarr.open_array(session.store, path="image")[check.PLANNED_EDIT] = 0
    second = session.commit("stripe")
    assert len(list((tmp_path / "repo" / "chunks").iterdir())) - chunks_before == 14
    assert sum(len(c) for c in repo.diff(from_snapshot_id=first, to_snapshot_id=second).updated_chunks.values()) == 14
    # an identical re-write still stores new objects
    before = len(list((tmp_path / "repo" / "chunks").iterdir()))
    session = repo.writable_session("main")
    array = zarr.open_array(session.store, path="image")
    array[check.REWRITE] = array[check.REWRITE]
    session.commit("same bytes")
    assert len(list((tmp_path / "repo" / "chunks").iterdir())) - before == 8


def test_new_chunks_right(lesson, capsys):
    check.new_chunks({**lesson, "new_chunks": 14})
    assert "7 chunk rows x 2 chunk columns" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        (12, "partial row of chunks"),
        (7, "do not fit in one column"),
        (2, "every row of chunks"),
        (56, "only the chunks that were written"),
        (15, "does not write 15"),
        (14.0, "whole number"),
    ],
)
def test_new_chunks_mistakes(lesson, value, message):
    with pytest.raises(AnswerError, match=message):
        check.new_chunks({**lesson, "new_chunks": value})


def test_new_chunks_without_the_lesson():
    with pytest.raises(AnswerError, match="lesson variable `image`"):
        check.new_chunks({"new_chunks": 14})


@pytest.mark.parametrize("value", ["C", " c "])
def test_concurrent_commit_right(value, capsys):
    check.concurrent_commit({"concurrent_commit": value})
    assert "conflict" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [("A", "cannot be lost"), ("B", "does not merge on its own"), ("D", "section 1"), ("E", "one of A, B, C, D"), (3, "string")],
)
def test_concurrent_commit_wrong(value, message):
    with pytest.raises(AnswerError, match=message):
        check.concurrent_commit({"concurrent_commit": value})


def test_every_wrong_letter_has_its_own_explanation():
    assert set(check.CONCURRENT_WHY) == {"A", "B", "D"}
    assert len(set(check.CONCURRENT_WHY.values())) == 3


def test_concurrent_commit_is_what_icechunk_does():
    repo = icechunk.Repository.create(icechunk.in_memory_storage())
    session = repo.writable_session("main")
    zarr.create_array(session.store, name="a", shape=(4,), chunks=(2,), dtype="uint8")[:] = 1
    session.commit("start")
    first, second = repo.writable_session("main"), repo.writable_session("main")
    zarr.open_array(first.store, path="a")[0] = 2
    zarr.open_array(second.store, path="a")[3] = 3
    first.commit("first")
    with pytest.raises(icechunk.ConflictError):
        second.commit("second")


def test_same_bytes_right(lesson, capsys):
    check.same_bytes({**lesson, "same_bytes": {"icechunk": 8, "content_addressed": 0}})
    assert "8 new chunk objects" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [
        ({"icechunk": 0, "content_addressed": 0}, "does not compare"),
        ({"icechunk": 7, "content_addressed": 0}, "count the chunks rows 0-255 cover"),
        ({"icechunk": 8, "content_addressed": 8}, "same CID"),
        ({"icechunk": 8}, "exactly the keys"),
        ({"icechunk": "8", "content_addressed": 0}, "whole number"),
    ],
)
def test_same_bytes_mistakes(lesson, value, message):
    with pytest.raises(AnswerError, match=message):
        check.same_bytes({**lesson, "same_bytes": value})


def test_identical_rewrite_keeps_every_cid():
    blocks: dict = {}
    array = zarr.create_array(zarr.storage.MemoryStore(blocks), data=np.arange(64 * 64, dtype="uint16").reshape(64, 64), chunks=(16, 16))
    before = adapters.content_addresses(blocks)
    array[0:16, :] = array[0:16, :]
    assert adapters.content_addresses(blocks) == before
