"""Item 5: the visible checks judge plain data, and nothing in the feedback helper decides a grade."""

from __future__ import annotations

import ast
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

from course_utils import authoring, feedback
from course_utils.checks import store_interface as check

from grading_course import REPO


class Anything(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class Letter(str):
    def strip(self, *args):
        return self

    def upper(self):
        return "A"


class Lying(dict):
    def __getitem__(self, key):
        return 0


def test_plain_turns_builtin_subclasses_into_builtins():
    assert type(feedback.plain(Anything(3))) is int and feedback.plain(Anything(3)) == 3
    assert type(feedback.plain(Letter("B"))) is str
    assert feedback.plain(Lying(total=5)) == {"total": 5} and type(feedback.plain(Lying(total=5))) is dict
    assert feedback.plain(OrderedDict(a=[Anything(1)])) == {"a": [1]}
    point = namedtuple("Point", "y x")(1, 2)
    assert feedback.plain(point) == (1, 2) and type(feedback.plain(point)) is tuple
    array = np.arange(3)
    assert feedback.plain(array) is array  # not builtin data: left alone
    assert feedback.plain({1, 2}) == {1, 2} and feedback.plain(None) is None


class Stored(bytes):
    def to_bytes(self):
        return bytes(self)


def test_an_answer_that_equals_anything_does_not_pass_a_visible_check():
    root = b'{"attributes": {"ome": {"multiscales": [{"datasets": [{"path": "0"}]}]}}}'
    array = b'{"shape": [2, 3], "chunk_grid": {"configuration": {"chunk_shape": [2, 2]}}}'
    keys = {"zarr.json": Stored(root), "0/zarr.json": Stored(array), "0/c/0/0": Stored(b""), "0/c/0/1": Stored(b"")}
    lesson = {"keys_v05": keys, "image": np.zeros((4, 4)), "LABEL_CHUNKS": (2, 2), "OBJECT_BOX": (slice(1, 3), slice(0, 2))}
    check.scale0_chunk_keys({"scale0_chunk_keys": 2, "label_chunk_keys": 2, **lesson})  # the real answers pass
    namespace = {"scale0_chunk_keys": Anything(0), "label_chunk_keys": Anything(0), **lesson}
    with pytest.raises(feedback.AnswerError):
        check.why_many_keys({"why_many_keys": Letter("B")})
    with pytest.raises(feedback.AnswerError, match="whole number|chunks"):
        check.scale0_chunk_keys(namespace)


def test_a_dict_that_lies_about_its_items_is_read_as_what_it_holds():
    assert feedback.answer({"x": Lying(total=3)}, "x") == {"total": 3}


@pytest.mark.parametrize("path", sorted((REPO / "solutions").glob("*/*.py")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hidden_tests_use_no_course_helper_a_student_could_redefine(path):
    """Hidden tests are plain asserts: no course_utils, no visible checks, nothing from feedback."""
    exercise = authoring.read_exercise(path)
    tree = ast.parse(exercise.hidden_tests)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names} | {node.module.split(".")[0] for node in ast.walk(tree)
                                           if isinstance(node, ast.ImportFrom) and node.module}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert "course_utils" not in imported
    assert not names & {"check", "feedback", "AnswerError", "expect", "answer", "passed"}
    assert any(isinstance(node, ast.Assert) for node in ast.walk(tree)), "hidden tests must assert something"
