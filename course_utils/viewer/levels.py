"""Which pyramid levels and chunks a 2-D view needs, by Neuroglancer's rule; and what was fetched.

A :class:`View` is what a viewer panel shows: ``width`` x ``height`` screen
pixels centred on a point of the image, at a ``zoom`` of so many level-0
pixels per screen pixel (Neuroglancer's ``crossSectionScale`` when the
coordinate space is level 0's). :func:`predict` says which levels Neuroglancer
draws for it and which chunks of each it needs; :func:`fetched_by_level`
sorts a server's request log by level, to compare.

Neuroglancer's rule, from ``filterVisibleSources`` in
``src/sliceview/base.ts`` (v2.41.2): the target is 1.1 screen pixels (the
screen pixel's size, times a margin of 1.1). Start at the coarsest level
and draw it; go on to the next finer level while the current one's pixels
are larger than the target and the finer level's are closer to it; stop
otherwise, or at level 0. In a pyramid that halves each time this ends at
the level whose pixel size is closest to the target; and every coarser
level on the way is drawn too, coarse first, so a view fetches the chunks it
covers at every level from the coarsest down to the one that matches the
screen.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_utils.keys import is_metadata

__all__ = [
    "SCREEN_MARGIN",
    "Level",
    "View",
    "chunk_file",
    "chunks_in_view",
    "fetched_by_level",
    "matching_level",
    "predict",
    "read_levels",
    "stored_bytes",
    "visible_levels",
    "voxel_sizes",
]

#: Neuroglancer widens the screen pixel by this factor before comparing voxel sizes with it.
SCREEN_MARGIN = 1.1


@dataclass(frozen=True)
class Level:
    """One level of a 2-D (y, x) multiscale image, as a viewer sees it.

    ``shape`` and ``chunks`` are (y, x) in this level's pixels; ``factor`` is
    how many level-0 pixels one of its pixels spans (1, 2, 4, ...);
    ``offset`` is where its pixel 0 starts, in level-0 pixels (0 in a
    pyramid whose levels are aligned, as OME-Zarr's translations should
    make them); ``origin`` is the image's own translation, in level-0
    pixels (the same for every level).
    """

    index: int
    path: str
    shape: tuple[int, int]
    chunks: tuple[int, int]
    factor: float
    offset: tuple[float, float] = (0.0, 0.0)
    origin: tuple[float, float] = (0.0, 0.0)

    @property
    def grid(self) -> tuple[int, int]:
        """Chunks along y and x."""
        return tuple(-(-n // c) for n, c in zip(self.shape, self.chunks))

    @property
    def n_chunks(self) -> int:
        """Number of chunks in the level."""
        rows, cols = self.grid
        return rows * cols


@dataclass(frozen=True)
class View:
    """A 2-D viewer panel: its size in screen pixels, its centre and zoom, in level-0 pixels.

    ``center`` is (y, x) in level-0 pixel coordinates (pixel i spans [i, i + 1));
    ``zoom`` is level-0 pixels per screen pixel.
    """

    width: int
    height: int
    center: tuple[float, float]
    zoom: float

    def extent(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((y0, y1), (x0, x1)): the part of the image's plane the panel covers, in level-0 pixels."""
        cy, cx = self.center
        half_h, half_w = self.height * self.zoom / 2, self.width * self.zoom / 2
        return (cy - half_h, cy + half_h), (cx - half_w, cx + half_w)

    @classmethod
    def whole(cls, level0_shape: Sequence[int], width: int, height: int) -> View:
        """The view that fits the whole image (y, x shape at level 0) into the panel."""
        rows, cols = level0_shape[-2:]
        zoom = max(cols / width, rows / height)
        return cls(width, height, (rows / 2, cols / 2), zoom)


_UNITS_IN_METRES = {"nanometer": 1e-9, "micrometer": 1e-6, "millimeter": 1e-3, "meter": 1.0}


def _multiscale(store: Path) -> tuple[dict, str]:
    if (store / "zarr.json").is_file():  # OME-Zarr 0.5
        return json.loads((store / "zarr.json").read_text())["attributes"]["ome"]["multiscales"][0], "v3"
    return json.loads((store / ".zattrs").read_text())["multiscales"][0], "v2"


def _array_metadata(store: Path, path: str, fmt: str) -> tuple[list[int], list[int]]:
    if fmt == "v3":
        meta = json.loads((store / path / "zarr.json").read_text())
        chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
        for codec in meta.get("codecs", []):  # sharded: the viewer reads inner chunks
            if codec.get("name") == "sharding_indexed":
                chunks = codec["configuration"]["chunk_shape"]
        return meta["shape"], chunks
    meta = json.loads((store / path / ".zarray").read_text())
    return meta["shape"], meta["chunks"]


def read_levels(store: str | Path) -> list[Level]:
    """The levels of the OME-Zarr image at ``store`` (a local 0.4 or 0.5 image), finest first.

    Only the last two axes (y, x) are kept: the viewer's 2-D plane.
    """
    store = Path(store)
    multiscale, fmt = _multiscale(store)
    levels = []
    base_scale = base_shift = None
    for index, dataset in enumerate(multiscale["datasets"]):
        scale, shift = [1.0, 1.0], [0.0, 0.0]
        for transform in dataset.get("coordinateTransformations", []):
            if transform["type"] == "scale":
                scale = [float(s) for s in transform["scale"][-2:]]
            elif transform["type"] == "translation":
                shift = [float(t) for t in transform["translation"][-2:]]
        if base_scale is None:
            base_scale, base_shift = scale, shift
        shape, chunks = _array_metadata(store, dataset["path"], fmt)
        factor = scale[-1] / base_scale[-1]
        # OME-Zarr places a pixel's centre at index * scale + translation; pixel 0 of this level
        # starts half of its own width before that centre, level 0's half of a level-0 pixel.
        offset = tuple((t - bt) / bs - (factor - 1) / 2 for t, bt, bs in zip(shift, base_shift, base_scale))
        origin = tuple(bt / bs for bt, bs in zip(base_shift, base_scale))
        levels.append(Level(index, dataset["path"], tuple(shape[-2:]), tuple(chunks[-2:]), factor,
                            tuple(round(o, 9) + 0.0 for o in offset), tuple(round(o, 9) + 0.0 for o in origin)))
    return levels


