# Storage: 28.8 TB / ratio <= 18 TB needs a ratio of at least 1.6 (rules out A and D).
# Speed: 16 cores x speed per core >= 1 GB/s needs at least 0.0625 GB/s per core (rules out C).
codec_choice = "B"

# ---- hidden tests ----
assert str(codec_choice).strip().upper() == "B", "only Blosc-Zstandard fits 18 TB (15.1 TB) and keeps up (4 GB/s on 16 cores)"
