# zarr-python 3's defaults (bytes, then zstd level 0) are what zarr.create_array uses when no codec is named:
# store the image that way in a dict of our own, and add up the chunk objects.
stored = {}
zarr.create_array(zarr.storage.MemoryStore(stored), data=image, chunks=(256, 256))
default_bytes = sum(len(value.to_bytes()) for key, value in stored.items() if key.startswith("c/"))

# ---- hidden tests ----
import numcodecs as _numcodecs
import numpy as _np

_total = 0
for _i in range(0, image.shape[0], 256):
    for _j in range(0, image.shape[1], 256):
        _chunk = _np.zeros((256, 256), image.dtype)  # edge chunks are padded to the full chunk shape
        _part = image[_i:_i + 256, _j:_j + 256]
        _chunk[: _part.shape[0], : _part.shape[1]] = _part
        _total += len(_numcodecs.Zstd(level=0).encode(_chunk))
assert abs(int(default_bytes) - _total) <= 0.01 * _total, "zstd level 0 on each 256 x 256 chunk, no Blosc, no shuffle"
