"""Send grading jobs to dask.distributed: a LocalCluster on this machine, or any cluster by its scheduler's address.

:func:`connect` starts a LocalCluster on 127.0.0.1 (process workers, one
thread each: one submission at a time per process), or connects to a
running scheduler (``--scheduler ADDRESS``: workers started with ``dask
worker ADDRESS`` on other machines, an HPC cluster through dask-jobqueue,
Kubernetes...). :func:`run` then sends each :class:`~course_utils.grading.job.Job`
as one task (:func:`course_utils.grading.job.run`) and hands each
:class:`~course_utils.grading.job.Result` to ``install`` in the calling
process, the only one that writes the course's gradebook.

What can go wrong, and what happens:

- **a worker that differs from this machine** (another version of the
  course, of a pinned package, of Python, or a sandbox that does not work
  there) is refused before it grades anything: every worker is checked as
  it joins (:func:`course_utils.grading.identity.admit`), and a refused one
  is retired from the cluster (it stays up, but gets no task); a job that
  reached it before the check is refused by the job itself and sent
  elsewhere. The listener is told why, in words;
- **a worker that dies mid-task** (killed, out of memory, its machine
  gone): dask runs the task again on another worker, and its result comes
  back once; after ``distributed.scheduler.allowed-failures`` deaths the
  submission scores zero with a note. A task that runs far past the
  notebook's time limit has its worker restarted (same path);
- **the scheduler gone** (or Ctrl-C): :class:`RunStopped`, with the
  students graded and those not. What was graded is already in the
  gradebook; running the command again grades the rest
  (:mod:`course_utils.grading.autograde` skips what is current).

Only a bounded window of jobs is with the scheduler at any time (twice the
worker threads), so a class of any size costs the scheduler little memory.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator

from course_utils.grading import identity

STUCK_SLACK_SECONDS = 300
"""Time a task gets beyond twice the notebook limit (and a worker's warm-up) before its worker is restarted."""
ALL_REFUSED_GRACE_SECONDS = 30
"""How long a cluster whose every worker was refused is given for a good worker to join before the run stops."""
POLL_SECONDS = 1.0


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
        """Something the instructor should read (a refused worker, a worker that left)."""

    def done(self) -> None:
        """The last submission is in (or the run stopped)."""


# -- the cluster ----------------------------------------------------------------


@contextlib.contextmanager
def connect(workers: int, scheduler: str | None = None) -> Iterator[tuple[object, str]]:
    """``(client, where)``: a client of the scheduler at ``scheduler``, or of a new LocalCluster of ``workers`` processes.

    The LocalCluster binds 127.0.0.1 on free ports and is closed (its
    processes stopped) on the way out, whatever happened.
    """
    import importlib.util

    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterUnavailable(f"cannot reach the dask scheduler at {scheduler}: {error}") from None
        try:
            yield client, f"the dask cluster at {scheduler}"
        finally:
            with contextlib.suppress(Exception):
                client.close()
        return
    # One task per worker thread at a time: a task that is processing is running.
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            # the dashboard needs bokeh, which the course does not pin: without it there is none
            dashboard_address="127.0.0.1:0" if importlib.util.find_spec("bokeh") else None,
            silence_logs=logging.ERROR,
        )
        try:
            client = Client(cluster)
            try:
                yield client, f"a LocalCluster of {workers} worker process(es) on 127.0.0.1"
            finally:
                client.close()
        finally:
            cluster.close()


def dashboard(client) -> str | None:
    """The dask dashboard's address, if the scheduler serves one (its pages need bokeh where the scheduler runs)."""
    try:
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return None
        if not client.run_on_scheduler(lambda: __import__("importlib.util").util.find_spec("bokeh") is not None):
            return None
        return client.dashboard_link
    except Exception:  # noqa: BLE001  (no dashboard is no reason to stop)
        return None


# -- which workers may grade ----------------------------------------------------


class Admission:
    """The workers checked against this client: admitted (with their threads) or refused (with why)."""

    def __init__(self, client, expected: dict, isolation: str, listener: Listener):
        self.client, self.expected, self.isolation, self.listener = client, expected, isolation, listener
        self.admitted: dict[str, int] = {}
        self.refused: dict[str, str] = {}
        self._all_refused_since: float | None = None

    def refresh(self) -> None:
        """Check the workers that joined since the last call; note the ones that left."""
        workers = self.client.nthreads()
        for address in [a for a in self.admitted if a not in workers]:
            del self.admitted[address]
            self.listener.said(f"worker {address} left the cluster; a submission it was grading is graded again "
                               "on another worker")
        new = [a for a in workers if a not in self.admitted and a not in self.refused]
        if not new:
            return
        try:
            answers = self.client.run(identity.admit, self.expected, self.isolation, workers=new, on_error="return")
        except (OSError, ValueError, KeyError):  # a worker left while it was being asked: ask again next time
            return
        for address in new:
            if address not in answers:
                continue
            answer = answers[address]
            if isinstance(answer, BaseException):
                self.refuse(address, f"the course cannot run there ({type(answer).__name__}: {answer}); install "
                                     "the same commit of the course there: pip install -e \".[course]\"")
            elif answer:
                self.refuse(address, answer)
            else:
                self.admitted[address] = workers[address]

    def refuse(self, address: str, reason: str) -> None:
        """Give ``address`` no more work (it stays in the cluster, retired), and say why."""
        if address in self.refused:
            return
        self.admitted.pop(address, None)
        self.refused[address] = reason
        self.listener.said(f"refused worker {address}: {reason}")
        with contextlib.suppress(Exception):
            self.client.retire_workers(workers=[address], close_workers=False, remove=False)

    @property
    def threads(self) -> int:
        return sum(self.admitted.values())

    def nobody_may_grade(self) -> str | None:
        """Why the run cannot go on: every worker present was refused, for a while (None: it can)."""
        if self.admitted or not self.refused:
            self._all_refused_since = None
            return None
        now = time.monotonic()
        self._all_refused_since = self._all_refused_since or now
        if now - self._all_refused_since < ALL_REFUSED_GRACE_SECONDS:
            return None
        reasons = "; ".join(f"{a}: {r}" for a, r in sorted(self.refused.items()))
        return f"no worker of the cluster may grade ({reasons})"


