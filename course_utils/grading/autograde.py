"""Autograde a class: plan the jobs, send them to dask, write every result into the course, one writer.

nbgrader grades one submission at a time, and its SQLite gradebook does not
take concurrent writers. Here each submission is one
:class:`~course_utils.grading.job.Job` (plain data, graded in a temporary
course of its own), sent to dask workers by
:mod:`course_utils.grading.dispatch`: a LocalCluster of
:attr:`Settings.workers <course_utils.grading.job.Settings.workers>` process
workers on this machine by default, any dask cluster with
``Settings.scheduler``, or this very process with ``workers=0``. Whichever
runs it, the job is the same function, so the grades are the same. This
process alone puts each result into the course: the autograded files, the
report, and the grades into the gradebook with nbgrader's ``Gradebook`` API
(:mod:`course_utils.grading.gradebook`).

A run grades only what is not graded yet: a submission whose report says it
was graded from the very same inputs (the same notebook, intake's notes,
released notebook, limits and sandbox: :attr:`Report.graded_from
<course_utils.grading.report.Report.graded_from>`), and that the gradebook
has, is kept as it is, unless ``force`` or the student is named. So a run
that stopped halfway (the cluster went away, Ctrl-C:
:class:`~course_utils.grading.dispatch.RunStopped`) is finished by running
the same command again, and a new LMS download regrades only the students
whose upload changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from course_utils.grading import collect, course, dispatch, gradebook, intake, report
from course_utils.grading import job as job_module
from course_utils.grading.job import Job, Package, Result, Settings  # noqa: F401  (Settings, Result: re-exported)
from course_utils.grading.limits import HIDDEN_COURSE_ENTRIES, UploadLimits

NO_SANDBOX_FLAG = (
    "For review: graded WITHOUT a sandbox (--isolation none): the student's code ran with the grader's "
    "rights and could have read the solutions or changed files."
)


@dataclass
class Plan:
    """One student of the run: what will be graded (its digest), and how to get the job or the result.

    ``make`` reads the notebook when the job is sent (a class's notebooks are
    never all in memory at once); ``settle``, for a submission no kernel
    needs to see (intake refused it, no notebook), gives its result here.
    """

    student: str
    digest: str
    make: Callable[[], Job] | None = None
    settle: Callable[[], Result] | None = None

    def job(self) -> Job:
        """The job to send to a worker."""
        return self.make()


def autograde(settings: Settings, assignment: str, students: list[str] | None = None, *, force: bool = False,
              listener: dispatch.Listener | None = None) -> list[Result]:
    """Grade ``students`` (default: everyone in ``submitted/`` not graded yet) for ``assignment``; every result.

    The results of this run and those kept from earlier runs, sorted by
    student. The sandbox is checked first
    (:class:`~course_utils.grading.plugins.sandbox.IsolationUnavailable`);
    :class:`~course_utils.grading.dispatch.RunStopped` (with the students
    graded and those not) if the run stops before the end;
    :class:`~course_utils.grading.dispatch.ClusterUnavailable` if the
    scheduler named cannot be reached.
    """
    from course_utils.grading import warm
    from course_utils.grading.plugins import sandbox

    settings = replace(settings, isolation=sandbox.require(settings.isolation))
    listener = listener or dispatch.Listener()
    main = Path(settings.course_root).resolve()
    found = course.find_assignment(assignment, settings.repo)
    named = students is not None
    students = list(students) if named else collect.submitted_students(main, assignment)
    if not students:
        return []
    warm.ensure_warm(settings, [found])
    with tempfile.TemporaryDirectory(prefix="cg-") as scratch:
        snapshot = gradebook.assignment_only(main / "gradebook.db", Path(scratch) / "assignment.db")
        package = _package(settings, found, snapshot)
        extensions = gradebook.extensions(main / "gradebook.db", assignment)
        in_gradebook = gradebook.submitted_students(main / "gradebook.db", assignment)
        results: list[Result] = []
        plans: list[Plan] = []
        for student in students:
            plan = _plan(package, main, found, student, extensions.get(student), snapshot)
            kept = None if force or named else _current(main, assignment, plan, in_gradebook)
            if kept is not None:
                results.append(kept)
            else:
                plans.append(plan)
        listener.planned(len(plans), len(results))
        digests = {plan.student: plan.digest for plan in plans}

        def install(result: Result) -> None:
            _install(settings, result, digests[result.student])
            results.append(result)
            listener.graded(result)

        for plan in plans:  # no kernel needed: settled here, at once
            if plan.settle is not None:
                install(plan.settle())
        to_send = [plan for plan in plans if plan.settle is None]
        try:
            _grade(settings, package, to_send, install, listener)
        except dispatch.RunStopped as stop:
            graded = sorted(r.student for r in results)
            raise dispatch.RunStopped(stop.reason, graded, sorted(set(students) - set(graded))) from None
    return sorted(results, key=lambda r: r.student)


def _grade(settings: Settings, package: Package, plans: list[Plan], install, listener: dispatch.Listener) -> None:
    """Send ``plans`` to the cluster (or grade them here, for ``workers=0``)."""
    if not plans:
        listener.done()
        return
    if settings.workers <= 0 and not settings.scheduler:
        listener.connected("this process (no cluster)", None)
        try:
            with _interrupts_noticed() as interrupted:
                for plan in plans:
                    result = job_module.run(plan.job())
                    if interrupted.is_set():  # Ctrl-C during this job: its "failed" grade is not the student's
                        raise KeyboardInterrupt
                    install(result)
        except KeyboardInterrupt:
            raise dispatch.RunStopped("interrupted (Ctrl-C)") from None
        finally:
            listener.done()
        return
    with dispatch.connect(settings.workers, settings.scheduler) as (client, where):
        listener.connected(where, dispatch.dashboard(client))
        dispatch.run(client, package, plans, install, listener=listener, grow_to=settings.grow_to)


@contextlib.contextmanager
def _interrupts_noticed() -> Iterator[threading.Event]:
    """An event that Ctrl-C (SIGINT) sets in this block; the interrupt still raises ``KeyboardInterrupt`` where it lands.

    nbgrader's API catches every exception of the app it runs, Ctrl-C
    included (``nbgrader.utils.capture_log``), and reports a failed
    autograde: without the event, the student being graded would get a zero
    that a second run keeps, and the run would go on. Outside the main
    thread no handler can be set; the event then stays clear.
    """
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.getsignal(signal.SIGINT)

    def noticed(signum, frame):
        interrupted.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, noticed)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def _package(settings: Settings, found: course.Assignment, snapshot: Path) -> Package:
    from course_utils.grading import identity, warm
    from course_utils.grading.plugins import config

    local = not settings.scheduler
    names = config.answer_names_by_notebook(Path(settings.repo) / "notebooks", Path(settings.repo) / "solutions")
    main = Path(settings.course_root).resolve()
    release = main / "release" / found.name / f"{found.notebook_id}.ipynb"
    return Package(
        assignment=found.name,
        notebook_id=found.notebook_id,
        release=release.read_text(encoding="utf-8"),
        gradebook=snapshot.read_bytes(),
        answer_names={found.notebook_id: names.get(found.notebook_id, {})},
        limits=settings.limits,
        isolation=settings.isolation,
        identity=identity.identity(),
        warm=None if local else warm.recipe(settings, found),
        data_dir=str(settings.data_dir) if local and settings.data_dir else None,
        hide=tuple(str(main / entry) for entry in HIDDEN_COURSE_ENTRIES),
    )


def _plan(package: Package, main: Path, found: course.Assignment, student: str, extension: float | None,
          snapshot: Path) -> Plan:
    """What grading ``student`` takes: a job for a worker, or (intake refused it, no notebook) a result made here."""
    folder = main / "submitted" / student / found.name
    record = intake.load_record(folder)
    flags = tuple(record.flags) if record else ()
    stamp = folder / "timestamp.txt"
    timestamp = stamp.read_text(encoding="utf-8", errors="replace") if stamp.is_file() else None
    inputs = [package.digest(), flags, timestamp, extension]

    def settled(status: str, notes: list[str], with_flags: bool = True) -> Plan:
        def settle() -> Result:
            result = job_module.zero(snapshot, found.name, student, status, notes)
            result.report.flags.extend(flags if with_flags else ())
            return result

        return Plan(student, _digest(inputs + [status, notes]), settle=settle)

    if record is not None and record.status != intake.READY:
        return settled(record.status, list(record.notes))
    if record is not None:
        chosen, notes = folder / f"{found.notebook_id}.ipynb", list(record.notes)
    else:
        chosen, notes = collect.choose_notebook(folder, f"{found.notebook_id}.ipynb", set(found.grade_ids))
    if chosen is None or not chosen.is_file():
        return settled(report.MISSING, notes, with_flags=False)
    size, limit = chosen.stat().st_size, UploadLimits().file_bytes
    if size > limit:
        note = (f"Your notebook holds {size / 2**20:.0f} MiB; the limit is {limit / 2**20:g} MiB. "
                "Upload the notebook file itself (File > Download in Jupyter); clear large outputs first.")
        return settled(report.TOO_LARGE, [note, *notes])

    def make() -> Job:
        return Job(package, student, chosen.read_bytes(), tuple(notes), flags, timestamp, extension)

    return Plan(student, _digest(inputs + [notes, _file_digest(chosen)]), make=make)


def _digest(inputs: list) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _current(main: Path, assignment: str, plan: Plan, in_gradebook: set[str]) -> Result | None:
    """The result of an earlier run that graded exactly what ``plan`` would grade, or None."""
    folder = main / "autograded" / plan.student / assignment
    saved = report.load(folder)
    if saved is None or saved.graded_from != plan.digest or plan.student not in in_gradebook:
        return None
    answers = {}
    if saved.second_look == report.PENDING:  # the second look has yet to see it: it needs the answers
        import nbformat

        for path in sorted(folder.glob("*.ipynb")):
            answers.update(job_module.answers_of(nbformat.read(path, as_version=4)))
    return Result(plan.student, assignment, saved, answers=answers)


def _install(settings: Settings, result: Result, digest: str) -> None:
    """Put one result into the course: autograded files, report, gradebook (this process only)."""
    from course_utils.grading.plugins import sandbox

    if settings.isolation == sandbox.NONE and NO_SANDBOX_FLAG not in result.report.flags:
        result.report.flags.insert(0, NO_SANDBOX_FLAG)
    result.report.graded_from = digest
    main = Path(settings.course_root).resolve()
    target = main / "autograded" / result.student / result.assignment
    if target.exists():
        job_module.rmtree(target)
    target.mkdir(parents=True)
    for name, content in result.files.items():
        path = (target / name).resolve()
        if target not in path.parents:  # a name from a worker never writes outside the student's folder
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    result.report.save(target)
    gradebook.write_submission(
        main / "gradebook.db", result.assignment, result.student, result.data, flagged=bool(result.report.flags)
    )
