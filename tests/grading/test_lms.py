"""course_utils.grading.lms: whose upload, and how late, from the names Canvas, Moodle and Blackboard write."""

from __future__ import annotations

import pytest

from course_utils.grading import lms


@pytest.mark.parametrize(
    "name, key, file_name, late",
    [
        # Canvas (ContentZipper): <sortable name, word characters only>[_LATE]_<user id>_<attachment id>_<file>
        ("doejane_1001_5001_01_store_interface.ipynb", "canvas:1001", "01_store_interface.ipynb", False),
        ("doejane_LATE_1001_5077_01_store_interface-1.ipynb", "canvas:1001", "01_store_interface-1.ipynb", True),
        ("o_brienpat_1006_5006_nb.ipynb", "canvas:1006", "nb.ipynb", False),  # "_" in a name
        ("张伟_1004_5004_Copy of 01_store_interface.ipynb", "canvas:1004", "Copy of 01_store_interface.ipynb", False),
        ("anon_3kq9z_5010_x.ipynb", "canvas:anon_3kq9z", "x.ipynb", False),  # anonymous grading: no name
        ("LATE_anon_3kq9z_5011_x.ipynb", "canvas:anon_3kq9z", "x.ipynb", True),
        # Blackboard: <assignment>_<username>_attempt_<date>_<file>
        ("Lesson 1_jdoe_attempt_2026-11-20-10-00-00_01_store_interface.ipynb", "blackboard:jdoe",
         "01_store_interface.ipynb", False),
        # Moodle without "download as folders": <full name>_<participant id>_assignsubmission_file_<file>
        ("Kim Lee_2002_assignsubmission_file_01_store_interface.ipynb", "moodle:2002", "01_store_interface.ipynb",
         False),
    ],
)
def test_files_are_read_the_way_each_lms_names_them(name, key, file_name, late):
    found = lms.attribute(name)
    assert found.kind == lms.FILE and found.owner.key == key
    assert found.file_name == file_name and found.late is late


def test_a_later_canvas_upload_sorts_after_an_earlier_one():
    early = lms.attribute("doejane_1001_5001_01_store_interface.ipynb")
    resubmitted = lms.attribute("doejane_1001_5002_01_store_interface.ipynb")
    late = lms.attribute("doejane_LATE_1001_5003_01_store_interface.ipynb")
    assert early.order < resubmitted.order < late.order


def test_blackboard_attempts_sort_by_date_and_carry_it_as_nbgraders_timestamp():
    first = lms.attribute("HW_jdoe_attempt_2026-11-20-10-00-00_a.ipynb")
    second = lms.attribute("HW_jdoe_attempt_2026-11-21-09-00-00_a.ipynb")
    assert first.order < second.order and second.extra["timestamp"] == "2026-11-21 09:00:00"


def test_blackboards_attempt_record_settles_a_username_with_an_underscore():
    record = "Lesson 1_mary_ann_attempt_2026-11-20-10-00-00.txt"
    usernames = lms.blackboard_usernames({record: "Name: Mary Ann Smith (mary_ann)\nAssignment: Lesson 1\n"})
    found = lms.attribute("Lesson 1_mary_ann_attempt_2026-11-20-10-00-00_nb.ipynb", blackboard=usernames)
    assert found.owner.key == "blackboard:mary_ann" and found.owner.name == "Mary Ann Smith"
    assert lms.attribute(record, blackboard=usernames).kind == lms.INFO
    assert lms.attribute("Lesson 1_mary_ann_attempt_2026-11-20-10-00-00_nb.ipynb").owner.number == "ann"  # without it


def test_moodle_folders_and_text_entries():
    folder = lms.attribute("Алексей Смирнов_2005_assignsubmission_file_", is_dir=True)
    assert folder.kind == lms.FILE and folder.owner.key == "moodle:2005" and folder.owner.name == "Алексей Смирнов"
    text = lms.attribute("Zoë Müller_2004_assignsubmission_onlinetext_", is_dir=True)
    assert text.kind == lms.TEXT and text.owner.student_id() == "zoe-muller-2004"
    assert lms.attribute("doejane_1001_text.html").kind == lms.TEXT


def test_a_plain_folder_is_its_students_and_anything_else_is_nobodys():
    folder = lms.attribute("Ann Smith", is_dir=True)
    assert folder.owner.key == "folder:Ann Smith" and folder.owner.student_id() == "ann-smith"
    assert lms.attribute("readme.txt").kind == lms.UNKNOWN and lms.attribute("readme.txt").owner is None
    assert lms.attribute("__MACOSX", is_dir=True).kind == lms.IGNORED
    assert lms.attribute("._doejane_1001_5001_x.ipynb").kind == lms.IGNORED


def test_the_nbgrader_plugin_reads_the_same_names(tmp_path):
    from course_utils.grading.plugins.collector import LmsCollector

    path = tmp_path / "extracted" / "josé_1002_5002_01_store_interface.ipynb"
    assert LmsCollector().collect(str(path)) == {"student_id": "jose-1002", "file_id": "01_store_interface.ipynb"}
    moodle = tmp_path / "extracted" / "Kim Lee_2002_assignsubmission_file_" / "x.ipynb"
    assert LmsCollector().collect(str(moodle))["student_id"] == "kim-lee-2002"
    assert LmsCollector().collect(str(tmp_path / "extracted" / "readme.ipynb")) is None
