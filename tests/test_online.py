"""The public OME-Zarr stores notebooks 03 and 05 read online, and their offline twins.

Tests marked ``online`` reach the real AIND bucket and the IDR; they are
skipped unless ``COURSE_ONLINE_TESTS=1`` (CI has no internet). Each has an
offline twin that runs the same checks, through the same code path, against
the local stand-in the notebook uses offline: same URL path or S3 key, local
server instead of the public host.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import requests
import zarr

from course_utils import data, idr_metadata, mode, ome_zarr_cli, standins
from course_utils.servers import LocalHTTPServer, LocalS3Server
from course_utils.store_reads import ReadCounter

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
    return subprocess.run([ome_zarr_cli.command(), *args], capture_output=True, text=True, timeout=300)


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


def _check_idr_sharded(url: str) -> None:
    """What notebook 05 measures on the sharded copy: an index read, then one range per plane."""
    reads = ReadCounter()
    group = zarr.open_group(reads.store(url), mode="r")
    assert group.metadata.zarr_format == 3
    multiscale = group.attrs["ome"]["multiscales"][0]
    assert [d["path"] for d in multiscale["datasets"]] == ["0", "1", "2"]
    level0, level2 = group["0"], group["2"]
    assert level0.shape == level0.shards == IDR_SHARDED.shape and level0.chunks == (1, 1, 275, 271)
    with reads.measure() as one_plane:
        level0[1, 117]
    assert [read.part for read in one_plane.reads][0] == "last 7556"  # 2 x 236 entries of 16 bytes, CRC32C
    assert (one_plane.index_reads, one_plane.chunk_reads) == (1, 1)
    with reads.measure() as region:
        level0[:, 100:110, 50:150, 50:150]
    assert (region.requests, region.index_reads, region.chunk_reads) == (21, 1, 20)
    with reads.measure() as whole:
        level2[:]
    assert (whole.requests, whole.whole_reads) == (1, 1)
    info = _ome_zarr("info", url)
    assert info.returncode == 0, info.stderr
    assert "version: 0.5" in info.stdout and str(IDR_SHARDED.shape) in info.stdout


# -- online ------------------------------------------------------------------


@pytest.mark.online
def test_public_hosts_are_reachable():
    for url in (AIND.url, IDR.url, IDR_SHARDED.url):
        assert not mode.is_offline(url), url


@pytest.mark.online
def test_aind_ome_zarr_reads_anonymously_over_s3():
    _check_aind(AIND.s3_url, {**AIND.storage_options, "max_concurrency": 1}, real=True)


@pytest.mark.online
def test_idr_ome_zarr_over_https():
    _check_idr(IDR.url, expected_shape=IDR.shape)


@pytest.mark.online
def test_idr_sharded_copy_over_https():
    _check_idr_sharded(IDR_SHARDED.url)


@pytest.mark.online
@pytest.mark.parametrize("url, documents", [
    (IDR.url, idr_metadata.v04_documents()),
    (IDR_SHARDED.url, idr_metadata.v05_documents()),
], ids=["0.4", "0.5"])
def test_recorded_idr_metadata_is_what_the_idr_serves(url, documents):
    """The stand-ins' documents (some recorded, some reconstructed: see idr_metadata) against the live ones."""
    different = []
    for key, text in documents.items():
        live = requests.get(f"{url}/{key}", timeout=60)
        assert live.status_code == 200, key
        if key == "ro-crate-metadata.json":  # recorded as approximate only
            continue
        assert live.json() == json.loads(text), key
        if live.content != text.encode():
            different.append(f"{key}: {len(live.content)} bytes live, {len(text.encode())} recorded")
    assert not different, different  # same JSON, and the same bytes too


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
        _check_idr(url, expected_shape=IDR.shape)


def test_offline_twin_idr_sharded_standin_at_the_same_path(data_dir):
    standin = standins.idr_6001240_sharded()
    with LocalHTTPServer(standin.root) as site:
        url = site.url(standin.key)
        assert url.split("/", 3)[3] == IDR_SHARDED.url.split("/", 3)[3]
        _check_idr_sharded(url)
