# z: the view spans all 64 planes, so one chunk must hold all of them: 64.
# y: rows 64-191 must fall in one chunk; within a height of 256 only 256 works (64 // c == 191 // c).
# x: what is left of 65,536 pixels: 65536 // (64 * 256) = 4.
design_chunks = (64, 256, 65536 // (64 * 256))

# ---- hidden tests ----
_z, _y, _x = (int(n) for n in design_chunks)
assert _z * _y * _x == 65536, "a chunk of exactly 65,536 pixels"
assert _z <= 64 and _y <= 256 and _x <= 256, "no side larger than the volume"
assert 63 // _z == 0 and 64 // _y == 191 // _y, "the view must fall in one chunk along z and y"
