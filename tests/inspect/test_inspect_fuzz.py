"""Broken metadata: inspect describes the store or refuses in one line, never a traceback.

Seeded mutations (deterministic, no extra dependency) of the metadata of
small stores of every format: truncated JSON, wrong types in every field,
deep nesting, absurd shapes, Git LFS pointers, bytes that are not text.
Every case must end in a StoreSummary that renders and survives JSON, or
in a one-line StoreError; never in the "unexpected" safety net, never slow.
"""

from __future__ import annotations

import io
import copy
import json
import os
import random
import time

import pytest
from inspect_corpus import LFS_POINTER
from rich.console import Console

from course_utils.inspect import StoreError, StoreSummary, inspect_store

#: Replacement values: wrong types, extremes, empties.
POOL = [
    None, True, -1, 0, 1, 2**70, 1.5, 1e300, "x", "", "NaN", [], {}, [[]], [None],
    [-3, 4], [0, 0], [2**62, 2**62, 2**62], [1] * 200, {"name": 5}, {"a": {"b": {"c": []}}},
    "https://purl.org/zarr/spec/protocol/core/3.0", [{"name": "sharding_indexed"}],
    [{"name": "sharding_indexed", "configuration": {"chunk_shape": "x", "codecs": 3}}],
]


def _v3_array(shape=(16, 16), chunks=(8, 8)):
    return {"zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": "uint8",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0, "codecs": [{"name": "bytes"}, {"name": "zstd", "configuration": {"level": 0}}]}


def _docs_v3():
    return {
        "zarr.json": {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
            "version": "0.5", "multiscales": [{"axes": [{"name": "y"}, {"name": "x"}],
                                               "datasets": [{"path": "0"}, {"path": "1"}]}]}}},
        "0/zarr.json": _v3_array(),
        "1/zarr.json": dict(_v3_array((8, 8)), codecs=[{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [4, 4], "codecs": [{"name": "bytes"}]}}]),
        "labels/zarr.json": {"zarr_format": 3, "node_type": "group",
                             "attributes": {"ome": {"version": "0.5", "labels": ["a"]}}},
    }, {"0/c/0/0": b"x", "0/c/1/1": b"y", "1/c/0/0": b"z"}


def _docs_plate():
    return {
        "zarr.json": {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "plate": {
            "rows": [{"name": "A"}], "columns": [{"name": "1"}], "wells": [{"path": "A/1", "rowIndex": 0,
                                                                            "columnIndex": 0}],
            "field_count": 1, "name": "p", "acquisitions": [{"id": 0}]}}}},
        "A/zarr.json": {"zarr_format": 3, "node_type": "group", "attributes": {}},
        "A/1/zarr.json": {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
            "version": "0.5", "well": {"images": [{"path": "0"}]}}}},
        "A/1/0/zarr.json": {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
            "version": "0.5", "bioformats2raw.layout": 3,
            "multiscales": [{"datasets": [{"path": "0"}]}]}}},
        "A/1/0/0/zarr.json": _v3_array(),
    }, {"A/1/0/0/c/0/0": b"x"}


def _docs_v2():
    zarray = {"zarr_format": 2, "shape": [16, 16], "chunks": [8, 8], "dtype": "<u2", "fill_value": 0,
              "order": "C", "filters": [{"id": "delta", "dtype": "<u2"}],
              "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
              "dimension_separator": "."}
    zattrs = {"multiscales": [{"version": "0.4", "datasets": [{"path": "0"}]}]}
    return {
        ".zgroup": {"zarr_format": 2},
        ".zattrs": zattrs,
        "0/.zarray": zarray,
        "0/.zattrs": {"_ARRAY_DIMENSIONS": ["y", "x"]},
        ".zmetadata": {"zarr_consolidated_format": 1, "metadata": {
            ".zgroup": {"zarr_format": 2}, ".zattrs": zattrs, "0/.zarray": zarray}},
    }, {"0/0.0": b"x", "0/1.1": b"y"}


