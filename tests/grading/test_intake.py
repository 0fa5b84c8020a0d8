"""course_utils.grading.intake: an LMS download read without unpacking; every upload ends somewhere.

The messy class's download (:mod:`messy_class`) goes through intake alone
here (no kernel runs): the right student for every entry, the right file
for every student, nothing written but the notebooks chosen, nothing of a
bomb decompressed. ``test_messy_class`` grades the same download.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import nbformat
import pytest

from course_utils.grading import intake, status, unpack
from course_utils.grading.limits import MIB, UploadLimits

import grading_submissions as subs
import messy_class
from grading_course import ASSIGNMENT

GRADE_IDS = {"key_counts", "key_counts_tests", "scale0_chunk_keys", "why_many_keys"}


def _collect(download, root, limits=messy_class.LIMITS):
    return intake.collect_download(download, root, ASSIGNMENT, ASSIGNMENT, GRADE_IDS, limits=limits,
                                   known_assignments={ASSIGNMENT})


@pytest.fixture(scope="module")
def taken(tmp_path_factory, messy_download):
    root = tmp_path_factory.mktemp("intake") / "course"
    return root, _collect(messy_download, root)


def test_every_student_and_only_they_get_a_row(taken):
    _, outcome = taken
    assert sorted(outcome.students) == sorted(messy_class.EXPECTED)
    assert [row["entry"] for row in outcome.unattributed] == messy_class.UNATTRIBUTED


def test_each_student_gets_the_file_the_lms_order_says(taken):
    _, outcome = taken
    for student, expected in messy_class.EXPECTED.items():
        record = outcome.students[student]
        ready = expected.status not in (status.NOT_A_NOTEBOOK, status.TOO_LARGE, status.MISSING)
        assert record.status == (intake.READY if ready else expected.status), (student, record)
        if expected.graded is not None:
            assert record.graded == expected.graded, (student, record)


def test_what_is_graded_is_placed_under_the_graders_name_and_nothing_else_is_written(taken):
    root, outcome = taken
    for student, record in outcome.students.items():
        folder = root / "submitted" / student / ASSIGNMENT
        files = sorted(p.name for p in folder.iterdir())
        expected = [f"{ASSIGNMENT}.ipynb"] if record.status == intake.READY else []
        if student == "mary_ann":
            expected.append("timestamp.txt")  # Blackboard's attempt time, for nbgrader
        assert files == sorted(expected + [intake.RECORD_NAME]), student
    written = [p for p in root.rglob("*") if p.is_file()]
    assert max(p.stat().st_size for p in written) < messy_class.LIMITS.file_bytes
    assert not (root / "downloaded" / ASSIGNMENT / "work").exists()


def test_an_upload_never_makes_another_students_submission(taken):
    root, outcome = taken
    doejane = nbformat.read(root / "submitted" / "doejane-1001" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    answer = doejane.cells[subs.cell_index(doejane, "scale0_chunk_keys")].source
    assert "math.prod" in answer  # her own LATE upload, not the blank one in mallory's zip
    assert outcome.students["li-na-1005"].status == status.NOT_A_NOTEBOOK  # not the zip named after her
    mallory = outcome.students["mallory-1008"]
    assert any("李娜_1005_9998_01_store_interface.zip' (an archive inside an archive is never opened)" in s
               for s in mallory.set_aside)


def test_namesakes_and_a_shared_id_stay_apart_and_are_reported(taken):
    _, outcome = taken
    assert {"kim-lee-2002", "kim-lee-2003", "jose-1002", "jose-1002-2", "jose-1003"} <= set(outcome.students)
    for student in ("jose-1002", "jose-1002-2"):
        assert any("told apart" in flag for flag in outcome.students[student].flags)
    assert outcome.students["jose-1002-2"].name == "josé" and outcome.students["jose-1002"].lms == "blackboard"


def test_the_listing_accounts_for_every_entry(taken, messy_download):
    root, outcome = taken
    with open(outcome.manifest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with zipfile.ZipFile(messy_download) as archive:
        tops = {name.split("/")[0] + ("/" if "/" in name else "") for name in archive.namelist()}
    assert {row["entry"] for row in rows} == tops
    outcomes = {row["entry"]: row["outcome"] for row in rows}
    assert outcomes["doejane_1001_5001_01_store_interface.ipynb"] == "set aside: an earlier upload"
    assert outcomes["doejane_LATE_1001_5077_01_store_interface-1.ipynb"] == "graded: 01_store_interface-1.ipynb"
    assert outcomes["bomber_1009_5009_01_store_interface.zip"] == "refused: too-large"
    assert outcomes["readme.txt"].startswith("not attributed")
    assert outcomes["__MACOSX/"] == "ignored"


def _download(tmp_path, files: dict) -> Path:
    path = tmp_path / "download.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def test_a_notebook_over_the_file_limit_is_refused_unread(tmp_path, release):
    big = nbformat.writes(release) + " " * (2 * MIB)
    download = _download(tmp_path, {"big_1_2_01_store_interface.ipynb": big})
    limits = UploadLimits(file_bytes=1 * MIB, upload_bytes=8 * MIB)
    record = _collect(download, tmp_path / "course", limits).students["big-1"]
    assert record.status == status.TOO_LARGE and "the limit is 1 MiB per file" in " ".join(record.notes)


def test_a_lying_zip_header_cannot_make_more_bytes_than_it_declares(tmp_path):
    """A member whose header claims 10 bytes but whose data inflates to 1 MiB: read stops, nothing kept."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("01_store_interface.ipynb", b"{" * MIB)
    data = bytearray(inner.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size, both headers
        start = data.index(signature)
        data[start + offset:start + offset + 4] = (10).to_bytes(4, "little")
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(data))
    with unpack.Download(liar) as listing:
        member = listing.members[0]
        assert member.size == 10
        with pytest.raises((unpack.TooLarge, *unpack.READ_ERRORS)):
            unpack.read_capped(member, 1000)
        with pytest.raises((unpack.TooLarge, *unpack.READ_ERRORS)):
            unpack.copy_capped(member, tmp_path / "out.ipynb", 1000)
    assert not (tmp_path / "out.ipynb").exists()


def test_a_folder_download_skips_links_and_a_wrapping_folder(tmp_path, release):
    download = tmp_path / "submissions"
    (download / "export").mkdir(parents=True)
    nbformat.write(release, download / "export" / "ann_1_2_01_store_interface.ipynb")
    os.symlink("/etc/passwd", download / "export" / "bob_3_4_01_store_interface.ipynb")
    outcome = _collect(download, tmp_path / "course")
    assert sorted(outcome.students) == ["ann-1"]
    assert any("symbolic link" in row["entry"] and row["outcome"] == "skipped" for row in outcome.rows)


def test_a_student_zip_with_too_many_files_is_refused(tmp_path):
    many = {f"f{i}.txt": "x" for i in range(60)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in many.items():
            archive.writestr(name, content)
    download = _download(tmp_path, {"many_1_2_stuff.zip": buffer.getvalue()})
    record = _collect(download, tmp_path / "course").students["many-1"]
    assert record.status == status.TOO_LARGE and "holds 60 files (the limit is 50)" in " ".join(record.notes)


def test_a_download_that_is_neither_zip_nor_folder_is_one_clear_error(tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text("a,b\n")
    with pytest.raises(unpack.NotADownload, match="neither a zip file nor a folder"):
        _collect(path, tmp_path / "course")
