"""Web viewers for the course's OME-Zarr images: Neuroglancer, the way to it, and what it fetches.

The viewers lesson (``notebooks/06_web_viewers.ipynb``) uses:

- :func:`viewer_site` (:mod:`.images`): the images it serves, under one
  folder: a large synthetic slide (8192 x 8192, six levels), the IDR
  6001240 stand-in (OME-Zarr 0.4) and its sharded 0.5 copy;
- :func:`detect_route` (:mod:`.routes`): how the student's browser reaches a
  server of the kernel (local, jupyter-server-proxy on Binder, Colab's
  kernel-port proxy, or not at all);
- :class:`NeuroglancerServer`, :func:`image_state`, :func:`show`
  (:mod:`.neuroglancer`): Neuroglancer's bundled client served from the
  kernel, a viewer state, and a frame in the notebook;
- :class:`View`, :func:`read_levels`, :func:`predict`,
  :func:`fetched_by_level` (:mod:`.levels`): which levels and chunks a view
  needs by Neuroglancer's rule, and what a server's log says it fetched;
- :class:`HeadlessBrowser` (:mod:`.headless`): a Chromium that opens the
  viewer when no one is looking (tests, nbclient), where one is installed;
- :func:`start_like_s3`, :func:`cors_headers` (:mod:`.cors`): CORS as S3
  applies it, and what a server answers another origin.
"""

from course_utils.viewer.cors import CORS_RESPONSE_HEADERS, cors_headers, start_like_s3
from course_utils.viewer.headless import HeadlessBrowser, Rendering, find_browser
from course_utils.viewer.images import Site, sharded_copy, viewer_site, write_slide
from course_utils.viewer.levels import (
    Level,
    View,
    chunk_file,
    chunks_in_view,
    fetched_by_level,
    matching_level,
    predict,
    read_levels,
    stored_bytes,
    visible_levels,
    voxel_sizes,
)
from course_utils.viewer.neuroglancer import Layer, NeuroglancerServer, frame_html, image_state, show, state_url
from course_utils.viewer.routes import BROWSER_ORIGIN, Route, detect_route

__all__ = [
    "BROWSER_ORIGIN",
    "CORS_RESPONSE_HEADERS",
    "HeadlessBrowser",
    "Layer",
    "Level",
    "NeuroglancerServer",
    "Rendering",
    "Route",
    "Site",
    "View",
    "chunk_file",
    "chunks_in_view",
    "cors_headers",
    "detect_route",
    "fetched_by_level",
    "find_browser",
    "frame_html",
    "image_state",
    "matching_level",
    "predict",
    "read_levels",
    "sharded_copy",
    "show",
    "start_like_s3",
    "state_url",
    "stored_bytes",
    "viewer_site",
    "visible_levels",
    "voxel_sizes",
    "write_slide",
]