def _docs_n5():
    return {
        "attributes.json": {"n5": "4.0.0"},
        "s0/attributes.json": {"dimensions": [16, 16], "blockSize": [8, 8], "dataType": "uint16",
                               "compression": {"type": "blosc", "cname": "zstd", "shuffle": 2}},
    }, {"s0/0/0": b"x"}


def _docs_draft():
    return {
        "zarr.json": {"zarr_format": "https://purl.org/zarr/spec/protocol/core/3.0",
                      "metadata_encoding": "https://purl.org/zarr/spec/protocol/core/3.0",
                      "metadata_key_suffix": ".json", "extensions": []},
        "meta/root.group.json": {"attributes": {}},
        "meta/root/a.array.json": {
            "shape": [10, 10], "data_type": "<f4",
            "chunk_grid": {"type": "regular", "chunk_shape": [5, 5], "separator": "/"},
            "chunk_memory_layout": "C", "fill_value": "NaN", "extensions": [], "attributes": {},
            "compressor": {"codec": "https://purl.org/zarr/spec/codec/gzip/1.0", "configuration": {"level": 1}},
            "storage_transformers": [{"extension": "https://purl.org/zarr/spec/storage_transformers/sharding/1.0",
                                      "type": "indexed", "configuration": {"chunks_per_shard": [1, 2]}}]},
    }, {"data/root/a/c0/0": b"x"}


BASES = {"v3": _docs_v3, "plate": _docs_plate, "v2": _docs_v2, "n5": _docs_n5, "draft": _docs_draft}


def _store(docs, data) -> dict[str, bytes]:
    return {**{key: json.dumps(doc).encode() for key, doc in docs.items()}, **data}


