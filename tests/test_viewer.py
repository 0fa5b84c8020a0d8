"""course_utils.viewer: the viewers lesson's images, routes, viewer state, level rule and headless browser.

The fast tests need nothing but the package. The browser tests open
Neuroglancer in Debian's Chromium through Playwright (the ``chromium``
fixture of ``test_browser.py`` installs it when missing and we are root,
else skips): with CORS the panel shows the course's store and the server's
log shows the levels fetched coarse before fine; without CORS nothing is
drawn and the browser reports the block; the slide's views fetch exactly the
chunks the level rule predicts. Screenshots land in ``test-artifacts/``.
The slow test runs the Binder route for real: JupyterLab with Binder's
student configuration, jupyter-server-proxy, and the frame a notebook cell
shows.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import psutil
import pytest
import zarr

from course_utils import viewer
from course_utils.servers import LocalHTTPServer, LocalS3Server
from course_utils.servers.traffic import Request
from course_utils.validate import validate_ome_zarr
from course_utils.viewer import headless, images, levels, neuroglancer, routes
from test_browser import chromium, lab  # noqa: F401  (fixtures: Debian's Chromium; JupyterLab as on Binder)

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


# --- routes -----------------------------------------------------------------------


def test_the_route_is_local_by_default():
    route = routes.detect_route({}, {})
    assert route.kind == "local" and route.available and not route.completed_in_browser
    assert route.url(8000, "a/b.zarr") == "http://127.0.0.1:8000/a/b.zarr"


def test_colab_gets_colabs_proxy():
    assert routes.detect_route({}, {"google.colab": object()}).kind == "colab"


def test_a_jupyterhub_needs_jupyter_server_proxy(monkeypatch):
    env = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/", "BINDER_LAUNCH_HOST": "https://mybinder.org/"}
    route = routes.detect_route(env, {})
    assert route.kind == "jupyter-server-proxy" and "Binder" in route.reason and route.completed_in_browser
    assert route.url(9000, "/x/zarr.json") == f"{routes.BROWSER_ORIGIN}/user/ada/proxy/9000/x/zarr.json"
    monkeypatch.setattr(routes.importlib.util, "find_spec", lambda name: None)
    route = routes.detect_route({"JUPYTERHUB_SERVICE_PREFIX": "/user/ada"}, {})
    assert route.kind == "none" and not route.available and "without jupyter-server-proxy" in route.reason
    assert "static rendering" in route.describe()


def test_the_route_can_be_forced_and_a_bad_name_is_refused():
    route = routes.detect_route({routes.ROUTE_VARIABLE: "proxy"}, {"google.colab": object()})
    assert route.kind == "jupyter-server-proxy" and route.prefix == "/"
    assert routes.detect_route({routes.ROUTE_VARIABLE: "none"}, {}).kind == "none"
    with pytest.raises(ValueError, match="expected one of"):
        routes.detect_route({routes.ROUTE_VARIABLE: "ssh"}, {})


# --- the viewer's state and frame ------------------------------------------------------


def test_image_state_places_the_view_in_neuroglancers_coordinates():
    view = levels.View(800, 600, center=(100.0, 200.0), zoom=4.0)
    state = neuroglancer.image_state(
        [neuroglancer.Layer("a", "http://h/a.zarr", range=(0, 9), channel=1)],
        voxel_size_m={"x": 5e-7, "y": 5e-7}, view=view, origin=(10.0, 20.0), decorations=False,
    )
    assert state["dimensions"] == {"x": [5e-7, "m"], "y": [5e-7, "m"]}
    assert state["displayDimensions"] == ["x", "y"]
    # Neuroglancer puts a pixel's lower edge at index - 1/2, plus the translation; x comes first here.
    assert state["position"] == [200.0 + 20.0 - 0.5, 100.0 + 10.0 - 0.5]
    assert state["crossSectionScale"] == 4.0 and state["layout"] == "xy"
    assert state["showAxisLines"] is False and state["showScaleBar"] is False
    layer = state["layers"][0]
    assert layer["source"] == "zarr://http://h/a.zarr"
    assert layer["shaderControls"] == {"normalized": {"range": [0.0, 9.0]}}
    assert layer["localPosition"] == [1]


def test_side_by_side_puts_each_layer_in_a_panel_of_its_own():
    layers = [neuroglancer.Layer("0.4", "u1"), neuroglancer.Layer("0.5", "u2", zarr_version=3)]
    state = neuroglancer.image_state(layers, voxel_size_m={"x": 1, "y": 1, "z": 1}, position={"z": 3},
                                     side_by_side=True)
    assert state["position"] == [0.0, 0.0, 3.0]
    assert [child["layers"] for child in state["layout"]["children"]] == [["0.4"], ["0.5"]]
    assert state["layers"][1]["source"] == "zarr3://u2"


def test_state_url_round_trips():
    state = {"layers": [{"source": "zarr://http://127.0.0.1:1/a b.zarr"}], "x": "#!"}
    url = neuroglancer.state_url("http://127.0.0.1:2/v/t/", state)
    base, fragment = url.split("#!", 1)
    assert base == "http://127.0.0.1:2/v/t/" and json.loads(unquote(fragment)) == state


def test_frame_html_is_plain_html_unless_the_browser_must_complete_the_urls():
    plain = neuroglancer.frame_html("http://127.0.0.1:2/v/t/", {"a": 1})
    assert plain.startswith("<iframe") and "<script>" not in plain and "http://127.0.0.1:2/v/t/#!" in plain
    proxied = neuroglancer.frame_html(f"{routes.BROWSER_ORIGIN}/proxy/2/v/t/",
                                      {"src": f"zarr://{routes.BROWSER_ORIGIN}/proxy/3/a.zarr"})
    assert "<script>" in proxied and "window.location.origin" in proxied
    assert 'src="' not in proxied  # the script sets it


def test_show_says_so_in_one_line_where_no_browser_can_reach_the_kernel(capsys):
    server = neuroglancer.NeuroglancerServer(routes.Route("none", "a hub without the proxy"))
    neuroglancer.show(server, {"layers": []})
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "static rendering" in out


# --- the level rule -------------------------------------------------------------------


def _pyramid(n=6, size=8192, chunk=512):
    return [levels.Level(k, str(k), (size >> k,) * 2, (min(chunk, size >> k),) * 2, float(2**k)) for k in range(n)]


@pytest.mark.parametrize("zoom", [0.3, 0.9, 1.0, 1.3, 1.4, 2.0, 2.8, 3.0, 5.5, 7.3, 12.8, 13.65, 20.0, 29.0, 40.0, 500.0])
def test_the_matching_level_is_the_one_closest_to_one_point_one_screen_pixels(zoom):
    pyramid = _pyramid()
    drawn = levels.visible_levels(pyramid, zoom)
    closest = min(range(6), key=lambda k: abs(2**k - 1.1 * zoom))
    assert drawn[-1] == closest == levels.matching_level(pyramid, zoom)
    assert drawn == list(range(5, closest - 1, -1)), "every coarser level is drawn first, coarsest first"


def test_chunks_in_view_counts_partly_covered_chunks_and_stops_at_the_edges():
    level = _pyramid()[2]  # chunks of 2048 level-0 pixels
    view = levels.View(1000, 800, center=(5200, 2700), zoom=3.0)  # x 1200..4200, y 4000..6400
    assert levels.chunks_in_view(level, view) == [(r, c) for r in (1, 2, 3) for c in (0, 1, 2)]
    corner = levels.View(100, 100, center=(0, 0), zoom=1.0)
    assert levels.chunks_in_view(_pyramid()[0], corner) == [(0, 0)]
    whole = levels.View.whole((8192, 8192), 800, 600)
    assert whole.zoom == pytest.approx(8192 / 600) and whole.center == (4096, 4096)
    assert len(levels.chunks_in_view(_pyramid()[1], whole)) == 64


def test_fetched_by_level_sorts_a_log_by_level():
    def request(path, downloaded, method="GET", status=200):
        return Request(seq=0, method=method, path=path, query="", status=status, downloaded=downloaded, uploaded=0,
                       started=0.0, seconds=0.0)

    log = [request("/img.zarr/.zattrs", 10), request("/img.zarr/zarr.json", 5, status=404),
           request("/img.zarr/2/0/0", 100), request("/img.zarr/0/3/4", 1000), request("/img.zarr/0/3/5", 900),
           request("/img.zarr/1/c/0/0", 0, method="HEAD"), request("/other.zarr/0/0/0", 7),
           request("/img.zarr/0/.zarray", 20), request("/img.zarr/notes.txt", 3)]
    rows = {row["level"]: row for row in levels.fetched_by_level(log, "img.zarr", _pyramid(3))}
    assert rows[0] == {"level": 0, "requests": 2, "bytes": 1900}
    assert rows[1] == {"level": 1, "requests": 1, "bytes": 0}
    assert rows[2] == {"level": 2, "requests": 1, "bytes": 100}
    assert rows["metadata"] == {"level": "metadata", "requests": 3, "bytes": 35}
    assert rows["other"] == {"level": "other", "requests": 1, "bytes": 3}


# --- the images -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_slide(tmp_path_factory):
    return images.write_slide(tmp_path_factory.mktemp("slide") / "small.ome.zarr", size=1024, n_levels=3, seed=7)


def test_the_slide_is_valid_ome_zarr_whose_levels_are_two_by_two_means(small_slide):
    assert validate_ome_zarr(small_slide) == "0.4"
    group = zarr.open_group(str(small_slide), mode="r")
    fine, coarse = group["0"][:], group["1"][:]
    assert fine.dtype == np.uint8 and fine.shape == (1024, 1024) and group["2"].shape == (256, 256)
    means = fine.reshape(512, 2, 512, 2).astype(np.uint32).sum(axis=(1, 3))
    assert np.array_equal(coarse, ((means + 2) // 4).astype(np.uint8))
    assert fine.std() > 10, "nuclei and tissue, not a flat image"
    assert (fine == fine.min()).mean() > 0.2, "a dark background around the tissue"


def test_the_slide_is_the_same_every_time(small_slide, tmp_path):
    again = images.write_slide(tmp_path / "again.ome.zarr", size=1024, n_levels=3, seed=7)
    for name in ("0", "1", "2"):
        assert np.array_equal(zarr.open_array(str(small_slide / name))[:], zarr.open_array(str(again / name))[:])


def test_read_levels_voxel_sizes_and_predicted_bytes(small_slide):
    found = levels.read_levels(small_slide)
    assert [(lv.path, lv.shape, lv.chunks, lv.factor, lv.offset) for lv in found] == [
        ("0", (1024, 1024), (512, 512), 1.0, (0.0, 0.0)),
        ("1", (512, 512), (512, 512), 2.0, (0.0, 0.0)),
        ("2", (256, 256), (256, 256), 4.0, (0.0, 0.0)),
    ]
    assert levels.voxel_sizes(small_slide) == {"x": pytest.approx(5e-7), "y": pytest.approx(5e-7)}
    rows = levels.predict(found, levels.View(100, 100, center=(256, 256), zoom=1.0), small_slide)
    assert [(r["level"], r["chunks"]) for r in rows] == [(2, 1), (1, 1), (0, 1)]
    assert rows[-1]["bytes"] == (small_slide / "0" / "0" / "0").stat().st_size


def test_the_sharded_copy_is_ome_zarr_05_with_the_same_pixels(small_slide, tmp_path):
    copy = images.sharded_copy(small_slide, tmp_path / "copy.ome.zarr")
    assert validate_ome_zarr(copy) == "0.5"
    meta = json.loads((copy / "0" / "zarr.json").read_text())
    assert meta["codecs"][0]["name"] == "sharding_indexed"
    assert [(lv.shape, lv.chunks) for lv in levels.read_levels(copy)] == [
        (lv.shape, lv.chunks) for lv in levels.read_levels(small_slide)]
    assert np.array_equal(zarr.open_array(str(copy / "1"))[:], zarr.open_array(str(small_slide / "1"))[:])
    assert len([p for p in (copy / "0").rglob("*") if p.is_file()]) == 2  # zarr.json and one shard


# --- CORS ------------------------------------------------------------------------------


def test_the_http_server_sends_cors_on_every_answer_unless_told_not_to(small_slide):
    origin = "http://127.0.0.1:1"
    with LocalHTTPServer(small_slide) as on, LocalHTTPServer(small_slide, cors=False) as off:
        found = viewer.cors_headers("GET", on.url("zarr.json"), origin)
        assert found["status"] == 404 and found["Access-Control-Allow-Origin"] == "*"
        ranged = viewer.cors_headers("GET", on.url("0/0/0"), origin, {"Range": "bytes=0-9"})
        assert ranged["status"] == 206 and "Content-Range" in ranged["Access-Control-Expose-Headers"]
        assert viewer.cors_headers("GET", off.url(".zattrs"), origin)["Access-Control-Allow-Origin"] == "—"


def test_the_local_s3_server_like_s3_adds_cors_only_by_a_bucket_rule(small_slide):
    origin = "http://127.0.0.1:1"
    s3 = viewer.start_like_s3(LocalS3Server("course", public_buckets=["images"]))
    try:
        s3.upload(small_slide, prefix="s.zarr", bucket="images")
        url = f"{s3.endpoint_url}/images/s.zarr/.zattrs"
        assert viewer.cors_headers("GET", url, origin)["Access-Control-Allow-Origin"] == "—"
        import boto3

        client = boto3.client("s3", endpoint_url=s3.endpoint_url, region_name="us-east-1",
                              aws_access_key_id=s3.storage_options["key"],
                              aws_secret_access_key=s3.storage_options["secret"])
        client.put_bucket_cors(Bucket="images", CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["ETag"]}]})
        assert viewer.cors_headers("GET", url, origin)["Access-Control-Allow-Origin"] == origin
    finally:
        s3.stop()
    assert "MOTO_DISABLE_GLOBAL_CORS" not in __import__("os").environ


# --- headless Chromium -------------------------------------------------------------------


def test_find_browser_says_why_not(monkeypatch):
    monkeypatch.setenv(headless.CHROMIUM_VARIABLE, "/nowhere/chromium")
    path, why = headless.find_browser()
    assert path is None and "/nowhere/chromium" in why


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The lesson's images, written into a data cache of this module's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_DATA_DIR", str(tmp_path_factory.mktemp("viewer-data")))
        yield viewer.viewer_site()


@pytest.fixture(scope="module")
def served(site, chromium):  # noqa: F811
    """A data server with CORS, one without, Neuroglancer's server and a headless Chromium."""
    with LocalHTTPServer(site.root) as web, LocalHTTPServer(site.root, cors=False) as plain, \
            viewer.NeuroglancerServer(viewer.Route("local", "test")) as ng, \
            viewer.HeadlessBrowser(str(chromium)) as browser:
        yield {"web": web, "plain": plain, "ng": ng, "browser": browser, "site": site}


