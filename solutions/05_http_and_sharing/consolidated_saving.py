def requests_to_open_everything(consolidated):
    with web.measure() as cost:
        opened_group = zarr.open_group(copy_url, mode="r", use_consolidated=consolidated)
        for dataset in opened_group.attrs["multiscales"][0]["datasets"]:
            opened_group[dataset["path"]]
    return cost.requests


consolidated_saving = requests_to_open_everything(False) - requests_to_open_everything(True)

# ---- hidden tests ----
with web.measure() as _without:
    _group = zarr.open_group(copy_url, mode="r", use_consolidated=False)
    _arrays = [_group[_d["path"]] for _d in _group.attrs["multiscales"][0]["datasets"]]
with web.measure() as _with:
    _group = zarr.open_group(copy_url, mode="r", use_consolidated=True)
    _arrays = [_group[_d["path"]] for _d in _group.attrs["multiscales"][0]["datasets"]]
assert consolidated_saving == _without.requests - _with.requests
assert consolidated_saving > 0
