"""Send grading jobs to dask.distributed: a LocalCluster on this machine, or any cluster by its scheduler's address.

:func:`connect` starts a LocalCluster on 127.0.0.1 (process workers, one
thread each: one submission at a time per process), or connects to a
running scheduler (``--scheduler ADDRESS``: workers started with ``dask
worker ADDRESS`` on other machines, an HPC cluster through dask-jobqueue,
Kubernetes...). :func:`run` sends each :class:`~course_utils.grading.job.Job`
as one task (:func:`course_utils.grading.job.run`, ``Client.submit``) and
hands each :class:`~course_utils.grading.job.Result` to ``install`` in the
calling process, the only one that writes the course's gradebook, as the
tasks complete (``as_completed``).

What can go wrong, and what happens, with dask's own machinery:

- **a worker that differs from this machine** (another version of the
  course, of a pinned package, of Python, or a sandbox that does not work
  there): the :class:`Admission` worker plugin runs on every worker, those
  present and those that join later, and gives a worker the grading
  resource (:func:`resource`) only if it matches. Every task needs that
  resource, so the scheduler never sends a submission to a worker that
  differs. Each refused worker is named, in one line saying why (those
  present at the start, and those that join later); if none may grade at
  the start, the run stops before grading anything;
- **a worker that dies mid-task** (killed, out of memory, its machine
  gone): the scheduler runs the task again on another worker, and its
  result comes back once (one gradebook row); after
  ``distributed.scheduler.allowed-failures`` deaths the submission scores
  zero with a note and a flag;
- **the scheduler gone** (or Ctrl-C): :class:`RunStopped`, with the
  students graded and those not. What was graded is already in the
  gradebook; running the command again grades the rest
  (:mod:`course_utils.grading.autograde` skips what is current).

Only a window of jobs (twice the admitted worker threads, plus one) is with
the scheduler at any time, so a class of any size costs little memory.

A LocalCluster started with ``grow_to`` more workers than it has
(:class:`Growth`) adds one at a time while submissions wait and the
machine leaves a core idle: kernels that wait for their lesson's servers or
for the disk leave a core free for one more submission, while on kernels
that keep their core busy, a worker more than the cores costs more CPU than
it brings (``bench/bench_grading.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from course_utils.grading import identity

WAIT_FOR_WORKERS_SECONDS = 60
"""How long a run on a scheduler waits for its first worker."""
CONNECT_SECONDS = 20
"""How long connecting to a scheduler named by ``--scheduler`` may take."""
PLUGIN_NAME = "course-utils-admission"
"""The admission plugin's name, followed by the resource it grants (one plugin per course, pins and sandbox)."""
NOT_CHECKED = "not checked yet"
VERDICT_SECONDS = 120
"""How long reading a worker's verdict waits for its check (the sandbox probe may take up to 60 s)."""
GROW_EVERY_SECONDS = 15.0
"""The shortest window over which :class:`Growth` judges the cores' use (a submission takes 5 to 25 s)."""
IDLE_CORES = 0.25
"""A LocalCluster grows when this much of a core, on average over a window, was left idle..."""
IDLE_WINDOWS = 2
"""...in this many windows in a row (one window can be a moment when every kernel starts at once)."""
GROW_MEMORY_BYTES = 3 * 2**30
"""...and the machine has at least this much memory available (a worker and its kernel take up to 2.5 GiB)."""