def _serial(state):
    """``state`` with one download at a time: requests then reach the server in Neuroglancer's order."""
    return {**state, "concurrentDownloads": 1}


def _idr_state(served, server, *paths):
    site = served["site"]
    layers = [viewer.Layer(p, server.url(p), range=(6000, 15000), channel=1) for p in paths]
    view = levels.View.whole(levels.read_levels(site.store("idr"))[0].shape, 400, 400)
    return _serial(viewer.image_state(layers, voxel_size_m=viewer.voxel_sizes(site.store("idr")), view=view,
                                      position={"z": 24}, side_by_side=len(layers) > 1, decorations=False))


def _save(rendering, name):
    path = headless.save_screenshot(rendering, ARTIFACTS / f"viewer-{name}.png")
    (ARTIFACTS / f"viewer-{name}-FAILED.png").unlink(missing_ok=True)
    return path


def _first_request_order(log, prefix, pyramid):
    order = []
    for request in log:
        for level in pyramid:
            if request.path.startswith(f"/{prefix}/{level.path}/") and not request.path.endswith(
                    (".zarray", ".zattrs", "zarr.json")) and level.index not in order:
                order.append(level.index)
    return order


def test_neuroglancer_draws_the_course_store_with_cors_coarse_levels_first(served):
    site, web, ng = served["site"], served["web"], served["ng"]
    tab = served["browser"].tab(800, 400)
    try:
        with web.measure() as cost:
            shown = tab.show(viewer.state_url(ng.local_page(), _idr_state(served, web, site.idr, site.idr_sharded)))
        _save(shown, "idr-cors")
        assert shown.drawn and shown.ready and not shown.errors, shown.summary()
        image = shown.image()[100:300, 100:700, :3].mean(axis=-1)
        assert image.std() * 255 > 5, "the panels show an image, not a flat colour"
        pyramid = levels.read_levels(site.store("idr"))
        assert _first_request_order(cost.log, site.idr, pyramid) == [2, 1, 0]
        assert _first_request_order(cost.log, site.idr_sharded, pyramid) == [2, 1, 0]
        sharded = [r for r in cost.log if r.path.startswith(f"/{site.idr_sharded}/0/c/")]  # level 0's shard
        assert sorted((r.method, r.status) for r in sharded) == [("GET", 206), ("GET", 206), ("HEAD", 200)]
    finally:
        tab.close()


