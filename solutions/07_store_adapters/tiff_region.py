with tifffile.imread(image_path, aszarr=True) as region_store:
    tiff_region = zarr.open_array(region_store, mode="r")[1000:1200, 300:700]

# Zarr reads whole chunks, and each chunk of this adapter is a whole strip (or tile):
# add up the byte counts of the strips that rows 1000-1199 fall in.
rows_per_strip = layout.chunk_shape[0]
strips = range(1000 // rows_per_strip, 1199 // rows_per_strip + 1)
region_bytes = sum(layout.byte_counts[i] for i in strips)

# ---- hidden tests ----
import numpy as _np
import tifffile as _tifffile

_truth = _tifffile.imread(image_path)[1000:1200, 300:700]
assert isinstance(tiff_region, _np.ndarray), "tiff_region should hold the pixels as a numpy array"
assert tiff_region.shape == (200, 400)
assert tiff_region.dtype == _truth.dtype
assert _np.array_equal(tiff_region, _truth)
with _tifffile.TiffFile(image_path) as _tif:
    _page = _tif.pages.first
    _counts = list(_page.databytecounts)
    if _page.is_tiled:
        _th, _tw = _page.tilelength, _page.tilewidth
        _per_row = -(-_page.shape[1] // _tw)
        _read = [i * _per_row + j for i in range(1000 // _th, 1199 // _th + 1) for j in range(300 // _tw, 699 // _tw + 1)]
    else:
        _rps = min(_page.rowsperstrip, _page.shape[0])
        _read = list(range(1000 // _rps, 1199 // _rps + 1))
assert int(region_bytes) == sum(_counts[i] for i in _read), "the adapter reads whole strips or tiles"
