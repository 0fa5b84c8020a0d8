# Rows 0-255 are one row of 256 x 256 chunks: 2000 / 256 -> 8 chunks.
# Icechunk stores every chunk a session writes as a new object; a CID depends only on the bytes.
same_bytes = {"icechunk": 8, "content_addressed": 0}

# ---- hidden tests ----
assert int(same_bytes["icechunk"]) == 8, "Icechunk writes a new object for each of the 8 chunks, bytes unchanged or not"
assert int(same_bytes["content_addressed"]) == 0, "the same bytes have the same CIDs: nothing new to store"
