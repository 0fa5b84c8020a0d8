with s3.measure() as cost:
    fresh = zarr.open_group(s3.zarr_store("volume.ome.zarr", read_only=True), mode="r")
    fresh_datasets = fresh.attrs["ome"]["multiscales"][0]["datasets"]
    shapes = [fresh[dataset["path"]].shape for dataset in fresh_datasets]
metadata_only = {"metadata_bytes": cost.bytes, "total_bytes": summary.total_bytes, "answer": "B"}

# ---- hidden tests ----
fs.invalidate_cache()
_objects = fs.find(volume_url, detail=True)
_total = sum(_info["size"] for _info in _objects.values())
_metadata = sum(_info["size"] for _name, _info in _objects.items() if _name.endswith("zarr.json"))
assert metadata_only["total_bytes"] == _total
assert 0 < metadata_only["metadata_bytes"] <= _metadata + 4096, "only metadata documents (and small 404 bodies)"
assert metadata_only["metadata_bytes"] < _total / 100
assert str(metadata_only["answer"]).strip().upper() == "B"
