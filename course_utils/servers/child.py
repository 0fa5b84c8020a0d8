"""The server process: ``python -m course_utils.servers.child KIND CONFIG_JSON``.

Started by :class:`course_utils.servers.process.LocalServer`, never by hand.
It serves the application of ``KIND`` (``s3`` or ``http``) on 127.0.0.1,
one thread per connection, behind two middlewares: :class:`SlowNetwork`
(the latency and bandwidth cap of ``config["network"]``) inside
:class:`CountingMiddleware` (which logs every request, latency included).
It answers commands read from stdin, one JSON line each, with one JSON line
on its original stdout: ``mark``, ``since``, ``stats``, ``reset``,
``network`` (read or change the network conditions), ``stop``, and those of
the kind's :class:`~course_utils.servers.app.App`. Everything else it or a
library prints goes to stderr. It stops on the command ``stop``, at end of
file on stdin, or as soon as its parent process is gone.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from course_utils.servers.app import App
from course_utils.servers.network import Network, SlowNetwork
from course_utils.servers.traffic import CountingMiddleware, RequestLog

HOST = "127.0.0.1"
#: Seconds between two checks that the parent process is still there.
WATCHDOG_INTERVAL = 0.5


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's handler without its per-request log lines."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def build(kind: str, config: dict[str, Any]) -> App:
    """The :class:`App` of a server kind."""
    if kind == "s3":
        from course_utils.servers.s3 import build_app
    elif kind == "http":
        from course_utils.servers.http import build_app
    else:
        raise ValueError(f"unknown server kind {kind!r}")
    return build_app(config)


def _watch_parent(parent_pid: int) -> None:
    """Exit at once when the parent process is gone (its pid no longer our parent's)."""
    while True:
        time.sleep(WATCHDOG_INTERVAL)
        if os.getppid() != parent_pid:
            os._exit(0)


def main(argv: list[str]) -> int:
    kind, config = argv[0], json.loads(argv[1])
    control = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # stop only when the parent says so
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    threading.Thread(target=_watch_parent, args=(int(config["parent_pid"]),), daemon=True).start()

    def send(message: dict[str, Any]) -> None:
        control.write(json.dumps(message) + "\n")

    try:
        app = build(kind, config)
        log = RequestLog()
        slow = SlowNetwork(app.wsgi, Network(**config.get("network", {})))
        server = make_server(
            HOST, int(config.get("port", 0)), CountingMiddleware(slow, log),
            threaded=True, request_handler=app.handler or QuietRequestHandler,
        )
        port = server.server_port
        if app.setup is not None:
            app.setup(port)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises
        traceback.print_exc()
        send({"error": f"{type(error).__name__}: {error}"})
        return 1
    threading.Thread(target=server.serve_forever, args=(0.1,), name="serve", daemon=True).start()
    send({"port": port})

    base = 0  # sequence number at the last reset
    try:
        for line in iter(sys.stdin.readline, ""):
            command = json.loads(line)
            op = command.pop("op")
            if op == "stop":
                break
            quiet = log.quiet(float(command.pop("quiet", 0)))
            try:
                if op == "mark":
                    reply = {"seq": log.seq}
                elif op in ("since", "stats"):
                    seq = int(command["seq"]) if op == "since" else base
                    requests, complete = log.since(seq)
                    reply = {
                        "requests": [r.as_dict() for r in requests],
                        "complete": complete, "quiet": quiet, "seq": log.seq,
                    }
                elif op == "reset":
                    base = log.clear()
                    reply = {"seq": base}
                elif op == "network":
                    if command:
                        slow.network = slow.network.replace(**command)
                    reply = {"network": slow.network.as_dict()}
                elif op in app.commands:
                    reply = app.commands[op](**command)
                else:
                    reply = {"error": f"unknown command {op!r}"}
            except Exception as error:  # noqa: BLE001 - reported to the parent
                traceback.print_exc()
                reply = {"error": f"{type(error).__name__}: {error}"}
            send(reply)
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip the interpreter's teardown of moto's many modules: a second saved at every stop
