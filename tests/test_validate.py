"""course_utils.validate: the independent OME-Zarr validator, wrapped to give one-line errors."""

from __future__ import annotations

import json
import shutil

import ngff_zarr as nz
import numpy as np
import pytest
import zarr

from course_utils import archive
from course_utils.validate import NotOmeZarrError, declared_version, validate_ome_zarr


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """A small image as OME-Zarr 0.4, 0.5 and sharded 0.5 directories, and the 0.5 ones as .ozx."""
    root = tmp_path_factory.mktemp("validate")
    image = np.random.default_rng(3).integers(1, 1000, (200, 150), dtype=np.uint16)
    ms = nz.to_multiscales(
        nz.to_ngff_image(image, dims=("y", "x")), scale_factors=[2], method=nz.Methods.ITKWASM_BIN_SHRINK, chunks=64
    )
    paths = {"0.4": root / "v04.ome.zarr", "0.5": root / "v05.ome.zarr", "0.5-sharded": root / "v05s.ome.zarr"}
    nz.to_ngff_zarr(paths["0.4"], ms, version="0.4")
    nz.to_ngff_zarr(paths["0.5"], ms, version="0.5", chunks=(64, 64))
    nz.to_ngff_zarr(paths["0.5-sharded"], ms, version="0.5", chunks_per_shard=2)
    paths["ozx"] = archive.write_ozx(paths["0.5"], root / "v05.ozx")
    paths["ozx-sharded"] = archive.write_ozx(paths["0.5-sharded"], root / "v05s.ozx")
    paths["zip-0.4"] = archive.write_zip(paths["0.4"], root / "v04.zip")
    return paths


@pytest.mark.parametrize(
    "name, version",
    [("0.4", "0.4"), ("0.5", "0.5"), ("0.5-sharded", "0.5"), ("ozx", "0.5"), ("ozx-sharded", "0.5"), ("zip-0.4", "0.4")],
)
def test_valid_stores_give_their_version(stores, name, version):
    assert validate_ome_zarr(stores[name]) == version
    assert validate_ome_zarr(str(stores[name])) == version


def test_stores_and_groups_are_accepted(stores):
    assert validate_ome_zarr(zarr.storage.LocalStore(stores["0.5"], read_only=True)) == "0.5"
    assert validate_ome_zarr(zarr.open_group(stores["0.4"], mode="r")) == "0.4"
    with zarr.storage.ZipStore(stores["ozx"], mode="r") as store:
        assert validate_ome_zarr(store) == "0.5"
    memory = {}
    nz.to_ngff_zarr(
        zarr.storage.MemoryStore(memory),
        nz.to_multiscales(nz.to_ngff_image(np.ones((64, 64), dtype="uint8"), dims=("y", "x")), scale_factors=[2]),
        version="0.5",
    )
    assert validate_ome_zarr(zarr.storage.MemoryStore(memory)) == "0.5"


def _one_line_error(target) -> str:
    with pytest.raises(NotOmeZarrError) as caught:
        validate_ome_zarr(target)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    return message


def test_a_missing_path(tmp_path):
    assert "does not exist" in _one_line_error(tmp_path / "nothing.ome.zarr")


def test_a_directory_that_is_not_zarr(tmp_path):
    assert "is not a Zarr group" in _one_line_error(tmp_path)


def test_a_zip_that_is_not_zarr(tmp_path):
    import zipfile

    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "does not hold a Zarr group" in _one_line_error(path)


def test_plain_zarr_is_not_ome_zarr(tmp_path):
    group = zarr.open_group(tmp_path / "plain.zarr", mode="w")
    group.create_array("a", shape=(4, 4), dtype="uint8")
    assert "not OME-Zarr: its attributes have no 'ome'" in _one_line_error(tmp_path / "plain.zarr")


def test_a_broken_store_says_what_is_wrong(stores, tmp_path):
    broken = tmp_path / "broken.ome.zarr"
    shutil.copytree(stores["0.5"], broken)
    document = json.loads((broken / "zarr.json").read_text())
    multiscale = document["attributes"]["ome"]["multiscales"][0]
    multiscale["axes"] = multiscale["axes"][:1]
    (broken / "zarr.json").write_text(json.dumps(document))
    message = _one_line_error(broken)
    assert message.startswith(f"{broken} is not valid OME-Zarr 0.5: ")
    assert "axes" in message


def test_a_missing_dataset_is_caught(stores, tmp_path):
    broken = tmp_path / "missing-level.ome.zarr"
    shutil.copytree(stores["0.4"], broken)
    shutil.rmtree(broken / "scale1")
    assert "is not valid OME-Zarr 0.4" in _one_line_error(broken)


def test_an_unknown_version(tmp_path):
    group = zarr.open_group(tmp_path / "future.zarr", mode="w")
    group.attrs["ome"] = {"version": "0.9", "multiscales": []}
    assert "declares OME-Zarr 0.9" in _one_line_error(tmp_path / "future.zarr")


@pytest.mark.parametrize(
    "attributes, version",
    [
        ({"ome": {"version": "0.5", "multiscales": []}}, "0.5"),
        ({"multiscales": [{"version": "0.4", "datasets": []}]}, "0.4"),
        ({"plate": {"version": "0.4"}}, "0.4"),
        ({"well": {"version": "0.4"}}, "0.4"),
        ({"labels": ["a"]}, "0.4"),
        ({"multiscales": [{"datasets": []}]}, None),
        ({}, None),
        ([], None),
    ],
)
def test_declared_version(attributes, version):
    assert declared_version(attributes) == version
