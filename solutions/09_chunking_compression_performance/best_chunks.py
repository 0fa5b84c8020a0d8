best_chunks = min(candidates, key=lambda chunks: chunks_touched(volume.shape, chunks, exercise_view))

# ---- hidden tests ----
assert tuple(int(n) for n in best_chunks) == (64, 256, 4), (
    "(64, 256, 4) spans all of z and y and is 4 wide in x: the view fits in 1 chunk"
)
