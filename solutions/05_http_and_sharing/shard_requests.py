# Each read needs: a) 30 inner chunks (planes) of one shard; b) 2; c) all 2 x 236 of level 1,
# so zarr fetches that whole shard at once. Otherwise: 1 index read + 1 per inner chunk.
shard_requests = {"a": 1 + 30, "b": 1 + 2, "c": 1}

# ---- hidden tests ----
import math as _math


def _inner_per_shard(_array):
    return _math.prod(-(-_s // _c) for _s, _c in zip(_array.shards, _array.chunks))


def _cost(_array, _needed):
    return 1 if _needed == _inner_per_shard(_array) else 1 + _needed


assert shard_requests["a"] == _cost(sharded["0"], 30)
assert shard_requests["b"] == _cost(sharded["2"], sharded["2"].shape[0])
assert shard_requests["c"] == _cost(sharded["1"], sharded["1"].shape[0] * sharded["1"].shape[1])
