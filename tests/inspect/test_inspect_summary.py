"""course_utils.inspect.summary: the rich / Jupyter table, plain data, sizes."""

from __future__ import annotations

import json

import pytest
from inspect_helpers import SCALE_SHAPES
from rich.console import Console

import course_utils.inspect as ci
from course_utils.inspect import inspect_store


def test_rich_rendering_and_jupyter(stores):
    summary = inspect_store(stores["0.5-sharded"])
    console = Console(record=True, width=200)
    console.print(summary)
    text = console.export_text()
    for path, shape in zip(summary.arrays, SCALE_SHAPES):
        assert path in text
        assert str(shape) in text
    assert "OME-Zarr 0.5" in text
    assert "sharding_indexed: bytes, zstd" in text
    assert ci.format_bytes(summary.total_bytes) in text

    bundle = summary._repr_mimebundle_(include=None, exclude=None)
    assert "scale0/image" in bundle["text/plain"]
    assert "scale0/image" in bundle["text/html"]


def test_as_dict_is_plain_json_data(stores):
    data = inspect_store(stores["0.4"]).as_dict()

    def check(value):
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
        else:
            assert value is None or type(value) in (str, int, bool), type(value)

    check(data)
    assert json.loads(json.dumps(data)) == data
    assert data["arrays"]["scale0/image"]["shape"] == [256, 256]


def test_format_bytes():
    assert ci.format_bytes(0) == "0 B"
    assert ci.format_bytes(1023) == "1023 B"
    assert ci.format_bytes(1024) == "1.0 KiB"
    assert ci.format_bytes(6_400_000) == "6.1 MiB"
    assert ci.format_bytes(None) == "unknown"


def test_summary_is_frozen(stores):
    summary = inspect_store(stores["0.4"])
    with pytest.raises(AttributeError):
        summary.n_objects = 0  # type: ignore[misc]
