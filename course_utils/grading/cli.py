"""The instructor's ``course-utils`` commands: one per grading step, and ``grade`` for all of them.

::

    course-utils release [ASSIGNMENT ...]          # source + student versions (release/)
    course-utils collect DOWNLOAD -a ASSIGNMENT    # LMS zip/folder -> submitted/
    course-utils autograde ASSIGNMENT              # every submission not graded yet, on dask, re-checked
    course-utils feedback ASSIGNMENT               # feedback/<student>/<assignment>/*.html
    course-utils export [--csv grades.csv]         # the grades CSV
    course-utils grade DOWNLOAD                    # all of the above
    course-utils accept ASSIGNMENT STUDENT         # give back points the second look withheld

Every command takes ``--course DIR`` (default: this repository, whose
nbgrader folders are git-ignored); each takes the options it uses and no
other. ``grade`` and ``autograde`` run on a LocalCluster of this machine, or
on a dask cluster (``--scheduler ADDRESS``); they show a progress bar on a
terminal (one line per submission otherwise) and end with one line saying
how many submissions were graded and how many need attention. Their exit
code is 0 when none does, 1 when some do, 2 when the run could not grade
them all (a bad argument, no sandbox, no scheduler, the cluster went away,
Ctrl-C: then running the same command again grades the rest). Errors are
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils.grading.limits import GIB, MIB, REPO, Limits, UploadLimits

OK, ATTENTION, FAILED = 0, 1, 2


def _limits(args: argparse.Namespace) -> Limits:
    base = Limits()
    return Limits(
        cell_seconds=max(1, round(args.cell_timeout)) if args.cell_timeout else base.cell_seconds,
        notebook_seconds=max(1, round(args.notebook_timeout)) if args.notebook_timeout else base.notebook_seconds,
        memory_bytes=int(args.memory_gib * GIB) if args.memory_gib else base.memory_bytes,
        file_bytes=base.file_bytes,
        output_bytes=base.output_bytes,
        scratch_bytes=int(args.scratch_mib * MIB) if args.scratch_mib else base.scratch_bytes,
    )


def _upload_limits(args: argparse.Namespace) -> UploadLimits:
    base = UploadLimits()
    return UploadLimits(
        file_bytes=int(args.max_file_mib * MIB) if args.max_file_mib else base.file_bytes,
        upload_bytes=int(args.max_upload_mib * MIB) if args.max_upload_mib else base.upload_bytes,
        archive_members=base.archive_members,
    )


def _count(text: str) -> int:
    """argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, not {text!r}")
    return value


