blanked_chunk_rows = 799 // 256 - 700 // 256 + 1
new_chunks = blanked_chunk_rows * math.ceil(tiff.shape[1] / 256)

# ---- hidden tests ----
assert new_chunks == 2 * 8, "rows 700-799 fall in chunk rows 2 (512-767) and 3 (768-1023); 2000 / 256 -> 8 columns"
