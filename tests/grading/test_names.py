"""course_utils.grading.names: readable, distinct, stable student ids from names in any script."""

from __future__ import annotations

import pytest

from course_utils.grading import names


@pytest.mark.parametrize(
    "name, number, expected",
    [
        ("josé", "1002", "jose-1002"),
        ("josè", "1003", "jose-1003"),  # the same letters once transliterated: the LMS number tells them apart
        ("张伟", "1004", "zhang-wei-1004"),  # one syllable per character, kept apart
        ("李娜", "1005", "li-na-1005"),
        ("Алексей Смирнов", "2005", "aleksey-smirnov-2005"),
        ("Zoë Müller", "2004", "zoe-muller-2004"),
        ("Ελένη Παπαδοπούλου", "7", "eleni-papadopoyloy-7"),
        ("doejane", None, "doejane"),
        ("mary_ann", None, "mary_ann"),  # a Blackboard username stays as the LMS writes it
        ("../../Évil Name", None, "evil-name"),  # nothing of a path survives
        ("😀", "77", "grinning-77"),
        ("", "88", "88"),
        ("", None, "student"),
    ],
)
def test_ids_are_readable_ascii_and_keep_the_lms_number(name, number, expected):
    assert names.student_id(name, number) == expected


def test_an_over_long_name_is_cut_but_keeps_its_number():
    sid = names.student_id("Maria " * 60, "123456")
    assert sid.endswith("-123456") and len(sid) <= names.MAX_NAME + 7
    assert sid == names.student_id("Maria " * 60, "123456")  # stable


def test_collisions_are_resolved_the_same_way_whatever_the_order():
    wanted = {"canvas:1002": "jose-1002", "blackboard:jose-1002": "jose-1002", "canvas:1003": "jose-1003"}
    first, notes = names.assign_ids(wanted)
    second, _ = names.assign_ids(dict(reversed(list(wanted.items()))))
    assert first == second
    assert sorted(first.values()) == ["jose-1002", "jose-1002-2", "jose-1003"]
    assert set(notes) == {"canvas:1002", "blackboard:jose-1002"}  # both owners are told
    assert "jose-1002-2" in notes["canvas:1002"]


def test_a_renamed_id_never_takes_one_already_in_use():
    final, _ = names.assign_ids({"a": "x", "b": "x", "c": "x-2"})
    assert len(set(final.values())) == 3 and final["c"] == "x-2"
