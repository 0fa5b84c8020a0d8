"""course_utils.checks.http_and_sharing on OME-Zarr copies written to disk and served over HTTP."""

from __future__ import annotations

import ngff_zarr as nz
import numpy as np
import pytest
import zarr

from course_utils.checks import http_and_sharing as check
from course_utils.feedback import AnswerError
from course_utils.servers import LocalHTTPServer
from course_utils.store_reads import ReadCounter

SHAPES = [(2, 6, 64, 48), (2, 6, 32, 24), (2, 6, 16, 12)]
CHUNKS = [(1, 1, 32, 32), (1, 1, 32, 24), (1, 1, 16, 12)]


def _write(path, version):
    image = np.random.default_rng(5).integers(1, 900, SHAPES[0], dtype=np.uint16)
    multiscales = nz.to_multiscales(
        nz.to_ngff_image(image, dims=("c", "z", "y", "x")),
        scale_factors=[{"y": 2, "x": 2}, {"y": 4, "x": 4}], method=nz.Methods.ITKWASM_BIN_SHRINK,
        chunks={"c": 1, "z": 1, "y": 32, "x": 32},
    )
    extra = {"chunks": (1, 1, 32, 32)} if version == "0.5" else {}
    nz.to_ngff_zarr(path, multiscales, version=version, **extra)
    return path


@pytest.fixture(scope="module", params=["0.4", "0.5"])
def any_copy(request, tmp_path_factory):
    """A copy in either format, and its chunk shapes (ngff-zarr 0.18 gives 0.5 levels one chunk shape)."""
    copy = _write(tmp_path_factory.mktemp("copy") / "image.zarr", request.param)
    chunks = CHUNKS if request.param == "0.4" else [CHUNKS[0]] * 3
    return {"copy": copy}, chunks


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    """A copy as the lesson's download writes it: OME-Zarr 0.4."""
    return {"copy": _write(tmp_path_factory.mktemp("copy04") / "image.zarr", "0.4")}


FILES = [48, 12, 12]  # 2 x 6 x 2 x 2 chunks at level 0, 2 x 6 at levels 1 and 2


def _right():
    return {"chunks": list(CHUNKS), "chunk_files": list(FILES)}


def test_the_truth_is_read_from_the_copys_files(any_copy):
    namespace, expected = any_copy
    _, shapes, chunks, files = check._truth(namespace["copy"])
    assert (shapes, chunks, files) == (SHAPES, expected, FILES)


def test_right_description_passes(any_copy, capsys):
    namespace, expected = any_copy
    check.copy_description({**namespace, "copy_description": {"chunks": expected, "chunk_files": FILES}})
    assert "✓ Right: chunks of (1, 1, 32, 32) down to" in capsys.readouterr().out


def test_lists_and_numpy_integers_are_fine(lesson, capsys):
    answer = {"chunks": [list(c) for c in CHUNKS], "chunk_files": [np.int64(n) for n in FILES]}
    check.copy_description({**lesson, "copy_description": answer})
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, message",
    [
        ({"chunks": SHAPES}, "those are the arrays' shapes"),
        ({"chunks": CHUNKS[::-1]}, "finest first"),
        ({"chunks": [CHUNKS[0]] * 3}, "level 0 is right"),
        ({"chunks": [(1, 1, 16, 16)] * 3}, "read `chunks`"),
        ({"chunks": CHUNKS[:2]}, "2 entries, but the copy has 3 levels"),
        ({"chunks": [(1, 1, 32, 32), "big", (1, 1, 16, 12)]}, "tuple of whole numbers"),
        ({"chunks": [(1, 1, 32.0, 32), (1, 1, 32, 24), (1, 1, 16, 12)]}, "whole numbers only"),
        ({"chunks": "1,1,32,32"}, "should be a list of chunk shapes"),
        ({"chunk_files": [n + 2 for n in FILES]}, "counted the .zarray and .zattrs too"),
        ({"chunk_files": [n + 1 for n in FILES]}, "leave the metadata documents"),
        ({"chunk_files": [72, 72, 72]}, "count per level"),
        ({"chunk_files": [48, 12, 11]}, "count the files under each level"),
        ({"chunk_files": [48, 12, "12"]}, "whole number"),
    ],
)
def test_wrong_descriptions_fail_with_a_hint(lesson, change, message):
    with pytest.raises(AnswerError, match=message):
        check.copy_description({**lesson, "copy_description": {**_right(), **change}})


def test_shape_of_the_answer(lesson):
    with pytest.raises(AnswerError, match="should be a dict"):
        check.copy_description({**lesson, "copy_description": ["c", "z"]})
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.copy_description({**lesson, "copy_description": {"chunks": []}})
    with pytest.raises(AnswerError, match="not defined yet"):
        check.copy_description(lesson)


def test_without_the_lesson_says_run_the_cells():
    with pytest.raises(AnswerError, match="lesson variable `copy`"):
        check.copy_description({"copy_description": _right()})


# -- consolidated_saving -------------------------------------------------------------


@pytest.fixture(scope="module")
def served_copy(tmp_path_factory):
    """A 0.4 copy with consolidated metadata, served like the lesson's ``web``."""
    root = tmp_path_factory.mktemp("served")
    copy = _write(root / "image.zarr", "0.4")
    zarr.consolidate_metadata(str(copy), zarr_format=2)
    with LocalHTTPServer(root) as web:
        yield {"web": web, "copy_url": web.url(copy), "copy": copy}


def test_consolidated_saving_right_answer_passes(served_copy, capsys):
    check.consolidated_saving({**served_copy, "consolidated_saving": 9})
    assert "✓ Right: 13 requests without consolidated metadata, 4 with it: 9 saved" in capsys.readouterr().out


