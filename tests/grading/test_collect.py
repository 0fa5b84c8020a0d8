"""course_utils.grading.collect: the one way into submitted/ (an LMS download, nbgrader's folders), and which file is graded."""

from __future__ import annotations

import zipfile

import nbformat

from course_utils.grading import collect, course, intake

import grading_submissions as subs
from grading_course import ASSIGNMENT


def test_the_expected_notebook_wins_then_the_one_with_the_exercises(tmp_path, release):
    folder = tmp_path / "sub"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), folder / "01_store_interface_final.ipynb")
    nbformat.write(release, folder / "mine.ipynb")
    chosen, notes = collect.choose_notebook(folder, subs.NOTEBOOK, {"key_counts", "why_many_keys"})
    assert chosen.name == "mine.ipynb"
    assert "graded as 01_store_interface.ipynb" in notes[0] and "01_store_interface_final.ipynb" in notes[1]
    nbformat.write(release, folder / subs.NOTEBOOK)
    assert collect.choose_notebook(folder, subs.NOTEBOOK, set()) == (folder / subs.NOTEBOOK, [])


def test_no_notebook_at_all_lists_what_was_there(tmp_path):
    (tmp_path / "essay.pdf").write_bytes(b"%PDF")
    (tmp_path / intake.RECORD_NAME).write_text("{}")
    chosen, notes = collect.choose_notebook(tmp_path, subs.NOTEBOOK, set())
    assert chosen is None and "essay.pdf" in notes[0] and intake.RECORD_NAME not in notes[0]


def test_the_grade_ids_of_a_notebook_are_computed_in_one_place(release):
    """Parsed, or read as text (no file can break that); the assignment knows its own."""
    assert course.grade_ids_in_text("[" * 100_000 + "]" * 100_000) == set()
    assert course.grade_ids_in_text(b'{"cells": [{"metadata": {"nbgrader": {"grade_id": "key_counts"}}}]}') == {"key_counts"}
    found = course.find_assignment(ASSIGNMENT)
    assert course.grade_ids(release) == found.grade_ids == course.grade_ids_in_text(nbformat.writes(release))
    assert found.answer_ids == {"key_counts", "scale0_chunk_keys", "why_many_keys"} < found.grade_ids


def test_an_lms_download_is_collected_into_submitted(course_dir, release):
    download = course_dir.parent / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("doejane_1_2_01_store_interface.ipynb", nbformat.writes(release))
        archive.writestr("roe_LATE_3_4_whatever.ipynb", nbformat.writes(release))
        archive.writestr("Kim Park_5_assignsubmission_file_/01_store_interface.ipynb", nbformat.writes(release))
        archive.writestr("readme.txt", "not a submission")
    assignment, taken = collect.collect(course_dir, download)  # the assignment recognised
    assert assignment == ASSIGNMENT
    assert sorted(taken.students) == ["doejane-1", "kim-park-5", "roe-3"]
    assert collect.submitted_students(course_dir, ASSIGNMENT) == ["doejane-1", "kim-park-5", "roe-3"]
    roe = course_dir / "submitted" / "roe-3" / ASSIGNMENT
    assert (roe / subs.NOTEBOOK).is_file() and intake.load_record(roe).graded == "whatever.ipynb"
    assert [row["entry"] for row in taken.unattributed] == ["readme.txt"]


def test_nbgrader_folders_go_through_intake_and_the_course_s_own_are_graded_as_they_are(course_dir, tmp_path, release):
    folder = tmp_path / "hub"
    (folder / "Ann" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(release, folder / "Ann" / ASSIGNMENT / subs.NOTEBOOK)
    assignment, taken = collect.collect(course_dir, folder, ASSIGNMENT)
    assert sorted(taken.students) == ["ann"]
    assert (course_dir / "submitted" / "ann" / ASSIGNMENT / subs.NOTEBOOK).is_file()
    before = sorted(p.name for p in (course_dir / "submitted" / "ann" / ASSIGNMENT).iterdir())
    assert collect.collect(course_dir, course_dir / "submitted", ASSIGNMENT) == (ASSIGNMENT, None)
    assert sorted(p.name for p in (course_dir / "submitted" / "ann" / ASSIGNMENT).iterdir()) == before
