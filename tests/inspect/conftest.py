"""Fixtures shared by the course_utils.inspect tests: small OME-Zarr stores.

Session-scoped: built once per run, as when the tests were one module.
"""

from __future__ import annotations

import pytest
from inspect_helpers import multiscales, write


@pytest.fixture(scope="session")
def small_ms():
    return multiscales(256, [2, 4])


@pytest.fixture(scope="session")
def stores(tmp_path_factory, small_ms):
    """The small 3-scale image as OME-Zarr 0.4, 0.5 and sharded 0.5 directories."""
    root = tmp_path_factory.mktemp("stores")
    return {
        kind: write(root / f"image-{kind}.zarr", small_ms, kind)
        for kind in ("0.4", "0.5", "0.5-sharded")
    }


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, stores):
    """Stores written by other tools and by hand after the specifications (see inspect_corpus.py)."""
    import warnings

    from inspect_corpus import build

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr warns that v3 consolidated metadata is not in the spec
        return build(tmp_path_factory.mktemp("corpus"), stores["0.5"])
