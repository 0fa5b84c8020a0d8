"""course_utils.grading.collect: LMS downloads through nbgrader zip_collect, and which file gets graded."""

from __future__ import annotations

import zipfile

import nbformat
import pytest

from course_utils.grading import collect

import grading_submissions as subs
from grading_course import ASSIGNMENT


@pytest.mark.parametrize(
    "name, student, file_id",
    [
        ("doejane_12345_678901_01_store_interface.ipynb", "doejane", "01_store_interface.ipynb"),  # Canvas
        ("roe_LATE_23456_789012_notebook (1).ipynb", "roe", "notebook (1).ipynb"),  # Canvas, late
        ("01_store_interface_jdoe_attempt_2026-11-20-10-00-00_answers.ipynb", "jdoe", "answers.ipynb"),  # Blackboard
        ("Kim Park_445566_assignsubmission_file_/x.ipynb", "kim-park", "x.ipynb"),  # Moodle folder
        ("alice/x.ipynb", "alice", "x.ipynb"),  # a folder per student
        (f"bob/{ASSIGNMENT}/x.ipynb", "bob", "x.ipynb"),  # nbgrader's own layout
    ],
)
def test_the_collector_reads_common_lms_file_names(name, student, file_id, tmp_path):
    path = tmp_path / "extracted" / name
    found = collect.LmsCollector().collect(str(path))
    assert found["student_id"] == student and found["file_id"] == file_id


def test_student_ids_are_safe_path_parts():
    assert collect.student_slug("../../Évil Name") == "vil-name"
    assert collect.student_slug("") == "unknown"


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
    chosen, notes = collect.choose_notebook(tmp_path, subs.NOTEBOOK, set())
    assert chosen is None and "essay.pdf" in notes[0]


def test_zip_collect_puts_an_lms_download_into_submitted(course_dir, release):
    download = course_dir.parent / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("doejane_1_2_01_store_interface.ipynb", nbformat.writes(release))
        archive.writestr("roe_LATE_3_4_whatever.ipynb", nbformat.writes(release))
        archive.writestr("Kim Park_5_assignsubmission_file_/01_store_interface.ipynb", nbformat.writes(release))
        archive.writestr("readme.txt", "not a submission")
    found = collect.collect_zip(course_dir, download, ASSIGNMENT)
    assert found["students"] == ["doejane", "kim-park", "roe"]
    submitted = course_dir / "submitted"
    assert (submitted / "doejane" / ASSIGNMENT / "01_store_interface.ipynb").is_file()
    assert (submitted / "roe" / ASSIGNMENT / "whatever.ipynb").is_file()
    assert collect.archive_dir(course_dir, ASSIGNMENT).joinpath("download.zip").is_file()


def test_a_submitted_folder_is_copied_as_it_is(course_dir, tmp_path, release):
    folder = tmp_path / "hub"
    (folder / "Ann" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(release, folder / "Ann" / ASSIGNMENT / subs.NOTEBOOK)
    assert collect.collect_folder(course_dir, folder, ASSIGNMENT) == ["ann"]
    assert (course_dir / "submitted" / "ann" / ASSIGNMENT / subs.NOTEBOOK).is_file()
