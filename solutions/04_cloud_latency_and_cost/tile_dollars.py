tile_dollars = {}
for name in ("chunks", "planes"):
    with s3.measure() as tile_cost:
        arrays[name][5, 32:160, 32:160]
    one_view = (tile_cost.by_method()["GET"] * prices.get_per_1000 / 1000
                + tile_cost.bytes / 2**30 * prices.egress_per_gb)
    tile_dollars[name] = one_view * 1_000_000

# ---- hidden tests ----
# The objects the tile needs, read whole: 3 x 3 chunks of 64 x 64, or the one chunk of plane 5.
_objects = {
    "chunks": [f"course/chunks.zarr/c/5/{_i}/{_j}" for _i in range(3) for _j in range(3)],
    "planes": ["course/planes.zarr/c/5/0/0"],
}
for _name, _keys in _objects.items():
    _bytes = sum(fs.size(_key) for _key in _keys)
    _expected = 1e6 * (len(_keys) * prices.get_per_1000 / 1000 + _bytes / 2**30 * prices.egress_per_gb)
    assert abs(float(tile_dollars[_name]) - _expected) <= 0.02 * _expected, (_name, tile_dollars[_name], _expected)