def test_without_cors_nothing_is_drawn_and_the_browser_reports_the_block(served):
    site, plain, ng = served["site"], served["plain"], served["ng"]
    tab = served["browser"].tab(800, 400)
    try:
        with plain.measure() as cost:
            shown = tab.show(viewer.state_url(ng.local_page(), _idr_state(served, plain, site.idr)))
        _save(shown, "idr-no-cors")
        assert not shown.drawn and not shown.ready, shown.summary()
        assert shown.errors == ["No zarr metadata found"]
        assert any("blocked by CORS policy" in line and "Access-Control-Allow-Origin" in line for line in shown.console)
        assert cost.requests >= 2, "the server did answer (its log may miss one answer the browser refused)"
    finally:
        tab.close()


@pytest.mark.parametrize("name, view", [
    ("whole", levels.View.whole((8192, 8192), 800, 600)),
    ("close-up", levels.View(800, 600, center=(5120, 3072), zoom=1.0)),
    ("exercise", None),
])
def test_a_view_of_the_slide_fetches_what_the_level_rule_predicts(served, name, view):
    from course_utils.checks import web_viewers

    view = view or web_viewers.ZOOM_VIEW
    site, web, ng = served["site"], served["web"], served["ng"]
    pyramid = levels.read_levels(site.store("slide"))
    tab = served["browser"].tab(view.width, view.height)  # a new page: nothing cached
    try:
        state = _serial(viewer.image_state([viewer.Layer("slide", web.url(site.slide), range=(0, 200))],
                                           voxel_size_m=viewer.voxel_sizes(site.store("slide")), view=view,
                                           decorations=False))
        with web.measure() as cost:
            shown = tab.show(viewer.state_url(ng.local_page(), state))
        _save(shown, f"slide-{name}")
        assert shown.drawn and shown.ready, shown.summary()
        predicted = {row["level"]: row for row in levels.predict(pyramid, view, site.store("slide"))}
        fetched = {row["level"]: row for row in levels.fetched_by_level(cost.log, site.slide, pyramid)}
        for level in pyramid:
            expected = predicted.get(level.index, {"chunks": 0, "bytes": 0})
            assert (fetched[level.index]["requests"], fetched[level.index]["bytes"]) == (
                expected["chunks"], expected["bytes"]), f"level {level.index}"
        assert _first_request_order(cost.log, site.slide, pyramid) == sorted(predicted, reverse=True)
        if name == "whole":
            level0 = levels.stored_bytes(site.store("slide") / "0")
            assert sum(r["bytes"] for r in predicted.values()) <= 0.05 * level0
    finally:
        tab.close()


