"""course_utils.grading.collect: which file of a submitted folder gets graded, and LMS downloads into submitted/."""

from __future__ import annotations

import zipfile

import nbformat

from course_utils.grading import collect, intake

import grading_submissions as subs
from grading_course import ASSIGNMENT


def test_folder_names_become_safe_ids():
    assert collect.student_slug("../../Évil Name") == "evil-name"
    assert collect.student_slug("") == "student"


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


def test_grade_ids_are_read_as_text_so_no_file_can_break_it(tmp_path):
    deep = tmp_path / "deep.ipynb"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert collect.grade_ids_in(deep) == set()
    (tmp_path / "nb.ipynb").write_text('{"cells": [{"metadata": {"nbgrader": {"grade_id": "key_counts"}}}]}')
    assert collect.grade_ids_in(tmp_path / "nb.ipynb") == {"key_counts"}


def test_an_lms_download_is_collected_into_submitted(course_dir, release):
    download = course_dir.parent / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("doejane_1_2_01_store_interface.ipynb", nbformat.writes(release))
        archive.writestr("roe_LATE_3_4_whatever.ipynb", nbformat.writes(release))
        archive.writestr("Kim Park_5_assignsubmission_file_/01_store_interface.ipynb", nbformat.writes(release))
        archive.writestr("readme.txt", "not a submission")
    taken = collect.collect_download(course_dir, download, ASSIGNMENT)
    assert sorted(taken.students) == ["doejane-1", "kim-park-5", "roe-3"]
    assert collect.submitted_students(course_dir, ASSIGNMENT) == ["doejane-1", "kim-park-5", "roe-3"]
    roe = course_dir / "submitted" / "roe-3" / ASSIGNMENT
    assert (roe / subs.NOTEBOOK).is_file() and intake.load_record(roe).graded == "whatever.ipynb"
    assert [row["entry"] for row in taken.unattributed] == ["readme.txt"]


def test_a_submitted_folder_is_copied_as_it_is(course_dir, tmp_path, release):
    folder = tmp_path / "hub"
    (folder / "Ann" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(release, folder / "Ann" / ASSIGNMENT / subs.NOTEBOOK)
    assert collect.collect_folder(course_dir, folder, ASSIGNMENT) == ["ann"]
    assert (course_dir / "submitted" / "ann" / ASSIGNMENT / subs.NOTEBOOK).is_file()
