"""``course-utils grade``: an LMS zip in, a grades CSV and feedback pages out; nbgrader by hand agrees."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbgrader.api import Gradebook

from course_utils import cli
from course_utils.grading import export, gradebook, pipeline

import grading_submissions as subs
from grading_course import ASSIGNMENT

pytestmark = pytest.mark.slow


def test_one_command_turns_a_zip_into_grades_and_feedback(course_dir, release, exercises, data_dir, capsys):
    download = course_dir.parent / "canvas.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("doejane_1_2_01_store_interface.ipynb", nbformat.writes(subs.answered(release, exercises)))
        partial = subs.answered(release, exercises, {"scale0_chunk_keys": subs.WRONG["scale0_chunk_keys"]})
        archive.writestr("roe_LATE_3_4_01_store_interface-1.ipynb", nbformat.writes(partial))
        archive.writestr("lee_5_6_01_store_interface.ipynb", '{"cells": [')
    target = course_dir.parent / "grades.csv"

    code = cli.main(
        ["grade", str(download), "--course", str(course_dir), "--workers", "2", "--csv", str(target),
         "--cell-timeout", "20", "--memory-gib", "2"]
    )

    assert code == 0
    printed = capsys.readouterr().out
    assert f"graded 3 submission(s) of {ASSIGNMENT}" in printed  # the assignment was recognised
    with target.open() as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert list(rows["doejane"]) == list(export.COLUMNS)
    assert {s: (float(r["score"]), float(r["max_score"]), r["status"]) for s, r in rows.items()} == {
        "doejane": (6.0, 6.0, "graded"),
        "roe": (4.0, 6.0, "graded"),
        "lee": (0.0, 6.0, "unreadable"),
    }
    assert "graded as 01_store_interface.ipynb" in rows["roe"]["feedback"]
    assert "not valid notebook JSON" in rows["lee"]["feedback"]
    for student, row in rows.items():
        page = next((course_dir / "feedback" / student / ASSIGNMENT).glob("*.html"))
        text = page.read_text()
        assert 'id="course-utils-grading-report"' in text and f"{float(row['score']):g} / 6" in text
    graded_page = (course_dir / "feedback" / "roe" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "scale0_chunk_keys_tests" in graded_page  # nbgrader's own feedback, with the banner on top


def test_the_zip_names_its_assignment(course_dir, release, tmp_path):
    download = tmp_path / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("a_1_2_x.ipynb", nbformat.writes(release))
    assert pipeline.detect_assignment(download) == ASSIGNMENT


def test_nbgrader_by_hand_uses_the_course_configuration(course_dir, release, exercises, data_dir):
    """``nbgrader autograde`` run in the course directory grades with the hardened settings too."""
    for name in ("full", "stderr_warnings", "deleted_test_cell"):
        subs.BY_NAME[name].write(course_dir / "submitted" / name / ASSIGNMENT, release, exercises, {})
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=course_dir, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with Gradebook(gradebook.db_url(course_dir / "gradebook.db")) as gb:
        scores = {s: gb.find_submission(ASSIGNMENT, s).score for s in ("full", "stderr_warnings", "deleted_test_cell")}
    # stderr no longer zeroes a right answer; a deleted test is put back (by nbgrader) and fails the wrong answer
    assert scores == {"full": 6.0, "stderr_warnings": 6.0, "deleted_test_cell": 3.0}
