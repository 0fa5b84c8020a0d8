"""Does the synthetic stand-in compress like real light-sheet pixels?

    python bench/bench_standin.py                 # the stand-in, next to the reference figures
    python bench/bench_standin.py real.png ...    # also any real 2-D uint16 image (PNG or TIFF)

For each image: the compression ratio (raw bytes over encoded bytes, summed
over every whole 256 x 256 chunk, as Zarr would store them) of the codecs the
lessons compare, and for the stand-in the time :func:`course_utils.data.synthetic_image`
takes for 1600 x 2000 pixels (best of 3; the figure depends on the machine's load).
The reference row is :data:`course_utils.data.SMARTSPIM_REFERENCE_RATIOS`: a raw
SmartSPIM tile from AIND's public repository (its docstring says which). To
measure that tile yourself, take ``000000.png`` from
AllenNeuralDynamics/aind-smartspim-data-transformation and pass its path.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numcodecs
import numpy as np
from rich.console import Console
from rich.table import Table

from course_utils import data

CHUNK = 256
CODECS = {
    "blosc zstd (level 5, shuffle)": numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE),
    "zstd (level 0, zarr-python 3 default)": numcodecs.Zstd(level=0),
    "zlib (level 5)": numcodecs.Zlib(level=5),
    "blosc lz4 (level 5, shuffle)": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE),
    "blosc lz4 (level 5, no shuffle)": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.NOSHUFFLE),
}


def chunk_ratios(image: np.ndarray, chunk: int = CHUNK) -> dict[str, float]:
    """Ratio of each codec over every whole ``chunk`` x ``chunk`` chunk of a 2-D ``image``."""
    rows, columns = (n // chunk * chunk for n in image.shape)
    chunks = [
        np.ascontiguousarray(image[i : i + chunk, j : j + chunk])
        for i in range(0, rows, chunk)
        for j in range(0, columns, chunk)
    ]
    raw = sum(c.nbytes for c in chunks)
    return {name: raw / sum(len(codec.encode(c)) for c in chunks) for name, codec in CODECS.items()}


def _read(path: Path) -> np.ndarray:
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        return tifffile.imread(path)
    from PIL import Image

    return np.asarray(Image.open(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", type=Path, help="real 2-D images to measure too")
    args = parser.parse_args()

    timings = []
    for _ in range(3):
        start = time.perf_counter()
        standin = data.synthetic_image((1600, 2000), "uint16")
        timings.append(time.perf_counter() - start)
    rows = {f"stand-in, generation {data.SYNTHETIC_GENERATION}": chunk_ratios(standin)}
    rows["real SmartSPIM tile (reference)"] = dict(data.SMARTSPIM_REFERENCE_RATIOS)
    for path in args.images:
        rows[path.name] = chunk_ratios(_read(path))

    table = Table(title=f"Compression ratio, {CHUNK} x {CHUNK} chunks of uint16")
    table.add_column("image")
    for name in CODECS:
        table.add_column(name, justify="right")
    for label, ratios in rows.items():
        table.add_row(label, *(f"{ratios[name]:.2f}" for name in CODECS))
    console = Console()
    console.print(table)
    console.print(
        f"synthetic_image((1600, 2000)): best of 3 {min(timings):.2f} s; "
        f"values {standin.min()}..{standin.max()}, median {int(np.median(standin))}"
    )


if __name__ == "__main__":
    main()
