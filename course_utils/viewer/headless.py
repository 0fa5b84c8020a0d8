"""A headless Chromium that opens viewer pages, for when no one is looking.

A notebook run by nbclient (CI, grading), or by a student who never scrolls
to the viewer, has no browser drawing it, so the data server sees no
requests. Where Playwright and a Chromium are installed (the course's test
environment has both), :class:`HeadlessBrowser` opens the viewer in a
headless Chromium instead, waits until Neuroglancer has drawn every visible
chunk, or given up, and reports what happened: whether the panel shows an
image, what the browser's console said, how long it took. Elsewhere
:func:`find_browser` says why not, in one line.

Playwright's synchronous API refuses to run inside an asyncio event loop,
which is where a Jupyter kernel runs cells, so every call is handed to a
thread of its own. WebGL comes from SwiftShader, Chromium's software
renderer (``--enable-unsafe-swiftshader``), so no GPU is needed.
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import shutil
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CHROMIUM_VARIABLE", "WEBGL_ARGS", "HeadlessBrowser", "Rendering", "Tab", "find_browser", "save_screenshot"]

CHROMIUM_VARIABLE = "COURSE_CHROMIUM"
"""Environment variable naming the Chromium executable to use."""

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Where Chromium is looked for when ``COURSE_CHROMIUM`` is not set (Debian's package first)."""

WEBGL_ARGS = (
    "--headless", "--no-sandbox", "--no-first-run", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # WebGL 2 without a GPU: Chromium's software renderer.
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
)
"""Chromium's command-line switches for drawing WebGL headless, with nothing fetched from outside."""

#: Seconds to wait for a view to finish (all visible chunks drawn) or fail.
VIEW_TIMEOUT = 30.0
#: A view has settled when nothing changed for this long (seconds).
SETTLE_SECONDS = 0.4
#: Standard deviation of the panel's grey values above which it "shows an image".
DRAWN_THRESHOLD = 2.0

# Console lines that are not about the page (SwiftShader's performance notes).
_NOISE = ("GL Driver Message", "GPU stall due to ReadPixels", "WebGL-")

_STATUS_JS = """() => {
  const v = window.viewer;
  if (v === undefined) return {loaded: false};
  const layers = v.layerManager.managedLayers.map(m => {
    const sources = m.layer ? m.layer.dataSources : [];
    return sources.map(d => d.loadState === undefined ? 'loading'
                         : (d.loadState.error ? 'error: ' + d.loadState.error.message : 'loaded'));
  }).flat();
  return {loaded: true, ready: v.isReady(), sources: layers};
}"""

