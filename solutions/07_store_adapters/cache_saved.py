# Chunk rows and columns each view touches (chunks are 256 x 256):
# view:        rows 200-699 -> chunk rows 0-2, columns 300-899  -> chunk columns 1-3
# panned_view: rows 200-699 -> chunk rows 0-2, columns 556-1155 -> chunk columns 2-4
# The first look fills the cache; the second finds the chunks both views share.
cache_saved = 3 * 2

# ---- hidden tests ----
assert int(cache_saved) == 6, "the views share chunk rows 0-2 and chunk columns 2-3: 3 x 2 chunks"
