"""Checks for notebook 01, the Zarr store interface."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from course_utils.feedback import (
    answer,
    choice,
    expect,
    expect_keys,
    lesson_value,
    passed,
    whole_number,
)
from course_utils.keys import is_metadata


def _first_scale_path(keys: Mapping[str, Any]) -> str:
    root = json.loads(bytes(keys["zarr.json"].to_bytes()))
    return root["attributes"]["ome"]["multiscales"][0]["datasets"][0]["path"]


def key_counts(namespace: Mapping[str, Any]) -> None:
    """Exercise 1: ``key_counts`` holds total, metadata and chunk key counts of ``keys_v05``."""
    __tracebackhide__ = True
    counts = answer(namespace, "key_counts")
    keys = lesson_value(namespace, "keys_v05")
    example = '{"total": 10, "metadata": 3, "chunks": 7}'
    expect_keys(counts, ("total", "metadata", "chunks"), "key_counts", example)
    total = whole_number(counts["total"], "key_counts['total']", "len(keys_v05)")
    metadata = whole_number(counts["metadata"], "key_counts['metadata']", "3")
    chunks = whole_number(counts["chunks"], "key_counts['chunks']", "7")
    expect(
        total == metadata + chunks,
        f"total ({total}) should equal metadata ({metadata}) + chunks ({chunks}).",
        "every key is either a metadata document or a chunk",
    )
    true_metadata = sum(is_metadata(k) for k in keys)
    expect(
        total == len(keys),
        f"key_counts['total'] is {total}, but the store holds a different number of keys.",
        "`keys_v05` is the dict behind the store: how many entries does it have?",
    )
    expect(
        metadata == true_metadata,
        f"key_counts['metadata'] is {metadata}, which is not the number of metadata keys.",
        "in a Zarr v3 store every metadata document is a key ending in 'zarr.json'",
    )
    passed(f"key_counts is right: {total} keys, {metadata} metadata documents, {chunks} chunks.")


def scale0_chunk_keys(namespace: Mapping[str, Any]) -> None:
    """Exercise 2: ``scale0_chunk_keys`` is the number of chunk keys of the full-resolution array."""
    __tracebackhide__ = True
    value = whole_number(answer(namespace, "scale0_chunk_keys"), "scale0_chunk_keys", "42")
    keys = lesson_value(namespace, "keys_v05")
    prefix = _first_scale_path(keys) + "/c/"
    truth = sum(k.startswith(prefix) for k in keys)
    expect(
        value == truth,
        f"scale0_chunk_keys is {value}, but the full-resolution array does not have that many chunks.",
        "divide each dimension of the shape by the chunk shape, round up, and multiply the results",
    )
    passed(f"scale0_chunk_keys is right: {value} chunk keys for the full-resolution array.")


def why_many_keys(namespace: Mapping[str, Any]) -> None:
    """Exercise 3: ``why_many_keys`` is the letter of the right explanation."""
    __tracebackhide__ = True
    choice(
        answer(namespace, "why_many_keys"), "why_many_keys", "A", "is not the reason.",
        "look again at the measurement above: what does the file system do for every key?",
    )
    passed("Right: on a file system every key is a file, and every file has a fixed cost.")
