rows = 40
band = 1234 // rows
band_range = {
    "key": f"{band}.0",
    "offset": layout.offsets[0] + band * rows * row_bytes,
    "length": rows * row_bytes,
}

# ---- hidden tests ----
assert band_range["key"] == "30.0", "row 1234 is in band 1234 // 40 = 30"
assert int(band_range["length"]) == 40 * layout.shape[1] * layout.dtype.itemsize
assert int(band_range["offset"]) == layout.offsets[0] + 30 * 40 * layout.shape[1] * layout.dtype.itemsize
