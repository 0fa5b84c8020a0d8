"""The images the viewers lesson serves: a large synthetic slide, and the course's IDR stand-in.

:func:`write_slide` writes a large 2-D OME-Zarr 0.4 image (8192 x 8192 by
default, uint8, six levels), microscopy-like: nuclei packed in a tissue
section whose density and brightness vary slowly, faint background outside
it, some noise inside. It is written level by level and strip by strip: level
0 is generated 512 rows at a time and each strip is averaged 2 x 2 into level
1 on the way (level 1 is a quarter of level 0, held in memory), then every
coarser level is the 2 x 2 mean of the one before. Nuclei come from a small
library of pre-drawn cell tiles laid on a jittered grid, so no pixel is
computed twice. It takes a few seconds and about 20 MB on disk.

:func:`sharded_copy` writes an OME-Zarr 0.5 copy of an OME-Zarr 0.4 image
with every level sharded (Zarr v3 ``sharding_indexed``).

:func:`viewer_site` puts the three images the lesson shows under one
folder, so that one web server serves them all: the slide, the IDR 6001240
stand-in (:func:`course_utils.standins.idr_6001240`, OME-Zarr 0.4) and its
sharded 0.5 copy (:func:`course_utils.standins.idr_6001240_sharded`, the
2024 challenge's layout), the two stand-ins as links into the same data
cache. It is written once into the course's data cache and reused; a
half-written site is never visible under its final name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "SLIDE_CHUNK",
    "SLIDE_LEVELS",
    "SLIDE_PIXEL_SIZE_UM",
    "SLIDE_SIZE",
    "Site",
    "sharded_copy",
    "viewer_site",
    "write_slide",
]

#: Side of level 0 of the slide, in pixels (the image is square).
SLIDE_SIZE = 8192
#: Chunk side of every level of the slide (chunks are square).
SLIDE_CHUNK = 512
#: Number of levels: 8192, 4096, ..., 256 pixels across.
SLIDE_LEVELS = 6
#: Physical size of a level-0 pixel, micrometres.
SLIDE_PIXEL_SIZE_UM = 0.5
#: Bump when a writer changes, so an old cached site is not reused (2: the IDR stand-ins linked).
GENERATION = 2

_CELL = 32  # side of the grid cell that holds at most one nucleus, in level-0 pixels
_STRIP = 512  # rows of level 0 generated at a time
_BACKGROUND = 12  # grey value outside the tissue (a camera's offset)
_TISSUE = 20  # grey value the tissue adds between nuclei
_NUCLEUS = 165  # grey value a nucleus adds at its brightest
_GRAIN = 0.7  # standard deviation of the noise inside the tissue
_EDGE = 0.5  # the tissue is where the smooth field exceeds this


def _compressor():
    from numcodecs import Blosc

    return Blosc(cname="zstd", clevel=1, shuffle=Blosc.NOSHUFFLE)


def _cell_tiles(rng: np.random.Generator, count: int = 96) -> np.ndarray:
    """``count`` tiles of ``_CELL`` x ``_CELL`` pixels, each one nucleus (index 0: none), in [0, 1]."""
    yy, xx = np.mgrid[0:_CELL, 0:_CELL].astype(np.float32) + 0.5
    tiles = np.zeros((count, _CELL, _CELL), np.float32)
    for index in range(1, count):
        radius = rng.uniform(5.0, 9.0)
        elongation = rng.uniform(1.0, 1.5)
        angle = rng.uniform(0, np.pi)
        cy, cx = rng.uniform(radius + 2, _CELL - radius - 2, size=2)
        dy, dx = yy - cy, xx - cx
        u = (dx * np.cos(angle) + dy * np.sin(angle)) / elongation
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        d2 = (u * u + v * v) / (radius * radius)
        body = np.clip(1.0 - d2, 0.0, 1.0) ** 0.5  # a flattened dome with a sharp rim
        texture = 0.85 + 0.15 * rng.random((_CELL, _CELL), dtype=np.float32)  # chromatin
        tiles[index] = body * texture * rng.uniform(0.5, 1.0)
    return tiles


def _interpolation(n_out: int, n_in: int) -> np.ndarray:
    """The (n_out, n_in) matrix of linear interpolation from ``n_in`` grid points to ``n_out``."""
    position = np.linspace(0, n_in - 1, n_out, dtype=np.float32)
    low = np.minimum(position.astype(np.intp), n_in - 2)
    weight = position - low
    matrix = np.zeros((n_out, n_in), np.float32)
    matrix[np.arange(n_out), low] = 1 - weight
    matrix[np.arange(n_out), low + 1] = weight
    return matrix


def _halve(image: np.ndarray) -> np.ndarray:
    """The 2 x 2 mean of ``image`` (unsigned integers), rounded."""
    total = image[0::2, 0::2].astype(np.uint32)
    total += image[1::2, 0::2]
    total += image[0::2, 1::2]
    total += image[1::2, 1::2]
    total += 2
    total //= 4
    return total.astype(image.dtype)


def _slide_attributes(n_levels: int, name: str) -> dict:
    datasets = [
        {
            "path": str(level),
            "coordinateTransformations": [
                {"type": "scale", "scale": [SLIDE_PIXEL_SIZE_UM * 2**level] * 2},
                # The centre of pixel 0 of level k sits at the centre of its 2^k x 2^k block of level 0.
                {"type": "translation", "translation": [SLIDE_PIXEL_SIZE_UM * (2**level - 1) / 2] * 2},
            ],
        }
        for level in range(n_levels)
    ]
    return {
        "multiscales": [
            {
                "version": "0.4",
                "name": name,
                "axes": [
                    {"name": "y", "type": "space", "unit": "micrometer"},
                    {"name": "x", "type": "space", "unit": "micrometer"},
                ],
                "datasets": datasets,
                "type": "mean",
                "metadata": {"description": "2 x 2 mean of the level before"},
            }
        ],
        "omero": {
            "name": f"{name} (synthetic)",
            "version": "0.4",
            "channels": [
                {"label": "nuclei", "color": "FFFFFF", "active": True,
                 "window": {"min": 0, "max": 255, "start": 0, "end": 200}}
            ],
            "rdefs": {"model": "greyscale"},
        },
    }


def write_slide(path: str | os.PathLike, *, size: int = SLIDE_SIZE, chunk: int = SLIDE_CHUNK,
                n_levels: int = SLIDE_LEVELS, seed: int = 2026) -> Path:
    """Write the synthetic slide as an OME-Zarr 0.4 image at ``path``; returns the path.

    ``size`` (a multiple of ``2 ** (n_levels - 1)`` and of 512) is the side of
    level 0; each level halves it; every level has square chunks of
    ``chunk`` pixels (fewer at the coarsest if it is smaller). The same
    arguments write the same pixels. An existing ``path`` is replaced.
    """
    import zarr

    if size % _STRIP or size % 2 ** (n_levels - 1) or size % _CELL:
        raise ValueError(f"size must be a multiple of {_STRIP} and of 2**(n_levels-1); got {size}")
    path = Path(path)
    shutil.rmtree(path, ignore_errors=True)
    rng = np.random.default_rng(seed)
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    arrays = [
        root.create_array(
            str(level), shape=(size >> level,) * 2, chunks=(min(chunk, size >> level),) * 2,
            dtype="uint8", compressors=_compressor(), fill_value=0,
            chunk_key_encoding={"name": "v2", "separator": "/"},
        )
        for level in range(n_levels)
    ]

    # Tissue: sections with soft, irregular edges where a smooth random field is high;
    # nuclei on a jittered grid, denser and brighter where the field is higher.
    grid = rng.random((10, 10), dtype=np.float32)
    interpolate = _interpolation(size, grid.shape[0])
    tiles = _cell_tiles(rng)
    cells = size // _CELL
    centres = interpolate[_CELL // 2::_CELL]
    field = centres @ grid @ centres.T  # at each grid cell's centre
    density = np.clip((field - _EDGE) * 4, 0, 1)
    choice = np.where(rng.random((cells, cells)) < 0.9 * density, rng.integers(1, len(tiles), size=(cells, cells)), 0)

    grain = rng.normal(0.0, _GRAIN, (_STRIP, size)).astype(np.float32)  # camera noise, reused shifted
    level1 = np.empty((size // 2, size // 2), np.uint8)
    for top in range(0, size, _STRIP):
        rows = slice(top, top + _STRIP)
        tissue = interpolate[rows] @ grid @ interpolate.T
        tissue -= _EDGE
        tissue *= 12.0
        np.clip(tissue, 0.0, 1.0, out=tissue)
        band = choice[top // _CELL:(top + _STRIP) // _CELL]  # the grid cells of this strip
        image = tiles[band].transpose(0, 2, 1, 3).reshape(_STRIP, size)
        image *= float(_NUCLEUS)
        image += float(_TISSUE)
        image += np.roll(grain, int(rng.integers(size)), axis=1)
        image *= tissue
        image += _BACKGROUND
        strip = image.astype(np.uint8)
        arrays[0][rows] = strip
        level1[top // 2:(top + _STRIP) // 2] = _halve(strip)
    level = level1
    for index in range(1, n_levels):
        arrays[index][...] = level
        if index + 1 < n_levels:
            level = _halve(level)
    root.attrs.update(_slide_attributes(n_levels, path.stem.split(".")[0]))
    return path


def sharded_copy(source: str | os.PathLike, target: str | os.PathLike, *, planes_per_shard: int = 16) -> Path:
    """An OME-Zarr 0.5 copy of the OME-Zarr 0.4 image ``source``, every level sharded.

    Each level keeps its chunk shape as the inner chunks; a shard holds
    ``planes_per_shard`` chunks along the first axis whose chunks are one
    element thick and longer than one shard (z for the IDR image), else the
    whole level. An existing ``target`` is replaced.
    """
    import zarr
    from zarr.codecs import BloscCodec

    source, target = Path(source), Path(target)
    shutil.rmtree(target, ignore_errors=True)
    original = zarr.open_group(str(source), mode="r", zarr_format=2)
    attributes = dict(original.attrs)
    multiscales = json.loads(json.dumps(attributes["multiscales"]))
    for multiscale in multiscales:
        multiscale.pop("version", None)  # 0.5 keeps the version under "ome"
    ome = {"version": "0.5", "multiscales": multiscales}
    if "omero" in attributes:
        omero = dict(attributes["omero"])
        omero.pop("version", None)
        ome["omero"] = omero
    copy = zarr.open_group(str(target), mode="w", zarr_format=3, attributes={"ome": ome})
    for dataset in multiscales[0]["datasets"]:
        array = original[dataset["path"]]
        chunks = array.chunks
        shards = list(array.shape)
        for axis, (c, n) in enumerate(zip(chunks, array.shape)):
            if c == 1 and n > planes_per_shard:
                shards[axis] = planes_per_shard
                break
        shards = [-(-n // c) * c if s == n else s for s, c, n in zip(shards, chunks, array.shape)]
        copy.create_array(
            dataset["path"], shape=array.shape, chunks=chunks, shards=tuple(shards), dtype=array.dtype,
            compressors=BloscCodec(cname="zstd", clevel=3, shuffle="shuffle"),
            fill_value=array.fill_value, dimension_names=[a["name"] for a in multiscales[0]["axes"]],
        )[...] = array[...]
    return target


@dataclass(frozen=True)
class Site:
    """The folder a web server serves for the lesson, and where each image is under it.

    ``slide``, ``idr`` and ``idr_sharded`` are paths relative to ``root``
    (use them in ``server.url(...)``).
    """

    root: Path
    slide: str = "slide.ome.zarr"
    idr: str = "idr/6001240.zarr"
    idr_sharded: str = "idr/6001240-sharded.ome.zarr"

    def store(self, name: str) -> Path:
        """The directory of image ``name`` (``"slide"``, ``"idr"`` or ``"idr_sharded"``)."""
        return self.root / getattr(self, name)


def _link_or_copy(source: str, target: str) -> None:
    """A hard link to ``source`` (no extra disk), or a copy where links cannot be made."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _place(source: Path, target: Path) -> None:
    """Put the store ``source`` at ``target``: a relative symbolic link, else a hard-linked copy.

    A link is one entry whatever the store holds (the IDR stand-in has over
    4,000 files and folders, each a slow file-system operation on a busy
    disk); where links cannot be made (some Windows set-ups) the files are
    hard-linked, or copied.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(os.path.relpath(source, target.parent), target, target_is_directory=True)
    except (OSError, NotImplementedError):
        shutil.copytree(source, target, copy_function=_link_or_copy)


def _write_site(root: Path) -> None:
    from course_utils import standins

    site = Site(root)
    write_slide(site.store("slide"))
    # The IDR stand-ins of notebook 05, from the same cache: OME-Zarr 0.4, and the sharded
    # OME-Zarr 0.5 copy the 2024 challenge made of it (one shard per level).
    _place(standins.idr_6001240().store, site.store("idr"))
    _place(standins.idr_6001240_sharded().store, site.store("idr_sharded"))


def _site_complete(root: Path) -> bool:
    """The site is written, and the stand-ins it links to are still there."""
    site = Site(root)
    return (root / ".complete").is_file() and (site.store("idr") / ".zattrs").is_file() and (
        site.store("idr_sharded") / "zarr.json"
    ).is_file()


def _cached(root: Path, write: Callable[[Path], None], marker: str,
            done: Callable[[Path], bool] | None = None) -> Path:
    """``root``, written by ``write(folder)`` in a staging folder first, unless it is already there.

    ``done(root)`` says whether it is (by default: the file ``marker`` exists
    in it); the staging folder gets ``marker`` when ``write`` has finished.
    """
    if done is None:
        def done(folder: Path) -> bool:
            return (folder / marker).is_file()

    if done(root):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}."))
    staging.chmod(0o755)
    try:
        write(staging)
        (staging / marker).write_text("complete\n")
        try:
            os.replace(staging, root)
        except OSError:  # another process finished first, or a broken copy is in the way
            if not done(root):
                shutil.rmtree(root, ignore_errors=True)
                os.replace(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def viewer_site() -> Site:
    """The lesson's images under one folder in the data cache, written on first use (a few seconds)."""
    from course_utils import data

    root = data.cache_dir() / f"viewer-site-g{GENERATION}"
    return Site(_cached(root, _write_site, ".complete", _site_complete))
