"""Neuroglancer in the notebook: its server, its state, and the frame that shows it.

The ``neuroglancer`` package bundles the whole web client; its Python server
(a thread of the kernel, on 127.0.0.1) hands it to the browser. The data is
not on that server: the client, running in the browser, fetches the
OME-Zarr straight from its URL, like any web viewer of OME-Zarr.

:class:`NeuroglancerServer` starts and stops that server and gives two
viewer pages: one for students (all of Neuroglancer's controls) and a bare
one with no controls, so that a headless browser's panel is exactly its
window. What the page shows is the *state* in the URL's fragment
(``#!{json}``): :func:`image_state` builds it for one or more images, side by
side, at a given :class:`~course_utils.viewer.levels.View`.
:func:`frame_html` puts a page into the notebook as a frame; on a route
whose URLs the browser must complete (jupyter-server-proxy) a few lines of
script do that.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from course_utils.viewer.levels import View
from course_utils.viewer.routes import BROWSER_ORIGIN, Route, detect_route

__all__ = ["Layer", "NeuroglancerServer", "frame_html", "image_state", "show", "state_url"]

#: Characters left unescaped in the state fragment (what Neuroglancer's own Python writes).
_SAFE = "~@#$&()*!+=:;,.?/'"


@dataclass(frozen=True)
class Layer:
    """An image layer: its name, the data's URL, the display range of its values, which channel."""

    name: str
    url: str
    range: tuple[float, float] | None = None
    channel: int | None = None
    zarr_version: int | None = None

    def source(self) -> str:
        """Neuroglancer's data source string: ``zarr://`` (or ``zarr2://``, ``zarr3://``) and the URL."""
        return f"zarr{self.zarr_version or ''}://{self.url}"

    def as_state(self) -> dict[str, Any]:
        layer: dict[str, Any] = {"type": "image", "source": self.source(), "name": self.name}
        if self.range is not None:
            layer["shaderControls"] = {"normalized": {"range": [float(v) for v in self.range]}}
        if self.channel is not None:  # Neuroglancer names a channel axis c'
            layer["localDimensions"] = {"c'": [1, ""]}
            layer["localPosition"] = [self.channel]
        return layer


def image_state(
    layers: Sequence[Layer],
    *,
    voxel_size_m: Mapping[str, float],
    view: View | None = None,
    origin: tuple[float, float] = (0.0, 0.0),
    position: Mapping[str, float] | None = None,
    side_by_side: bool = False,
    decorations: bool = True,
) -> dict[str, Any]:
    """A Neuroglancer state showing ``layers`` in one x-y panel (or one each, ``side_by_side``).

    ``voxel_size_m`` gives the global coordinate space: the size in metres
    of one unit along each spatial axis (``{"x": 5e-7, "y": 5e-7}``), level
    0's voxel size, so that zoom is in level-0 pixels. ``view`` sets the
    centre (y, x, level-0 pixels, with ``origin`` the image's own translation
    in level-0 pixels) and zoom; ``position`` sets other axes (``{"z": 24}``).
    ``decorations=False`` hides the axis lines, scale bar and bounding box:
    a panel then shows nothing but the data.
    """
    dimensions = {axis: [size, "m"] for axis, size in voxel_size_m.items()}
    state: dict[str, Any] = {
        "dimensions": dimensions,
        "displayDimensions": [axis for axis in ("x", "y", "z") if axis in dimensions],
        "layers": [layer.as_state() for layer in layers],
        "layout": "xy",
    }
    if view is not None or position:
        # Neuroglancer's coordinate of a pixel's lower edge is its index - 1/2 (OME-Zarr's
        # coordinates name pixel centres), plus the image's translation.
        coordinates = dict(position or {})
        if view is not None:
            coordinates["y"] = view.center[0] + origin[0] - 0.5
            coordinates["x"] = view.center[1] + origin[1] - 0.5
        state["position"] = [float(coordinates.get(axis, 0.0)) for axis in dimensions]
    if view is not None:
        state["crossSectionScale"] = float(view.zoom)
    if side_by_side and len(layers) > 1:
        state["layout"] = {
            "type": "row",
            "children": [{"type": "viewer", "layers": [layer.name], "layout": "xy"} for layer in layers],
        }
    if not decorations:
        state.update(showAxisLines=False, showScaleBar=False, showDefaultAnnotations=False)
    return state


