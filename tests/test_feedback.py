"""course_utils.feedback: messages a student sees from a visible test."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import feedback


def test_answer_error_is_a_failed_assertion_rendered_without_traceback():
    error = feedback.AnswerError("`x` is 3, expected 4.", "add one")
    assert isinstance(error, AssertionError)
    lines = error._render_traceback_()
    assert "✗ `x` is 3, expected 4." in lines[0]
    assert "add one" in lines[1]
    assert "Traceback" not in "".join(lines)


def test_missing_answer_says_what_to_do():
    with pytest.raises(feedback.AnswerError, match="not defined yet") as caught:
        feedback.answer({}, "x")
    assert "run it" in caught.value.hint


def test_placeholder_answer_is_missing():
    with pytest.raises(feedback.AnswerError, match="placeholder"):
        feedback.answer({"x": ...}, "x")


def test_missing_lesson_value_says_run_the_cells_above():
    with pytest.raises(feedback.AnswerError, match="lesson variable") as caught:
        feedback.lesson_value({}, "store")
    assert "Run All Above" in caught.value.hint


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3)])
def test_whole_number_accepts_python_and_numpy_integers(value):
    assert feedback.whole_number(value, "n", "3") == 3


@pytest.mark.parametrize("value", [True, 3.0, "3", None])
def test_whole_number_rejects_other_types(value):
    with pytest.raises(feedback.AnswerError, match="whole number"):
        feedback.whole_number(value, "n", "3")


def test_passed_prints_a_tick_to_stdout_only(capsys):
    feedback.passed("right")
    out, err = capsys.readouterr()
    assert out == "✓ right\n" and err == ""
