"""The public OME-Zarr stores notebooks 03 and 05 read online, and their offline twins.

Tests marked ``online`` reach the real AIND bucket and the IDR; they are
skipped unless ``COURSE_ONLINE_TESTS=1`` (CI has no internet). Each has an
offline twin that runs the same checks, through the same code path, against
the local stand-in the notebook uses offline: same URL path or S3 key, local
server instead of the public host.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig

import pytest
import requests
import zarr

from course_utils import data, mode, standins
from course_utils.servers import LocalHTTPServer, LocalS3Server

AIND = data.REGISTRY["aind-smartspim-ome-zarr"]
IDR = data.REGISTRY["idr-6001240"]
IDR_SHARDED = data.REGISTRY["idr-6001240-sharded"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, monkeypatch_module):
    path = tmp_path_factory.mktemp("course-data")
    monkeypatch_module.setenv("COURSE_DATA_DIR", str(path))
    return path


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _ome_zarr(*args: str) -> subprocess.CompletedProcess:
    command = shutil.which("ome_zarr", path=sysconfig.get_path("scripts")) or "ome_zarr"
    return subprocess.run([command, *args], capture_output=True, text=True, timeout=300)


# -- what the notebooks check about each store --------------------------------


def _check_aind(url: str, storage_options: dict, *, real: bool) -> None:
    store = zarr.storage.FsspecStore.from_url(url, storage_options=storage_options, read_only=True)
    group = zarr.open_group(store, mode="r")
    multiscale = group.attrs["multiscales"][0]
    assert "".join(axis["name"] for axis in multiscale["axes"]) == AIND.axes
    assert len(multiscale["datasets"]) == AIND.n_scales
    coarsest = group[multiscale["datasets"][-1]["path"]]
    assert coarsest.ndim == 5 and coarsest.dtype == "uint16"
    if real:  # a whole brain: far bigger than any stand-in
        assert group[multiscale["datasets"][0]["path"]].nbytes > 10 * 2**30


def _check_idr(url: str, *, expected_shape: tuple[int, ...]) -> None:
    attributes = requests.get(f"{url}/.zattrs", timeout=60).json()
    multiscale = attributes["multiscales"][0]
    assert "".join(axis["name"] for axis in multiscale["axes"]) == IDR.axes
    assert [d["path"] for d in multiscale["datasets"]] == ["0", "1", "2"]
    assert [c["label"] for c in attributes["omero"]["channels"]] == ["LaminB1", "Dapi"]
    assert zarr.open_group(url, mode="r")["0"].shape == expected_shape
    info = _ome_zarr("info", url)
    assert info.returncode == 0, info.stderr
    assert str(expected_shape) in info.stdout and "Multiscales" in info.stdout


# -- online ------------------------------------------------------------------


@pytest.mark.online
def test_public_hosts_are_reachable():
    for url in (AIND.url, IDR.url):
        assert not mode.is_offline(url), url


@pytest.mark.online
def test_aind_ome_zarr_reads_anonymously_over_s3():
    _check_aind(AIND.s3_url, {**AIND.storage_options, "max_concurrency": 1}, real=True)


@pytest.mark.online
def test_idr_ome_zarr_over_https():
    _check_idr(IDR.url, expected_shape=IDR.shape)


@pytest.mark.online
def test_idr_sharded_copy_is_zarr_v3():
    group = zarr.open_group(IDR_SHARDED.url, mode="r")
    assert group.metadata.zarr_format == 3
    multiscale = group.attrs["ome"]["multiscales"][0]
    assert group[multiscale["datasets"][0]["path"]].shape == IDR_SHARDED.shape


# -- offline twins -----------------------------------------------------------


def test_offline_twin_aind_standin_at_the_same_s3_key(data_dir):
    standin = standins.aind_smartspim()
    with LocalS3Server(public_buckets=[standin.bucket]) as s3:
        s3.upload(standin.store, standin.key, bucket=standin.bucket)
        assert s3.url(standin.key, bucket=standin.bucket) == AIND.s3_url
        _check_aind(AIND.s3_url, s3.anonymous_storage_options, real=False)


def test_offline_twin_idr_standin_at_the_same_path(data_dir):
    standin = standins.idr_6001240()
    with LocalHTTPServer(standin.root) as site:
        url = site.url(standin.key)
        assert url.split("/", 3)[3] == IDR.url.split("/", 3)[3]  # the same path, another host
        _check_idr(url, expected_shape=(IDR.shape[0], standins.IDR_SHAPE[1], *IDR.shape[2:]))
