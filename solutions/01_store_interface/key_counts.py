metadata_keys = [key for key in keys_v05 if key.endswith("zarr.json")]
key_counts = {
    "total": len(keys_v05),
    "metadata": len(metadata_keys),
    "chunks": len(keys_v05) - len(metadata_keys),
}

# ---- hidden tests ----
_names = [k.rsplit("/", 1)[-1] for k in keys_v05]
assert key_counts["total"] == len(keys_v05)
assert key_counts["metadata"] == _names.count("zarr.json")
assert key_counts["chunks"] == len([n for n in _names if n != "zarr.json"])
