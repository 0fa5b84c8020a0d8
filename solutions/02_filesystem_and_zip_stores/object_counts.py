def files(shape, block):
    # one file per block of the grid (edge blocks count whole), plus the array's zarr.json
    return math.prod(math.ceil(size / edge) for size, edge in zip(shape, block)) + 1


object_counts = {"unsharded": files(big_shape, CHUNK_SHAPE), "sharded": files(big_shape, SHARD_SHAPE)}

# ---- hidden tests ----
assert object_counts["unsharded"] == 1024 * 13 * 16 + 1, "ceil(1600 / 128) = 13, ceil(2000 / 128) = 16"
assert object_counts["sharded"] == 512 * 4 * 4 + 1, "ceil(1024 / 2) = 512, ceil(1600 / 512) = ceil(2000 / 512) = 4"
