"""Local OME-Zarr stand-ins for the public stores the lessons read online.

Offline, a lesson cannot reach the AIND bucket or the IDR, so it serves one
of these from a local server instead, through the same cells. Each is a
deterministic synthetic image with the layout of the real store, at a size a
laptop writes in seconds:

- :func:`aind_smartspim` stands in for the AIND SmartSPIM OME-Zarr on S3
  (``data.REGISTRY["aind-smartspim-ome-zarr"]``): OME-Zarr 0.4 (Zarr v2),
  axes (t, c, z, y, x), 5 scales, uint16, numbered arrays ``0`` to ``4``,
  pixels from :func:`course_utils.data.synthetic_image`. Reduced: scale 0 is (1, 1, 64, 256, 320), where the real one is a whole
  mouse brain.
- :func:`idr_6001240` stands in for IDR image 6001240 over HTTPS
  (``data.REGISTRY["idr-6001240"]``): OME-Zarr 0.4 (Zarr v2), and
  :func:`idr_6001240_sharded` for its sharded OME-Zarr 0.5 (Zarr v3) copy
  from the 2024 OME-NGFF challenge (``data.REGISTRY["idr-6001240-sharded"]``).
  Both at full size, (c, z, y, x) = (2, 236, 275, 271) and two more levels,
  with the published metadata documents byte for byte
  (:mod:`course_utils.idr_metadata`, which says where each comes from) and
  the same chunks, shards and codecs: in 0.4 one object per plane of a
  channel (blosc-lz4), in 0.5 one shard object per level holding every plane
  (blosc-zstd) and an index at its end. Only the pixels are synthetic
  (:class:`course_utils.nuclei.NucleiStack`: dim like the real image,
  background about 9 and 28, nuclei up to a few thousand), drawn plane by
  plane: writing both copies takes a few seconds of CPU and 79 MB of disk
  (47 MB for 0.4, 32 MB for 0.5), and holds only a few planes in memory.
  :func:`idr_6001240_excerpt` is 16 of the 0.4 stand-in's planes in the
  same layout, under the same root at a path of its own: what notebook 05
  downloads offline (a stand-in for no published store).

Each sits at the same path under its :attr:`StandIn.root` as the real store
under its host or bucket (the two IDR copies under one root, as on the IDR's
host), so one server of ``root`` answers at the real URLs' paths. Stand-ins
are written once into ``<cache>/standins/`` (see
:func:`course_utils.data.cache_dir`) and reused; a half-written copy is never
visible under the final name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from course_utils import data, idr_metadata

__all__ = [
    "AIND_SHAPE",
    "IDR_EXCERPT_KEY",
    "IDR_EXCERPT_PLANES",
    "IDR_SHAPE",
    "StandIn",
    "aind_smartspim",
    "idr_6001240",
    "idr_6001240_excerpt",
    "idr_6001240_sharded",
    "standin_dir",
]

#: Scale 0 of the AIND stand-in, (t, c, z, y, x).
AIND_SHAPE = (1, 1, 64, 256, 320)
#: Chunk shape of every scale of the AIND stand-in.
AIND_CHUNKS = (1, 1, 32, 128, 128)
#: Scale 0 of the IDR stand-ins, (c, z, y, x): the real image's shape.
IDR_SHAPE = idr_metadata.LEVEL_SHAPES[0]
#: One plane per chunk (0.4) and per inner chunk (0.5), as in the published copies.
IDR_CHUNKS = (1, 1, 275, 271)
#: Physical pixel size of IDR 6001240 at scale 0, micrometres (z, y, x).
IDR_PIXEL_SIZE = {"z": 0.5002025531914894, "y": 0.3603981534640209, "x": 0.3603981534640209}
IDR_CHANNELS = (("LaminB1", "0000FF"), ("Dapi", "FFFF00"))
#: Planes of the 0.4 stand-in copied into its excerpt (:func:`idr_6001240_excerpt`): 16 around
#: the middle, so that the excerpt's middle plane (8) is the image's (118, its ``defaultZ``).
IDR_EXCERPT_PLANES = range(110, 126)
#: Where the excerpt sits under the IDR stand-ins' root.
IDR_EXCERPT_KEY = "excerpt/6001240.zarr"

#: Bump when a generator changes, so old cached copies are not reused. The AIND
#: stand-in's pixels come from data.synthetic_image (2: its light-sheet-like
#: version, data.SYNTHETIC_GENERATION 2); the IDR stand-ins' from course_utils.nuclei.
GENERATION = 2
IDR_GENERATION = 3  # 3: with the excerpt


@dataclass(frozen=True)
class StandIn:
    """A local stand-in store: serve :attr:`root`, find the store at :attr:`key` under it.

    For an S3 dataset ``key`` is the object key prefix in :attr:`bucket`; for
    an HTTPS dataset it is the URL path (and ``bucket`` is None).
    """

    name: str
    root: Path
    key: str
    bucket: str | None = None

    @property
    def store(self) -> Path:
        """The directory of the OME-Zarr itself."""
        return self.root / self.key


def standin_dir() -> Path:
    """Where the stand-ins are cached: ``<COURSE_DATA_DIR or OS cache>/standins``."""
    return data.cache_dir() / "standins"


def _cached(standin: StandIn, write: Callable[[Path], None], done: Callable[[Path], bool] | None = None) -> StandIn:
    """``standin``, its root written by ``write(root)`` in a staging directory first.

    ``done(root)`` says whether a root already holds everything (by default:
    the store's ``.zattrs`` exists).
    """
    if done is None:
        def done(root: Path) -> bool:
            return (root / standin.key / ".zattrs").is_file()

    if done(standin.root):
        return standin
    standin.root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=standin.root.parent, prefix=f".{standin.root.name}."))
    staging.chmod(0o755)
    try:
        write(staging)
        try:
            os.replace(staging, standin.root)
        except OSError:  # another process finished first (or a broken copy): keep or redo
            if not done(standin.root):
                shutil.rmtree(standin.root, ignore_errors=True)
                os.replace(staging, standin.root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return standin


def _rechunk(multiscales, chunks: tuple[int, ...]) -> None:
    """Give every scale the same chunk shape (ngff-zarr writes Zarr v2 with the dask chunks)."""
    import dask.array

    for image in multiscales.images:  # computed first: each level is small, and computed once
        pixels = image.data.compute()
        image.data = dask.array.from_array(pixels, chunks=tuple(min(c, n) for c, n in zip(chunks, pixels.shape)))


def _number_datasets(path: Path) -> None:
    """Move ngff-zarr's ``scale<i>/<name>`` arrays to ``<i>``, as the public stores name them."""
    attributes = json.loads((path / ".zattrs").read_text())
    for index, dataset in enumerate(attributes["multiscales"][0]["datasets"]):
        old = path / dataset["path"]
        if dataset["path"] != str(index):
            os.replace(old, path / str(index))
            shutil.rmtree(path / Path(dataset["path"]).parts[0], ignore_errors=True)
            dataset["path"] = str(index)
    (path / ".zattrs").write_text(json.dumps(attributes, indent=2))
    (path / ".zmetadata").unlink(missing_ok=True)  # it named the old paths


def _write_aind(path: Path) -> None:
    import ngff_zarr as nz

    dims = ("t", "c", "z", "y", "x")
    image = nz.to_ngff_image(
        data.synthetic_image(AIND_SHAPE, "uint16", seed=631680),
        dims=dims,
        scale={"t": 1.0, "c": 1.0, "z": 2.0, "y": 1.8, "x": 1.8},
        axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        name="Ex_647_Em_690",
    )
    factors = [{"z": 2**k, "y": 2**k, "x": 2**k} for k in range(1, 5)]
    multiscales = nz.to_multiscales(
        image, scale_factors=factors, method=nz.Methods.ITKWASM_BIN_SHRINK,
        chunks=dict(zip(dims, AIND_CHUNKS)),
    )
    _rechunk(multiscales, AIND_CHUNKS)
    nz.to_ngff_zarr(path, multiscales, version="0.4")
    _number_datasets(path)


def _write_documents(store: Path, documents: dict[str, str]) -> None:
    for key, text in documents.items():
        (store / key).parent.mkdir(parents=True, exist_ok=True)
        (store / key).write_bytes(text.encode())


def _write_idr(root: Path) -> None:
    """Both IDR copies under ``root``, and the 0.4 excerpt, from one pass over the synthetic planes.

    0.4: each plane of each level is one chunk object ``<level>/<c>/<z>/0/0``,
    blosc-lz4 (shuffle), as its ``.zarray`` says. 0.5: each level is one shard
    object ``<level>/c/0/0/0/0`` holding every plane as a blosc-zstd inner
    chunk, then the index (offset and length of each inner chunk, uint64
    little endian, in C order of the inner chunk grid) and its CRC32C. The
    excerpt (:data:`IDR_EXCERPT_PLANES`) gets the same chunk bytes as the 0.4
    copy for its planes.
    """
    import google_crc32c
    import numcodecs

    from course_utils.nuclei import NucleiStack, downsample

    v04, v05 = root / idr_metadata.V04_PATH, root / idr_metadata.V05_PATH
    excerpt = root / IDR_EXCERPT_KEY
    _write_documents(v04, idr_metadata.v04_documents())
    _write_documents(v05, idr_metadata.v05_documents())
    _write_documents(excerpt, idr_metadata.v04_documents(planes=len(IDR_EXCERPT_PLANES)))
    lz4 = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE, blocksize=0)
    zstd = numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE, blocksize=0)
    stack = NucleiStack(shape=IDR_SHAPE)
    channels, planes = IDR_SHAPE[:2]
    levels = range(len(idr_metadata.LEVEL_SHAPES))
    index = [np.zeros((channels, planes, 1, 1, 2), dtype="<u8") for _ in levels]
    shard_paths = [v05 / str(level) / "c" / "0" / "0" / "0" / "0" for level in levels]
    for path in shard_paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    # Chunk folders are made one by one, each once: on a busy disk every mkdir costs.
    for store in (v04, excerpt):
        for level in levels:
            for c in range(channels):
                (store / str(level) / str(c)).mkdir(parents=True, exist_ok=True)

    def write_chunk(store: Path, level: int, c: int, z: int, data: bytes) -> None:
        folder = store / str(level) / str(c) / str(z)
        os.mkdir(folder)
        os.mkdir(folder / "0")
        (folder / "0" / "0").write_bytes(data)

    shards = [path.open("wb") for path in shard_paths]
    try:
        for c in range(channels):
            for z in range(planes):
                plane = stack.plane(c, z)
                for level in levels:
                    if level:
                        plane = downsample(plane)
                    pixels = np.ascontiguousarray(plane, dtype="<u2")
                    chunk = lz4.encode(pixels)
                    write_chunk(v04, level, c, z, chunk)
                    if z in IDR_EXCERPT_PLANES:
                        write_chunk(excerpt, level, c, z - IDR_EXCERPT_PLANES.start, chunk)
                    inner = zstd.encode(pixels)
                    index[level][c, z, 0, 0] = (shards[level].tell(), len(inner))
                    shards[level].write(inner)
        for level in levels:
            table = index[level].tobytes()
            shards[level].write(table + google_crc32c.value(table).to_bytes(4, "little"))
    finally:
        for shard in shards:
            shard.close()


