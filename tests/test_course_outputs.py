"""What the course writes is sound: its zips, its OME-Zarr stores, its .ozx files.

Each notebook's shared solved run (``tests/notebook_runs.py``: solved,
offline) copies its working directory just before its clean-up cells (tagged
``cleanup``) run, so everything it wrote can be read there. Then, for every
notebook, checked with libraries other than course_utils:

* every zip file has no duplicate entry names and passes ``zipfile``'s
  integrity check (every entry's CRC), except the one the lessons write on
  purpose to show the duplicates (which must really have them);
* every store the course calls OME-Zarr (``*.ome.zarr`` directories and
  ``*.ozx`` files) passes the independent validator ome-zarr-models;
* every ``.ozx`` is stored uncompressed with its ``zarr.json`` files first,
  shallowest first (RFC-9), and one
  packed from a known store reads back with zarr's ``ZipStore`` to the same
  pixels as that store, its full resolution the course image.

What the course must write (:data:`WRITES`: OME-Zarr 0.4, 0.5 and sharded
0.5, at least three sound zips, the two ``.ozx``) is checked for the notebook
that teaches it.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import ome_zarr_models
import pytest
import zarr

from course_utils import data
from course_utils.validate import validate_ome_zarr
from notebook_runs import notebook_params

#: What the course as a whole must write, by the notebook that writes it (checked when it exists).
WRITES = {
    "02_filesystem_and_zip_stores": {
        "sound_zips": 3,  # at least this many zips (not counting the deliberately broken ones)
        "kinds": {"0.4", "0.5", "0.5 sharded"},  # OME-Zarr versions among its stores
        "ozx": {"image.ozx", "image-sharded.ozx"},  # exactly these .ozx files
    },
}
#: Zips written broken on purpose, to show what goes wrong.
DELIBERATELY_BROKEN = {"straight-into-zipstore.zip"}
#: Each .ozx and the directory store it is packed from (an .ozx not listed is validated, not compared).
OZX_SOURCES = {
    "image.ozx": "image-v05.ome.zarr",
    "image-sharded.ozx": "image-v05-sharded.ome.zarr",
}


def _outputs(notebook_runs, path: Path) -> Path:
    """What the solved notebook wrote, as it was before its clean-up cells ran."""
    return notebook_runs.solved(path).outputs


def _zips(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".zip", ".ozx"))


def _ome_zarr_stores(root: Path) -> list[Path]:
    stores = [p for p in root.rglob("*.ome.zarr") if p.is_dir()]
    return sorted(stores + [p for p in root.rglob("*.ozx") if p.is_file()])


def _open_group(path: Path):
    store = zarr.storage.ZipStore(path, mode="r") if path.is_file() else zarr.storage.LocalStore(path, read_only=True)
    return zarr.open_group(store, mode="r"), store


def _levels(group) -> list:
    """The arrays of a multiscale image group, finest first (OME-Zarr 0.4 or 0.5)."""
    attributes = dict(group.attrs)
    multiscales = attributes.get("ome", attributes)["multiscales"]
    return [group[dataset["path"]] for dataset in multiscales[0]["datasets"]]


@pytest.mark.parametrize("path", notebook_params())
def test_every_zip_has_unique_names_and_passes_integrity_checks(path, notebook_runs):
    zips = _zips(_outputs(notebook_runs, path))
    expected = WRITES.get(path.stem, {}).get("sound_zips", 0)
    assert len([z for z in zips if z.name not in DELIBERATELY_BROKEN]) >= expected
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            names = [info.filename for info in zf.infolist()]
            assert zf.testzip() is None, f"{path.name}: an entry fails its CRC check"
        duplicates = [name for name, n in Counter(names).items() if n > 1]
        if path.name in DELIBERATELY_BROKEN:
            assert duplicates, f"{path.name} should show the duplicate entries, but has none"
        else:
            assert duplicates == [], f"{path.name} stores these names more than once: {duplicates}"


@pytest.mark.parametrize("path", notebook_params())
def test_every_ome_zarr_store_passes_the_independent_validator(path, notebook_runs):
    kinds = set()
    for store_path in _ome_zarr_stores(_outputs(notebook_runs, path)):
        group, store = _open_group(store_path)
        try:
            model = ome_zarr_models.open_ome_zarr(group)  # raises if not valid
            version = "0.5" if "v05" in type(model).__module__ else "0.4"
            sharded = any(level.shards is not None for level in _levels(group))
        finally:
            store.close()
        assert validate_ome_zarr(store_path) == version  # the course's wrapper agrees
        kinds.add(f"{version}{' sharded' if sharded else ''}")
    assert WRITES.get(path.stem, {}).get("kinds", set()) <= kinds


@pytest.mark.parametrize("path", notebook_params())
def test_every_ozx_reads_back_with_zipstore_to_the_same_pixels(path, notebook_runs):
    ozx_files = [p for p in _zips(_outputs(notebook_runs, path)) if p.suffix == ".ozx"]
    if "ozx" in WRITES.get(path.stem, {}):
        assert sorted(p.name for p in ozx_files) == sorted(WRITES[path.stem]["ozx"])
    image = data.synthetic_image((1600, 2000), "uint16")  # offline, the course image is this stand-in
    for ozx in ozx_files:
        with zipfile.ZipFile(ozx) as zf:
            names = zf.namelist()
            assert names[0] == "zarr.json"
            # RFC-9: every zarr.json first, breadth-first (shallowest first)
            n_json = sum(name.rpartition("/")[2] == "zarr.json" for name in names)
            assert all(name.rpartition("/")[2] == "zarr.json" for name in names[:n_json])
            assert [name.count("/") for name in names[:n_json]] == sorted(name.count("/") for name in names[:n_json])
            assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_STORED}
        if ozx.name not in OZX_SOURCES or not (ozx.parent / OZX_SOURCES[ozx.name]).is_dir():
            continue  # no known source to compare with: the validator test covers it
        source = zarr.open_group(zarr.storage.LocalStore(ozx.parent / OZX_SOURCES[ozx.name], read_only=True), mode="r")
        with zarr.storage.ZipStore(ozx, mode="r") as store:
            packed = zarr.open_group(store, mode="r")
            datasets = packed.attrs["ome"]["multiscales"][0]["datasets"]
            assert len(datasets) == 4
            for dataset in datasets:
                assert np.array_equal(packed[dataset["path"]][:], source[dataset["path"]][:]), (ozx.name, dataset)
            assert np.array_equal(packed[datasets[0]["path"]][:], image)
