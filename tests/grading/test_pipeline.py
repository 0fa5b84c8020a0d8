"""``course-utils grade`` around the edges: the assignment recognised, errors in one line, nbgrader by hand agrees.

The whole command on a whole class is ``test_messy_class``.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbgrader.api import Gradebook

from course_utils import cli
from course_utils.grading import cli as grading_cli
from course_utils.grading import collect, gradebook

import grading_submissions as subs
from grading_course import ASSIGNMENT

pytestmark = pytest.mark.slow


def test_the_zip_names_its_assignment(course_dir, release, tmp_path):
    download = tmp_path / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("deep_1_2_x.ipynb", "[" * 100_000 + "]" * 100_000)  # read as text: cannot stop it
        archive.writestr("a_1_2_x.ipynb", nbformat.writes(release))
    assert collect.detect_assignment(download) == ASSIGNMENT


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["grade", "{tmp}/missing.zip"], "neither a zip file nor a folder"),
        (["grade", "{tmp}/notes.txt"], "neither a zip file nor a folder"),
        (["grade", "{tmp}/empty.zip"], "cannot tell which assignment"),
        (["grade", "--isolation", "user-namespaces", "{tmp}/empty.zip"], "sandbox does not work here: disabled"),
        (["accept", ASSIGNMENT, "nobody"], "nobody has no graded submission"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_code_2(arguments, message, tmp_path, capsys, monkeypatch):
    from course_utils.grading.plugins import sandbox

    (tmp_path / "notes.txt").write_text("x")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as archive:
        archive.writestr("readme.txt", "x")
    monkeypatch.setattr(sandbox, "probe", lambda isolation: None if isolation == "namespaces" else "disabled")
    monkeypatch.setattr(sandbox, "_detected", lambda: (sandbox.NAMESPACES, ()))
    arguments = [a.format(tmp=tmp_path) for a in arguments] + ["--course", str(tmp_path / "course")]
    assert cli.main(arguments) == grading_cli.FAILED
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and message in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_nbgrader_by_hand_uses_the_course_configuration(course_dir, release, exercises, data_dir):
    """``nbgrader autograde`` run in the course directory grades with the hardened settings too."""
    for name in ("stderr_warnings", "deleted_test_cell"):  # right answers that warn; a wrong one, its test deleted
        subs.BY_NAME[name].write(course_dir / "submitted" / name / ASSIGNMENT, release, exercises, {})
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=course_dir, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with Gradebook(gradebook.db_url(course_dir / "gradebook.db")) as gb:
        scores = {s: gb.find_submission(ASSIGNMENT, s).score for s in ("stderr_warnings", "deleted_test_cell")}
    # stderr no longer zeroes a right answer; a deleted test is put back (by nbgrader) and fails the wrong answer
    assert scores == {"stderr_warnings": 6.0, "deleted_test_cell": 3.0}


def test_grading_without_a_sandbox_is_said_at_the_start_in_every_report_and_in_the_csv(course_dir, capsys):
    """Only --isolation none grades without a sandbox, and then nobody can miss it (no kernel runs here)."""
    import csv

    from course_utils.grading import autograde, report

    folder = course_dir / "submitted" / "ann" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("no notebook, so no kernel runs")
    code = cli.main(["autograde", ASSIGNMENT, "--course", str(course_dir), "--isolation", "none", "--workers", "0"])
    printed = capsys.readouterr().out.splitlines()
    assert code == grading_cli.ATTENTION
    assert printed[0].startswith("WARNING: grading WITHOUT a sandbox (--isolation none)")
    saved = report.load(course_dir / "autograded" / "ann" / ASSIGNMENT)
    assert saved.flags[0] == autograde.NO_SANDBOX_FLAG
    target = course_dir / "grades.csv"
    assert cli.main(["export", "--course", str(course_dir), "--csv", str(target)]) == grading_cli.OK
    with target.open(newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert "graded WITHOUT a sandbox" in row["flags"]