def _positive(text: str) -> float:
    """argparse type: a number above 0 (a limit of 0 or less would stop every submission at once)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number above 0, not {text!r}")
    return value


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return FAILED


class Progress:
    """The instructor's view of a run (a :class:`~course_utils.grading.dispatch.Listener`), on stderr.

    On a terminal: a rich progress bar (done of total, graded, failed,
    remaining, ETA) under one line per submission. Elsewhere (a log file, a
    pipe, CI): the lines alone, each with its count. Standard output keeps
    the run's own lines (the sandbox, the limits, the last line).
    """

    def __init__(self, console=None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
        self.bar = None
        self.task = None
        self.counts = {"graded": 0, "failed": 0}
        self.total = 0

    def line(self, text: str) -> None:
        """One line above the bar (or alone, off a terminal)."""
        self.console.print(text, markup=False)

    def connected(self, where: str, dashboard: str | None) -> None:
        """Where the jobs run, and the dask dashboard's address when there is one."""
        self.line(f"grading on {where}" + (f"; dask dashboard: {dashboard}" if dashboard else ""))

    def planned(self, total: int, current: int) -> None:
        """Start the bar for ``total`` submissions (on a terminal)."""
        self.total = total
        if current:
            self.line(f"{current} submission(s) already graded from the same files are kept "
                      "(--force grades them again)")
        if total and self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

            self.bar = Bar(
                TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                TextColumn("graded {task.fields[graded]} · failed {task.fields[failed]} · "
                           "remaining {task.fields[remaining]} · ETA"),
                TimeRemainingColumn(), console=self.console, transient=False,
            )
            self.bar.start()
            self.task = self.bar.add_task("grading", total=total, graded=0, failed=0, remaining=total)

    def graded(self, result) -> None:
        """One more submission in: its line, and the bar moves."""
        from course_utils.grading import status

        self.counts["graded" if result.report.status == status.GRADED else "failed"] += 1
        done = sum(self.counts.values())
        self.line(f"[{done}/{self.total}] {result.student:24} {result.report.summary()}")
        if self.bar is not None:
            self.bar.update(self.task, completed=done, remaining=max(0, self.total - done), **self.counts)

    def said(self, message: str) -> None:
        """A line the instructor must read (a refused worker)."""
        self.line(message)

    def grew(self, workers: int) -> None:
        """The LocalCluster added a worker (a core was left idle)."""
        self.line(f"a core was left idle: one more worker, {workers} now")

    def done(self) -> None:
        """Stop the bar (the run ended or stopped)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _announce(run) -> None:
    """The first lines of a grading run: the sandbox (loudly if there is none), the limits, where it runs."""
    from course_utils.grading.plugins import sandbox

    if run.isolation == sandbox.NONE:
        print("WARNING: grading WITHOUT a sandbox (--isolation none). Student code runs with your rights: it can "
              "read the solutions and change the gradebook and other students' files. Every report and the "
              "grades CSV say so.", flush=True)
    else:
        print(f"sandbox: {run.isolation} (no network; the kernel sees the system, its Python and course_utils, "
              "read-only, and its own folder; nothing of the course or other students)", flush=True)
    where = (f"the dask scheduler at {run.scheduler}" if run.scheduler
             else "this process" if run.workers <= 0 else f"{run.workers} worker process(es) on this machine"
             + (f" (up to {run.grow_to} while a core is left idle)" if run.grow_to > run.workers else ""))
    print(f"limits: {run.limits.describe()}; jobs run on {where}", flush=True)


def _stopped(stop) -> int:
    """A run that stopped before the end: who was graded, who was not, what to do; exit code 2."""
    print(f"graded ({len(stop.graded)}): {', '.join(stop.graded) or 'nobody'}", flush=True)
    print(f"not graded ({len(stop.left)}): {', '.join(stop.left) or 'nobody'}", flush=True)
    first = "Fix the workers named above (the same commit of the course, pip install -e \".[course]\"), then run" \
        if stop.reason.startswith("no worker") else "Run"
    print(f"{first} the same command again: it grades only those not graded, then the second look, the feedback "
          "and the grades CSV.", flush=True)
    return _error(f"the run stopped: {stop.reason}; {len(stop.graded)} graded, {len(stop.left)} not graded")


def _release(args) -> int:
    from course_utils.grading import course

    for name in course.generate(args.course, REPO, args.assignments or None, limits=_limits(args)):
        print(f"released {name}: {Path(args.course) / 'release' / name}")
    return OK


def _print_intake(taken) -> None:
    for student, record in sorted(taken.students.items()):
        state = "ready to grade" if record.status == "ready" else record.status
        print(f"{student:24} {state}: {record.graded or '-'}", flush=True)
    for entry in taken.unattributed:
        print(f"{'(nobody)':24} not attributed: {entry['entry']}", flush=True)
    print(f"listing of every entry: {taken.manifest}")


def _collect(args) -> int:
    from course_utils.grading import collect

    try:
        assignment, taken = collect.collect(args.course, Path(args.download), args.assignment,
                                            upload_limits=_upload_limits(args))
    except ValueError as error:
        return _error(str(error))
    if taken is None:
        print(f"{Path(args.download)} is the course's own submitted/ folder: nothing to collect.")
        return OK
    _print_intake(taken)
    ready = sum(1 for r in taken.students.values() if r.status == "ready")
    print(f"collected {len(taken.students)} student(s) of {assignment}: {ready} with a notebook to grade, "
          f"{len(taken.students) - ready + len(taken.unattributed)} need attention.")
    return OK if ready == len(taken.students) and not taken.unattributed else ATTENTION


def _run_errors():
    """The exceptions a grading run turns into one line and exit code 2."""
    from course_utils.grading import dispatch, selfcheck
    from course_utils.grading.plugins import sandbox

    return (sandbox.IsolationUnavailable, selfcheck.SolutionNotConfirmed, dispatch.ClusterUnavailable, ValueError)


def _autograde(args) -> int:
    from course_utils.grading import dispatch, pipeline

    try:
        run = pipeline.settings(args.course, workers=args.workers, limits=_limits(args), isolation=args.isolation,
                                scheduler=args.scheduler)
        _announce(run)
        results, changes = pipeline.autograde_and_verify(run, args.assignment, args.student or None,
                                                         force=args.force, listener=Progress())
    except dispatch.RunStopped as stop:
        return _stopped(stop)
    except _run_errors() as error:
        return _error(str(error))
    for student, reasons in changes.items():
        print(f"re-checked {student}: {'; '.join(reasons)}")
    outcome = pipeline.Outcome(args.assignment, results, rechecked=changes, isolation=run.isolation)
    print(outcome.last_line(), flush=True)
    return ATTENTION if outcome.attention else OK


def _feedback(args) -> int:
    from course_utils.grading import export

    pages = export.generate_feedback(args.course, args.assignment)
    print(f"wrote {len(pages)} feedback page(s) under {Path(args.course) / 'feedback'}")
    return OK


def _export(args) -> int:
    from course_utils.grading import export, pipeline

    target = export.export_grades(args.course, args.csv or pipeline.default_csv(args.course), args.assignment or None)
    print(f"wrote {target}")
    return OK


def _grade(args) -> int:
    from course_utils.grading import dispatch, pipeline

    try:
        outcome = pipeline.grade(
            Path(args.download) if args.download else None,
            args.course,
            assignment=args.assignment,
            workers=args.workers,
            scheduler=args.scheduler,
            limits=_limits(args),
            upload_limits=_upload_limits(args),
            isolation=args.isolation,
            csv_path=args.csv,
            force=args.force,
            listener=Progress(),
            on_start=_announce,
        )
    except dispatch.RunStopped as stop:
        return _stopped(stop)
    except _run_errors() as error:
        return _error(str(error))
    for entry in outcome.unattributed:
        print(f"{'(nobody)':24} not attributed, not graded: {entry}")
    print(f"grades: {outcome.csv}")
    print(f"feedback: {len(outcome.feedback)} page(s) under {Path(args.course) / 'feedback'}")
    if outcome.intake is not None:
        print(f"what became of every upload: {outcome.intake.manifest}")
    print(outcome.last_line(), flush=True)
    return ATTENTION if outcome.attention or outcome.unattributed else OK


def _accept(args) -> int:
    from course_utils.grading import accept

    try:
        rep = accept.accept(args.course, args.assignment, args.student, args.test or None)
    except (accept.NothingToAccept, ValueError) as error:
        return _error(str(error))
    print(f"{args.student:24} {rep.summary()}")
    print("run `course-utils export` to update the grades CSV")
    return OK


def _course_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=REPO, help="nbgrader course directory (default: the repository)")


def _limit_options(parser: argparse.ArgumentParser) -> None:
    """What one submission may use (``release`` writes them into the course's nbgrader configuration)."""
    parser.add_argument("--cell-timeout", type=_positive, default=None, help=f"seconds per cell (default {Limits.cell_seconds})")
    parser.add_argument(
        "--notebook-timeout", type=_positive, default=None, help=f"seconds per notebook (default {Limits.notebook_seconds})"
    )
    parser.add_argument(
        "--memory-gib", type=_positive, default=None, help=f"memory per kernel in GiB (default {Limits.memory_bytes / GIB:g})"
    )
    parser.add_argument(
        "--scratch-mib", type=_positive, default=None,
        help=f"private /tmp + /dev/shm per kernel in MiB (default {Limits.scratch_bytes / MIB:g})",
    )


def _run_options(parser: argparse.ArgumentParser) -> None:
    """Where and how the submissions are graded."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=_count, default=None,
        help="worker processes of the LocalCluster started on this machine (default: one per core to start "
        "with, and one more at a time, up to two per core, while a core is left idle; "
        "0: no cluster, one submission at a time in this process)",
    )
    where.add_argument(
        "--scheduler", metavar="ADDRESS", default=None,
        help="grade on the dask cluster whose scheduler is at ADDRESS (tcp://host:8786) instead; its workers "
        "must run the same course and pins (a worker that differs is refused)",
    )
    parser.add_argument(
        "--isolation",
        default="auto",
        choices=("auto", "namespaces", "user-namespaces", "none"),
        help="kernel sandbox (default auto: the strongest that works, an error if none does; "
        "'none' grades without a sandbox and says so everywhere); every worker must have the same",
    )
    parser.add_argument(
        "--force", action="store_true",
        help="grade again the submissions already graded from the same files (default: only what is not graded yet)",
    )


def _upload_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-file-mib", type=_positive, default=None,
        help=f"largest notebook (or file in an uploaded zip), uncompressed (default {UploadLimits.file_bytes / MIB:g})",
    )
    parser.add_argument(
        "--max-upload-mib", type=_positive, default=None,
        help=f"largest upload, everything in it uncompressed (default {UploadLimits.upload_bytes / MIB:g})",
    )


def add_commands(commands) -> None:
    """Add the grading sub-commands to ``course-utils``' sub-parsers ``commands``."""
    release = commands.add_parser("release", help="build the nbgrader source and student versions (release/)")
    release.add_argument("assignments", nargs="*", help="assignments (notebook stems); default: all")
    _course_option(release)
    _limit_options(release)
    release.set_defaults(run=_release)

    collect = commands.add_parser("collect", help="LMS download (zip or folder) -> submitted/, every upload accounted for")
    collect.add_argument("download", help="the zip file or folder downloaded from the LMS")
    collect.add_argument("-a", "--assignment", help="assignment name (default: recognised from the notebooks)")
    _course_option(collect)
    _upload_options(collect)
    collect.set_defaults(run=_collect)

    grade_one = commands.add_parser(
        "autograde", help="autograde every submission of an assignment not graded yet, on dask workers"
    )
    grade_one.add_argument("assignment")
    grade_one.add_argument("--student", action="append", help="only this student, graded again (repeatable)")
    _course_option(grade_one)
    _limit_options(grade_one)
    _run_options(grade_one)
    grade_one.set_defaults(run=_autograde)

    feedback = commands.add_parser("feedback", help="feedback HTML per student (feedback/<student>/<assignment>/)")
    feedback.add_argument("assignment")
    _course_option(feedback)
    feedback.set_defaults(run=_feedback)

    export = commands.add_parser("export", help="write the grades CSV")
    export.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    export.add_argument("--csv", type=Path, help="output file (default: autograded/grades.csv in the course)")
    _course_option(export)
    export.set_defaults(run=_export)

    grade = commands.add_parser("grade", help="collect -> autograde -> feedback -> export, in one command")
    grade.add_argument("download", nargs="?", help="LMS zip or folder (omit to grade submitted/ as it is)")
    grade.add_argument("-a", "--assignment", help="assignment name (default: recognised from the notebooks)")
    grade.add_argument("--csv", type=Path, help="grades CSV (default: autograded/grades.csv in the course)")
    _course_option(grade)
    _limit_options(grade)
    _run_options(grade)
    _upload_options(grade)
    grade.set_defaults(run=_grade)

    accept = commands.add_parser(
        "accept", help="give a student the points the second look withheld (after you looked at the answer)"
    )
    accept.add_argument("assignment")
    accept.add_argument("student")
    accept.add_argument("--test", action="append", help="only this test (grade id, repeatable); default: all withheld")
    _course_option(accept)
    accept.set_defaults(run=_accept)
