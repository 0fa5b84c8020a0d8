with tifffile.imread(image_path, aszarr=True) as region_store:
    tiff_region = zarr.open_array(region_store, mode="r")[1000:1200, 300:700]

# ---- hidden tests ----
import numpy as _np
import tifffile as _tifffile

_truth = _tifffile.imread(image_path)[1000:1200, 300:700]
assert isinstance(tiff_region, _np.ndarray), "tiff_region should hold the pixels as a numpy array"
assert tiff_region.shape == (200, 400)
assert tiff_region.dtype == _truth.dtype
assert _np.array_equal(tiff_region, _truth)
