scale0 = scales[0]
xz_plane_requests = math.ceil(scale0.shape[0] / scale0.chunks[0]) * math.ceil(scale0.shape[2] / scale0.chunks[2])

# ---- hidden tests ----
import json as _json

_meta = _json.loads(fs.cat(f"{volume_url}/{datasets[0]['path']}/zarr.json"))
_shape, _chunk = _meta["shape"], _meta["chunk_grid"]["configuration"]["chunk_shape"]
assert xz_plane_requests == -(-_shape[0] // _chunk[0]) * -(-_shape[2] // _chunk[2])
