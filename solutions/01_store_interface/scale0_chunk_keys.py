scale0_chunk_keys = math.prod(math.ceil(size / chunk) for size, chunk in zip(image.shape, (256, 256)))
# The object reaches from chunk start // chunk to chunk (stop - 1) // chunk along each axis;
# every other chunk holds only the fill value and is not stored.
label_chunk_keys = math.prod(
    (box.stop - 1) // chunk - box.start // chunk + 1 for box, chunk in zip(OBJECT_BOX, LABEL_CHUNKS)
)

# ---- hidden tests ----
assert scale0_chunk_keys == 7 * 8, "ceil(1600 / 256) * ceil(2000 / 256) = 7 * 8"
assert label_chunk_keys == 5 * 6, "rows 500-1299 reach chunk rows 1-5, columns 700-1899 chunk columns 2-7"
