"""pip's package index for the tests that need it: where it is, and whether it answers.

Tests marked ``package_index`` are skipped, with :func:`package_index_unreachable`'s
reason, when it does not (see ``conftest.py``); the wheel check asks uv to
resolve against :func:`index_url`, the index that was probed.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_INDEX = "https://pypi.org/simple"
INDEX_PROBE_SECONDS = 5


def index_url() -> str:
    """pip's index URL: ``PIP_INDEX_URL``, else pip's configuration, else PyPI."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].split()[0]
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".index-url") and value.strip("'\" "):
            return value.strip("'\" ").split()[0]
    return DEFAULT_INDEX


@functools.cache
def package_index_unreachable() -> str | None:
    """Why pip's package index cannot be reached (one line), or None when it answers."""
    url = index_url()
    if url.startswith("file:"):
        path = Path(urllib.request.url2pathname(url.removeprefix("file:")))
        return None if path.is_dir() else f"needs the package index; {url} does not exist"
    probe = url.rstrip("/") + "/pip/"
    try:
        with urllib.request.urlopen(urllib.request.Request(probe, method="HEAD"), timeout=INDEX_PROBE_SECONDS):
            return None
    except urllib.error.HTTPError:  # it answered
        return None
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"needs the package index; {probe} could not be reached ({reason})"
