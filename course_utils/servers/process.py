"""Run a local server in a child process that cannot outlive the notebook.

:class:`LocalServer` is the common base of the S3 and HTTP servers. It starts
``python -m course_utils.servers.child`` bound to 127.0.0.1 on a free port
and talks to it over the child's stdin/stdout, one JSON line per command
(request counts, reset, setup work). The child stops

- when :meth:`LocalServer.stop` is called or the ``with`` block ends, also
  when the block raises;
- when the server object is garbage collected or Python exits;
- when the parent process dies in any way (a kernel restart, ``kill -9``): it
  then reads end-of-file on its stdin, and it also checks its parent's pid
  twice a second, in case something else still holds that pipe open.

It runs in a session of its own, so interrupting a notebook cell (or Ctrl-C in
a terminal) does not kill it behind the notebook's back.

A server given a ``name`` replaces the running server of the same kind and
name when it starts, so a notebook cell that starts one can be run again
without leaving the first behind.

A server can answer like a distant one: ``latency_ms``, ``jitter_ms`` and
``bandwidth_mbps`` (see :mod:`course_utils.servers.network` for what they
model) are applied inside the server process to every client, and can be
changed while it runs (:meth:`LocalServer.set_network`,
:meth:`LocalServer.conditions`).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from course_utils.servers.network import Network
from course_utils.servers.traffic import Cost, Request

__all__ = ["LocalServer", "ServerError", "is_listening"]

HOST = "127.0.0.1"
#: Seconds to wait for a new server to answer "ready".
STARTUP_TIMEOUT = 60.0
#: Seconds to wait for an answer to a command.
COMMAND_TIMEOUT = 60.0
#: Seconds a stopping server gets before it is terminated, then killed.
STOP_TIMEOUT = 5.0
#: Seconds a measurement waits for requests still being answered.
QUIET_TIMEOUT = 5.0

# Named servers running in this process, by (kind, name): started again, a name replaces its server.
_NAMED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class ServerError(RuntimeError):
    """The local server could not start, or stopped answering."""


def is_listening(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _package_root() -> str:
    """The directory that holds the ``course_utils`` package the parent imported."""
    return str(Path(__file__).resolve().parents[2])


def _child_environment() -> dict[str, str]:
    """The parent's environment, where the child finds the same ``course_utils``.

    An installed ``course_utils`` (in site-packages, or editable) is found by
    any Python of this environment. One the parent imported from a folder on
    its ``sys.path`` (the current directory, or a path added by hand) may not
    be, so that folder goes on the child's ``PYTHONPATH`` (the child itself
    runs with ``-P``: its current directory is not searched).
    """
    env = dict(os.environ)
    root = os.path.realpath(_package_root())
    searched = {os.path.realpath(entry or os.getcwd()) for entry in sys.path}
    installed = {os.path.realpath(entry) for entry in [*site.getsitepackages(), site.getusersitepackages()]}
    if root in searched and root not in installed:
        paths = [root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _shutdown(process: subprocess.Popen, errors: IO[bytes]) -> None:
    """Stop the child: ask it, then terminate, then kill. Safe to call twice."""
    if process.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            process.stdin.write(b'{"op": "stop"}\n')
            process.stdin.flush()
        with contextlib.suppress(OSError, ValueError):
            process.stdin.close()  # end of file: the child stops even if it missed "stop"
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    for stream in (process.stdin, process.stdout, errors):
        with contextlib.suppress(OSError, ValueError):
            stream.close()


def _read_lines(stream: IO[bytes], lines: queue.Queue) -> None:
    """Reader thread: every line the child sends, then None at end of file."""
    try:
        for line in iter(stream.readline, b""):
            lines.put(line)
    except (OSError, ValueError):
        pass
    finally:
        lines.put(None)


class LocalServer:
    """A server on 127.0.0.1 in a child process, counting what it serves.

    Use it as a context manager (``with LocalHTTPServer(...) as server:``), or
    call :meth:`start` and :meth:`stop` yourself, e.g. across notebook cells.
    With a ``name``, :meth:`start` first stops the server of the same kind and
    name that this process started before, so running that cell again does
    not leave the old server behind. Subclasses set :attr:`kind` and add
    their settings in :meth:`_config`.

    ``latency_ms`` (each request waits that long before it is answered),
    ``jitter_ms`` (up to that much more, at random) and ``bandwidth_mbps``
    (megabits per second shared by all downloads, and by all uploads; None:
    no cap) make it answer like a distant server; :attr:`network` holds them.
    """

    kind = ""

    def __init__(
        self, *, port: int = 0, name: str | None = None,
        latency_ms: float = 0.0, jitter_ms: float = 0.0, bandwidth_mbps: float | None = None,
    ) -> None:
        self._network = Network(latency_ms=latency_ms, jitter_ms=jitter_ms, bandwidth_mbps=bandwidth_mbps)
        self.name = name
        self._requested_port = int(port)
        self._port: int | None = None
        self._process: subprocess.Popen | None = None
        self._lines: queue.Queue | None = None
        self._errors: IO[bytes] | None = None
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize | None = None

    # -- life cycle ----------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        """Settings sent to the child; subclasses add theirs."""
        return {"port": self._requested_port, "parent_pid": os.getpid(), "network": self._network.as_dict()}

    def start(self):
        """Start the server and wait until it accepts requests; returns ``self``."""
        if self.running:
            raise ServerError(f"{self!r} is already running")
        if self.name is not None:
            previous = _NAMED.pop((self.kind, self.name), None)
            if previous is not None:
                previous.stop()
        self._errors = tempfile.TemporaryFile()
        command = [
            sys.executable, "-P", "-m", "course_utils.servers.child",
            self.kind, json.dumps(self._config()),
        ]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=_child_environment(),
            start_new_session=True,
        )
        self._finalizer = weakref.finalize(self, _shutdown, self._process, self._errors)
        self._lines = queue.Queue()
        threading.Thread(
            target=_read_lines, args=(self._process.stdout, self._lines),
            name=f"{self.kind}-server-reader", daemon=True,
        ).start()
        try:
            ready = self._reply(STARTUP_TIMEOUT, "start")
        except BaseException:
            self.stop()
            raise
        self._port = int(ready["port"])
        if self.name is not None:
            _NAMED[(self.kind, self.name)] = self
        return self

    def stop(self) -> None:
        """Stop the server; afterwards nothing listens on its port. Safe to call twice."""
        if self._finalizer is not None:
            self._finalizer()  # runs _shutdown once
        self._process = None

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on (127.0.0.1)."""
        if self._port is None:
            raise ServerError("the server has not been started: call start() or use `with`")
        return self._port

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    def __repr__(self) -> str:
        state = f"{self.endpoint_url}, running" if self.running else "stopped"
        return f"<{type(self).__name__} {state}>"

    # -- network conditions --------------------------------------------------

    @property
    def network(self) -> Network:
        """The latency, jitter and bandwidth cap the server applies (see :class:`Network`)."""
        return self._network

    def set_network(self, **changes: Any) -> Network:
        """Change some network conditions: ``latency_ms``, ``jitter_ms``, ``bandwidth_mbps``.

        Settings not named stay as they are (``bandwidth_mbps=None`` removes
        the cap). A running server applies them to the requests that arrive
        from now on; a stopped one when it starts. Returns the new :attr:`network`.
        """
        network = self._network.replace(**changes)
        if self.running:
            reply = self._call("network", **network.as_dict())
            network = Network(**reply["network"])
        self._network = network
        return network

    @contextlib.contextmanager
    def conditions(self, **changes: Any) -> Iterator[Network]:
        """``with server.conditions(latency_ms=80):``: other network conditions for a block.

        Takes the same settings as :meth:`set_network`; when the block ends
        (also when it raises) the conditions before it are back.
        """
        before = self._network
        try:
            yield self.set_network(**changes)
        finally:
            if self.running:
                self.set_network(**before.as_dict())
            else:
                self._network = before

    # -- talking to the child ------------------------------------------------

    def _child_errors(self) -> str:
        if self._errors is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._errors.seek(0)
            text = self._errors.read().decode(errors="replace").strip()
            return text[-2000:]
        return ""

    def _reply(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            if self._finalizer is not None:
                self._finalizer()  # a late answer would be taken for the next one: stop it
            raise ServerError(
                f"the {self.kind} server did not answer {what!r} within {timeout:.0f} s and was stopped"
            ) from None
        if line is None:
            details = self._child_errors()
            raise ServerError(
                f"the {self.kind} server stopped unexpectedly"
                + (f":\n{details}" if details else "")
            )
        reply = json.loads(line)
        if "error" in reply:
            raise ServerError(f"the {self.kind} server could not {what}: {reply['error']}")
        return reply

    def _call(self, op: str, timeout: float = COMMAND_TIMEOUT, **arguments: Any) -> dict[str, Any]:
        """Send one command to the child and return its answer."""
        if not self.running:
            raise ServerError(f"the {self.kind} server is not running: call start() or use `with`")
        with self._lock:
            try:
                self._process.stdin.write(json.dumps({"op": op, **arguments}).encode() + b"\n")
                self._process.stdin.flush()
            except (OSError, ValueError):
                raise ServerError(f"the {self.kind} server stopped unexpectedly") from None
            return self._reply(timeout, op)

    # -- counting ------------------------------------------------------------

    def _cost(self, op: str, seconds: float | None = None, **arguments: Any) -> Cost:
        reply = self._call(op, quiet=QUIET_TIMEOUT, **arguments)
        cost = Cost()
        cost._finish(
            (Request(**r) for r in reply["requests"]),
            seconds,
            bool(reply["complete"]) and bool(reply["quiet"]),
        )
        return cost

    def stats(self) -> Cost:
        """Everything served since the start (or the last :meth:`reset_stats`)."""
        return self._cost("stats")

    def reset_stats(self) -> None:
        """Forget the requests served so far."""
        self._call("reset", quiet=QUIET_TIMEOUT)

    def requests_since(self, seq: int) -> list[Request]:
        """The requests logged after the one numbered ``seq`` (0: all), as they are now, without waiting.

        Each :class:`Request` has its ``seq``: pass the largest seen to get
        only newer ones next time (``course-utils serve`` prints them this way).
        """
        return [Request(**record) for record in self._call("since", seq=seq, quiet=0)["requests"]]

    @contextlib.contextmanager
    def measure(self) -> Iterator[Cost]:
        """``with server.measure() as cost:``: what the block cost, once it ends.

        ``cost.requests``, ``cost.bytes`` (downloaded), ``cost.bytes_uploaded``
        (uploaded), ``cost.seconds`` and ``cost.log`` are filled in when the
        block ends (also when it raises). Measurements may be nested; requests
        from other clients during the block (e.g. another notebook) count too.
        """
        mark = int(self._call("mark", quiet=QUIET_TIMEOUT)["seq"])
        cost = Cost()
        start = time.perf_counter()
        try:
            yield cost
        finally:
            seconds = time.perf_counter() - start
            if self.running:
                measured = self._cost("since", seconds, seq=mark)
                cost._finish(measured.log, seconds, measured.complete)
            else:  # the server died in the block: say so rather than guess
                cost._finish((), seconds, False)
