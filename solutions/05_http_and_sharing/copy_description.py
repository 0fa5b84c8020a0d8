copy_group = zarr.open_group(str(copy), mode="r")
copy_multiscale = copy_group.attrs["multiscales"][0]
copy_description = {
    "axes": [axis["name"] for axis in copy_multiscale["axes"]],
    "n_scales": len(copy_multiscale["datasets"]),
    "shapes": [copy_group[dataset["path"]].shape for dataset in copy_multiscale["datasets"]],
}

# ---- hidden tests ----
_multiscale = json.loads((copy / ".zattrs").read_text())["multiscales"][0]
assert list(copy_description["axes"]) == [_axis["name"] for _axis in _multiscale["axes"]]
assert copy_description["n_scales"] == len(_multiscale["datasets"])
assert [tuple(_s) for _s in copy_description["shapes"]] == [
    tuple(json.loads((copy / _d["path"] / ".zarray").read_text())["shape"]) for _d in _multiscale["datasets"]
]
