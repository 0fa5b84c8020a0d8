copy_group = zarr.open_group(str(copy), mode="r")
copy_paths = [dataset["path"] for dataset in copy_group.attrs["multiscales"][0]["datasets"]]
copy_description = {
    "chunks": [copy_group[path].chunks for path in copy_paths],
    "chunk_files": [
        sum(1 for found in (copy / path).rglob("*") if found.is_file() and not found.name.startswith("."))
        for path in copy_paths
    ],
}

# ---- hidden tests ----
_datasets = json.loads((copy / ".zattrs").read_text())["multiscales"][0]["datasets"]
assert [tuple(_c) for _c in copy_description["chunks"]] == [
    tuple(json.loads((copy / _d["path"] / ".zarray").read_text())["chunks"]) for _d in _datasets
]
assert list(copy_description["chunk_files"]) == [
    len([_f for _f in (copy / _d["path"]).rglob("*") if _f.is_file() and _f.name not in (".zarray", ".zattrs")])
    for _d in _datasets
]
