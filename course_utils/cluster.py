"""A dask client for a remote cluster, or for a local one on 127.0.0.1.

:func:`dask_client` lets a notebook's parallel code run unchanged on a laptop
and on a real cluster: given a scheduler's address it connects there; given
none it starts a small :class:`~distributed.LocalCluster` on loopback. Used in
a ``with`` block, it closes the client, and the cluster if it started one,
when the block ends, even if the block raises; so the cell that uses it can
be run again without leaving a cluster behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["dask_client"]


@contextlib.contextmanager
def dask_client(scheduler_address: str | None = None, *, n_workers: int = 2) -> Iterator:
    """Yield a :class:`distributed.Client` for ``scheduler_address``, or for a local cluster.

    With no address, the local cluster has ``n_workers`` single-threaded
    workers inside this process that talk to their scheduler over TCP on
    127.0.0.1, as remote workers would (``processes=True`` workers take
    seconds to start), and its dashboard on a free loopback port.
    """
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as started:
        if scheduler_address is None:
            cluster = started.enter_context(
                LocalCluster(
                    n_workers=n_workers, threads_per_worker=1, processes=False,
                    protocol="tcp", host="127.0.0.1", dashboard_address="127.0.0.1:0",
                )
            )
            scheduler_address = cluster.scheduler_address
        yield started.enter_context(Client(scheduler_address))
