# The target pixel is 1.1 x 12.8 = 14.08 level-0 pixels; level k's pixels are 2**k wide.
target = 1.1 * 8192 / 640
first_view_level = min(range(len(slide_levels)), key=lambda k: abs(2**k - target))

# ---- hidden tests ----
assert isinstance(first_view_level, int)
assert first_view_level == 4
