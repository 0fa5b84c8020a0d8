"""Friendly feedback for the exercises' visible tests.

A visible test calls a check from :mod:`course_utils.checks`; the check uses
these helpers to say, in one or two lines, what was expected and how to get
there. A wrong answer raises :class:`AnswerError`, which Jupyter shows as that
message instead of a traceback; a right answer prints a tick to stdout
(never stderr: nbgrader gives zero points to a test cell that writes to it).

Checks judge plain data: :func:`answer` hands them a copy of the student's
value in which every subclass of a builtin type (an ``int`` whose ``==`` is
always true, a ``str`` whose ``upper()`` lies) is the builtin type itself.
The grade never depends on this module: hidden tests use plain ``assert``
statements only, and the grader re-runs them on a clean copy of the lesson
with the student's values as plain data (:mod:`course_utils.grading.answers`),
so redefining anything here cannot turn a failing hidden test into a pass.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

MISSING_HINT = "write your answer in the cell above, run it, then run this cell again"


class AnswerError(AssertionError):
    """A wrong or missing answer, with a hint on how to fix it.

    It is an ``AssertionError`` so graders count it as a failed test, and it
    renders in IPython as its message alone, without a traceback.
    """

    def __init__(self, message: str, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\nHint: {hint}")

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback."""
        lines = [f"\x1b[1;31m✗ {self.message}\x1b[0m"]
        if self.hint:
            lines.append(f"\x1b[33mHint:\x1b[0m {self.hint}")
        return lines


def answer(namespace: Mapping[str, Any], name: str) -> Any:
    """The student's answer ``name`` from ``namespace`` (pass ``globals()``), as :func:`plain` data.

    Raises :class:`AnswerError` when it is not defined yet, or still holds
    ``...`` (the placeholder some cells start with).
    """
    if name not in namespace:
        raise AnswerError(f"`{name}` is not defined yet.", MISSING_HINT)
    value = namespace[name]
    if value is Ellipsis:
        raise AnswerError(f"`{name}` still holds the placeholder `...`.", MISSING_HINT)
    return plain(value)


_EXACT = (type(None), bool, int, float, complex, str, bytes)


def plain(value: Any, _depth: int = 0) -> Any:
    """``value`` with subclasses of builtin types turned into the builtin types, containers copied.

    An ``int``, ``float``, ``complex``, ``str`` or ``bytes`` subclass becomes
    the plain value (read through the builtin type's own method, not the
    subclass's); ``dict``, ``list``, ``tuple``, ``set`` and ``frozenset``
    (and their subclasses, such as ``OrderedDict`` or named tuples) become
    plain copies with plain contents. Anything else (numpy arrays, Zarr
    arrays) is returned as it is.
    """
    kind = type(value)
    if kind in _EXACT or _depth > 50:
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, complex):
        return complex.__complex__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bytes):
        return bytes.__bytes__(value)
    deeper = _depth + 1
    if isinstance(value, dict):
        return {plain(k, deeper): plain(v, deeper) for k, v in dict.items(value)}
    if isinstance(value, list):
        return [plain(v, deeper) for v in list.__iter__(value)]
    if isinstance(value, tuple):
        return tuple(plain(v, deeper) for v in tuple.__iter__(value))
    if isinstance(value, frozenset):
        return frozenset(plain(v, deeper) for v in frozenset.__iter__(value))
    if isinstance(value, set):
        return {plain(v, deeper) for v in set.__iter__(value)}
    return value


def lesson_value(namespace: Mapping[str, Any], name: str) -> Any:
    """A variable the lesson's own cells define, which a check needs.

    Raises :class:`AnswerError` saying which cells to run when it is missing.
    """
    if name not in namespace:
        raise AnswerError(
            f"The lesson variable `{name}` is missing.",
            "run the notebook's cells from the top (Run > Run All Above) first",
        )
    return namespace[name]


def expect(condition: bool, message: str, hint: str | None = None) -> None:
    """Raise :class:`AnswerError` with ``message`` and ``hint`` unless ``condition``."""
    if not condition:
        raise AnswerError(message, hint)


def whole_number(value: Any, name: str, example: str) -> int:
    """Answer ``name`` as an ``int`` (numpy integers too); ``example`` shows a valid one."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise AnswerError(
            f"`{name}` should be a whole number, not {type(value).__name__} {value!r}.",
            f"for example: {example}",
        )
    return int(value)


def expect_type(value: Any, kind: type | tuple[type, ...], name: str, example: str) -> None:
    """Check that answer ``name`` is of ``kind``; ``example`` shows a valid answer."""
    if not isinstance(value, kind):
        raise AnswerError(
            f"`{name}` should be a {_kind_name(kind)}, not {_article(type(value).__name__)}.",
            f"for example: {example}",
        )


def expect_keys(value: Any, keys: Sequence[str], name: str, example: str) -> None:
    """Check that answer ``name`` is a dict with exactly ``keys``; ``example`` shows a valid one."""
    expect_type(value, dict, name, example)
    if set(value) != set(keys):
        wanted = ", ".join(repr(k) for k in keys[:-1]) + f" and {keys[-1]!r}" if len(keys) > 1 else repr(keys[0])
        found = sorted(map(str, value))
        raise AnswerError(f"`{name}` should have exactly the keys {wanted}, not {found}.", f"for example: {example}")


def choice(
    value: Any, name: str, right: str, wrong: str | Mapping[str, str], hint: str | None = None,
    choices: str = "ABCD",
) -> None:
    """Check multiple-choice answer ``name``: a letter of ``choices``, and ``right``.

    ``wrong`` says why a wrong letter is wrong: one text for every wrong
    letter, or a text per letter (the better feedback: it answers the
    misconception that letter stands for). A wrong letter raises
    :class:`AnswerError` with "<letter>: <why>" and ``hint``.
    """
    expect_type(value, str, name, f'"{choices[-1]}"')
    letter = value.strip().upper()
    expect(letter in choices, f"{name} should be one of {', '.join(choices)}, not {value!r}.")
    if letter != right:
        why = wrong if isinstance(wrong, str) else wrong[letter]
        raise AnswerError(f"{letter}: {why}", hint)


def passed(message: str) -> None:
    """Tell the student a check passed (on stdout)."""
    print(f"✓ {message}")


def _article(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "whole number", str: "string", dict: "dict", float: "number", list: "list"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)
