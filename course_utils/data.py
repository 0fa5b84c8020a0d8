"""The course's datasets: where they live, and how to get them, online or not.

:data:`REGISTRY` names every public dataset the lessons use. :func:`fetch`
downloads a file dataset once with `pooch <https://www.fatiando.org/pooch>`_,
checks its SHA256 and caches it; offline (``COURSE_OFFLINE=1``, or the host
cannot be reached) it returns a synthetic stand-in of the same shape and
dtype instead, and says so in one line. The OME-Zarr entries are read in
place from their URLs by the lessons; they are never downloaded whole.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import numpy as np
import pooch
import requests
import tifffile

from course_utils import mode

CACHE_VARIABLE = "COURSE_DATA_DIR"
"""Environment variable that moves the download cache."""

DOWNLOAD_TIMEOUT_SECONDS: tuple[float, float] = (10.0, 30.0)
"""(connect, read) timeouts of every download, so a dead host never hangs."""

SYNTHETIC_PREFIX = "synthetic-"
"""File-name prefix of the synthetic stand-ins in the cache."""


class DataError(RuntimeError):
    """A dataset could not be used as downloaded (wrong checksum, HTTP error)."""


class UnknownDatasetError(KeyError):
    """A dataset name that is not in :data:`REGISTRY`."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Dataset:
    """One public dataset of the course.

    ``url`` is the HTTPS address (a file for ``kind="tiff"``, the root of the
    store for ``kind="ome-zarr"``). ``shape`` and ``dtype`` describe the
    image (scale 0 for OME-Zarr; ``None`` when not pinned). ``sha256`` and
    ``fname`` are for file datasets. ``s3_url`` and ``s3_region`` give the
    same OME-Zarr through S3, read anonymously.
    """

    name: str
    url: str
    kind: Literal["tiff", "ome-zarr"]
    description: str
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    sha256: str | None = None
    fname: str | None = None
    axes: str | None = None
    n_scales: int | None = None
    s3_url: str | None = None
    s3_region: str | None = None

    @property
    def storage_options(self) -> dict:
        """fsspec/s3fs options to read ``s3_url`` anonymously (empty if none)."""
        if self.s3_url is None:
            return {}
        options: dict = {"anon": True}
        if self.s3_region:
            options["client_kwargs"] = {"region_name": self.s3_region}
        return options


class _Registry(dict):
    """A dict whose unknown keys raise a KeyError listing the known names."""

    def __missing__(self, name):
        known = ", ".join(sorted(self))
        raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: {known}")


_AIND_KEY = (
    "SmartSPIM_631680_2022-09-09_13-52-33_stitched_2022-11-10_17-18-18"
    "/processed/OMEZarr/Ex_647_Em_690.zarr"
)

