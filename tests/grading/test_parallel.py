"""Grading on a LocalCluster gives the grades of sequential grading (in this process, ``workers=0``)."""

from __future__ import annotations

import shutil

import pytest
from nbgrader.api import Gradebook

from course_utils.grading import gradebook
from course_utils.grading.autograde import autograde

import grading_submissions as subs
from grading_course import ASSIGNMENT, settings_for

MIX = ("full", "partial", "stderr_warnings", "invalid_json")
"""A kernel that passes, one that fails a test, one with stderr, and one that never starts a kernel."""


def _grades(root):
    with Gradebook(gradebook.db_url(root / "gradebook.db")) as gb:
        return {
            (s.id, g.name): (g.auto_score, g.needs_manual_grade)
            for s in gb.students
            for g in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, s.id).grades
        }


@pytest.mark.slow
def test_parallel_and_sequential_grades_are_identical(tmp_path, template_course, release, exercises, data_dir,
                                                      adversarial_class):
    """The mix graded one at a time gives what the adversarial class's two workers gave the same cases."""
    root = tmp_path / "sequential"
    shutil.copytree(template_course, root)
    for name in MIX:
        subs.BY_NAME[name].write(root / "submitted" / name / ASSIGNMENT, release, exercises, {})
    results = autograde(settings_for(root, data_dir, 0), ASSIGNMENT)
    assert [r.student for r in results] == sorted(MIX)
    sequential = _grades(root)
    parallel = {k: v for k, v in _grades(adversarial_class["root"]).items() if k[0] in MIX}
    assert sequential == parallel
    assert len(sequential) == 3 * len(MIX)
    assert {k: v for k, v in sequential.items() if k[0] == "full"} == {
        ("full", "key_counts_tests"): (3.0, False),
        ("full", "scale0_chunk_keys_tests"): (2.0, False),
        ("full", "why_many_keys_tests"): (1.0, False),
    }
