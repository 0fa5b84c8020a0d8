"""How the student's browser reaches a server the notebook's kernel started.

The course's servers (the data server, Neuroglancer's viewer server) listen
on 127.0.0.1 of the machine the kernel runs on. Whether the browser that
shows the notebook can reach them depends on where that is:

- ``local``: JupyterLab (or VS Code, or nbclient) on the student's own
  machine. The browser runs there too and opens ``http://127.0.0.1:<port>/``.
- ``jupyter-server-proxy``: a JupyterHub, Binder among them. The browser is
  elsewhere; the kernel's loopback is not its loopback. The Jupyter server
  forwards ``<its base URL>proxy/<port>/<path>`` to ``127.0.0.1:<port>``
  (the jupyter-server-proxy extension, which the course installs). Those
  URLs have the notebook page's origin, which only the browser knows, so
  they hold :data:`BROWSER_ORIGIN` until the page fills it in.
- ``colab``: Google Colab. Colab's kernel-port proxy gives each port an
  https address (``google.colab.kernel.proxyPort``), as Neuroglancer's own
  Colab support does.
- ``none``: a JupyterHub without jupyter-server-proxy: nothing works, and the
  lesson shows a static rendering instead.

:func:`detect_route` picks one; ``COURSE_VIEWER_ROUTE`` (one of the four
names) overrides it, e.g. for a remote JupyterLab reached through an SSH
tunnel, where the guess "local" is wrong.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BROWSER_ORIGIN", "ROUTE_VARIABLE", "Route", "detect_route"]

ROUTE_VARIABLE = "COURSE_VIEWER_ROUTE"
"""Environment variable that overrides :func:`detect_route`."""

BROWSER_ORIGIN = "{browser-origin}"
"""Stands for the notebook page's origin in a URL only the browser can complete."""

KINDS = ("local", "jupyter-server-proxy", "colab", "none")
_ALIASES = {"proxy": "jupyter-server-proxy", "binder": "jupyter-server-proxy", "jupyterhub": "jupyter-server-proxy"}


@dataclass(frozen=True)
class Route:
    """One way from the student's browser to a port of the kernel's machine.

    ``prefix`` is the Jupyter server's base URL (``/user/<name>/`` on a
    JupyterHub), used by the ``jupyter-server-proxy`` route.
    """

    kind: str
    reason: str
    prefix: str = "/"

    @property
    def available(self) -> bool:
        """False when the browser cannot reach the kernel's servers at all."""
        return self.kind != "none"

    @property
    def completed_in_browser(self) -> bool:
        """True when this route's URLs hold :data:`BROWSER_ORIGIN` for the page to fill in."""
        return self.kind == "jupyter-server-proxy"

    def url(self, port: int, path: str = "") -> str:
        """The address the browser must use for ``path`` on the kernel machine's ``port``.

        For the ``none`` route, the address on the kernel's own machine (no
        browser can use it, but a headless one on that machine can).
        """
        path = path.lstrip("/")
        if self.kind == "local":
            return f"http://127.0.0.1:{port}/{path}"
        if self.kind == "jupyter-server-proxy":
            return f"{BROWSER_ORIGIN}{self.prefix}proxy/{port}/{path}"
        if self.kind == "colab":
            from google.colab.output import eval_js  # only importable inside Colab

            base = eval_js(f"google.colab.kernel.proxyPort({int(port)}, {{'cache': false}})")
            return base.rstrip("/") + "/" + path
        return f"http://127.0.0.1:{port}/{path}"  # "none": the address on the kernel's machine, for the record

    def describe(self) -> str:
        """One line for the notebook: how the viewer reaches the servers here."""
        if self.kind == "local":
            return f"Viewer route: local ({self.reason}); the browser opens http://127.0.0.1:<port>/ directly."
        if self.kind == "jupyter-server-proxy":
            return (f"Viewer route: jupyter-server-proxy ({self.reason}); the browser opens "
                    f"{self.prefix}proxy/<port>/ on this notebook's own server.")
        if self.kind == "colab":
            return f"Viewer route: Colab's kernel-port proxy ({self.reason})."
        return f"No viewer here ({self.reason}): the static rendering stands in for it."


def _normalise_prefix(prefix: str) -> str:
    prefix = "/" + prefix.strip("/") + "/"
    return prefix.replace("//", "/")


def detect_route(environ: Mapping[str, str] | None = None, modules: Mapping | None = None) -> Route:
    """The :class:`Route` for this kernel (see the module docstring), or the one ``COURSE_VIEWER_ROUTE`` names."""
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    prefix = _normalise_prefix(environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"))
    forced = environ.get(ROUTE_VARIABLE, "").strip().lower()
    if forced:
        kind = _ALIASES.get(forced, forced)
        if kind not in KINDS:
            raise ValueError(f"{ROUTE_VARIABLE}={forced!r}: expected one of {', '.join(KINDS)}")
        return Route(kind, f"{ROUTE_VARIABLE}={forced}", prefix)
    if "google.colab" in modules:
        return Route("colab", "running in Google Colab")
    if "JUPYTERHUB_SERVICE_PREFIX" in environ:
        where = "Binder" if any(name.startswith("BINDER_") for name in environ) else "a JupyterHub"
        if importlib.util.find_spec("jupyter_server_proxy") is not None:
            return Route("jupyter-server-proxy", f"running on {where}", prefix)
        return Route("none", f"running on {where} without jupyter-server-proxy", prefix)
    return Route("local", "the browser runs on this machine")
