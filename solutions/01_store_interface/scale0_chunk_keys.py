full_resolution = multiscales.images[0].data
scale0_chunk_keys = math.prod(
    math.ceil(size / chunk) for size, chunk in zip(full_resolution.shape, (256, 256))
)

# ---- hidden tests ----
assert scale0_chunk_keys == 7 * 8, "ceil(1600 / 256) * ceil(2000 / 256) = 7 * 8"
