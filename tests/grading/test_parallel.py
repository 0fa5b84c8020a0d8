"""Parallel autograding gives the grades of sequential autograding, and survives dying workers."""

from __future__ import annotations

import json
import shutil

import pytest
from nbgrader.api import Gradebook

from course_utils.grading import gradebook, worker
from course_utils.grading.autograde import autograde

import grading_submissions as subs
from grading_course import ASSIGNMENT, REPO, settings_for

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
    results = autograde(settings_for(root, data_dir, 1), ASSIGNMENT)
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


def test_a_dead_worker_costs_one_retry_then_a_zero_not_the_run():
    """A job that kills its worker is retried once on a fresh one; the others are graded."""
    good = {"course_root": "/nonexistent", "repo": str(REPO), "limits": {}, "isolation": "none", "data_dir": None,
            "snapshot": "/nonexistent.db", "scratch": "/tmp", "assignment": ASSIGNMENT, "notebook_id": ASSIGNMENT}
    jobs = [dict(good, student="poison", limits="not a dict")] + [dict(good, student=f"s{i}") for i in range(3)]
    results, failures = [], []
    worker.run_pool(jobs, 2, 60, results.append, lambda job, why: failures.append((job["student"], why)))
    assert [f[0] for f in failures] == ["poison"]
    assert "exited" in failures[0][1]
    assert sorted(r.student for r in results) == ["s0", "s1", "s2"]
    # the innocent jobs point at no course: they end as zero-score "failed" reports, not crashes
    assert all(r.report.status == "failed" for r in results)


def test_worker_protocol_round_trips_a_result():
    from course_utils.grading.autograde import Result
    from course_utils.grading.report import Report, TestResult

    result = Result("ann", ASSIGNMENT, Report("ann", ASSIGNMENT, score=2, max_score=6, tests=[TestResult("t", 2, 3, "x")]))
    back = worker.result_from_json(worker.result_to_json(result))
    assert back == result
    assert json.loads(worker.result_to_json(result))["report"]["tests"][0]["reason"] == "x"
