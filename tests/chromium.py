"""Debian's Chromium for the browser tests: where it is, and whether they can have it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")


def unavailable() -> str | None:
    """Why the browser tests skip (one line), or None: Chromium is there, or root installs it with apt-get."""
    if CHROMIUM.exists() or (os.geteuid() == 0 and shutil.which("apt-get")):
        return None
    return f"{CHROMIUM} is missing; install it with `apt-get install chromium` (needs root)"
