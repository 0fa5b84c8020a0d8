# Every row, columns 1000-1099, in 256 x 256 chunks:
chunk_rows = -(-image.shape[0] // 256)  # 1600 rows -> 7 rows of chunks (the last one partial)
chunk_columns = 1099 // 256 - 1000 // 256 + 1  # columns 1000 and 1099 fall in chunk columns 3 and 4
new_chunks = chunk_rows * chunk_columns

# ---- hidden tests ----
assert int(new_chunks) == 7 * 2, "all 7 rows of chunks (1600 / 256 = 6.25) x chunk columns 3 and 4"