def voxel_sizes(store: str | Path) -> dict[str, float]:
    """Level 0's voxel size in metres along each space axis of the OME-Zarr image at ``store``.

    ``{"x": 5e-07, "y": 5e-07}``, x first (the order of a viewer's axes);
    what :func:`~course_utils.viewer.neuroglancer.image_state` takes.
    """
    multiscale, _ = _multiscale(Path(store))
    axes = multiscale["axes"]
    scale = next(t["scale"] for t in multiscale["datasets"][0]["coordinateTransformations"] if t["type"] == "scale")
    sizes = {
        axis["name"]: float(s) * _UNITS_IN_METRES.get(axis.get("unit", "meter"), 1.0)
        for axis, s in zip(axes, scale) if axis.get("type") == "space"
    }
    return dict(sorted(sizes.items(), key=lambda item: "xyz".find(item[0])))


def chunk_file(store: str | Path, level: Level, index: tuple[int, int], leading: Sequence[int] = ()) -> Path:
    """The file of chunk ``index`` (row, column) of ``level`` in a local OME-Zarr 0.4 image (``/`` keys).

    ``leading`` gives the chunk indices of any axes before y and x.
    """
    return Path(store, level.path, *(str(i) for i in (*leading, *index)))


def stored_bytes(folder: str | Path) -> int:
    """Bytes of all files under ``folder`` (a level's array, say)."""
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def visible_levels(levels: Sequence[Level], zoom: float) -> list[int]:
    """The levels Neuroglancer draws at ``zoom`` (level-0 pixels per screen pixel), coarsest first.

    The last one is the level whose resolution matches the screen.
    """
    target = zoom * SCREEN_MARGIN
    smallest = levels[0].factor
    drawn: list[int] = []
    previous = None
    for level in reversed(levels):
        size = level.factor
        if previous is not None and not (abs(target - size) < abs(target - previous) and size < 1.01 * previous):
            break
        drawn.append(level.index)
        if level.index == levels[0].index or not (size > target and size > 1.01 * smallest):
            break
        previous = size
    return drawn


def matching_level(levels: Sequence[Level], zoom: float) -> int:
    """The finest level Neuroglancer draws at ``zoom``: the one that matches the screen."""
    return visible_levels(levels, zoom)[-1]


def chunks_in_view(level: Level, view: View) -> list[tuple[int, int]]:
    """The (row, column) indices of ``level``'s chunks that the panel of ``view`` covers."""
    found = []
    spans = []
    for (low, high), offset, chunk, n in zip(view.extent(), level.offset, level.chunks, level.grid):
        size = chunk * level.factor  # a chunk's side in level-0 pixels
        first = max(0, math.floor((low - offset) / size))
        last = min(n - 1, math.ceil((high - offset) / size) - 1)
        spans.append(range(first, last + 1))
    for row in spans[0]:
        for col in spans[1]:
            found.append((row, col))
    return found


def predict(levels: Sequence[Level], view: View, store: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per level Neuroglancer draws for ``view``, coarsest first: its chunks and their count.

    With ``store`` (a local 2-D OME-Zarr 0.4 image) each row also has the
    ``bytes`` of those chunks' files: what the view will download.
    """
    by_index = {level.index: level for level in levels}
    rows = []
    for index in visible_levels(levels, view.zoom):
        chunks = chunks_in_view(by_index[index], view)
        row: dict[str, Any] = {"level": index, "chunks": len(chunks), "chunk_indices": chunks}
        if store is not None:
            row["bytes"] = sum(chunk_file(store, by_index[index], c).stat().st_size for c in chunks)
        rows.append(row)
    return rows


def _level_of(relative: str, levels: Sequence[Level]) -> tuple[int | None, str]:
    """(level index or None, key within the level) of a key of the image."""
    for level in levels:
        head = level.path.strip("/") + "/"
        if relative.startswith(head):
            return level.index, relative[len(head):]
    return None, relative


def fetched_by_level(log: Iterable[Any], prefix: str, levels: Sequence[Level]) -> list[dict[str, Any]]:
    """What a request log (``cost.log``) fetched from the image at URL path ``prefix``, per level.

    One row per level (finest first) with its requests and the bytes
    downloaded, then a row ``"metadata"`` for the metadata documents (found
    or not) and a row ``"other"`` for anything else under ``prefix``;
    requests for other paths are left out. A request counts for a level when
    its path lies under the level's array and is not a metadata document;
    ``HEAD`` requests and range requests (a shard's index, an inner chunk)
    count like any other.
    """
    prefix = "/" + prefix.strip("/") + "/"
    rows = {level.index: {"level": level.index, "requests": 0, "bytes": 0} for level in levels}
    metadata = {"level": "metadata", "requests": 0, "bytes": 0}
    other = {"level": "other", "requests": 0, "bytes": 0}
    for request in log:
        if not (request.path + "/").startswith(prefix):
            continue
        relative = request.path[len(prefix):]
        index, key = _level_of(relative, levels)
        if is_metadata(relative):
            row = metadata
        elif index is None:
            row = other
        else:
            row = rows[index]
        row["requests"] += 1
        row["bytes"] += request.downloaded
    return [*rows.values(), metadata, other]