def state_url(base: str, state: Mapping[str, Any]) -> str:
    """``base`` (a viewer page) with ``state`` in its fragment."""
    return f"{base}#!{quote(json.dumps(state, separators=(',', ':')), safe=_SAFE)}"


def frame_html(base: str, state: Mapping[str, Any], *, height: int = 420) -> str:
    """HTML for a frame showing viewer page ``base`` with ``state``.

    Where a URL holds :data:`BROWSER_ORIGIN` (the jupyter-server-proxy
    route) a short script puts in the page's origin before it sets the
    frame's address; otherwise the address is plain HTML.
    """
    frame_id = f"ng-{secrets.token_hex(4)}"
    style = f'style="width:100%;height:{int(height)}px;border:1px solid #ccc"'
    text = json.dumps(state, separators=(",", ":"))
    if BROWSER_ORIGIN not in base and BROWSER_ORIGIN not in text:
        return f'<iframe id="{frame_id}" src="{html.escape(state_url(base, state))}" {style}></iframe>'
    return (
        f'<iframe id="{frame_id}" {style}></iframe>\n<script>\n(() => {{\n'
        f"  const fill = (text) => text.split({json.dumps(BROWSER_ORIGIN)}).join(window.location.origin);\n"
        f"  const state = fill({json.dumps(text)});\n"
        f"  document.getElementById({json.dumps(frame_id)}).src =\n"
        f"    fill({json.dumps(base)}) + '#!' + encodeURIComponent(state);\n"
        "})();\n</script>"
    )


class NeuroglancerServer:
    """Neuroglancer's Python server, started on 127.0.0.1, and two viewer pages on it.

    ``route`` (default: :func:`~course_utils.viewer.routes.detect_route`)
    decides the addresses the student's browser gets (:meth:`page`);
    :meth:`local_page` is the address on this machine, for a headless
    browser. Starting it again reuses the running server; :meth:`stop`
    stops it (also every other viewer of the ``neuroglancer`` package in
    this kernel: there is one server per process).
    """

    def __init__(self, route: Route | None = None) -> None:
        self.route = route or detect_route()
        self._viewers: dict[str, Any] = {}

    def start(self) -> NeuroglancerServer:
        import neuroglancer

        neuroglancer.set_server_bind_address("127.0.0.1")
        neuroglancer.server.start()
        self._viewers = {"student": neuroglancer.UnsynchronizedViewer(),
                         "bare": neuroglancer.UnsynchronizedViewer()}
        with self._viewers["bare"].config_state.txn() as config:
            config.show_ui_controls = False
            config.show_panel_borders = False
        return self

    @property
    def running(self) -> bool:
        import neuroglancer.server

        return neuroglancer.server.global_server is not None and bool(self._viewers)

    @property
    def port(self) -> int:
        """The port the server listens on (127.0.0.1)."""
        import neuroglancer.server

        if not self.running:
            raise RuntimeError("Neuroglancer's server is not running: call start()")
        return int(neuroglancer.server.global_server.port)

    def _path(self, kind: str) -> str:
        return f"v/{self._viewers[kind].token}/"

    def page(self, *, bare: bool = False) -> str:
        """The viewer page's address for the student's browser (see :class:`Route`)."""
        return self.route.url(self.port, self._path("bare" if bare else "student"))

    def local_page(self, *, bare: bool = True) -> str:
        """The viewer page's address on this machine (``http://127.0.0.1:<port>/...``)."""
        return f"http://127.0.0.1:{self.port}/{self._path('bare' if bare else 'student')}"

    def stop(self) -> None:
        """Stop the server; safe to call twice."""
        import neuroglancer

        self._viewers = {}
        neuroglancer.stop()

    def __enter__(self) -> NeuroglancerServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def show(server: NeuroglancerServer, state: Mapping[str, Any], *, height: int = 420) -> None:
    """Show ``state`` in a frame in the notebook, or say in one line why the viewer cannot be shown here."""
    from IPython.display import display

    if not server.route.available:
        print(server.route.describe())
        return
    # Raw HTML: IPython's HTML object warns (on stderr) about any <iframe> in it.
    display({"text/html": frame_html(server.page(), state, height=height)}, raw=True)
