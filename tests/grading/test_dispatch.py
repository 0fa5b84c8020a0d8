"""Grading on a real dask cluster: a scheduler and workers started with the ``dask`` command, on 127.0.0.1.

No mock of dask: :mod:`dask_cluster` starts ``dask scheduler`` and ``dask
worker`` processes; the grades are read back with nbgrader's ``Gradebook``.
A worker killed mid-task, a worker whose course differs, and a scheduler
that goes away mid-run are each tried for real.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import nbformat
import pytest
from nbgrader.api import Gradebook

from course_utils import authoring, lessons
from course_utils.grading import course, dispatch, gradebook, identity
from course_utils.grading.autograde import autograde

import grading_submissions as subs
from dask_cluster import Cluster, mismatched_course
from grading_course import ASSIGNMENT, GRADED_NOTEBOOKS, REPO, copy_course, settings_for

pytestmark = pytest.mark.slow


class Recorder(dispatch.Listener):
    """Keeps what a run said, and calls ``on_graded`` after each result."""

    def __init__(self, on_graded=None):
        self.lines, self.students, self.plan = [], [], None
        self.on_graded = on_graded

    def planned(self, total, current):
        self.plan = (total, current)

    def graded(self, result):
        self.students.append(result.student)
        if self.on_graded:
            self.on_graded(result)

    def said(self, message):
        self.lines.append(message)


def _write(course_dir, release, exercises, cases: dict[str, str]) -> None:
    for student, case in cases.items():
        subs.BY_NAME[case].write(course_dir / "submitted" / student / ASSIGNMENT, release, exercises, {})


def _rows(course_dir, assignment: str = ASSIGNMENT) -> dict[str, tuple[int, float]]:
    """``{student: (submissions of ``assignment`` in the gradebook, total score)}``."""
    with Gradebook(gradebook.db_url(course_dir / "gradebook.db")) as gb:
        rows = {}
        for student in gb.students:
            submissions = [s for s in student.submissions if s.assignment.name == assignment]
            rows[student.id] = (len(submissions), sum(s.score for s in submissions))
        return rows


@pytest.fixture
def cluster(tmp_path, data_dir):
    made = Cluster(tmp_path / "cluster")
    yield made
    left = made.stop()
    made.remove()
    assert not left, f"processes left running: {left}"


def test_a_worker_is_admitted_only_with_the_clients_course_and_pins():
    """The admission check and the resource it grants: the same identity matches, any difference is said."""
    mine = identity.identity()
    assert identity.differences(mine, mine) == []
    other = {**mine, "course_utils": "0" * 64, "packages": {**mine["packages"], "zarr": "2.0.0"}}
    words = "; ".join(identity.differences(mine, other))
    assert "course_utils is not the same code" in words and "zarr 2.0.0 there" in words
    assert dispatch.resource(mine, "namespaces") != dispatch.resource(other, "namespaces")
    assert dispatch.resource(mine, "namespaces") != dispatch.resource(mine, "none")


def test_two_dask_workers_grade_a_class_and_a_killed_worker_costs_nothing(cluster, tmp_path, course_dir, release,
                                                                          exercises, data_dir):
    """Two ``dask worker`` processes and a third whose course differs: the right grades, one row each.

    One worker is killed (SIGKILL) while it grades: its task runs again on
    the other worker and lands once. The mismatched worker is named, and
    grades nothing.
    """
    cases = {"ann": "full", "bob": "partial", "cyd": "blank", "dee": "full", "eve": "exception"}
    _write(course_dir, release, exercises, cases)
    cluster.start_scheduler()
    cluster.start_worker("good-1")
    cluster.start_worker("good-2")
    cluster.start_worker("other-course", {"PYTHONPATH": str(mismatched_course(tmp_path / "other"))})
    workers = cluster.wait_for_workers(3)
    by_name = {info["name"]: address for address, info in workers.items()}
    killed = []

    def kill_one_mid_task():
        with cluster.client() as client:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not killed:
                busy = [a for a, tasks in client.processing().items() if tasks and a == by_name["good-1"]]
                if busy:
                    time.sleep(2)  # well inside the notebook's run
                    pid = client.run(os.getpid, workers=busy)[busy[0]]
                    assert cluster.ours(pid)
                    os.kill(pid, signal.SIGKILL)
                    killed.append(busy[0])
                time.sleep(0.2)

    killer = threading.Thread(target=kill_one_mid_task, daemon=True)
    killer.start()
    recorder = Recorder()
    settings = replace(settings_for(course_dir, data_dir, 0), scheduler=cluster.address)
    results = autograde(settings, ASSIGNMENT, listener=recorder)
    killer.join(timeout=10)
    cluster.remember()
    assert killed, "no worker was killed mid-task"
    assert sorted(recorder.students) == sorted(cases)
    assert {r.student: r.report.score for r in results} == {s: subs.BY_NAME[c].score for s, c in cases.items()}
    assert _rows(course_dir) == {s: (1, subs.BY_NAME[c].score) for s, c in cases.items()}
    assert all(r.worker != by_name["other-course"] for r in results)
    refused = [line for line in recorder.lines if by_name["other-course"] in line]
    assert len(refused) == 1 and "refused" in refused[0] and "course_utils is not the same code" in refused[0]


def test_a_cluster_of_mismatched_workers_grades_nothing(cluster, tmp_path, course_dir, release, exercises, capsys):
    """Every worker differs: ``course-utils autograde --scheduler`` stops before grading, one line per worker, exit 2."""
    from course_utils import cli
    from course_utils.grading import cli as grading_cli

    _write(course_dir, release, exercises, {"ann": "full"})
    cluster.start_scheduler()
    cluster.start_worker("other-course", {"PYTHONPATH": str(mismatched_course(tmp_path / "other"))})
    cluster.wait_for_workers(1)
    code = cli.main(["autograde", ASSIGNMENT, "--course", str(course_dir), "--scheduler", cluster.address])
    cluster.remember()
    printed = capsys.readouterr()
    assert code == grading_cli.FAILED
    refused = [line for line in printed.err.splitlines() if line.startswith("refused worker")]
    assert len(refused) == 1 and "course_utils is not the same code" in refused[0]
    errors = [line for line in printed.err.splitlines() if line.startswith("error: ")]
    assert errors == ["error: the run stopped: no worker of the cluster may grade: every worker differs from this "
                      "machine (see above); 0 graded, 1 not graded"]
    assert "not graded (1): ann" in printed.out and "Traceback" not in printed.out + printed.err
    assert not (course_dir / "autograded").exists()


def test_a_worker_that_joins_later_is_checked_as_it_joins_and_named(cluster, tmp_path):
    """Admission is a worker plugin: a mismatched worker joining mid-run gets no grading resource and is named."""
    from course_utils.grading.plugins import sandbox

    isolation = sandbox.require("auto")
    cluster.start_scheduler()
    cluster.start_worker("good")
    cluster.wait_for_workers(1)
    recorder = Recorder()
    with cluster.client() as client:
        assert dispatch.admit(client, identity.identity(), isolation, recorder) == 1
        assert recorder.lines == []
        cluster.start_worker("late", {"PYTHONPATH": str(mismatched_course(tmp_path / "other"))})
        client.wait_for_workers(2, timeout=120)
        deadline = time.monotonic() + 60
        while not recorder.lines and time.monotonic() < deadline:
            time.sleep(0.2)
        name = dispatch.resource(identity.identity(), isolation)
        resources = {info["name"]: info.get("resources", {}) for info in client.scheduler_info(n_workers=-1)["workers"].values()}
    cluster.remember()
    assert len(recorder.lines) == 1 and "course_utils is not the same code" in recorder.lines[0]
    assert resources["good"] == {name: 1} and name not in resources["late"]


def test_a_cluster_that_goes_away_stops_the_run_and_the_next_run_grades_the_rest(cluster, course_dir, release,
                                                                                 exercises, data_dir):
    """The scheduler is stopped after the first grade: the run lists who is graded; run again, only the rest."""
    cases = {"ann": "full", "bob": "partial", "cyd": "full"}
    _write(course_dir, release, exercises, cases)
    cluster.start_scheduler()
    cluster.start_worker("only")
    cluster.wait_for_workers(1)
    scheduler = cluster.processes[0]

    def stop_the_scheduler(result):
        cluster.remember()
        cluster.stop_process(scheduler)

    settings = replace(settings_for(course_dir, data_dir, 0), scheduler=cluster.address)
    with pytest.raises(dispatch.RunStopped) as stopped:
        autograde(settings, ASSIGNMENT, listener=Recorder(on_graded=stop_the_scheduler))
    first = stopped.value.graded
    assert len(first) == 1 and sorted(first + stopped.value.left) == sorted(cases)
    assert "scheduler" in stopped.value.reason
    for process in cluster.processes[1:]:
        cluster.stop_process(process)

    again = Cluster(cluster.folder / "again")
    try:
        again.start_scheduler()
        again.start_worker("again")
        again.wait_for_workers(1)
        recorder = Recorder()
        results = autograde(replace(settings, scheduler=again.address), ASSIGNMENT, listener=recorder)
        again.remember()
    finally:
        left = again.stop()
    assert not left
    assert recorder.plan == (2, 1)
    assert sorted(recorder.students) == sorted(stopped.value.left)
    assert {r.student: r.report.score for r in results} == {s: subs.BY_NAME[c].score for s, c in cases.items()}
    assert _rows(course_dir) == {s: (1, subs.BY_NAME[c].score) for s, c in cases.items()}


def test_every_notebook_is_graded_on_a_scheduler_and_two_workers(cluster, tmp_path, every_assignment_course, data_dir):
    """A solved notebook of each assignment, graded through ``dask scheduler`` and two ``dask worker`` processes.

    Each scores every point of its notebook, which is what grading it in one
    process gives (the warm-up confirmed every solution), with one gradebook
    row. Two notebooks are graded at a time, each in a copy of the course
    (its own gradebook), so both workers have work.
    """
    root, unconfirmed = every_assignment_course
    assert not unconfirmed, unconfirmed
    cluster.start_scheduler()
    cluster.start_worker("one")
    cluster.start_worker("two")
    names = {address: info["name"] for address, info in cluster.wait_for_workers(2).items()}

    def grade(path):
        course_dir = copy_course(root, tmp_path / path.stem / "course")
        assignment = course.find_assignment(path.stem)
        solved = subs.answered(course.release_notebook(course_dir, assignment),
                               authoring.read_exercises(path, REPO / "solutions"))
        folder = course_dir / "submitted" / "ann" / assignment.name
        folder.mkdir(parents=True)
        nbformat.write(solved, folder / f"{assignment.notebook_id}.ipynb")
        settings = replace(settings_for(course_dir, data_dir, 0), scheduler=cluster.address)
        recorder = Recorder()
        try:
            (result,) = autograde(settings, assignment.name, listener=recorder)
        except dispatch.RunStopped as stop:
            raise AssertionError(f"{path.stem}: {stop.reason} {recorder.lines}") from None
        return path.stem, (result.report.score, _rows(course_dir, assignment.name), names.get(result.worker))

    with ThreadPoolExecutor(max_workers=2) as pool:
        graded = dict(pool.map(grade, GRADED_NOTEBOOKS))
    cluster.remember()
    points = {path.stem: lessons.lesson_stats(path).points for path in GRADED_NOTEBOOKS}
    assert {stem: score for stem, (score, _, _) in graded.items()} == points
    assert {stem: rows for stem, (_, rows, _) in graded.items()} == {
        stem: {"ann": (1, score)} for stem, score in points.items()
    }
    assert {worker for _, _, worker in graded.values()} <= {"one", "two"}


class _Cluster:
    """What :class:`dispatch.Growth` uses of a LocalCluster: its worker specs and ``scale``."""

    def __init__(self, workers: int):
        self.worker_spec = {n: {} for n in range(workers)}

    def scale(self, n: int) -> None:
        self.worker_spec.update({number: {} for number in range(len(self.worker_spec), n)})


def test_growth_adds_a_worker_only_while_jobs_wait_and_cores_stay_idle(monkeypatch):
    import psutil

    busy = {"percent": 10.0}
    monkeypatch.setattr(psutil, "cpu_percent", lambda interval=None: busy["percent"])
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: 2)
    monkeypatch.setattr(dispatch, "GROW_EVERY_SECONDS", 0.0)
    cluster, grew = _Cluster(2), []
    listener = dispatch.Listener()
    listener.grew = grew.append
    growth = dispatch.Growth(cluster, 4, listener)
    assert not growth.check(True)  # the first result only starts the window
    assert not growth.check(False) and not growth.check(False)  # idle, but nothing waits
    busy["percent"] = 90.0  # 0.2 of a core idle: not enough, and the count starts again
    assert not growth.check(True)
    busy["percent"] = 70.0  # 0.6 of a core idle...
    assert not growth.check(True)  # ...in one window is not enough
    assert growth.check(True)  # two in a row are
    assert not growth.check(True) and growth.check(True)  # two more windows for the next one
    assert not growth.check(True) and not growth.check(True)  # never more than ``most``
    assert grew == [3, 4] and len(cluster.worker_spec) == 4
    monkeypatch.setattr(dispatch, "GROW_EVERY_SECONDS", 3600.0)
    growth = dispatch.Growth(_Cluster(1), 4, listener)
    growth.check(True)
    assert not growth.check(True) and not growth.check(True)  # windows shorter than GROW_EVERY_SECONDS say nothing


def test_growth_waits_for_memory(monkeypatch):
    import psutil

    monkeypatch.setattr(psutil, "cpu_percent", lambda interval=None: 0.0)
    monkeypatch.setattr(dispatch, "GROW_EVERY_SECONDS", 0.0)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: type("Memory", (), {"available": 2**30})())
    growth = dispatch.Growth(_Cluster(1), 2, dispatch.Listener())
    growth.check(True)
    assert not any(growth.check(True) for _ in range(4))


def test_a_grown_localcluster_worker_is_admitted_like_the_first(monkeypatch):
    """The LocalCluster really starts the worker Growth adds, and the admission plugin gives it the resource."""
    from course_utils.grading.plugins import sandbox

    monkeypatch.setattr(dispatch, "GROW_EVERY_SECONDS", 0.0)
    monkeypatch.setattr(dispatch, "IDLE_CORES", float("-inf"))  # whatever the machine's load
    isolation = sandbox.require("auto")
    with dispatch.connect(1) as (client, _):
        assert dispatch.admit(client, identity.identity(), isolation, Recorder()) == 1
        growth = dispatch.Growth(client.cluster, 2, dispatch.Listener())
        assert [growth.check(True) for _ in range(3)] == [False, False, True]
        client.wait_for_workers(2, timeout=120)
        name = dispatch.resource(identity.identity(), isolation)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            resources = [info.get("resources", {}) for info in client.scheduler_info(n_workers=-1)["workers"].values()]
            if all(r == {name: 1} for r in resources):
                break
            time.sleep(0.2)
        assert len(resources) == 2 and all(r == {name: 1} for r in resources), resources
        assert all(host.startswith("tcp://127.0.0.1:") for host in client.scheduler_info(n_workers=-1)["workers"])


def test_runs_that_admit_at_the_same_time_on_one_cluster_are_both_admitted():
    """Two commands grading on one cluster at once each register the admission check; neither reads the other's pending one."""
    from course_utils.grading.plugins import sandbox

    isolation = sandbox.require("auto")

    def admit(address):
        with dispatch.connect(0, address) as (client, _):
            return dispatch.admit(client, identity.identity(), isolation, Recorder())

    with dispatch.connect(1) as (client, _), ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(3):
            assert list(pool.map(admit, [client.scheduler.address] * 2)) == [1, 1]
