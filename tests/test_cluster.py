"""course_utils.cluster: a dask client for a given scheduler, or a local cluster that always closes."""

from __future__ import annotations

import dask.array as da
import psutil
import pytest
from distributed import LocalCluster

from course_utils.cluster import dask_client


def _listening_ports() -> set[int]:
    return {
        c.laddr.port for c in psutil.Process().net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
    }


def test_a_local_cluster_computes_and_is_gone_after_the_block():
    before = _listening_ports()
    with dask_client() as client:
        assert client.scheduler_info()["address"].startswith("tcp://127.0.0.1:")
        assert len(client.scheduler_info()["workers"]) == 2
        assert int(da.ones((100, 100), chunks=10).sum().compute()) == 10_000
        assert _listening_ports() - before, "the local cluster listens while the block runs"
    assert _listening_ports() <= before, "the local cluster still listens after the block"


def test_the_local_cluster_closes_when_the_block_raises():
    before = _listening_ports()
    with pytest.raises(ZeroDivisionError):
        with dask_client():
            1 / 0
    assert _listening_ports() <= before


def test_a_given_scheduler_is_used_and_left_running():
    with LocalCluster(n_workers=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=":0") as cluster:
        with dask_client(cluster.scheduler_address) as client:
            assert client.scheduler.address == cluster.scheduler_address
            assert client.submit(sum, [1, 2, 3]).result() == 6
        assert cluster.status.name == "running"
