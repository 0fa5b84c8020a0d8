"""Student ids from the names an LMS writes: distinct, readable, stable, in any script.

An LMS download names each upload after the student (``josé``, ``张伟``,
``Алексей Смирнов``) and adds a number of its own (Canvas's user id, Moodle's
participant number). nbgrader needs a student id that is a safe folder
name. :func:`student_id` makes one:

- the name is transliterated to ASCII (:func:`transliterate`, with the
  ``anyascii`` tables: ``José`` -> ``jose``, ``张伟`` -> ``zhang-wei``,
  ``Алексей`` -> ``aleksey``) so the id is readable by the instructor;
- the LMS's own number is kept at the end (``jose-1002``), so two students
  whose names transliterate alike (``josé``, ``josè``) still differ, and a
  student's id does not depend on who else is in the class;
- ids are lower case ``[a-z0-9._-]``, at most :data:`MAX_NAME` characters of
  name.

Two different students can still end up with one id (a folder named
``jose-1002`` next to Canvas user 1002 ``josé``). :func:`assign_ids` settles
that the same way every time (the owners in sorted order, the first keeps
the id, the others get ``-2``, ``-3``...) and says so.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

MAX_NAME = 40
"""Characters of the transliterated name kept in an id (the LMS number comes on top)."""

FALLBACK = "student"
"""The name part of an id whose name has no letter or digit that can be written in ASCII."""

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def transliterate(text: str) -> str:
    """``text`` in ASCII letters, one syllable group per word where the script writes none.

    Each character is transliterated on its own: a character of a syllabic
    script (Han, Hangul, kana) becomes a capitalised syllable (``张`` ->
    ``Zhang``), and consecutive syllables are kept apart with a space, so
    ``张伟`` reads ``Zhang Wei``, not ``ZhangWei``. Latin letters with
    accents lose them (``é`` -> ``e``, ``ß`` -> ``ss``).
    """
    text = unicodedata.normalize("NFC", str(text))
    out: list[str] = []
    for char in text:
        latin = anyascii(char)
        starts_syllable = (
            not char.isascii() and len(latin) > 1 and latin[:1].isupper() and latin[1:2].islower()
        )
        if starts_syllable and out and out[-1][-1:].isalnum():
            out.append(" ")
        out.append(latin)
    return "".join(out)


def slug(text: str, max_length: int = MAX_NAME) -> str:
    """A safe, readable id part: transliterated, lower case, ``[a-z0-9._-]``, no leading dot.

    Empty if nothing of ``text`` can be written that way.
    """
    words = _UNSAFE.sub("-", transliterate(text).lower())
    words = re.sub(r"-{2,}", "-", words).strip("-._")
    if len(words) > max_length:
        cut = words[:max_length]
        words = (cut.rsplit("-", 1)[0] if "-" in cut[max_length // 2 :] else cut).strip("-._")
    return words


def student_id(name: str, lms_id: str | None = None) -> str:
    """The nbgrader id of a student called ``name`` whom the LMS numbers ``lms_id``.

    ``student_id("josé", "1002") == "jose-1002"``; without a number the
    name alone (``student_id("jdoe") == "jdoe"``); a name with nothing
    writable becomes ``student``.
    """
    name_part = slug(name)
    number = slug(lms_id or "", max_length=32)
    if name_part and number and name_part != number and not name_part.endswith("-" + number):
        return f"{name_part}-{number}"
    return name_part or number or FALLBACK


def assign_ids(wanted: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Settle ids that several owners want: ``({owner: id}, {owner: what was done})``.

    ``wanted`` maps an owner key (one per real student, such as
    ``canvas:1002``) to the id :func:`student_id` gave it. Owners sharing an
    id are taken in sorted order; the first keeps it, the next get ``-2``,
    ``-3``... (skipping ids already taken). Every owner involved gets a
    line saying so. The result depends only on ``wanted``, never on the
    order the download listed things in.
    """
    by_id: dict[str, list[str]] = {}
    for owner in sorted(wanted):
        by_id.setdefault(wanted[owner], []).append(owner)
    taken = set(by_id)
    final: dict[str, str] = {}
    notes: dict[str, str] = {}
    for wanted_id in sorted(by_id):
        owners = by_id[wanted_id]
        final[owners[0]] = wanted_id
        for owner in owners[1:]:
            number = 2
            while f"{wanted_id}-{number}" in taken:
                number += 1
            final[owner] = f"{wanted_id}-{number}"
            taken.add(final[owner])
        if len(owners) > 1:
            given = ", ".join(f"{owner} -> '{final[owner]}'" for owner in owners)
            for owner in owners:
                notes[owner] = f"{len(owners)} students would have had the id '{wanted_id}'; they were told apart: {given}."
    return final, notes