def _idr_written(root: Path) -> bool:
    return all((root / key).is_file() for key in (
        f"{idr_metadata.V04_PATH}/.zattrs", f"{idr_metadata.V05_PATH}/zarr.json", f"{IDR_EXCERPT_KEY}/.zattrs",
    ))


def _idr(name: str) -> StandIn:
    standin = StandIn(
        name=name,
        root=standin_dir() / f"idr-6001240-g{IDR_GENERATION}",
        key=urlsplit(data.REGISTRY[name].url).path.strip("/"),
    )
    return _cached(standin, _write_idr, _idr_written)


def aind_smartspim() -> StandIn:
    """The AIND SmartSPIM stand-in (see the module docstring); ``bucket`` and ``key`` as on S3."""
    real = urlsplit(data.REGISTRY["aind-smartspim-ome-zarr"].s3_url)
    standin = StandIn(
        name="aind-smartspim-ome-zarr",
        root=standin_dir() / f"aind-smartspim-ome-zarr-g{GENERATION}",
        key=real.path.strip("/"),
        bucket=real.netloc,
    )
    return _cached(standin, lambda root: _write_aind(root / standin.key))


def idr_6001240() -> StandIn:
    """The stand-in of IDR 6001240's OME-Zarr 0.4 (see the module docstring); ``key`` is the real URL's path."""
    return _idr("idr-6001240")


def idr_6001240_sharded() -> StandIn:
    """The stand-in of its sharded OME-Zarr 0.5 copy, under the same root as :func:`idr_6001240`."""
    return _idr("idr-6001240-sharded")


def idr_6001240_excerpt() -> StandIn:
    """An excerpt of the 0.4 stand-in, under the same root: the same layout, :data:`IDR_EXCERPT_PLANES` only.

    Its documents are the published ones but for the number of planes (see
    :func:`course_utils.idr_metadata.v04_documents`); its chunk files are
    the 0.4 stand-in's, byte for byte, for those planes. Notebook 05
    downloads it offline with ``ome_zarr download``, which copies every
    chunk one by one: 96 chunk files rather than 1,416. ``key`` is
    :data:`IDR_EXCERPT_KEY`, a path the IDR does not have.
    """
    root = _idr("idr-6001240").root
    return StandIn(name="idr-6001240-excerpt", root=root, key=IDR_EXCERPT_KEY)
