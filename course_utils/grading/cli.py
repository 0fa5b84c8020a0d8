"""The instructor's ``course-utils`` commands: one per grading step, and ``grade`` for all of them.

::

    course-utils release [ASSIGNMENT ...]          # source + student versions (release/)
    course-utils collect DOWNLOAD -a ASSIGNMENT    # LMS zip/folder -> submitted/
    course-utils autograde ASSIGNMENT              # all submissions, in parallel, re-checked
    course-utils feedback ASSIGNMENT               # feedback/<student>/<assignment>/*.html
    course-utils export [--csv grades.csv]         # the grades CSV
    course-utils grade DOWNLOAD                    # all of the above

Every command takes ``--course DIR`` (default: this repository, whose
nbgrader folders are git-ignored).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from course_utils.grading.config import REPO
from course_utils.grading.quota import GIB, Limits


def _limits(args: argparse.Namespace) -> Limits:
    base = Limits()
    return Limits(
        cell_seconds=args.cell_timeout or base.cell_seconds,
        notebook_seconds=args.notebook_timeout or base.notebook_seconds,
        memory_bytes=int(args.memory_gib * GIB) if args.memory_gib else base.memory_bytes,
        file_bytes=base.file_bytes,
        output_bytes=base.output_bytes,
    )


def _print_result(result) -> None:
    print(f"{result.student:24} {result.report.summary()}", flush=True)


def _release(args) -> int:
    from course_utils.grading import course

    for name in course.generate(args.course, REPO, args.assignments or None, limits=_limits(args)):
        print(f"released {name}: {Path(args.course) / 'release' / name}")
    return 0


def _collect(args) -> int:
    from course_utils.grading import collect, pipeline

    assignment = args.assignment or pipeline.detect_assignment(args.download)
    pipeline.ensure_released(args.course, assignment, REPO, _limits(args))
    download = Path(args.download)
    if download.is_dir() and pipeline._is_submitted_layout(download, assignment):
        students = collect.collect_folder(args.course, download, assignment)
    else:
        students = collect.collect_zip(args.course, download, assignment)["students"]
    print(f"collected {len(students)} submission(s) of {assignment}: {', '.join(students)}")
    return 0


def _autograde(args) -> int:
    from course_utils.grading import pipeline

    run = pipeline.settings(args.course, workers=args.workers, limits=_limits(args), isolation=args.isolation)
    print(f"grading {args.assignment} with {run.workers} worker(s); limits: {run.limits.describe()}", flush=True)
    results, changes = pipeline.autograde_and_verify(run, args.assignment, args.student or None, on_result=_print_result)
    for student, reasons in changes.items():
        print(f"re-checked {student}: {'; '.join(reasons) or 'flagged for review'}")
    print(f"graded {len(results)} submission(s)")
    return 0


def _feedback(args) -> int:
    from course_utils.grading import export

    pages = export.generate_feedback(args.course, args.assignment)
    print(f"wrote {len(pages)} feedback page(s) under {Path(args.course) / 'feedback'}")
    return 0


def _export(args) -> int:
    from course_utils.grading import export, pipeline

    target = export.export_grades(args.course, args.csv or pipeline.default_csv(args.course), args.assignment or None)
    print(f"wrote {target}")
    return 0


def _grade(args) -> int:
    from course_utils.grading import pipeline

    outcome = pipeline.grade(
        Path(args.download) if args.download else None,
        args.course,
        assignment=args.assignment,
        workers=args.workers,
        limits=_limits(args),
        isolation=args.isolation,
        csv_path=args.csv,
        on_result=_print_result,
    )
    print(f"graded {len(outcome.results)} submission(s) of {outcome.assignment}")
    print(f"grades: {outcome.csv}")
    print(f"feedback: {len(outcome.feedback)} page(s) under {Path(args.course) / 'feedback'}")
    return 0


def _common(parser: argparse.ArgumentParser, *, limits: bool = False) -> None:
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
            "--isolation",
            default="auto",
            choices=("auto", "namespaces", "user-namespaces", "none"),
            help="kernel sandbox (default: the strongest this machine supports)",
        )


def add_commands(commands) -> None:
    """Add the grading sub-commands to ``course-utils``' sub-parsers ``commands``."""
    release = commands.add_parser("release", help="build the nbgrader source and student versions (release/)")
    release.add_argument("assignments", nargs="*", help="assignments (notebook stems); default: all")
    _common(release, limits=True)
    release.set_defaults(run=_release)

    collect = commands.add_parser("collect", help="LMS download (zip or folder) -> submitted/ (nbgrader zip_collect)")
    collect.add_argument("download", help="the zip file or folder downloaded from the LMS")
    collect.add_argument("-a", "--assignment", help="assignment name (default: recognised from the notebooks)")
    _common(collect, limits=True)
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
    _common(grade, limits=True)
    grade.set_defaults(run=_grade)
