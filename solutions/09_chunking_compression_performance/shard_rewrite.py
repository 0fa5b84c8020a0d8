# An object cannot be edited in place: the whole shard is uploaded again.
# Pixels: 32 x 128 x 128 uint16; index: 16 bytes (offset, length) per inner chunk, plus a 4-byte CRC32C.
inner_chunks = (32 // 16) * (128 // 64) * (128 // 64)
shard_rewrite = 32 * 128 * 128 * 2 + 16 * inner_chunks + 4

# ---- hidden tests ----
assert int(shard_rewrite) in (32 * 128 * 128 * 2, 32 * 128 * 128 * 2 + 8 * 16 + 4), "the whole 1 MiB shard, with or without its index"