_RUNNING: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def find_browser() -> tuple[str | None, str]:
    """(Chromium executable or None, one line saying what was found or why not)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return None, "Playwright is not installed here (it comes with the course's test extra)"
    wanted = os.environ.get(CHROMIUM_VARIABLE, "").strip()
    for candidate in ([wanted] if wanted else CANDIDATES):
        path = shutil.which(candidate) or (candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else None)
        if path:
            return path, f"headless Chromium: {path}"
    looked = wanted or ", ".join(CANDIDATES)
    return None, f"no Chromium found (looked for {looked}; set {CHROMIUM_VARIABLE} to one)"


@dataclass
class Rendering:
    """What a headless browser saw when it opened one view.

    ``drawn``: the panel shows an image (its grey values vary);
    ``ready``: Neuroglancer said every visible chunk was drawn;
    ``errors``: the data sources' error messages, as Neuroglancer shows them;
    ``console``: what the page wrote to the browser's console (errors and
    warnings); ``seconds``: from opening the page until it settled (nothing
    changed for :data:`SETTLE_SECONDS`); ``finished_after``: from opening
    the page until Neuroglancer first reported every visible chunk drawn, or
    every source failed (None if neither happened); ``screenshot``: the page
    as PNG bytes.
    """

    drawn: bool
    ready: bool
    seconds: float
    finished_after: float | None = None
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    spread: float = 0.0

    def image(self) -> np.ndarray:
        """The screenshot as an (h, w, 3 or 4) array of floats in [0, 1]."""
        import matplotlib.image

        return matplotlib.image.imread(io.BytesIO(self.screenshot), format="png")

    def summary(self) -> str:
        """One line: drawn or not, how long, and the first data-source error."""
        what = "image drawn" if self.drawn else "nothing drawn"
        state = "all visible chunks loaded" if self.ready else "not finished"
        seconds = self.finished_after if self.finished_after is not None else self.seconds
        text = f"{what}, {state}, after {seconds:.1f} s"
        return text + (f"; Neuroglancer says: {self.errors[0]}" if self.errors else "")


def _spread(png: bytes, crop: float = 0.25) -> float:
    """Standard deviation of the grey values in the centre of a screenshot (borders and controls left out)."""
    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3].mean(axis=-1) * 255
    h, w = pixels.shape
    inner = pixels[int(h * crop):int(h * (1 - crop)), int(w * crop):int(w * (1 - crop))]
    return float(inner.std())


class Tab:
    """One page of a :class:`HeadlessBrowser`, in a browser context of its own (its own cache)."""

    def __init__(self, browser: HeadlessBrowser, width: int, height: int):
        self._browser = browser
        self.width, self.height = width, height
        self._console: list[str] = []
        self._context, self._page = browser._call(self._open)

    def _open(self, playwright_browser) -> tuple[Any, Any]:
        context = playwright_browser.new_context(viewport={"width": self.width, "height": self.height},
                                                 device_scale_factor=1)
        page = context.new_page()
        page.on("console", self._on_console)
        return context, page

    def _on_console(self, message) -> None:
        if message.type in ("error", "warning") and not any(n in message.text for n in _NOISE):
            self._console.append(message.text)

    def show(self, url: str, *, timeout: float = VIEW_TIMEOUT, settle: Callable[[], bool] | None = None) -> Rendering:
        """Go to ``url`` and wait until the view has settled: drawn, failed, or ``timeout``.

        A URL that differs from the page's only in its fragment (a new state
        for the same viewer) updates the running viewer, as a user's
        zoom or pan does: what it already loaded stays loaded.
        """
        return self._browser._call(lambda _: self._show(url, timeout))

    def _show(self, url: str, timeout: float) -> Rendering:
        page = self._page
        self._console.clear()
        start = time.perf_counter()
        same_document = page.url.split("#")[0] == url.split("#")[0] and page.url != "about:blank"
        if same_document:
            page.evaluate("fragment => { window.location.hash = fragment; }", url.split("#", 1)[1])
        else:
            page.goto(url)
        page.mouse.move(self.width - 1, self.height - 1)  # off the panel's controls
        deadline = start + timeout
        stable_since, last, finished_after = None, None, None
        status: dict[str, Any] = {}
        time.sleep(0.15)  # let a new state reach the viewer before asking it
        while time.perf_counter() < deadline:
            status = page.evaluate(_STATUS_JS)
            finished = status.get("loaded") and (
                status.get("ready")
                or (status.get("sources") and all(s.startswith("error") for s in status["sources"]))
            )
            key = (bool(finished), tuple(status.get("sources", ())))
            if finished and finished_after is None:
                finished_after = time.perf_counter() - start
            if finished and key == last:
                if time.perf_counter() - stable_since >= SETTLE_SECONDS:
                    break
            else:
                stable_since, last = time.perf_counter(), key
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        png = page.screenshot()
        spread = _spread(png)
        errors = [s[len("error: "):] for s in status.get("sources", []) if s.startswith("error")]
        return Rendering(drawn=spread > DRAWN_THRESHOLD, ready=bool(status.get("ready")), seconds=seconds,
                         finished_after=finished_after, errors=errors, console=list(self._console),
                         screenshot=png, spread=spread)

    def resize(self, width: int, height: int) -> None:
        """Give the page a new size (the viewer's panel follows it)."""
        self.width, self.height = width, height
        self._browser._call(lambda _: self._page.set_viewport_size({"width": width, "height": height}))

    def evaluate(self, script: str, argument: Any = None) -> Any:
        """Run ``script`` (a JavaScript function) in the page and return its result."""
        return self._browser._call(lambda _: self._page.evaluate(script, argument))

    def call(self, function: Callable[[Any], Any]) -> Any:
        """``function(page)`` with the Playwright page, on the browser's thread (Playwright's rule)."""
        return self._browser._call(lambda _: function(self._page))

    def close(self) -> None:
        """Close the page and its context."""
        if self._context is not None:
            context, self._context = self._context, None
            self._browser._call(lambda _: context.close())


class HeadlessBrowser:
    """Chromium without a window, driven by Playwright from a thread of its own.

    ``with HeadlessBrowser() as browser: tab = browser.tab(800, 600);
    rendering = tab.show(url)``. Raises ``RuntimeError`` when
    :func:`find_browser` finds none. Starting a browser stops the one this
    process started before (a notebook cell run twice leaves one behind
    otherwise); :meth:`stop` closes it, and its processes end with it.
    """

    def __init__(self, executable: str | None = None) -> None:
        self.executable = executable
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._playwright = None
        self._browser = None

    def start(self) -> HeadlessBrowser:
        previous = _RUNNING.pop("browser", None)
        if previous is not None:
            previous.stop()
        executable = self.executable
        if executable is None:
            executable, reason = find_browser()
            if executable is None:
                raise RuntimeError(reason)
        self.executable = executable
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="headless-chromium")

        def launch(_):
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, args=list(WEBGL_ARGS), headless=True
            )

        try:
            self._call(launch, started=False)
        except BaseException:
            self.stop()
            raise
        _RUNNING["browser"] = self
        return self

    def _call(self, function: Callable[[Any], Any], *, started: bool = True) -> Any:
        if self._pool is None or (started and self._browser is None):
            raise RuntimeError("the headless browser is not running: call start()")
        return self._pool.submit(lambda: function(self._browser)).result()

    def tab(self, width: int, height: int) -> Tab:
        """A new page of ``width`` x ``height`` CSS pixels (one device pixel each)."""
        return Tab(self, width, height)

    def stop(self) -> None:
        """Close the browser and Playwright; safe to call twice."""
        pool, self._pool = self._pool, None
        if pool is None:
            return

        def close():
            try:
                if self._browser is not None:
                    self._browser.close()
            finally:
                self._browser = None
                if self._playwright is not None:
                    self._playwright.stop()
                    self._playwright = None

        try:
            pool.submit(close).result(timeout=60)
        finally:
            pool.shutdown(wait=True)

    def mixed_content(self, page: str = "https://viewer.example/", data: tuple[str, ...] = (
        "http://data.example/image.zarr/.zattrs", "https://data.example/image.zarr/.zattrs",
    )) -> list[dict[str, Any]]:
        """Fetch each of ``data`` from a page at ``page``, and say what happened.

        Nothing leaves the machine: Playwright answers every request to these
        made-up hosts itself (the page, and each data URL with a small JSON
        document and CORS headers), so a data URL that the page cannot read
        was stopped by the browser. One row per URL: whether the request
        reached the network, what the page got, and the browser's console
        message about it.
        """
        return self._call(lambda browser: _mixed_content(browser, page, data))

    @property
    def running(self) -> bool:
        return self._browser is not None

    def __enter__(self) -> HeadlessBrowser:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __del__(self) -> None:  # a forgotten browser still goes away with its object
        try:
            self.stop()
        except Exception:
            pass


