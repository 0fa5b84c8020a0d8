side_requests = math.ceil(chunked.shape[0] / chunked.chunks[0]) * math.ceil(chunked.shape[2] / chunked.chunks[2])
latency = 0.050  # seconds
xz_seconds = {
    "one_at_a_time": side_requests * latency,
    "three_at_a_time": math.ceil(side_requests / 3) * latency,
}

# ---- hidden tests ----
_n = -(-chunked.shape[0] // chunked.chunks[0]) * -(-chunked.shape[2] // chunked.chunks[2])
assert abs(float(xz_seconds["one_at_a_time"]) - _n * 0.05) <= 0.02 * _n * 0.05
assert abs(float(xz_seconds["three_at_a_time"]) - -(-_n // 3) * 0.05) <= 0.02 * -(-_n // 3) * 0.05