class RunStopped(RuntimeError):
    """The run stopped before every submission was graded (the cluster went away, Ctrl-C, no worker may grade).

    ``graded`` and ``left``: the students graded (now or by an earlier run)
    and those not; filled in by :func:`course_utils.grading.autograde.autograde`.
    """

    def __init__(self, reason: str, graded: list[str] | None = None, left: list[str] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.graded = list(graded or [])
        self.left = list(left or [])


class ClusterUnavailable(RuntimeError):
    """The dask scheduler named cannot be reached (nothing was graded)."""


class Listener:
    """What a run tells whoever watches it (the command's progress bar); each method does nothing here."""

    def connected(self, where: str, dashboard: str | None) -> None:
        """Grading runs on ``where``; ``dashboard``: the dask dashboard's address, if there is one."""

    def planned(self, total: int, current: int) -> None:
        """``total`` submissions to grade in this run; ``current`` more were graded already and are kept."""

    def graded(self, result) -> None:
        """One submission's result is installed in the course."""

    def said(self, message: str) -> None:
        """Something the instructor should read (a refused worker)."""

    def grew(self, workers: int) -> None:
        """The LocalCluster added a worker: it has ``workers`` now."""

    def done(self) -> None:
        """The last submission is in (or the run stopped)."""


# -- the cluster ----------------------------------------------------------------


@contextlib.contextmanager
def connect(workers: int, scheduler: str | None = None) -> Iterator[tuple[object, str]]:
    """``(client, where)``: a client of the scheduler at ``scheduler``, or of a new LocalCluster of ``workers`` processes.

    The LocalCluster binds 127.0.0.1 on free ports and is closed (its
    processes stopped) on the way out, whatever happened.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            raise ClusterUnavailable(f"cannot reach the dask scheduler at {scheduler}: {error}") from None
        try:
            yield client, f"the dask cluster at {scheduler}"
        finally:
            with contextlib.suppress(Exception):
                client.close()
        return
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        # the scheduler's HTTP server (its dashboard, with bokeh installed) on a free port of 127.0.0.1
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client, f"a LocalCluster of {workers} worker process(es) on 127.0.0.1"
        finally:
            client.close()
    finally:
        cluster.close()


def _has_bokeh() -> bool:
    return importlib.util.find_spec("bokeh") is not None


def dashboard(client) -> str | None:
    """The dask dashboard's address, if the scheduler serves one (it needs bokeh where the scheduler runs)."""
    try:
        if "dashboard" in client.scheduler_info().get("services", {}) and client.run_on_scheduler(_has_bokeh):
            return client.dashboard_link
    except Exception:  # noqa: BLE001  (no dashboard is no reason to stop)
        pass
    return None


class Growth:
    """Adds a worker to a LocalCluster, one at a time up to ``most``, while a core is left idle and jobs wait.

    :meth:`check` is called as results come in. It judges the machine's CPU
    use (psutil, every process) over the window since the last judgement,
    at least :data:`GROW_EVERY_SECONDS`; the first window starts with the
    first result, after the workers' start-up. It adds a worker after
    :data:`IDLE_WINDOWS` windows in a row left :data:`IDLE_CORES` idle, and
    starts counting again. A new worker is admitted like the others
    (:class:`Admission` runs on every worker that joins).

    Measured on 2 cores, 40 submissions (``bench/bench_grading.py``): with
    2 workers, kernels that keep their core busy left 0.18 of a core idle
    over the whole run (notebooks 01 and 09), and a third worker made them
    slower (01: 1.54x the sequential speed against 1.65x); notebook 02's
    kernels left 0.35 idle, and growing to a third worker took it from 1.72x
    to 1.80x.
    """

    def __init__(self, cluster, most: int, listener: Listener):
        import psutil

        self.cluster, self.most, self.listener = cluster, most, listener
        self.cores = psutil.cpu_count() or 1
        self.since: float | None = None
        self.idle_windows = 0

    @property
    def workers(self) -> int:
        """The workers the cluster has or is starting."""
        return len(self.cluster.worker_spec)

    def check(self, waiting: bool) -> bool:
        """Add a worker if enough jobs are ``waiting``, a core was idle over the window, and memory allows; True if added."""
        import psutil

        now = time.monotonic()
        if self.since is None:
            self.since = now
            psutil.cpu_percent(None)  # the window starts here
            return False
        if now - self.since < GROW_EVERY_SECONDS:
            return False
        idle = self.cores * (1 - psutil.cpu_percent(None) / 100)
        self.since = now
        self.idle_windows = self.idle_windows + 1 if idle >= IDLE_CORES else 0
        if not waiting or self.workers >= self.most or self.idle_windows < IDLE_WINDOWS:
            return False
        if psutil.virtual_memory().available < GROW_MEMORY_BYTES:
            return False
        self.idle_windows = 0
        self.cluster.scale(self.workers + 1)
        self.listener.grew(self.workers)
        return True


# -- which workers may grade ----------------------------------------------------


def resource(expected: dict, isolation: str) -> str:
    """The dask resource a worker gets when it matches the client's ``expected`` identity and sandbox."""
    text = json.dumps([expected, isolation], sort_keys=True)
    return "course-utils-" + hashlib.sha256(text.encode()).hexdigest()[:16]


try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover  (distributed is a dependency of the course)
    _WorkerPlugin = object


class Admission(_WorkerPlugin):
    """A dask worker plugin: on every worker, now and as it joins, check it against the client and admit it or not.

    A worker that matches (:func:`course_utils.grading.identity.admit`)
    gets :func:`resource` (one unit per thread), which every grading task
    needs; one that differs gets nothing, and keeps why in :attr:`reason`
    (read back by :func:`admit`).
    """

    def __init__(self, expected: dict, isolation: str):
        self.expected, self.isolation = expected, isolation
        self.name = plugin_name(expected, isolation)
        self.reason: str | None = NOT_CHECKED

    async def setup(self, worker) -> None:
        """Check this worker (in a thread: the sandbox probe starts processes) and admit it if it matches."""
        try:
            self.reason = await asyncio.to_thread(identity.admit, self.expected, self.isolation)
        except Exception as error:  # noqa: BLE001  (a worker that cannot even check itself may not grade)
            self.reason = (f"the course cannot run there ({type(error).__name__}: {error}); install the same "
                           "commit of the course there: pip install -e \".[course]\"")
        name = resource(self.expected, self.isolation)
        if self.reason is None:
            await worker.set_resources(**{name: worker.state.nthreads})
        else:
            logging.getLogger("course_utils.grading").warning("this worker may not grade: %s", self.reason)
            worker.log_event(name, {"worker": worker.address, "reason": self.reason})  # to the client, if listening


def plugin_name(expected: dict, isolation: str) -> str:
    """The name :class:`Admission` has on the workers: runs with another course, pins or sandbox get their own."""
    return f"{PLUGIN_NAME}-{resource(expected, isolation)}"


async def _verdict(name: str, dask_worker) -> str | None:
    """On a worker: the admission check's verdict, once the check has run (a run registering it just now waits)."""
    deadline = time.monotonic() + VERDICT_SECONDS
    while True:
        plugin = dask_worker.plugins.get(name)
        if plugin is None:
            return "the admission check did not run there"
        if plugin.reason != NOT_CHECKED or time.monotonic() > deadline:
            return plugin.reason
        await asyncio.sleep(0.1)


def admit(client, expected: dict, isolation: str, listener: Listener) -> int:
    """Register :class:`Admission` on the cluster; the admitted worker threads (:class:`RunStopped` if none).

    Each refused worker is named to ``listener`` with why, in one line:
    those present now (their verdicts read with ``Client.run``), and those
    that join later while this client runs (an event the plugin logs).
    """
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_SECONDS)
    except TimeoutError:
        raise RunStopped(f"no dask worker joined within {WAIT_FOR_WORKERS_SECONDS} s; start one on each grading "
                         "machine with: dask worker " + str(client.scheduler.address)) from None
    named: set[str] = set()
    lock = threading.Lock()

    def refused(address: str, reason: str) -> None:
        with lock:
            if address in named:
                return
            named.add(address)
        listener.said(f"refused worker {address}: {reason}")

    # workers that join later are checked by the plugin as they join; their refusal comes as an event
    client.subscribe_topic(resource(expected, isolation), lambda event: refused(event[1]["worker"], event[1]["reason"]))
    try:
        client.register_plugin(Admission(expected, isolation), name=plugin_name(expected, isolation))
    except Exception as error:  # noqa: BLE001  (a worker without the course cannot even load the check)
        # the scheduler keeps the plugin for the workers that could load it; the verdicts below name the others
        listener.said(f"a worker could not load the admission check ({type(error).__name__}: {error}); "
                      "install the course on every worker: pip install -e \".[course]\"")
    verdicts = client.run(_verdict, plugin_name(expected, isolation), on_error="return")
    threads = client.nthreads()
    admitted = 0
    for address, verdict in sorted(verdicts.items()):
        if isinstance(verdict, BaseException):
            verdict = f"it did not answer the admission check ({type(verdict).__name__}: {verdict})"
        if verdict is None:
            admitted += threads.get(address, 0)
        else:
            refused(address, verdict)
    if not admitted:
        raise RunStopped("no worker of the cluster may grade: every worker differs from this machine (see above)")
    return admitted