def _mixed_content(browser, page_url: str, data: tuple[str, ...]) -> list[dict[str, Any]]:
    context = browser.new_context()
    reached: list[str] = []
    console: list[str] = []
    try:
        def answer(route) -> None:
            url = route.request.url
            if url.startswith(page_url):
                route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>viewer</title>")
            else:
                reached.append(url)
                route.fulfill(status=200, content_type="application/json", body='{"zarr_format": 2}',
                              headers={"Access-Control-Allow-Origin": "*"})

        context.route("**/*", answer)
        tab = context.new_page()
        tab.on("console", lambda message: console.append(message.text))
        tab.goto(page_url)
        rows = []
        for url in data:
            console.clear()
            outcome = tab.evaluate(
                """async url => { try { const r = await fetch(url); return 'read ' + (await r.text()).length + ' bytes'; }
                                   catch (e) { return 'failed: ' + e.name + ': ' + e.message; } }""", url)
            rows.append({"page": page_url, "data": url, "reached the network": url in reached,
                         "the page got": outcome, "console": " ".join(console)[:300]})
        return rows
    finally:
        context.close()


def save_screenshot(rendering: Rendering, path: str | os.PathLike) -> Path:
    """Write ``rendering``'s screenshot to ``path`` (PNG); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rendering.screenshot)
    return path