def _paths(value, prefix=()):
    """Every place in a JSON document (as a tuple of keys / indices)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replace(doc, path, new):
    if not path:
        return {} if new is _DELETE else new
    doc = copy.deepcopy(doc)
    target = doc
    for step in path[:-1]:
        target = target[step]
    if new is _DELETE and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = None if new is _DELETE else new
    return doc


_DELETE = object()


def _raw_mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    cut = rng.randrange(1, max(2, len(raw)))
    flipped = bytearray(raw)
    flipped[rng.randrange(len(raw))] ^= 0xFF
    return [
        raw[:cut],                              # truncated JSON
        bytes(flipped),                         # one byte flipped (maybe not UTF-8 any more)
        b"",                                    # empty
        LFS_POINTER.encode(),                   # a Git LFS pointer
        b"[" * 100_000 + b"]" * 100_000,        # nesting deeper than any parser's stack
        b'{"zarr_format": 3, "shape": [1e400]}',  # a number beyond float
        b"\xff\xfe\x00{}",                      # not UTF-8
        b"null",
        b'{"a": 1, "a": 2}',
    ]


#: Mutations per metadata document; raise it for a longer hunt (INSPECT_FUZZ_ROUNDS=500).
ROUNDS = int(os.environ.get("INSPECT_FUZZ_ROUNDS", "14"))


def _cases():
    rng = random.Random(20261113)
    cases = []
    for base_name, make in BASES.items():
        docs, data = make()
        for key, doc in docs.items():
            paths = list(_paths(doc))
            for i in range(ROUNDS):
                path = rng.choice(paths)
                new = rng.choice([*POOL, _DELETE])
                mutated = dict(docs, **{key: _replace(doc, path, new)})
                cases.append((f"{base_name}:{key}:{'/'.join(map(str, path))}={str(new)[:20]}:{i}",
                              _store(mutated, data)))
            raw = json.dumps(doc).encode()
            for j, bad in enumerate(_raw_mutations(raw, rng)):
                store = _store(docs, data)
                store[key] = bad
                cases.append((f"{base_name}:{key}:raw{j}", store))
    return cases


CASES = _cases()


def _check(target, render: bool = True) -> StoreSummary | StoreError:
    start = time.perf_counter()
    try:
        result = inspect_store(target)
    except StoreError as error:
        result = error
    elapsed = time.perf_counter() - start
    assert elapsed < 5, f"took {elapsed:.1f} s"
    if isinstance(result, StoreError):
        text = str(result)
        assert text and "\n" not in text and len(text) < 600, text
        assert "bug in course_utils.inspect" not in text, text
    else:
        data = result.as_dict()
        assert json.loads(json.dumps(data)) == data
        for width in (80, 200) if render else ():
            console = Console(record=True, width=width, file=io.StringIO())
            console.print(result)
            assert "Zarr store" in console.export_text()
        assert result.n_objects == result.n_metadata + result.n_chunks + result.n_shards + result.n_other
    return result


def test_the_fuzz_cases_cover_every_format_and_both_outcomes():
    assert len(CASES) > 300 or ROUNDS < 14
    outcomes = {type(_check(store)).__name__ for _, store in CASES[::7]}
    assert outcomes == {"StoreSummary", "StoreError"}


def test_broken_metadata_never_escapes_as_a_traceback():
    failures = []
    for i, (name, store) in enumerate(CASES):
        try:
            _check(store, render=i % 4 == 0)  # rendering is the slow part: every fourth case
        except AssertionError as error:
            failures.append(f"{name}: {error}")
        except Exception as error:  # noqa: BLE001 - anything else is a failure too
            failures.append(f"{name}: {type(error).__name__}: {error}")
    assert not failures, "\n".join(failures[:20])


def test_absurd_shapes_do_not_allocate(tmp_path):
    docs, data = _docs_v3()
    docs["0/zarr.json"] = _v3_array(shape=(2**62, 2**62, 2**62), chunks=(1, 1, 1))
    docs["0/zarr.json"]["chunk_key_encoding"] = {"name": "default"}
    start = time.perf_counter()
    summary = _check(_store(docs, {"0/c/0/0/0": b"x"}))
    assert time.perf_counter() - start < 2
    info = summary.arrays["0"]
    assert info.n_possible == 2**186 and info.n_stored == 1
    assert "e+55" in " ".join(summary.notes)  # counts too long to print are shown in powers of ten

    docs["0/zarr.json"] = _v3_array(shape=[1] * 100_000, chunks=[1] * 100_000)
    summary = _check(_store(docs, {}))
    assert "0" not in summary.arrays
    assert any("100,000 dimensions" in note for note in summary.notes)


@pytest.mark.parametrize("bad, message", [
    (b'{"zarr_format": 3, "node_type": "gr', "its zarr.json is not valid JSON"),
    (LFS_POINTER.encode(), "its zarr.json is a Git LFS pointer file: the data was never fetched"),
    (b"[" * 50_000, "its zarr.json is JSON nested too deeply to read"),
    (b'{"zarr_format": 4}', "zarr_format 4, which is neither Zarr v3 (3) nor a known pre-release draft"),
    (b'[1, 2]', "its zarr.json is not a JSON object"),
])
def test_broken_root_metadata_is_one_line_on_the_command_line(tmp_path, capsys, bad, message):
    from course_utils.cli import main as cli_main

    store = tmp_path / "broken.zarr"
    store.mkdir()
    (store / "zarr.json").write_bytes(bad)
    assert cli_main(["inspect", str(store)]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert message in " ".join(captured.err.split())
    assert "Traceback" not in captured.err + captured.out


def test_broken_array_metadata_becomes_a_note_and_the_rest_is_described(tmp_path):
    docs, data = _docs_v2()
    del docs[".zmetadata"]
    docs["1/.zarray"] = docs["0/.zarray"]
    store = _store(docs, data)
    store["0/.zarray"] = LFS_POINTER.encode()
    summary = _check(store)
    assert list(summary.arrays) == ["1"]
    assert "0/.zarray: a Git LFS pointer file: the data was never fetched (run git lfs pull)" in summary.notes
