"""Online or offline: which data the course uses, decided in one place.

The course runs the same cells either way. Online it reads the public data
the lessons are about; offline (no route to the internet, or
``COURSE_OFFLINE=1``) it uses local stand-ins of the same shape and type.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

OFFLINE_VARIABLE = "COURSE_OFFLINE"
PROBE_TIMEOUT_SECONDS = 3.0


def offline_requested() -> bool:
    """True when the user asked for offline mode with ``COURSE_OFFLINE``."""
    value = os.environ.get(OFFLINE_VARIABLE, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def host_reachable(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """True when a TCP connection to the host and port of ``url`` opens in time."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_offline(url: str = "https://s3.us-west-2.amazonaws.com") -> bool:
    """True when the course should use its local stand-ins instead of ``url``."""
    return offline_requested() or not host_reachable(url)


def describe_mode(offline: bool | None = None) -> str:
    """One line saying which mode the course is in, and how to change it."""
    if offline is None:
        offline = is_offline()
    if offline:
        reason = (
            f"{OFFLINE_VARIABLE} is set"
            if offline_requested()
            else "the public data cannot be reached"
        )
        return (
            f"OFFLINE mode ({reason}): this notebook uses synthetic stand-in data "
            "and local servers; every cell still runs."
        )
    return (
        "ONLINE mode: this notebook reads the real public data. "
        f"Set {OFFLINE_VARIABLE}=1 to use local stand-ins instead."
    )