REGISTRY: dict[str, Dataset] = _Registry(
    {
        dataset.name: dataset
        for dataset in (
            Dataset(
                name="smartspim-mip",
                url=(
                    "https://s3.us-west-2.amazonaws.com/aind-open-data/"
                    "SmartSPIM_614952_2023-03-07_15-39-19/derivatives/"
                    "Ex_445_Em_469_MIP/442060/442060_177040/040000.tiff"
                ),
                kind="tiff",
                description=(
                    "SmartSPIM light-sheet maximum-intensity projection, one "
                    "2-D uint16 TIFF tile (AIND open data)."
                ),
                shape=(1600, 2000),
                dtype="uint16",
                sha256="529bc0c4e5de8fe3386f0be0a7f88c3a59ee10dff8ea7605b0f7ccd0780ea78e",
                fname="040000.tiff",
                axes="yx",
            ),
            Dataset(
                name="aind-smartspim-ome-zarr",
                url=f"https://s3.us-west-2.amazonaws.com/aind-open-data/{_AIND_KEY}",
                kind="ome-zarr",
                description=(
                    "AIND stitched SmartSPIM whole-brain OME-Zarr (Ex 647 / Em 690), "
                    "5 scales of (t, c, z, y, x), public S3 bucket aind-open-data."
                ),
                axes="tczyx",
                n_scales=5,
                s3_url=f"s3://aind-open-data/{_AIND_KEY}",
                s3_region="us-west-2",
            ),
            Dataset(
                name="idr-6001240",
                url="https://uk1s3.embassy.ebi.ac.uk/idr/zarr/v0.4/idr0062A/6001240.zarr",
                kind="ome-zarr",
                description=(
                    "IDR image 6001240 (idr0062A, LaminB1 and Dapi) as OME-Zarr 0.4 "
                    "(Zarr v2) over HTTPS: arrays 0, 1, 2 at the root, scale 0 "
                    "(c, z, y, x) = (2, 236, 275, 271), one object per plane of a "
                    "channel (blosc-lz4), no consolidated metadata."
                ),
                shape=(2, 236, 275, 271),
                dtype="uint16",
                axes="czyx",
                n_scales=3,
            ),
            Dataset(
                name="idr-6001240-sharded",
                url=(
                    "https://uk1s3.embassy.ebi.ac.uk/idr/share/"
                    "ome2024-ngff-challenge/0.0.5/6001240.zarr"
                ),
                kind="ome-zarr",
                description=(
                    "The same IDR image 6001240 as sharded OME-Zarr 0.5 (Zarr v3), "
                    "converted by the 2024 OME-NGFF challenge: one shard object per "
                    "level holding the whole array, one plane per inner chunk "
                    "(blosc-zstd), the shard index (CRC32C) at its end."
                ),
                shape=(2, 236, 275, 271),
                dtype="uint16",
                axes="czyx",
                n_scales=3,
            ),
        )
    }
)
"""Every dataset of the course by name; an unknown name raises a KeyError."""


def get_dataset(name_or_dataset: str | Dataset) -> Dataset:
    """The :class:`Dataset` called ``name_or_dataset`` (a Dataset is returned as is)."""
    if isinstance(name_or_dataset, Dataset):
        return name_or_dataset
    return REGISTRY[name_or_dataset]


