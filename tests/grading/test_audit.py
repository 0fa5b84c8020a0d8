"""course_utils.grading.audit: submissions repaired before nbgrader sees them, and every repair noted."""

from __future__ import annotations

import copy

import nbformat
import pytest

from course_utils.grading import audit

import grading_submissions as subs


def _ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_an_untouched_submission_needs_no_notes(release, exercises):
    checked = audit.audit(subs.answered(release, exercises), release)
    assert checked.notes == [] and checked.flags == []
    assert _ids(checked.notebook) == _ids(release)


def test_deleted_cells_are_put_back_where_they_were(release, exercises):
    nb = subs.answered(release, exercises)
    del nb.cells[subs.cell_index(nb, "scale0_chunk_keys_tests")]
    del nb.cells[subs.cell_index(nb, "why_many_keys")]
    checked = audit.audit(nb, release)
    assert _ids(checked.notebook) == _ids(release)
    assert any("'scale0_chunk_keys_tests' was deleted; it was put back and run" in n for n in checked.notes)
    assert any("'why_many_keys' was deleted; it was put back unanswered" in n for n in checked.notes)


def test_metadata_is_restored_by_cell_id_even_if_the_grade_id_was_changed(release, exercises):
    nb = copy.deepcopy(release)
    test = nb.cells[subs.cell_index(nb, "key_counts_tests")]
    test.metadata["nbgrader"].update(grade_id="why_many_keys_tests", points=99, locked=False)
    checked = audit.audit(nb, release)
    restored = checked.notebook.cells[subs.cell_index(release, "key_counts_tests")]
    assert restored.metadata["nbgrader"] == release.cells[subs.cell_index(release, "key_counts_tests")].metadata["nbgrader"]
    assert _ids(checked.notebook) == _ids(release)
    assert any("were changed (grade_id, locked, points)" in n for n in checked.notes)


def test_unknown_and_duplicate_grade_ids_become_ordinary_cells(release):
    nb = copy.deepcopy(release)
    extra = nbformat.v4.new_code_cell("x = 1")
    extra.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 10, "solution": False, "locked": False}
    twin = copy.deepcopy(nb.cells[subs.cell_index(nb, "why_many_keys_tests")])
    twin["id"] = "twin"
    nb.cells += [extra, twin]
    checked = audit.audit(nb, release)
    assert _ids(checked.notebook) == _ids(release) + [None, None]
    assert any("'bonus', which the assignment does not have" in n for n in checked.notes)
    assert any("'why_many_keys_tests' appeared twice" in n for n in checked.notes)


def test_an_edited_locked_test_is_reverted_to_the_released_one(release):
    nb = copy.deepcopy(release)
    nb.cells[subs.cell_index(nb, "key_counts_tests")].source = "pass"
    checked = audit.audit(nb, release)
    index = subs.cell_index(release, "key_counts_tests")
    assert checked.notebook.cells[index].source == release.cells[index].source
    assert any("was edited; the edits were discarded" in n for n in checked.notes)


@pytest.mark.parametrize(
    "text, reason",
    [
        ('{"cells": [', "not valid notebook JSON"),
        ("[1, 2]", "not a Jupyter notebook"),
        ('{"nbformat": 4}', "not a Jupyter notebook"),
    ],
)
def test_unreadable_files_say_why(tmp_path, text, reason):
    path = tmp_path / "nb.ipynb"
    path.write_text(text)
    with pytest.raises(audit.UnreadableNotebook, match=reason):
        audit.read_submission(path)


def test_binary_files_are_unreadable(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(audit.UnreadableNotebook, match="not text"):
        audit.read_submission(path)


def test_a_hand_edited_notebook_missing_outputs_is_repaired(tmp_path, release):
    data = nbformat.v4.writes(release)
    import json

    raw = json.loads(data)
    for cell in raw["cells"]:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(raw))
    nb = audit.read_submission(path)
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")


def test_code_reaching_into_the_grader_is_flagged(release, exercises):
    nb = subs.answered(release, exercises, {"why_many_keys": 'get_ipython().showtraceback = None\nwhy_many_keys = "A"'})
    flags = audit.audit(nb, release).flags
    assert flags == ["For review: the submitted code uses IPython's internals (get_ipython).",
                     "For review: the submitted code uses error reporting hooks."]
