"""What the course writes is sound: its zips, its OME-Zarr stores, its .ozx files.

The notebooks that write stores run once (solved, offline) with their final
clean-up cell (tagged ``cleanup``) left out, so everything they wrote is
still on disk. Then, checked with libraries other than course_utils:

* every zip file has no duplicate entry names and passes ``zipfile``'s
  integrity check (every entry's CRC), except the one the lessons write on
  purpose to show the duplicates (which must really have them);
* every store the course calls OME-Zarr (``*.ome.zarr`` directories and
  ``*.ozx`` files) passes the independent validator ome-zarr-models, and
  among them are OME-Zarr 0.4, 0.5 and sharded 0.5;
* every ``.ozx`` reads back with zarr's ``ZipStore`` to the same pixels as
  the directory store it was packed from, and its full resolution is the
  course image.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import ome_zarr_models
import pytest
import zarr

from course_utils import authoring, data, runner
from course_utils.validate import validate_ome_zarr

REPO = Path(__file__).resolve().parents[1]
#: Notebooks that write zip files or OME-Zarr stores into their working directory.
WRITING_NOTEBOOKS = ("02_filesystem_and_zip_stores",)
#: Zips written broken on purpose, to show what goes wrong.
DELIBERATELY_BROKEN = {"straight-into-zipstore.zip"}
#: Each .ozx and the directory store it is packed from.
OZX_SOURCES = {
    "image.ozx": "image-v05.ome.zarr",
    "image-sharded.ozx": "image-v05-sharded.ome.zarr",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    """The working directory of every writing notebook, run solved and offline, kept after the run."""
    root = tmp_path_factory.mktemp("course-outputs")
    env = {"COURSE_OFFLINE": "1", "COURSE_DATA_DIR": str(root / "data")}
    for stem in WRITING_NOTEBOOKS:
        nb = authoring.build(REPO / "notebooks" / f"{stem}.ipynb", REPO / "solutions", "solved")
        cleanup = [c for c in nb.cells if "cleanup" in c.get("metadata", {}).get("tags", [])]
        assert cleanup, f"{stem} has no cell tagged 'cleanup'"
        nb.cells = [c for c in nb.cells if c not in cleanup]
        runner.execute(nb, root / stem, env=env)  # raises on the first failing cell
    return root


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


def test_every_zip_has_unique_names_and_passes_integrity_checks(outputs):
    zips = _zips(outputs)
    assert len([z for z in zips if z.name not in DELIBERATELY_BROKEN]) >= 3
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            names = [info.filename for info in zf.infolist()]
            assert zf.testzip() is None, f"{path.name}: an entry fails its CRC check"
        duplicates = [name for name, n in Counter(names).items() if n > 1]
        if path.name in DELIBERATELY_BROKEN:
            assert duplicates, f"{path.name} should show the duplicate entries, but has none"
        else:
            assert duplicates == [], f"{path.name} stores these names more than once: {duplicates}"


def test_every_ome_zarr_store_passes_the_independent_validator(outputs):
    kinds = set()
    for path in _ome_zarr_stores(outputs):
        group, store = _open_group(path)
        try:
            model = ome_zarr_models.open_ome_zarr(group)  # raises if not valid
            version = "0.5" if "v05" in type(model).__module__ else "0.4"
            sharded = any(level.shards is not None for level in _levels(group))
        finally:
            store.close()
        assert validate_ome_zarr(path) == version  # the course's wrapper agrees
        kinds.add(f"{version}{' sharded' if sharded else ''}")
    assert {"0.4", "0.5", "0.5 sharded"} <= kinds


def test_every_ozx_reads_back_with_zipstore_to_the_same_pixels(outputs):
    ozx_files = [p for p in _zips(outputs) if p.suffix == ".ozx"]
    assert sorted(p.name for p in ozx_files) == sorted(OZX_SOURCES)
    image = data.synthetic_image((1600, 2000), "uint16")  # offline, the course image is this stand-in
    for path in ozx_files:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            assert names[0] == "zarr.json"
            # RFC-9: every zarr.json first, breadth-first (shallowest first)
            n_json = sum(name.rpartition("/")[2] == "zarr.json" for name in names)
            assert all(name.rpartition("/")[2] == "zarr.json" for name in names[:n_json])
            assert [name.count("/") for name in names[:n_json]] == sorted(name.count("/") for name in names[:n_json])
            assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_STORED}
        source = zarr.open_group(zarr.storage.LocalStore(path.parent / OZX_SOURCES[path.name], read_only=True), mode="r")
        with zarr.storage.ZipStore(path, mode="r") as store:
            packed = zarr.open_group(store, mode="r")
            datasets = packed.attrs["ome"]["multiscales"][0]["datasets"]
            assert len(datasets) == 4
            for dataset in datasets:
                assert np.array_equal(packed[dataset["path"]][:], source[dataset["path"]][:]), (path.name, dataset)
            assert np.array_equal(packed[datasets[0]["path"]][:], image)
