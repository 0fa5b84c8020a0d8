"""Local OME-Zarr stand-ins for the public stores the lessons read online.

Offline, a lesson cannot reach the AIND bucket or the IDR, so it serves one
of these from a local server instead, through the same cells. Each is a
deterministic synthetic image (:func:`course_utils.data.synthetic_image`)
with the layout of the real store, at a size a laptop writes in seconds:

- :func:`aind_smartspim` stands in for the AIND SmartSPIM OME-Zarr on S3
  (``data.REGISTRY["aind-smartspim-ome-zarr"]``): OME-Zarr 0.4 (Zarr v2),
  axes (t, c, z, y, x), 5 scales, uint16, numbered arrays ``0`` to ``4``.
  Reduced: scale 0 is (1, 1, 64, 256, 320), where the real one is a whole
  mouse brain.
- :func:`idr_6001240` stands in for IDR image 6001240 over HTTPS
  (``data.REGISTRY["idr-6001240"]``): OME-Zarr 0.4, axes (c, z, y, x) with
  micrometre units and the image's pixel sizes, 3 scales halving y and x,
  uint16, 2 channels (LaminB1, Dapi) of 275 x 271 pixels, one plane per
  chunk, no consolidated metadata. Reduced: 48 z-planes instead of 236 (the
  full stack takes over 1 GB of memory to synthesise).

Each sits at the same path under its :attr:`StandIn.root` as the real store
under its host (``idr/zarr/v0.4/idr0062A/6001240.zarr``) or bucket, so a
server of ``root`` answers at the real URL's path. Stand-ins are written once
into ``<cache>/standins/`` (see :func:`course_utils.data.cache_dir`) and
reused; a half-written copy is never visible under the final name.
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

from course_utils import data

__all__ = ["AIND_SHAPE", "IDR_SHAPE", "StandIn", "aind_smartspim", "idr_6001240", "standin_dir"]

#: Scale 0 of the AIND stand-in, (t, c, z, y, x).
AIND_SHAPE = (1, 1, 64, 256, 320)
#: Chunk shape of every scale of the AIND stand-in.
AIND_CHUNKS = (1, 1, 32, 128, 128)
#: Scale 0 of the IDR stand-in, (c, z, y, x): the real image has 236 z-planes.
IDR_SHAPE = (2, 48, 275, 271)
#: One plane per chunk, as in the copy of IDR 6001240 the seed course downloaded.
IDR_CHUNKS = (1, 1, 275, 271)
#: Physical pixel size of IDR 6001240 at scale 0, micrometres (z, y, x).
IDR_PIXEL_SIZE = {"z": 0.5002025531914894, "y": 0.3603981534640209, "x": 0.3603981534640209}
IDR_CHANNELS = (("LaminB1", "0000FF"), ("Dapi", "FFFF00"))

#: Bump when a generator changes (this module's, or data.synthetic_image's), so old cached
#: copies are not reused. 2: the light-sheet-like synthetic image (data.SYNTHETIC_GENERATION 2).
GENERATION = 2


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


def _cached(standin: StandIn, write: Callable[[Path], None]) -> StandIn:
    """``standin``, its store written by ``write(path)`` in a staging directory first."""
    if (standin.store / ".zattrs").is_file():
        return standin
    standin.root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=standin.root.parent, prefix=f".{standin.root.name}."))
    staging.chmod(0o755)
    try:
        write(staging / standin.key)
        try:
            os.replace(staging, standin.root)
        except OSError:  # another process finished first (or a broken copy): keep or redo
            if not (standin.store / ".zattrs").is_file():
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


def _write_idr(path: Path) -> None:
    import ngff_zarr as nz

    dims = ("c", "z", "y", "x")
    image = nz.to_ngff_image(
        data.synthetic_image(IDR_SHAPE, "uint16", seed=6001240),
        dims=dims,
        scale={"c": 1.0, **IDR_PIXEL_SIZE},
        axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        name="6001240",
    )
    multiscales = nz.to_multiscales(
        image, scale_factors=[{"y": 2, "x": 2}, {"y": 4, "x": 4}],
        method=nz.Methods.ITKWASM_BIN_SHRINK, chunks=dict(zip(dims, IDR_CHUNKS)),
    )
    _rechunk(multiscales, IDR_CHUNKS)
    nz.to_ngff_zarr(path, multiscales, version="0.4")
    _number_datasets(path)  # and no consolidated metadata, like the IDR's copy
    attributes = json.loads((path / ".zattrs").read_text())
    attributes["omero"] = {
        "name": "6001240 (synthetic stand-in)",
        "version": "0.4",
        "channels": [
            {"label": label, "color": color, "active": True,
             "window": {"min": 0, "max": 65535, "start": 0, "end": 1500}}
            for label, color in IDR_CHANNELS
        ],
        "rdefs": {"defaultZ": IDR_SHAPE[1] // 2, "model": "color"},
    }
    (path / ".zattrs").write_text(json.dumps(attributes, indent=2))


def aind_smartspim() -> StandIn:
    """The AIND SmartSPIM stand-in (see the module docstring); ``bucket`` and ``key`` as on S3."""
    real = urlsplit(data.REGISTRY["aind-smartspim-ome-zarr"].s3_url)
    standin = StandIn(
        name="aind-smartspim-ome-zarr",
        root=standin_dir() / f"aind-smartspim-ome-zarr-g{GENERATION}",
        key=real.path.strip("/"),
        bucket=real.netloc,
    )
    return _cached(standin, _write_aind)


def idr_6001240() -> StandIn:
    """The IDR 6001240 stand-in (see the module docstring); ``key`` is the real URL's path."""
    standin = StandIn(
        name="idr-6001240",
        root=standin_dir() / f"idr-6001240-g{GENERATION}",
        key=urlsplit(data.REGISTRY["idr-6001240"].url).path.strip("/"),
    )
    return _cached(standin, _write_idr)
