"""What does a viewer cost? Time to the first drawn image, and the bytes of a whole-image view.

Opens the viewers lesson's large slide (8192 x 8192, six levels; written
once into the data cache) in Neuroglancer, in a headless Chromium, from the
course's local HTTP server, and reports:

- how long the browser takes to start, and, in a fresh page each time, how
  long until Neuroglancer has drawn every visible chunk of a view of the whole
  slide (page load included);
- for panels of several sizes, the bytes that first whole-slide view
  downloaded (from the server's request log) against the bytes of level 0,
  next to what the level rule predicts. The goal: at most 5 %.

    python bench/bench_viewer.py                      # data in a temp folder
    python bench/bench_viewer.py --data-dir /tmp/d    # reuse the written slide
    python bench/bench_viewer.py --repeats 5

Needs Playwright and a Chromium (``/usr/bin/chromium``, or ``COURSE_CHROMIUM``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from rich.console import Console
from rich.table import Table

PANELS = [(800, 600), (1280, 720), (1920, 1080)]
GOAL = 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="the course's data cache (default: a new temporary folder)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh pages per panel size (default 3)")
    args = parser.parse_args(argv)
    os.environ["COURSE_DATA_DIR"] = args.data_dir or tempfile.mkdtemp(prefix="bench-viewer-")

    from course_utils import viewer
    from course_utils.servers import LocalHTTPServer

    console = Console(width=120)
    chromium, why = viewer.find_browser()
    if chromium is None:
        console.print(f"Cannot run: {why}")
        return 1
    start = time.perf_counter()
    site = viewer.viewer_site()
    written = time.perf_counter() - start
    pyramid = viewer.read_levels(site.store("slide"))
    voxels = viewer.voxel_sizes(site.store("slide"))
    level0 = viewer.stored_bytes(site.store("slide") / "0")
    console.print(f"slide ready in {written:.1f} s (written now, or found in the cache); "
                  f"level 0 holds {level0:,} bytes; machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    table = Table(title="First view of the whole slide, fresh page each time (medians)")
    for column in ("panel", "level drawn", "first drawn (s)", "downloaded (bytes)", "predicted (bytes)",
                   "of level 0", f"≤ {GOAL:.0%}"):
        table.add_column(column, justify="right")
    with LocalHTTPServer(site.root) as web, viewer.NeuroglancerServer(viewer.Route("local", "bench")) as ng:
        start = time.perf_counter()
        browser = viewer.HeadlessBrowser(chromium).start()
        launch = time.perf_counter() - start
        try:
            for width, height in PANELS:
                view = viewer.View.whole(pyramid[0].shape, width, height)
                state = viewer.image_state([viewer.Layer("slide", web.url(site.slide), range=(0, 200))],
                                           voxel_size_m=voxels, view=view, decorations=False)
                seconds, downloaded = [], []
                for _ in range(args.repeats):
                    tab = browser.tab(width, height)
                    try:
                        with web.measure() as cost:
                            shown = tab.show(viewer.state_url(ng.local_page(), state))
                    finally:
                        tab.close()
                    if not (shown.drawn and shown.ready):
                        console.print(f"{width} x {height}: {shown.summary()}")
                        return 1
                    seconds.append(shown.finished_after)
                    rows = viewer.fetched_by_level(cost.log, site.slide, pyramid)
                    downloaded.append(sum(row["bytes"] for row in rows if isinstance(row["level"], int)))
                predicted = sum(row["bytes"] for row in viewer.predict(pyramid, view, site.store("slide")))
                median = statistics.median(downloaded)
                table.add_row(f"{width} x {height}", str(viewer.matching_level(pyramid, view.zoom)),
                              f"{statistics.median(seconds):.2f}", f"{median:,.0f}", f"{predicted:,}",
                              f"{median / level0:.2%}", "yes" if median <= GOAL * level0 else "NO")
        finally:
            browser.stop()
    console.print(f"headless Chromium started in {launch:.2f} s")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
