"""Checks for notebook 02, directory, zip and sharded stores."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from course_utils import layout
from course_utils.feedback import (
    AnswerError,
    answer,
    choice,
    expect,
    expect_keys,
    expect_type,
    lesson_value,
    passed,
    whole_number,
)

SEPARATORS = (".", "/")


def busiest_directory(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: entries of the fullest directory for each separator, and which one keeps directories small."""
    __tracebackhide__ = True
    counts = answer(namespace, "busiest_directory")
    example = '{".": 1000, "/": 10}'
    expect_keys(counts, SEPARATORS, "busiest_directory", example)
    stores = {
        ".": Path(lesson_value(namespace, "flat_store")),
        "/": Path(lesson_value(namespace, "nested_store")),
    }
    for separator, store in stores.items():
        name = f'busiest_directory["{separator}"]'
        value = whole_number(counts[separator], name, "1000")
        fullest, truth = layout.busiest_directory(store)
        if value == truth:
            continue
        if value == truth - 1 and (store / fullest / "zarr.json").is_file():
            hint = "count every entry of that directory, zarr.json included"
        elif value == truth - 1:
            hint = "count every entry of that directory, files and subdirectories alike"
        elif value == layout.count_files(store):
            hint = "that is the number of files in the whole store; count the entries of each directory on its own"
        else:
            hint = "os.walk(store) gives every directory with its subdirectories and files: take the largest len(dirs) + len(files)"
        raise AnswerError(
            f"{name} is {value}, but the fullest directory of the '{separator}' store holds a different number of entries.",
            hint,
        )
    choice = answer(namespace, "small_directories")
    expect_type(choice, str, "small_directories", '"."')
    expect(
        choice.strip() in SEPARATORS,
        f"small_directories should be '.' or '/', not {choice!r}.",
    )
    if choice.strip() != "/":
        raise AnswerError(
            "With '.' every chunk key of the array is a file in one directory, however large the array grows.",
            "compare the two numbers in busiest_directory",
        )
    passed(
        f"Right: '.' puts {counts['.']:,} entries in one directory, '/' at most {counts['/']:,}; "
        "nested keys keep directories small."
    )


