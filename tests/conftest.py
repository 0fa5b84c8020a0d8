"""Shared pytest configuration: the opt-in marker for tests that need the internet."""

from __future__ import annotations

import os

import pytest

ONLINE_VARIABLE = "COURSE_ONLINE_TESTS"


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``online`` unless ``COURSE_ONLINE_TESTS=1``: CI has no internet."""
    if os.environ.get(ONLINE_VARIABLE) == "1":
        return
    skip = pytest.mark.skip(reason=f"needs the internet; set {ONLINE_VARIABLE}=1 to run")
    for item in items:
        if "online" in item.keywords:
            item.add_marker(skip)
