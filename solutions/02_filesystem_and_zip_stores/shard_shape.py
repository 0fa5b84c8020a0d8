shard_shape = (32, 512, 512)

# ---- hidden tests ----
_shards = tuple(int(n) for n in shard_shape)
assert len(_shards) == len(big_shape) == len(CHUNK_SHAPE)
assert all(h > 0 and h % c == 0 for h, c in zip(_shards, CHUNK_SHAPE)), "whole chunks per shard"
_n_shards = 1
for _size, _shard in zip(big_shape, _shards):
    _n_shards *= -(-_size // _shard)
assert _n_shards <= MAX_SHARDS, _n_shards
_shard_bytes = 2
for _shard in _shards:
    _shard_bytes *= _shard
assert _shard_bytes <= MAX_SHARD_MIB * 2**20, _shard_bytes
# zarr itself accepts the shard shape (metadata only, no pixels are written)
_array = zarr.create_array(
    zarr.storage.MemoryStore(), shape=big_shape, chunks=CHUNK_SHAPE, shards=_shards, dtype="uint16"
)
assert _array.shards == _shards
