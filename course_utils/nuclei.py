"""A synthetic confocal stack of cell nuclei, made one plane at a time.

The offline stand-in for IDR image 6001240 (:mod:`course_utils.standins`)
needs 2 x 236 planes of 275 x 271 pixels that look and compress like the real
ones. Synthesising such a stack whole takes over a gigabyte of memory, so
:class:`NucleiStack` draws any plane on its own, deterministically, from a
small description of the scene: flattened ellipsoidal nuclei on the shell of
a spheroid, seen in two channels,

- ``0`` (LaminB1): the nuclear envelope, a bright rim around each nucleus;
- ``1`` (Dapi): the DNA, each nucleus filled and slightly textured;

plus a dim haze of out-of-focus light in the shell, a camera offset and
noise that grows with the signal (shot noise).

The intensities follow the real image, measured on its two published chunks
of plane 117 (see :mod:`course_utils.idr_metadata` for where they are):
background about 9 (LaminB1) and 28 (Dapi) with a spread of 1-2, structures
up to about 1,000-3,000, uint16, and planes far from the centre of the stack
dim. Compressed like the real chunks, a middle plane takes about as many
bytes (blosc-lz4 about 77 kB of 149 kB), and level 0 about as much as the
real shard (blosc-zstd about 23 MiB against 24 MiB).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["NucleiStack", "downsample"]

#: Camera offset, spread of the read noise, and gain of the shot noise, per channel.
_BACKGROUND = ((9.0, 1.0, 8.0), (27.5, 1.5, 8.0))
#: Peak of the out-of-focus haze in the shell, per channel.
_HAZE = (130.0, 170.0)


@dataclass(frozen=True)
class _Nucleus:
    position: np.ndarray  # (z, y, x), micrometres
    axes: np.ndarray  # 3 x 3: rows are the ellipsoid's axes divided by their half-lengths
    reach: np.ndarray  # how far it shows, along (z, y, x), micrometres
    dapi: float
    lamin: float
    phase: np.ndarray


@dataclass
class NucleiStack:
    """A deterministic (channel, z, y, x) uint16 stack of nuclei; :meth:`plane` draws one plane.

    ``shape`` is (2, z, y, x) and ``pixel_size`` the (z, y, x) pixel size in
    micrometres; the same ``seed`` gives the same pixels, plane by plane, in
    any order.
    """

    shape: tuple[int, int, int, int] = (2, 236, 275, 271)
    pixel_size: tuple[float, float, float] = (0.5002025531914894, 0.3603981534640209, 0.3603981534640209)
    seed: int = 6001240
    n_nuclei: int = 90
    _nuclei: list[_Nucleus] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.shape) != 4 or self.shape[0] != 2 or min(self.shape) < 1:
            raise ValueError(f"shape must be (2, z, y, x), got {self.shape}")
        nz, ny, nx = self.shape[1:]
        dz, dy, dx = self.pixel_size
        self._centre = np.array([nz / 2 * dz, ny / 2 * dy * 1.02, nx / 2 * dx * 1.03], dtype=np.float32)
        self._radius = 0.36 * min(ny * dy, nx * dx)
        self._y = (np.arange(ny, dtype=np.float32) * np.float32(dy))[:, None]
        self._x = (np.arange(nx, dtype=np.float32) * np.float32(dx))[None, :]
        self._r2 = (self._y - self._centre[1]) ** 2 + (self._x - self._centre[2]) ** 2
        self._lobes = 0.5 + 0.5 * np.sin(0.09 * self._y + 0.6) * np.cos(0.11 * self._x - 0.4)
        self._nuclei = self._place_nuclei()
        self._noise = [  # one bank per channel; each plane reads its own window of it
            np.random.default_rng([self.seed, channel]).standard_normal(
                ny * nx + 2 * 997 * nz + 1, dtype=np.float32
            )
            for channel in range(2)
        ]

    def _place_nuclei(self) -> list[_Nucleus]:
        """Nuclei on the spheroid's shell, half of them crowded on one side, none overlapping much."""
        rng = np.random.default_rng(self.seed)
        crowd = np.array([0.0, -0.6, 0.8]) / np.hypot(0.6, 0.8)
        scale = self._radius / 36.0  # sizes below are for the real field of view
        nuclei: list[_Nucleus] = []
        for _ in range(20 * self.n_nuclei):
            if len(nuclei) == self.n_nuclei:
                break
            normal = rng.normal(size=3) + (1.4 * crowd if rng.random() < 0.5 else 0.0)
            normal /= np.linalg.norm(normal)
            position = self._centre + normal * self._radius * rng.uniform(0.9, 1.05)
            if any(np.linalg.norm(position - other.position) < 9.5 * scale for other in nuclei):
                continue
            long, wide, flat = rng.uniform(6.0, 8.5), rng.uniform(5.0, 6.5), rng.uniform(2.8, 3.8)
            first = np.cross(normal, [1.0, 0.0, 0.0])
            first /= np.linalg.norm(first)
            second = np.cross(normal, first)
            turn = rng.uniform(0, np.pi)
            along = np.cos(turn) * first + np.sin(turn) * second
            axes = np.stack([along / long, np.cross(normal, along) / wide, normal / flat]) / scale
            reach = 1.5 * np.sqrt(np.diag(np.linalg.inv(axes.T @ axes)))
            nuclei.append(_Nucleus(
                position=position.astype(np.float32), axes=axes.astype(np.float32), reach=reach,
                dapi=rng.uniform(450, 950), lamin=rng.uniform(800, 2400),
                phase=rng.uniform(0, 2 * np.pi, size=4).astype(np.float32),
            ))
        return nuclei

    def plane(self, channel: int, z: int) -> np.ndarray:
        """The (y, x) uint16 plane ``z`` of ``channel`` (0 LaminB1, 1 Dapi)."""
        nz, ny, nx = self.shape[1:]
        if channel not in (0, 1) or not 0 <= z < nz:
            raise IndexError(f"no plane ({channel}, {z}) in a stack of shape {self.shape}")
        dz, dy, dx = self.pixel_size
        depth = np.float32(z * dz)
        radial = np.sqrt(self._r2 + (depth - self._centre[0]) ** 2)
        signal = _HAZE[channel] * np.exp(-(((radial - self._radius) / (self._radius * 0.22)) ** 2)) * self._lobes
        for nucleus in self._nuclei:
            offset = depth - nucleus.position[0]
            if abs(offset) > nucleus.reach[0]:
                continue
            y0 = max(0, int((nucleus.position[1] - nucleus.reach[1]) / dy))
            y1 = min(ny, int((nucleus.position[1] + nucleus.reach[1]) / dy) + 2)
            x0 = max(0, int((nucleus.position[2] - nucleus.reach[2]) / dx))
            x1 = min(nx, int((nucleus.position[2] + nucleus.reach[2]) / dx) + 2)
            if y0 >= y1 or x0 >= x1:
                continue
            yy = self._y[y0:y1] - nucleus.position[1]
            xx = self._x[:, x0:x1] - nucleus.position[2]
            a = nucleus.axes
            r = np.sqrt(sum((a[k, 0] * offset + a[k, 1] * yy + a[k, 2] * xx) ** 2 for k in range(3)))
            p = nucleus.phase
            if channel == 1:  # DNA fills the nucleus
                texture = 1 + 0.12 * np.sin(2.3 * yy + 1.1 * xx + p[0]) + 0.1 * np.sin(1.7 * xx - 2.9 * yy + p[1] + 0.8 * offset)
                value = nucleus.dapi * texture / (1 + np.exp((r - 1.0) * 16))
            else:  # lamin B1 lines the nuclear envelope
                texture = 1 + 0.3 * np.sin(4.1 * yy + p[2]) * np.sin(3.3 * xx + p[3] + offset)
                value = nucleus.lamin * (np.exp(-(((r - 0.96) / 0.08) ** 2)) * texture
                                         + 0.07 / (1 + np.exp((r - 1.0) * 12)))
            signal[y0:y1, x0:x1] += value
        # Shot noise: photon counts are Poisson, about (sqrt(mean) + normal / 2) ** 2 (never
        # negative), times the camera's gain; then the offset and the read noise.
        offset_level, spread, gain = _BACKGROUND[channel]
        bank, size = self._noise[channel], ny * nx
        shot = bank[997 * (2 * z + 1):][:size].reshape(ny, nx)
        read = bank[997 * 2 * z:][:size].reshape(ny, nx)
        pixels = offset_level + spread * read + gain * (np.sqrt(signal / gain) + 0.5 * shot) ** 2
        return np.clip(np.rint(pixels), 1, 65535).astype(np.uint16)


def downsample(plane: np.ndarray) -> np.ndarray:
    """Half the plane in y and x (floor), each pixel the mean of a 2 x 2 block, same dtype."""
    ny, nx = plane.shape[0] // 2, plane.shape[1] // 2
    # Four strided views summed in float32 (exact for 16-bit values), then a quarter of it,
    # rounded: the same numbers as the blocks' mean, several times faster.
    total = plane[0 : 2 * ny : 2, 0 : 2 * nx : 2].astype(np.float32)
    total += plane[1 : 2 * ny : 2, 0 : 2 * nx : 2]
    total += plane[0 : 2 * ny : 2, 1 : 2 * nx : 2]
    total += plane[1 : 2 * ny : 2, 1 : 2 * nx : 2]
    total *= 0.25
    return np.rint(total, out=total).astype(plane.dtype)
