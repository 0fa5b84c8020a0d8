"""What a kind of server provides to the server process: its WSGI app and extras.

Each server kind (:mod:`course_utils.servers.s3`, :mod:`course_utils.servers.http`)
has a ``build_app(config)`` that returns an :class:`App`; the server process
(:mod:`course_utils.servers.child`) serves it. This module sits below both,
so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["App"]


@dataclass
class App:
    """What a server kind provides: the WSGI app, and optional extras.

    ``handler`` is the werkzeug request handler class (None: werkzeug's
    own, without its per-request log lines); ``setup(port)`` runs once the
    port is known, before the first request; ``commands`` maps extra command
    names to functions of the command's arguments that return a JSON-ready
    dict.
    """

    wsgi: Callable
    handler: type | None = None
    setup: Callable[[int], None] | None = None
    commands: dict[str, Callable[..., dict]] = field(default_factory=dict)