def shard_shape(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``shard_shape`` keeps the chunk shape and brings the object count under the bound."""
    __tracebackhide__ = True
    value = answer(namespace, "shard_shape")
    shape = tuple(lesson_value(namespace, "big_shape"))
    chunks = tuple(lesson_value(namespace, "CHUNK_SHAPE"))
    max_shards = lesson_value(namespace, "MAX_SHARDS")
    max_mib = lesson_value(namespace, "MAX_SHARD_MIB")
    itemsize = np.dtype(lesson_value(namespace, "image").dtype).itemsize
    example = f"({chunks[0] * 2}, {chunks[1] * 2}, {chunks[2] * 2})"
    expect_type(value, (tuple, list), "shard_shape", example)
    expect(
        len(value) == len(shape),
        f"shard_shape should have {len(shape)} numbers, one per axis of big_shape {shape}, not {len(value)}.",
        f"for example: {example}",
    )
    sizes = tuple(whole_number(n, f"shard_shape[{i}]", example) for i, n in enumerate(value))
    for axis, (size, chunk) in enumerate(zip(sizes, chunks)):
        expect(size > 0, f"shard_shape[{axis}] is {size}; every size must be positive.")
        expect(
            size % chunk == 0,
            f"shard_shape[{axis}] is {size}, not a multiple of the chunk size {chunk} along that axis.",
            f"a shard holds whole chunks: along axis {axis} use {chunk}, {2 * chunk}, {3 * chunk}, ...",
        )
    n_shards = math.prod(math.ceil(s / h) for s, h in zip(shape, sizes))
    mib = math.prod(sizes) * itemsize / 2**20
    expect(
        n_shards <= max_shards,
        f"shard_shape {sizes} cuts big_shape into {n_shards:,} shards, more than MAX_SHARDS ({max_shards:,}).",
        "make the shards larger along one or more axes (number of shards = product of ceil(shape / shard))",
    )
    expect(
        mib <= max_mib,
        f"one shard of {sizes} holds {mib:,.0f} MiB of pixels, more than MAX_SHARD_MIB ({max_mib}).",
        "a writer builds a whole shard in memory: make it smaller along one or more axes",
    )
    n_chunks = math.prod(math.ceil(s / c) for s, c in zip(shape, chunks))
    per_shard = math.prod(h // c for h, c in zip(sizes, chunks))
    passed(
        f"shard_shape {sizes} works: {n_shards:,} shards of {mib:,.0f} MiB, {per_shard:,} chunks each, "
        f"instead of {n_chunks:,} chunk objects."
    )


ZIP_DUPLICATES_WRONG = {
    "A": ("look at which names repeat: only group zarr.json files. Every chunk and every array's zarr.json "
          "is stored once, and the copies of a name differ: a safety copy would be identical."),
    "B": ("the cell deletes the zip before it writes, so nothing is left from an earlier run; and each "
          "group's copies come in a fixed order, bare first, then with attributes."),
    "D": ("the duplicates are the very same full name (for example scale0/zarr.json twice), not different "
          "paths that collide: a zip entry's name is the whole key, slashes included."),
}


def zip_duplicates(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``zip_duplicates`` is the letter of the right explanation."""
    __tracebackhide__ = True
    choice(
        answer(namespace, "zip_duplicates"), "zip_duplicates", "C", ZIP_DUPLICATES_WRONG,
        "compare the copies of one name: what changed between the first and the last, and where is each in the zip?",
    )
    passed("Right: a zip entry cannot be rewritten in place, so every rewrite of a key appends another copy.")


def _grid(shape: tuple[int, ...], block: tuple[int, ...]) -> int:
    return math.prod(math.ceil(s / b) for s, b in zip(shape, block))


def object_counts(namespace: Mapping[str, Any]) -> None:
    """Exercise 3: files of ``big_shape`` stored with chunks only and with ``SHARD_SHAPE`` shards."""
    __tracebackhide__ = True
    counts = answer(namespace, "object_counts")
    shape = tuple(lesson_value(namespace, "big_shape"))
    chunks = tuple(lesson_value(namespace, "CHUNK_SHAPE"))
    shards = tuple(lesson_value(namespace, "SHARD_SHAPE"))
    expect_keys(counts, ("unsharded", "sharded"), "object_counts", '{"unsharded": 1001, "sharded": 11}')
    unsharded = whole_number(counts["unsharded"], "object_counts['unsharded']", "1001")
    sharded = whole_number(counts["sharded"], "object_counts['sharded']", "11")

    n_chunks, n_shards = _grid(shape, chunks), _grid(shape, shards)
    if unsharded != n_chunks + 1:
        if unsharded == n_chunks:
            hint = "the array's zarr.json is a file too"
        elif unsharded in (math.prod(s // c for s, c in zip(shape, chunks)), math.prod(s // c for s, c in zip(shape, chunks)) + 1):
            hint = "the chunks along the far edges are only partly filled, but each is still a whole file: round up"
        else:
            hint = "one file per chunk: the product of ceil(size / chunk size) over the axes, plus zarr.json"
        raise AnswerError(f"object_counts['unsharded'] is {unsharded:,}, not the number of files of that array.", hint)

    per_shard = math.prod(s // c for s, c in zip(shards, chunks))
    if sharded != n_shards + 1:
        if sharded == n_shards:
            hint = "the array's zarr.json is a file too"
        elif sharded in (math.ceil(n_chunks / per_shard), math.ceil(n_chunks / per_shard) + 1):
            hint = ("dividing the chunks by the chunks per shard forgets the edges: a shard that reaches past the "
                    "array's edge holds fewer chunks but is still one file. Count shards as ceil(size / shard size) per axis")
        elif sharded in (n_shards * per_shard, n_shards * per_shard + 1):
            hint = "a shard is one file, however many inner chunks it holds"
        else:
            hint = "one file per shard: the product of ceil(size / shard size) over the axes, plus zarr.json"
        raise AnswerError(f"object_counts['sharded'] is {sharded:,}, not the number of files of that array.", hint)

    quota = lesson_value(namespace, "FILE_QUOTA")
    passed(
        f"Right: {unsharded:,} files without shards, {sharded:,} with them. A quota of {quota:,} files holds "
        f"{quota // unsharded} such stacks as chunk files, {quota // sharded:,} sharded."
    )
