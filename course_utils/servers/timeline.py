"""When each request of a measurement ran: a waterfall plot of a :class:`~course_utils.servers.Cost`.

One horizontal bar per request, from the moment the server began answering
it to the moment its last byte left, so requests that waited their latency
at the same time are bars side by side, and requests sent one after another
a staircase::

    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    plot_timeline(one_by_one, ax=axes[0], title="concurrency 1")
    plot_timeline(together, ax=axes[1], title="concurrency 10")
"""

from __future__ import annotations

from typing import Any

__all__ = ["plot_timeline"]


def plot_timeline(cost: Any, *, ax: Any = None, title: str | None = None, color: str = "tab:blue") -> Any:
    """Draw each request of ``cost`` as a bar over time (milliseconds from the first); returns the axes.

    Bars are labelled with the request's method; range requests (status 206)
    are drawn lighter, misses (404) in red.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    log = cost.log
    if log:
        origin = min(r.started for r in log)
        for row, request in enumerate(log):
            shade = "tab:red" if request.status == 404 else color
            ax.barh(row, request.seconds * 1000, left=(request.started - origin) * 1000, height=0.7,
                    color=shade, alpha=0.55 if request.status == 206 else 0.9)
        ax.set_ylim(len(log) - 0.5, -0.5)  # the first request on top
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("milliseconds since the first request")
    ax.set_ylabel("request")
    ax.set_title(title if title is not None else f"{len(log)} requests")
    return ax
