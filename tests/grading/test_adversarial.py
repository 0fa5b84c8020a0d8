"""Every hard case of issue 5, graded together by real nbgrader: right score, feedback, nobody else hurt.

All submissions of :data:`grading_submissions.CASES` go into one course and
are graded in one parallel run (2 workers), as an instructor would grade a
class. Each must get its expected score in the gradebook (read with
nbgrader's ``Gradebook`` API) and a feedback line saying what happened; the
grading of the others, the gradebook and everyone's files must come out
intact.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from course_utils.grading import gradebook, report
from course_utils.grading.plugins import sandbox

import grading_submissions as subs
from grading_course import ASSIGNMENT, TEST_LIMITS

pytestmark = pytest.mark.slow

BYSTANDERS = subs.BYSTANDERS
CHECKS_FILE = subs.CHECKS_FILE


@pytest.fixture(scope="module")
def graded(adversarial_class):
    """The hard cases and two bystanders, graded in one parallel run (``adversarial_class`` in conftest)."""
    return adversarial_class


def _score(root: Path, student: str) -> float:
    with Gradebook(gradebook.db_url(root / "gradebook.db")) as gb:
        return gb.find_submission(ASSIGNMENT, student).score


@pytest.mark.parametrize("case", subs.CASES, ids=lambda c: c.name)
def test_case_gets_its_score_and_says_what_happened(graded, case):
    result = graded["results"][case.name]
    summary = result.report.summary()
    assert _score(graded["root"], case.name) == case.score, summary
    assert result.report.score == case.score and result.report.max_score == subs.MAX_SCORE, summary
    assert result.report.status == case.status, summary
    assert case.feedback in summary, summary
    saved = report.load(graded["root"] / "autograded" / case.name / ASSIGNMENT)
    assert saved is not None and saved.summary() == summary
    if case.flagged:
        assert result.report.flags, f"{case.name} should be flagged for review"


def test_bystanders_are_graded_as_if_alone(graded):
    for name in BYSTANDERS:
        assert _score(graded["root"], name) == subs.MAX_SCORE
        assert graded["results"][name].report.summary() == "6/6: all tests passed."


def test_gradebook_is_intact_and_agrees_with_every_report(graded):
    database = graded["root"] / "gradebook.db"
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Gradebook(gradebook.db_url(database)) as gb:
        students = {s.id for s in gb.students}
        assert students == {c.name for c in subs.CASES} | set(BYSTANDERS)
        assert gb.find_assignment(ASSIGNMENT).max_score == subs.MAX_SCORE
        for student in students:
            submitted = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            assert submitted.score == graded["results"][student].report.score
            assert submitted.max_score == subs.MAX_SCORE


def test_nobody_elses_files_changed(graded):
    assert graded["after"] == graded["before"]
    tamper = nbformat.read(graded["root"] / "autograded" / "tamper" / ASSIGNMENT / subs.NOTEBOOK, as_version=4)
    printed = "".join(o.get("text", "") for c in tamper.cells for o in c.get("outputs", []))
    if sandbox.detect() != sandbox.NONE:
        assert "patch checks: OSError" in printed  # read-only
        assert f"delete {graded['root']}" in printed and "FileNotFoundError" in printed  # hidden


def test_grading_has_no_network(graded):
    notebook = nbformat.read(graded["root"] / "autograded" / "network" / ASSIGNMENT / subs.NOTEBOOK, as_version=4)
    printed = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "NETWORK" in printed
    assert "'internet': 'reached'" not in printed
    if sandbox.detect() != sandbox.NONE:
        assert "'interfaces': ['lo']" in printed
        assert "'grader loopback': 'ConnectionRefusedError'" in printed  # its own loopback, not the grader's


def test_cheats_are_caught_by_the_second_look(graded):
    """Answers that pass in a rigged kernel fail when their plain values meet a clean lesson."""
    caught = {
        "cheat_swallow_errors": {"key_counts_tests", "scale0_chunk_keys_tests", "why_many_keys_tests"},
        # the letter is caught earlier: the visible check reads plain data (course_utils.feedback.plain)
        "cheat_fake_values": {"key_counts_tests", "scale0_chunk_keys_tests"},
    }
    for name, tests in caught.items():
        result = graded["results"][name]
        second_look = {t.grade_id for t in result.report.tests if "clean copy of the lesson" in t.reason}
        assert second_look == tests, result.report.tests
        with Gradebook(gradebook.db_url(graded["root"] / "gradebook.db")) as gb:
            assert gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, name).flagged
    letter = next(t for t in graded["results"]["cheat_fake_values"].report.tests if t.grade_id == "why_many_keys_tests")
    assert letter.reason.startswith("visible test: B: no chunk key is listed in zarr.json")


def test_limits_stopped_the_runaway_submissions_quickly(graded):
    results = graded["results"]
    for name in ("infinite_loop", "unstoppable_loop"):
        assert results[name].seconds < TEST_LIMITS.cell_seconds + 60
    assert "memory limit" in results["memory_hog"].report.summary()
