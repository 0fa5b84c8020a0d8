import math

zoom, (width, height), (cy, cx) = 3.0, (1000, 800), (5200, 2700)
level = min(range(len(slide_levels)), key=lambda k: abs(2**k - 1.1 * zoom))
side = 512 * 2**level  # a chunk of that level, in level-0 pixels
rows = math.ceil((cy + height * zoom / 2) / side) - math.floor((cy - height * zoom / 2) / side)
cols = math.ceil((cx + width * zoom / 2) / side) - math.floor((cx - width * zoom / 2) / side)
zoom_chunks = {"level": level, "chunks": rows * cols}

# ---- hidden tests ----
assert isinstance(zoom_chunks, dict) and set(zoom_chunks) == {"level", "chunks"}
assert zoom_chunks["level"] == 2
assert zoom_chunks["chunks"] == 9