def cache_dir() -> Path:
    """Where downloads and stand-ins are cached: ``$COURSE_DATA_DIR`` or the OS cache."""
    override = os.environ.get(CACHE_VARIABLE, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(pooch.os_cache("ome-zarr-course"))


# -- synthetic data ----------------------------------------------------------
#
# The stand-in imitates one light-sheet (SmartSPIM) image as a sCMOS camera
# records it: photoelectrons from a dim background and from the sample (its
# autofluorescence, sparse bright cells and fibres), light-sheet stripes,
# shot noise, read noise, then the camera's gain and offset. What matters for
# the lessons is that it *compresses* like such data. Measured (bench/
# bench_standin.py; Blosc-Zstandard level 5 with byte shuffle, 256 x 256
# chunks of the 1600 x 2000 stand-in): about 1.8x, where the generator before
# this one, almost pure noise, gave 1.1x.
#
# The real figure: the course's TIFF (a SmartSPIM maximum-intensity
# projection in the AIND open-data bucket) cannot be reached from the
# machines that build the course, and no compression ratio for it is
# published. AIND writes its SmartSPIM OME-Zarr with Blosc-Zstandard and byte
# shuffle (level 3 in the stitching pipeline of 2022, aind-smartspim-stitch
# ``default_config.yaml``; level 1 in aind-data-transfer's converter). The
# nearest real data that is public are two raw SmartSPIM tiles of 1600 x 2000
# uint16 pixels in AIND's own repository (aind-smartspim-data-transformation,
# ``tests/resources/SmartSPIM_000000_2024-06-05_07-56-54``, channel
# Ex_445_Em_469): Blosc-Zstandard level 5 with shuffle stores their
# 256 x 256 chunks 1.9x smaller, plain Zstandard (zarr-python 3's default)
# 1.7x, Blosc-LZ4 with shuffle 1.45x, without shuffle 1.0x. Those tiles show
# background and light-sheet stripes only (no tissue), which compresses a
# little better than tissue; the stand-in's figures are set to sit just below
# theirs. See :data:`SMARTSPIM_REFERENCE_RATIOS`.

SYNTHETIC_GENERATION = 2
"""Version of :func:`synthetic_image`'s output; part of every cached stand-in's name.

Bump it whenever the generator changes, so no cache hands out an old image.
"""

SMARTSPIM_REFERENCE_RATIOS: dict[str, float] = {
    "blosc zstd (level 5, shuffle)": 1.91,
    "zstd (level 0, zarr-python 3 default)": 1.72,
    "zlib (level 5)": 1.64,
    "blosc lz4 (level 5, shuffle)": 1.45,
    "blosc lz4 (level 5, no shuffle)": 1.04,
}
"""Compression ratios of real SmartSPIM pixels, for comparison with the stand-in.

Raw bytes over encoded bytes, summed over the 42 whole 256 x 256 chunks of
``000000.png`` (1600 x 2000 uint16, one plane of channel Ex_445_Em_469) in
AIND's public test data: AllenNeuralDynamics/aind-smartspim-data-transformation,
``tests/resources/SmartSPIM_000000_2024-06-05_07-56-54/SmartSPIM/Ex_445_Em_469/
432380/432380_504340/000000.png`` (git blob e45276c7). Measured with numcodecs
0.16.6; the second tile of that folder gives the same figures to within 0.01.
"""

#: Camera model of the stand-in (a sCMOS camera such as SmartSPIM's):
CAMERA_OFFSET = 100.0
"""Counts the camera adds to every pixel, so that noise never goes below zero."""
CAMERA_GAIN = 2.2
"""Counts per photoelectron (about 0.46 electrons per count)."""
READ_NOISE = 1.6
"""Read noise, electrons (rms)."""
BACKGROUND_ELECTRONS = 80.0
"""Photoelectrons per pixel outside the sample (scattered light, dark signal)."""
TISSUE_ELECTRONS = 260.0
"""Mean photoelectrons per pixel of the sample's autofluorescence."""


def _bspline_weights(cell: int) -> np.ndarray:
    """The 4 cubic B-spline weights at each of the ``cell`` positions between two knots."""
    t = np.arange(cell, dtype=np.float64) / cell
    return np.stack(
        [(1 - t) ** 3 / 6, (3 * t**3 - 6 * t**2 + 4) / 6, (-3 * t**3 + 3 * t**2 + 3 * t + 1) / 6, t**3 / 6]
    ).astype(np.float32)


def _smooth_noise(shape: tuple[int, ...], cell: int, rng: np.random.Generator) -> np.ndarray:
    """Random values on a grid of spacing ``cell``, cubic B-spline smoothed, in [0, 1].

    Along each axis, every run of ``cell`` output values is one small matrix
    product of 4 neighbouring knots with the spline weights.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    field = rng.random(tuple(n // cell + 4 for n in shape), dtype=np.float32)
    weights = _bspline_weights(cell)
    for axis, n in enumerate(shape):
        moved = np.moveaxis(field, axis, -1)
        windows = sliding_window_view(moved, 4, axis=-1)[..., : (n - 1) // cell + 1, :]
        values = np.matmul(windows.reshape(-1, 4), weights)
        field = np.moveaxis(values.reshape(moved.shape[:-1] + (-1,))[..., :n], -1, axis)
    return np.ascontiguousarray(field)


def _standardised(field: np.ndarray) -> np.ndarray:
    """``field`` shifted and scaled in place to mean 0 and standard deviation 1.

    The mean and deviation come from every 13th value: a smooth field varies
    slowly, and the sample is the same for the same field.
    """
    sample = field.reshape(-1)[::13].astype(np.float64)
    field -= np.float32(sample.mean())
    field /= np.float32(max(float(sample.std()), 1e-12))
    return field


def _spots(
    shape: tuple[int, ...],
    axes: list[int],
    points: np.ndarray,
    peaks: np.ndarray,
    sigma: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices and values of Gaussian spots (``sigma`` pixels) at ``points`` on ``axes``.

    Axes not in ``axes`` (a channel axis, say) get one random index per spot.
    Parts of a spot outside the array are dropped.
    """
    radius = max(1, int(np.ceil((2.5 if len(axes) < 3 else 2.0) * sigma)))
    grids = np.meshgrid(*[np.arange(-radius, radius + 1)] * len(axes), indexing="ij")
    offsets = np.stack([g.ravel() for g in grids], axis=1)
    base = np.floor(points).astype(np.intp)
    coords = base[:, None, :] + offsets[None, :, :]
    distance2 = ((offsets[None, :, :] - (points - base)[:, None, :]) ** 2).sum(axis=-1)
    values = (peaks[:, None] * np.exp(distance2 / (-2.0 * sigma**2))).astype(np.float32)
    extent = np.array([shape[a] for a in axes])
    keep = np.all((coords >= 0) & (coords < extent), axis=-1)
    index = []
    for axis, n in enumerate(shape):
        if axis in axes:
            index.append(coords[..., axes.index(axis)][keep])
        else:
            per_spot = rng.integers(0, n, len(points))
            index.append(np.broadcast_to(per_spot[:, None], keep.shape)[keep])
    return np.ravel_multi_index(tuple(index), shape), values[keep]


def synthetic_image(
    shape: tuple[int, ...], dtype: str | np.dtype = "uint16", seed: int = 0
) -> np.ndarray:
    """A deterministic stand-in for a light-sheet image: ``shape``, ``dtype``, the same for the same arguments.

    It is built the way a sCMOS camera records a cleared sample: a dim
    background of :data:`BACKGROUND_ELECTRONS` photoelectrons; a large
    soft-edged sample region with textured autofluorescence; sparse bright
    cells (Gaussian spots) and fibres (meandering curves) inside it; stripes
    across the light sheet; shot noise with Poisson statistics (as its normal
    approximation, exact to well under a count at these signals) and read
    noise; then :data:`CAMERA_GAIN` and :data:`CAMERA_OFFSET`. Axes of 8
    pixels or more are spatial; a shorter axis (channels) gets different
    spots at each index. A uint16 image has its background near 280 counts,
    the sample at a few hundred to a few thousand, the brightest spots above
    10,000, and compresses like real SmartSPIM pixels (see the module notes
    and :data:`SMARTSPIM_REFERENCE_RATIOS`).

    Other dtypes get the same image scaled by ``dtype max / 65535`` (floats:
    divided by 65535).

    Guarantee, which lessons that count chunk keys rely on: every value is at
    least 1 (uint16: the offset keeps every pixel near 100 or above), so no
    chunk of any shape is entirely the fill value 0, and Zarr stores every
    chunk. 1600 x 2000 takes a fraction of a second.
    """
    shape = tuple(int(n) for n in shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"shape must have at least one axis, all >= 1, got {shape}")
    dtype = np.dtype(dtype)
    if dtype.kind not in "uif":
        raise TypeError(f"synthetic_image supports integer and float dtypes, not {dtype}")

    rng = np.random.default_rng(seed)
    axes = [axis for axis, n in enumerate(shape) if n >= 8] or [int(np.argmax(shape))]
    extent = np.array([shape[a] for a in axes], dtype=np.float64)
    pixels = int(np.prod(extent))
    thin = 16 ** max(0, len(axes) - 2)  # structures per pixel: a 3-D stack holds thinner ones per plane

    # The sample: about 60 % of the field, with a soft edge, and its autofluorescence.
    inside = _standardised(_smooth_noise(shape, 320, rng))
    inside += 0.4
    inside /= 0.6
    np.clip(inside, 0.0, 1.0, out=inside)
    inside *= inside * (3.0 - 2.0 * inside)
    electrons = _standardised(_smooth_noise(shape, 24, rng))
    electrons *= 0.3 * TISSUE_ELECTRONS
    electrons += TISSUE_ELECTRONS

    # Cells (three sizes) and fibres, added where the sample is.
    spots = []
    n_cells = max(1, pixels // (2500 * thin))
    for sigma in (1.2, 2.0, 3.0):
        count = n_cells // 3 + 1
        points = rng.random((count, len(axes))) * extent
        spots.append(_spots(shape, axes, points, rng.lognormal(np.log(900.0), 0.6, count), sigma, rng))
    n_fibres, steps = max(1, pixels // (60000 * thin)), 400
    position = rng.random((n_fibres, len(axes))) * extent
    direction = rng.standard_normal((n_fibres, len(axes)))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    trail = np.empty((steps, n_fibres, len(axes)))
    for step in range(steps):  # a smooth random walk, one pixel per step
        trail[step] = position
        direction += 0.12 * rng.standard_normal(direction.shape)
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        position = position + direction
    brightness = np.broadcast_to(rng.lognormal(np.log(300.0), 0.5, n_fibres), (steps, n_fibres))
    spots.append(_spots(shape, axes, trail.reshape(-1, len(axes)), brightness.ravel(), 1.0, rng))
    index = np.concatenate([s[0] for s in spots])
    values = np.concatenate([s[1] for s in spots])
    electrons += np.bincount(index, values, minlength=electrons.size).reshape(shape).astype(np.float32)
    electrons *= inside
    electrons += BACKGROUND_ELECTRONS

    if len(axes) >= 2:  # the light sheet's stripes: they run along the last spatial axis
        stripes_shape = tuple(1 if axis == axes[-1] else n for axis, n in enumerate(shape))
        stripes = _standardised(_smooth_noise(stripes_shape, 5, rng))
        stripes *= 0.06
        stripes += 1.0
        electrons *= stripes
    np.clip(electrons, 0.0, None, out=electrons)

    # Shot noise (variance = signal) and read noise, then the camera's gain and offset.
    noise = rng.standard_normal(shape, dtype=np.float32)
    noise *= np.sqrt(electrons + np.float32(READ_NOISE**2))
    electrons += noise
    electrons *= np.float32(CAMERA_GAIN)
    electrons += np.float32(CAMERA_OFFSET)
    np.rint(electrons, out=electrons)
    np.clip(electrons, 1.0, 65534.0, out=electrons)
    counts = electrons

    if dtype == np.uint16:
        return counts.astype(np.uint16)
    if dtype.kind == "f":
        return (counts / 65535.0).astype(dtype)
    top = float(np.iinfo(dtype).max)
    scaled = np.rint(counts * (top / 65535.0))
    np.clip(scaled, 1.0, top, out=scaled)
    return scaled.astype(dtype)


def _synthetic_path(dataset: Dataset) -> Path:
    """Where the stand-in for ``dataset`` is cached: never the real file's name, and
    named by :data:`SYNTHETIC_GENERATION`, so a stand-in from an older generator is
    never reused."""
    fname = dataset.fname or f"{dataset.name}.tiff"
    return cache_dir() / f"{SYNTHETIC_PREFIX}g{SYNTHETIC_GENERATION}-{fname}"


def _synthetic_file(dataset: Dataset) -> Path:
    """The stand-in TIFF for ``dataset``, written once (again if missing or unreadable)."""
    if dataset.shape is None or dataset.dtype is None:
        raise ValueError(f"dataset {dataset.name!r} has no shape/dtype for a stand-in")
    path = _synthetic_path(dataset)
    try:
        existing = tifffile.imread(path)
        if existing.shape == tuple(dataset.shape) and existing.dtype == np.dtype(dataset.dtype):
            return path
    except Exception:  # missing, truncated or not a TIFF: write it again
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        tifffile.imwrite(
            tmp,
            synthetic_image(dataset.shape, dataset.dtype),
            metadata={"synthetic": True, "stand_in_for": dataset.url},
        )
        os.replace(tmp, path)  # atomic: readers never see a half-written file
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _use_synthetic(dataset: Dataset, reason: str) -> Path:
    """Return the stand-in for ``dataset`` and say so in exactly one stdout line."""
    path = _synthetic_file(dataset)
    print(f"Using SYNTHETIC stand-in data for {dataset.name!r} ({reason}): {path}")
    return path


# -- downloading -------------------------------------------------------------


class _RichProgressBar:
    """A rich progress bar with the interface pooch expects (total/update/reset/close).

    It draws nothing until the first update, so a cache hit (or a failed
    connection) prints nothing. It writes to stdout, never stderr.
    """

    def __init__(self, description: str):
        self._description = description
        self._total: int | None = None
        self._progress = None
        self._task = None

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = int(value) or None  # pooch sets 0 when the size is unknown
        if self._progress is not None:
            self._progress.update(self._task, total=self._total)

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        console = Console(file=sys.stdout)
        if console.is_jupyter:
            try:
                import ipywidgets  # noqa: F401  (rich's live display in Jupyter needs it)
            except ImportError:  # rich would warn on stderr; draw plain text instead
                console = Console(file=sys.stdout, force_jupyter=False)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self._progress.start()
        self._task = self._progress.add_task(self._description, total=self._total)

    def update(self, n: int) -> None:
        if self._progress is None:
            self._start()
        completed = self._progress.tasks[0].completed + n
        if self._total is not None:  # pooch counts whole chunks: it overshoots
            completed = min(completed, self._total)
        self._progress.update(self._task, completed=completed)

    def reset(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=0)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    """Silence pooch's logger, which writes every message to stderr."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


_NETWORK_ERRORS = (
    requests.exceptions.ConnectionError,  # refused, DNS failure, SSL, connect timeout
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,  # connection lost mid-download
)


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def fetch(name_or_dataset: str | Dataset, *, offline: bool | None = None) -> Path:
    """Local path of a file dataset: downloaded once and checked, or a stand-in.

    Offline (``offline=True``, or ``offline=None`` and ``COURSE_OFFLINE`` set)
    it returns a synthetic TIFF of the same shape and dtype. Online it
    downloads into :func:`cache_dir` and checks the SHA256; a cached copy that
    no longer matches is downloaded again. If the host cannot be reached it
    falls back to the stand-in. Both fallbacks print one line to stdout.

    Raises :class:`DataError` if the download's checksum is wrong or the
    server answers with an error; nothing is left in the cache then.
    """
    dataset = get_dataset(name_or_dataset)
    if dataset.kind != "tiff" or not dataset.fname:
        raise ValueError(
            f"{dataset.name!r} is an {dataset.kind} store, not a file: "
            f"read it in place from its URL ({dataset.url})"
        )
    if offline is True:
        return _use_synthetic(dataset, "offline=True was passed")
    if offline is None and mode.offline_requested():
        return _use_synthetic(dataset, f"{mode.OFFLINE_VARIABLE} is set")

    directory = cache_dir()
    target = directory / dataset.fname
    progress = _RichProgressBar(f"Downloading {dataset.fname}")
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=DOWNLOAD_TIMEOUT_SECONDS)
    known_hash = f"sha256:{dataset.sha256}" if dataset.sha256 else None
    retry = f"Run the cell again to retry, or set {mode.OFFLINE_VARIABLE}=1 to use synthetic data."
    try:
        try:
            with _quiet_pooch():
                path = pooch.retrieve(
                    dataset.url,
                    known_hash=known_hash,
                    fname=dataset.fname,
                    path=directory,
                    downloader=downloader,
                )
        finally:
            progress.close()  # before any message, so the bar never swallows it
    except _NETWORK_ERRORS as error:
        return _use_synthetic(
            dataset, f"download from {_host(dataset.url)} failed: {type(error).__name__}"
        )
    except requests.exceptions.HTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        target.unlink(missing_ok=True)  # a cached copy pooch was replacing is stale
        raise DataError(
            f"Downloading {dataset.name!r} failed: {_host(dataset.url)} answered HTTP "
            f"{status}. {retry}"
        ) from None
    except requests.exceptions.RequestException as error:
        target.unlink(missing_ok=True)
        raise DataError(
            f"Downloading {dataset.name!r} failed ({type(error).__name__}). {retry}"
        ) from None
    except ValueError:  # pooch: the downloaded file's hash does not match
        # pooch deletes the download, but keeps an older cached copy it was
        # replacing, which did not match either: remove it too.
        target.unlink(missing_ok=True)
        raise DataError(
            f"The download of {dataset.name!r} is corrupted (its SHA256 checksum does "
            f"not match the course's) and was deleted. {retry}"
        ) from None
    return Path(path)


def load_image(
    name: str | Dataset = "smartspim-mip", *, offline: bool | None = None
) -> np.ndarray:
    """The image of a file dataset as a numpy array (see :func:`fetch`)."""
    return tifffile.imread(fetch(name, offline=offline))
