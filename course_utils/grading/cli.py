"""The instructor's ``course-utils`` commands: one per grading step, and ``grade`` for all of them.

::

    course-utils release [ASSIGNMENT ...]          # source + student versions (release/)
    course-utils collect DOWNLOAD -a ASSIGNMENT    # LMS zip/folder -> submitted/
    course-utils autograde ASSIGNMENT              # all submissions, in parallel, re-checked
    course-utils feedback ASSIGNMENT               # feedback/<student>/<assignment>/*.html
    course-utils export [--csv grades.csv]         # the grades CSV
    course-utils grade DOWNLOAD                    # all of the above
    course-utils accept ASSIGNMENT STUDENT         # give back points the second look withheld

Every command takes ``--course DIR`` (default: this repository, whose
nbgrader folders are git-ignored). ``grade`` and ``autograde`` end with one
line saying how many submissions were graded and how many need attention;
their exit code is 0 when none does, 1 when some do, 2 when nothing could
be graded (a bad argument, no sandbox). Errors are one line, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils.grading.config import REPO
from course_utils.grading.quota import GIB, MIB, Limits, UploadLimits

OK, ATTENTION, FAILED = 0, 1, 2


def _limits(args: argparse.Namespace) -> Limits:
    base = Limits()
    return Limits(
        cell_seconds=args.cell_timeout or base.cell_seconds,
        notebook_seconds=args.notebook_timeout or base.notebook_seconds,
        memory_bytes=int(args.memory_gib * GIB) if args.memory_gib else base.memory_bytes,
        file_bytes=base.file_bytes,
        output_bytes=base.output_bytes,
        scratch_bytes=int(args.scratch_mib * MIB) if getattr(args, "scratch_mib", None) else base.scratch_bytes,
    )


def _upload_limits(args: argparse.Namespace) -> UploadLimits:
    base = UploadLimits()
    return UploadLimits(
        file_bytes=int(args.max_file_mib * MIB) if getattr(args, "max_file_mib", None) else base.file_bytes,
        upload_bytes=int(args.max_upload_mib * MIB) if getattr(args, "max_upload_mib", None) else base.upload_bytes,
        archive_members=base.archive_members,
    )


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return FAILED


def _print_result(result) -> None:
    print(f"{result.student:24} {result.report.summary()}", flush=True)


def _announce(run) -> None:
    """The first lines of a grading run: how it will run, and loudly if there is no sandbox."""
    from course_utils.grading import sandbox

    if run.isolation == sandbox.NONE:
        print("WARNING: grading WITHOUT a sandbox (--isolation none). Student code runs with your rights: it can "
              "read the solutions and change the gradebook and other students' files. Every report and the "
              "grades CSV say so.", flush=True)
    else:
        print(f"sandbox: {run.isolation} (no network; the kernel sees the system, its Python and course_utils, "
              "read-only, and its own folder; nothing of the course or other students)", flush=True)
    print(f"grading with {run.workers} worker(s); limits: {run.limits.describe()}", flush=True)


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
    from course_utils.grading import collect, pipeline, unpack

    try:
        assignment = args.assignment or pipeline.detect_assignment(args.download)
        pipeline.ensure_released(args.course, assignment, REPO, _limits(args))
        taken = collect.collect_download(args.course, Path(args.download), assignment, _upload_limits(args))
    except (ValueError, unpack.NotADownload) as error:
        return _error(str(error))
    _print_intake(taken)
    ready = sum(1 for r in taken.students.values() if r.status == "ready")
    print(f"collected {len(taken.students)} student(s) of {assignment}: {ready} with a notebook to grade, "
          f"{len(taken.students) - ready + len(taken.unattributed)} need attention.")
    return OK if ready == len(taken.students) and not taken.unattributed else ATTENTION


def _autograde(args) -> int:
    from course_utils.grading import pipeline, sandbox, selfcheck

    try:
        run = pipeline.settings(args.course, workers=args.workers, limits=_limits(args), isolation=args.isolation)
        _announce(run)
        results, changes = pipeline.autograde_and_verify(run, args.assignment, args.student or None,
                                                         on_result=_print_result)
    except (sandbox.IsolationUnavailable, selfcheck.SolutionNotConfirmed, ValueError) as error:
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
    from course_utils.grading import pipeline, sandbox, selfcheck, unpack

    try:
        outcome = pipeline.grade(
            Path(args.download) if args.download else None,
            args.course,
            assignment=args.assignment,
            workers=args.workers,
            limits=_limits(args),
            upload_limits=_upload_limits(args),
            isolation=args.isolation,
            csv_path=args.csv,
            on_result=_print_result,
            on_start=_announce,
        )
    except (sandbox.IsolationUnavailable, selfcheck.SolutionNotConfirmed, unpack.NotADownload, ValueError) as error:
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


def _common(parser: argparse.ArgumentParser, *, limits: bool = False, uploads: bool = False) -> None:
    parser.add_argument("--course", type=Path, default=REPO, help="nbgrader course directory (default: the repository)")
    if limits:
        parser.add_argument("--workers", type=int, default=None, help="submissions graded at once (default: one more than the cores)")
        parser.add_argument("--cell-timeout", type=int, default=None, help=f"seconds per cell (default {Limits.cell_seconds})")
        parser.add_argument(
            "--notebook-timeout", type=int, default=None, help=f"seconds per notebook (default {Limits.notebook_seconds})"
        )
        parser.add_argument(
            "--memory-gib", type=float, default=None, help=f"memory per kernel in GiB (default {Limits.memory_bytes / GIB:g})"
        )
        parser.add_argument(
            "--scratch-mib", type=float, default=None,
            help=f"private /tmp + /dev/shm per kernel in MiB (default {Limits.scratch_bytes / MIB:g})",
        )
        parser.add_argument(
            "--isolation",
            default="auto",
            choices=("auto", "namespaces", "user-namespaces", "none"),
            help="kernel sandbox (default auto: the strongest that works, an error if none does; "
            "'none' grades without a sandbox and says so everywhere)",
        )
    if uploads:
        parser.add_argument(
            "--max-file-mib", type=float, default=None,
            help=f"largest notebook (or file in an uploaded zip), uncompressed (default {UploadLimits.file_bytes / MIB:g})",
        )
        parser.add_argument(
            "--max-upload-mib", type=float, default=None,
            help=f"largest upload, everything in it uncompressed (default {UploadLimits.upload_bytes / MIB:g})",
        )


def add_commands(commands) -> None:
    """Add the grading sub-commands to ``course-utils``' sub-parsers ``commands``."""
    release = commands.add_parser("release", help="build the nbgrader source and student versions (release/)")
    release.add_argument("assignments", nargs="*", help="assignments (notebook stems); default: all")
    _common(release, limits=True)
    release.set_defaults(run=_release)

    collect = commands.add_parser("collect", help="LMS download (zip or folder) -> submitted/, every upload accounted for")
    collect.add_argument("download", help="the zip file or folder downloaded from the LMS")
    collect.add_argument("-a", "--assignment", help="assignment name (default: recognised from the notebooks)")
    _common(collect, limits=True, uploads=True)
    collect.set_defaults(run=_collect)

    grade_one = commands.add_parser("autograde", help="autograde every submission of an assignment, in parallel")
    grade_one.add_argument("assignment")
    grade_one.add_argument("--student", action="append", help="only this student (repeatable)")
    _common(grade_one, limits=True)
    grade_one.set_defaults(run=_autograde)

    feedback = commands.add_parser("feedback", help="feedback HTML per student (feedback/<student>/<assignment>/)")
    feedback.add_argument("assignment")
    _common(feedback)
    feedback.set_defaults(run=_feedback)

    export = commands.add_parser("export", help="write the grades CSV")
    export.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    export.add_argument("--csv", type=Path, help="output file (default: autograded/grades.csv in the course)")
    _common(export)
    export.set_defaults(run=_export)

    grade = commands.add_parser("grade", help="collect -> autograde -> feedback -> export, in one command")
    grade.add_argument("download", nargs="?", help="LMS zip or folder (omit to grade submitted/ as it is)")
    grade.add_argument("-a", "--assignment", help="assignment name (default: recognised from the notebooks)")
    grade.add_argument("--csv", type=Path, help="grades CSV (default: autograded/grades.csv in the course)")
    _common(grade, limits=True, uploads=True)
    grade.set_defaults(run=_grade)

    accept = commands.add_parser(
        "accept", help="give a student the points the second look withheld (after you looked at the answer)"
    )
    accept.add_argument("assignment")
    accept.add_argument("student")
    accept.add_argument("--test", action="append", help="only this test (grade id, repeatable); default: all withheld")
    _common(accept)
    accept.set_defaults(run=_accept)