@pytest.mark.parametrize(
    "given, message",
    [
        (-9, "the other way round"),
        (13, "without consolidated metadata; how many fewer"),
        (4, "that is the count with consolidated metadata"),
        (3, "the saving for one level"),
        (7, "measure it"),
    ],
)
def test_consolidated_saving_wrong_answers_teach(served_copy, given, message):
    with pytest.raises(AnswerError, match=message):
        check.consolidated_saving({**served_copy, "consolidated_saving": given})


def test_consolidated_saving_needs_a_whole_number_and_the_consolidated_copy(served_copy, tmp_path):
    with pytest.raises(AnswerError, match="whole number"):
        check.consolidated_saving({**served_copy, "consolidated_saving": "9"})
    with pytest.raises(AnswerError, match="not defined yet"):
        check.consolidated_saving(served_copy)
    bare = _write(tmp_path / "bare.zarr", "0.4")
    (bare / ".zmetadata").unlink()  # ngff-zarr consolidates; the lesson's download does not
    with pytest.raises(AnswerError, match="no consolidated metadata"):
        check.consolidated_saving({**served_copy, "copy": bare, "consolidated_saving": 9})


# -- shard_requests --------------------------------------------------------------------

#: Level shapes like the IDR image's (c, z, y, x), smaller in y and x.
SHARDED_SHAPES = {"0": (2, 120, 96, 90), "1": (2, 120, 48, 45), "2": (2, 120, 24, 22)}
RIGHT_REQUESTS = {"a": 31, "b": 3, "c": 1}


@pytest.fixture(scope="module")
def sharded_site(tmp_path_factory):
    """A group of three one-shard arrays, one plane per inner chunk, every chunk stored, served over HTTP."""
    root = tmp_path_factory.mktemp("sharded")
    group = zarr.open_group(str(root / "image.zarr"), mode="w")
    for path, shape in SHARDED_SHAPES.items():
        array = group.create_array(path, shape=shape, shards=shape, chunks=(1, 1, *shape[2:]), dtype="uint16")
        array[:] = 7
    with LocalHTTPServer(root) as web:
        yield web, web.url("image.zarr")


@pytest.fixture()
def sharded_lesson(sharded_site):
    web, url = sharded_site
    reads = ReadCounter(server=web)
    return {"sharded": zarr.open_group(reads.store(url), mode="r"), "reads": reads}


def test_shard_requests_right_answer_passes(sharded_lesson, capsys):
    check.shard_requests({**sharded_lesson, "shard_requests": dict(RIGHT_REQUESTS)})
    assert "✓ Right" in capsys.readouterr().out


def test_shard_requests_rule_is_what_zarr_does(sharded_lesson):
    """The check's numbers are the requests the server answers for each read."""
    sharded, reads = sharded_lesson["sharded"], sharded_lesson["reads"]
    for name, (level, _, selection) in check.SHARD_VIEWS.items():
        array = sharded[level]
        with reads.measure() as cost:
            array[selection]
        assert cost.requests == cost.server_requests == RIGHT_REQUESTS[name], name


@pytest.mark.parametrize(
    "change, message",
    [
        ({"a": 30}, "first reads the shard's index"),
        ({"a": 60}, "once per read"),
        ({"b": 2}, "first reads the shard's index"),
        ({"c": 241}, "fetches the whole shard in one request"),
        ({"a": 1}, "only enough when a read needs every inner chunk"),
        ({"b": 5}, "count the inner chunks"),
    ],
)
def test_shard_requests_wrong_answers_teach(sharded_lesson, change, message):
    with pytest.raises(AnswerError, match=message):
        check.shard_requests({**sharded_lesson, "shard_requests": {**RIGHT_REQUESTS, **change}})


def test_shard_requests_shape_of_the_answer(sharded_lesson):
    with pytest.raises(AnswerError, match="exactly the keys"):
        check.shard_requests({**sharded_lesson, "shard_requests": {"a": 31}})
    with pytest.raises(AnswerError, match="whole number"):
        check.shard_requests({**sharded_lesson, "shard_requests": {**RIGHT_REQUESTS, "c": 1.0}})
    with pytest.raises(AnswerError, match=r"2 more wrong"):
        check.shard_requests({**sharded_lesson, "shard_requests": {"a": 0, "b": 0, "c": 0}})
    with pytest.raises(AnswerError, match="lesson variable `sharded`"):
        check.shard_requests({"shard_requests": dict(RIGHT_REQUESTS)})


def test_shard_read_rule_matches_zarr_on_random_reads_with_edge_shards(tmp_path):
    """Several shards, a partial one at each edge: the rule and zarr agree on every read."""
    shape, shards, chunks = (5, 9), (2, 4), (1, 2)
    array = zarr.create_array(str(tmp_path / "a.zarr"), shape=shape, shards=shards, chunks=chunks, dtype="uint16")
    array[:] = np.arange(45, dtype="uint16").reshape(shape) + 1
    with LocalHTTPServer(tmp_path) as web:
        reads = ReadCounter()
        remote = zarr.open_array(reads.store(web.url("a.zarr")), mode="r")
        rng = np.random.default_rng(11)
        for _ in range(60):
            selection = []
            for size in shape:
                start = int(rng.integers(size))
                stop = int(rng.integers(start + 1, size + 1))
                selection.append(slice(start, stop) if rng.random() < 0.8 else start)
            with reads.measure() as cost:
                remote[tuple(selection)]
            assert cost.requests == check.shard_read_requests(tuple(selection), shape, shards, chunks), selection