# -- the run -----------------------------------------------------------------------


def run(client, package, plans: list, install: Callable, *, listener: Listener | None = None,
        stuck_seconds: float) -> None:
    """Grade ``plans`` of ``package``'s assignment on ``client``'s cluster; ``install(result)`` for each, here, once per student.

    A plan has a ``student`` and a ``job()`` that makes its
    :class:`~course_utils.grading.job.Job` (:class:`course_utils.grading.autograde.Plan`):
    a job is made when it is sent, so only the window's notebooks are in memory.

    A job the cluster cannot grade (every worker that took it died) ends as
    a zero with a note and a flag. Raises :class:`RunStopped` if the
    scheduler goes away, on Ctrl-C, or if no worker may grade; the jobs whose
    result was installed by then stay installed.
    """
    from distributed import wait
    from distributed.scheduler import KilledWorker

    from course_utils.grading import job as job_module

    listener = listener or Listener()
    if not plans:
        return
    admission = Admission(client, package.identity, package.isolation, listener)
    token = uuid.uuid4().hex[:8]
    waiting = deque(plans)
    running: dict = {}
    attempts: dict[str, int] = {}
    seen_processing: dict[str, float] = {}
    installed: set[str] = set()

    def submit(plan) -> None:
        attempts[plan.student] = attempts.get(plan.student, 0) + 1
        key = f"grade-{package.assignment}-{plan.student}-{token}-{attempts[plan.student]}"
        running[client.submit(job_module.run, plan.job(), key=key, pure=False)] = plan

    def settle(result) -> None:
        if result.student in installed:  # never two rows for one student
            return
        installed.add(result.student)
        install(result)

    try:
        while waiting or running:
            try:
                admission.refresh()
            except OSError:  # the scheduler is not answering: the futures say what happened
                pass
            stop = admission.nobody_may_grade()
            if stop:
                raise RunStopped(stop)
            while waiting and len(running) < 2 * max(1, admission.threads) + 1:
                submit(waiting.popleft())
            try:
                finished = wait(list(running), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                finished = set()
            lost = []
            for future in finished:
                plan = running.pop(future)
                seen_processing.pop(future.key, None)
                if future.status == "finished":
                    settle(future.result())
                elif future.status == "cancelled":
                    lost.append(plan)
                else:
                    error = future.exception()
                    if isinstance(error, identity.WorkerRefused):
                        admission.refuse(error.worker, error.reason)
                        waiting.appendleft(plan)
                    elif isinstance(error, KilledWorker):
                        settle(job_module.failed(plan.job(), "the grading worker died every time it graded this submission.",
                                      f"For review: every dask worker that graded this submission died ({error})."))
                    elif isinstance(error, (ImportError, AttributeError, TypeError)) and attempts[plan.student] < 3:
                        # a worker without (this version of) the course could not even read the job
                        admission.admitted.clear()
                        waiting.appendleft(plan)
                    else:
                        settle(job_module.failed(plan.job(), f"the grader hit an error: {type(error).__name__}: {error}",
                                      f"For review: the grading task failed: {type(error).__name__}: {error}"))
            if lost:
                _reconnect_or_stop(client)
                waiting.extendleft(reversed(lost))
            _restart_stuck(client, running, seen_processing, stuck_seconds, listener)
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            client.cancel(list(running))
        raise RunStopped("interrupted (Ctrl-C)") from None
    finally:
        listener.done()


def _reconnect_or_stop(client) -> None:
    """After futures were cancelled because the connection broke: wait for the client to reconnect, or stop."""
    deadline = time.monotonic() + 120
    while client.status == "connecting" and time.monotonic() < deadline:
        time.sleep(0.2)
    if client.status != "running":
        address = getattr(getattr(client, "scheduler", None), "address", "")
        raise RunStopped(f"the connection to the dask scheduler {address} was lost")


def _restart_stuck(client, running: dict, seen: dict, stuck_seconds: float, listener: Listener) -> None:
    """Restart the worker of a task that has been processing for more than ``stuck_seconds`` (dask retries the task)."""
    try:
        processing = client.processing()
    except Exception:  # noqa: BLE001  (the next round will see)
        return
    now = time.monotonic()
    keys = {future.key for future in running}
    for address, tasks in processing.items():
        for key in tasks:
            if key not in keys:
                continue
            since = seen.setdefault(key, now)
            if now - since > stuck_seconds:
                listener.said(f"worker {address} has been grading one submission for {now - since:.0f} s; "
                              "restarting it (the submission is graded again)")
                seen.pop(key, None)
                with contextlib.suppress(Exception):
                    client.restart_workers([address], raise_for_error=False)