# -- the run -----------------------------------------------------------------------


def run(client, package, plans: list, install: Callable, *, listener: Listener | None = None,
        grow_to: int = 0) -> None:
    """Grade ``plans`` of ``package``'s assignment on ``client``'s cluster; ``install(result)`` for each, here, once per student.

    A plan has a ``student`` and a ``job()`` that makes its
    :class:`~course_utils.grading.job.Job` (:class:`course_utils.grading.autograde.Plan`):
    a job is made when it is sent, so only the window's notebooks are in memory.

    A job the cluster cannot grade (every worker that took it died) ends as
    a zero with a note and a flag. Raises :class:`RunStopped` if the
    scheduler goes away, on Ctrl-C, or if no worker may grade; the results
    installed by then stay installed. ``grow_to``: the most workers a
    LocalCluster (``client.cluster``) may grow to (:class:`Growth`).
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    from course_utils.grading import job as job_module

    listener = listener or Listener()
    try:
        if not plans:
            return
        threads = admit(client, package.identity, package.isolation, listener)
        needs = {resource(package.identity, package.isolation): 1}
        token = uuid.uuid4().hex[:8]
        waiting = list(reversed(plans))
        running: dict = {}
        installed: set[str] = set()
        growth = None
        if client.cluster is not None and grow_to > len(client.cluster.worker_spec):
            growth = Growth(client.cluster, grow_to, listener)

        def submit():
            plan = waiting.pop()
            future = client.submit(job_module.run, plan.job(), key=f"grade-{package.assignment}-{plan.student}-{token}",
                                   pure=False, resources=needs)
            running[future] = plan
            return future

        def settle(result) -> None:
            if result.student not in installed:  # never two rows for one student
                installed.add(result.student)
                install(result)

        completed = as_completed([submit() for _ in range(min(len(waiting), 2 * threads + 1))], loop=client.loop)
        try:
            for future in completed:
                plan = running.pop(future)
                if future.status == "cancelled" or client.status not in ("running", "connecting"):
                    raise RunStopped(f"lost the connection to the dask scheduler {client.scheduler.address}")
                try:
                    if future.status == "finished":
                        settle(future.result())
                    else:
                        error = future.exception()
                        if isinstance(error, KilledWorker):
                            note = "the grading worker died every time it graded this submission."
                            flag = f"For review: every dask worker that graded this submission died ({error})."
                        else:
                            note = f"the grader hit an error: {type(error).__name__}: {error}"
                            flag = f"For review: the grading task failed: {type(error).__name__}: {error}"
                        settle(job_module.failed(plan.job(), note, flag))
                except (OSError, asyncio.CancelledError) as error:  # the result could not be fetched
                    raise RunStopped(f"lost the connection to the dask scheduler: {error}") from None
                # a new worker pays off only with a round of submissions still to send
                if growth is not None and growth.check(len(waiting) >= threads):
                    threads += 1
                while waiting and len(running) < 2 * threads + 1:
                    completed.add(submit())
        except KeyboardInterrupt:
            raise RunStopped("interrupted (Ctrl-C)") from None
        finally:
            if running and client.status == "running":
                with contextlib.suppress(Exception):
                    client.cancel(list(running))
    finally:
        listener.done()