def test_an_https_page_cannot_fetch_http_data(served):
    rows = served["browser"].mixed_content()
    http, https = rows
    assert not http["reached the network"] and http["the page got"].startswith("failed")
    assert "Mixed Content" in http["console"]
    assert https["reached the network"] and https["the page got"].startswith("read")


def test_starting_a_browser_again_stops_the_first_and_stop_leaves_nothing(chromium):  # noqa: F811
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    first = viewer.HeadlessBrowser(str(chromium)).start()
    second = viewer.HeadlessBrowser(str(chromium)).start()
    assert not first.running and second.running
    second.stop()
    second.stop()
    deadline = time.monotonic() + 10
    while (left := [p for p in me.children(recursive=True) if p.pid not in before and p.is_running()
                    and p.status() != psutil.STATUS_ZOMBIE]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, [p.cmdline()[:2] for p in left]


# --- the Binder route, for real: JupyterLab, jupyter-server-proxy, a notebook's frame ----------

_CELL = """\
from pathlib import Path
from course_utils import viewer
from course_utils.servers import LocalHTTPServer
site = viewer.Site(Path({root!r}))
route = viewer.Route("jupyter-server-proxy", "as on Binder", "/")
web = LocalHTTPServer(site.root, name="proxy-test").start()
ng = viewer.NeuroglancerServer(route).start()
viewer.show(ng, viewer.image_state([viewer.Layer("slide", route.url(web.port, site.slide), range=(0, 200))],
            voxel_size_m=viewer.voxel_sizes(site.store("slide")), view=viewer.View.whole((8192, 8192), 600, 400),
            decorations=False), height=400)
"""


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_the_binder_route_shows_the_viewer_through_jupyter_server_proxy(site, lab, chromium):  # noqa: F811
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from test_browser import open_notebook

    name = "viewer_proxy_check.ipynb"
    nb = new_notebook(cells=[new_code_cell(_CELL.format(root=str(site.root))),
                             new_code_cell("print('requests:', web.stats().requests)\nweb.stop()\nng.stop()")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lab.root / name)
    browser = viewer.HeadlessBrowser(str(chromium)).start()
    tab = browser.tab(1200, 900)
    try:
        def first_cell(page):
            open_notebook(page, lab, name)
            page.locator(".jp-Notebook-cell").first.click()
            page.keyboard.press("Shift+Enter")
            frame = page.wait_for_selector(".jp-OutputArea iframe[src*='/proxy/']", timeout=120_000)
            assert re.search(r"^http://127\.0\.0\.1:\d+/proxy/\d+/v/", frame.get_attribute("src"))
            inner = frame.content_frame()
            inner.wait_for_function("() => window.viewer !== undefined && window.viewer.isReady()",
                                    timeout=120_000, polling=250)
            time.sleep(0.5)
            return frame.screenshot()

        png = tab.call(first_cell)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "viewer-binder-route.png").write_bytes(png)
        assert headless._spread(png) > headless.DRAWN_THRESHOLD, "the frame shows the slide"

        def second_cell(page):
            page.keyboard.press("Shift+Enter")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-OutputArea-output')].some(e => /requests: \\d+/.test(e.textContent))",
                timeout=120_000)
            return page.inner_text(".jp-Notebook")

        text = tab.call(second_cell)
        assert int(re.search(r"requests: (\d+)", text).group(1)) >= 3, "the data came through the proxy"
    finally:
        tab.close()
        browser.stop()
        lab.shutdown_kernels()
