"""course_utils.grading.answers: answers as plain data, hidden tests re-run on a clean namespace."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from course_utils.grading import answers


class Anything(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class Letter(str):
    def __str__(self):
        return self

    def upper(self):
        return "A"


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 2.5, float("nan"), 1 + 2j, "A", b"\x00", [1, (2, 3)], {"a": 1, (1, 2): {3}}, frozenset({1}),
     np.int64(7), np.float32(0.5), np.arange(6, dtype="uint16").reshape(2, 3)],
    ids=repr,
)
def test_plain_values_survive_the_round_trip(value):
    back = answers.decode(json.loads(json.dumps(answers.encode(value))))
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and value != value:
        assert back != back
    else:
        assert back == value and type(back) is type(value)


def test_subclasses_become_their_builtin_values():
    assert answers.decode(answers.encode(Anything(0))) == 0
    assert type(answers.decode(answers.encode(Anything(0)))) is int
    assert answers.decode(answers.encode(Letter("B"))) == "B"
    assert type(answers.decode(answers.encode({"k": Anything(5)}))["k"]) is int


def test_objects_that_are_not_data_are_reported_not_sent():
    found = answers.collect({"f": lambda: 1, "arr": np.array([object()])}, ["f", "arr", "missing"])
    assert found["f"] == {"$unavailable": "function"}
    assert "$unavailable" in found["arr"]
    assert found["missing"] == {"$missing": True}


def test_answer_names_are_assigned_by_the_answer_and_read_by_the_hidden_tests():
    answer = "helper = [1]\nresult = {'a': len(helper)}\nfor i in range(2):\n    pass"
    hidden = "assert result['a'] == 1\nassert other"
    assert answers.answer_names(answer, hidden) == ["result"]


def test_answer_names_can_be_asked_from_several_threads_at_once():
    """Two gradings in one process (threads) once failed with CPython 3.11's shared AST depth counter.

    Garbage with finalizers makes the interpreter switch threads while a tree
    is being built, which is what exposed the race.
    """

    class Finalized:
        def __init__(self):
            self.cycle = self

        def __del__(self):
            pass

    answer = "\n".join(f"value_{i} = [{i}, ({i}, {{'k': {i}}})]" for i in range(300))
    tests = "\n".join(f"assert value_{i}[0] == {i}" for i in range(300))
    failures = []

    def ask():
        for _ in range(60):
            [Finalized() for _ in range(50)]
            try:
                assert len(answers.answer_names(answer, tests)) == 300
            except Exception as error:  # noqa: BLE001 - collected, asserted below
                failures.append(error)
                return

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_emit_prints_one_marked_line_that_parses(capsys):
    answers.emit({"x": np.int16(3)}, ["x"])
    out = capsys.readouterr().out
    assert out.startswith(answers.MARKER) and out.count("\n") == 1
    assert answers.parse_emitted("noise\n" + out) == {"x": {"$np": "<i2", "v": 3}}


def test_verify_runs_hidden_tests_against_the_clean_namespace(capsys):
    lesson = {"keys": {"a": 1, "b": 2}}
    hidden = "assert counts == len(keys), 'wrong count'"
    payload = json.dumps(
        {
            "right": {"counts": answers.encode(2)},
            "cheat": {"counts": answers.encode(Anything(0))},  # equals anything in its own kernel
            "odd": {"counts": {"$unavailable": "function"}},
            "gone": {"counts": {"$missing": True}},
        }
    )
    results = answers.verify(lesson, hidden, payload)
    assert results == {
        "right": ["pass", ""],
        "cheat": ["fail", "wrong count"],
        "odd": ["unavailable", "`counts` could not be read as plain data (function)"],
        "gone": ["error", "NameError: name 'counts' is not defined"],
    }
    assert answers.parse_verified(capsys.readouterr().out) == results
    assert "counts" not in lesson  # the lesson's namespace is left alone


def test_a_shadowed_builtin_in_the_student_namespace_does_not_reach_the_check():
    lesson = {"keys": {"a": 1}}
    student = {"counts": 0, "len": lambda obj: 0}  # only the answer travels
    payload = json.dumps({"s": answers.collect(student, ["counts"])})
    assert answers.verify(lesson, "assert counts == len(keys)", payload)["s"][0] == "fail"
