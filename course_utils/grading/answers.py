"""Check answers again, outside the student's kernel, on a clean copy of the lesson.

A test cell runs in the student's own kernel, after the student's code, so a
determined cheat can change what the tests use: redefine ``len``, replace a
lesson variable, answer with an object whose ``==`` is always true, or patch
IPython so errors vanish. This module makes such a cheat pointless:

1. while grading, right after each test cell, the values of the exercise's
   answer variables are read out of the student's kernel as plain data
   (:func:`emit`, JSON with a few tags for tuples, sets and numpy values;
   no pickle, so no student code can travel along);
2. afterwards, one *reference* kernel runs the solved notebook; at each test
   cell it puts every student's plain values, in turn, into a copy of its
   own namespace and runs the exercise's hidden tests there (:func:`verify`);
3. a test that passed in the student's kernel but fails here loses its
   points (:mod:`course_utils.grading.verify`).

The student controls only the *values* that reach the reference kernel, and
the right values are the right answer. The answer variables of an exercise
are the names its solution assigns that its hidden tests read
(:func:`answer_names`).
"""

from __future__ import annotations

import ast
import base64
import json
import math
import threading
import warnings
from collections.abc import Mapping
from typing import Any

MARKER = "@@course-utils-answers@@"
RESULT_MARKER = "@@course-utils-verify@@"
MAX_ENCODED_CHARS = 4 * 1024 * 1024
"""Largest answer payload read out of a kernel (JSON characters, all of one test's answers)."""
MAX_ARRAY_BYTES = 2 * 1024 * 1024
"""Largest numeric array sent as an answer (raw bytes; an image region of the lessons is ~160 KB)."""
MAX_ARRAY_ITEMS = 100_000
"""Largest array of strings sent as an answer (items)."""

PASS, FAIL, ERROR, UNAVAILABLE = "pass", "fail", "error", "unavailable"


class Unencodable(ValueError):
    """A value that cannot travel as plain data."""


_PARSE_LOCK = threading.Lock()


def _parse(source: str) -> ast.Module:
    # CPython 3.11 counts AST-building depth in one counter per interpreter, not
    # per thread: two threads parsing at once can fail with "SystemError: AST
    # constructor recursion depth mismatch". Parsing here is rare and quick.
    with _PARSE_LOCK:
        return ast.parse(source)


def answer_names(answer_code: str, hidden_tests: str) -> list[str]:
    """Names ``answer_code`` assigns at module level that ``hidden_tests`` reads, sorted.

    Module level includes the bodies of ``with``, ``for``, ``while``, ``if``
    and ``try`` blocks (``with open(...) as f: answer = ...``), not those of
    functions, classes or comprehensions.
    """
    assigned: set[str] = set()
    pending = list(_parse(answer_code).body)
    while pending:
        node = pending.pop()
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.NamedExpr):
            targets = [node.value.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    assigned.add(name.id)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for block in ("body", "orelse", "finalbody"):
                pending.extend(getattr(node, block, []) or [])
            for handler in getattr(node, "handlers", []) or []:
                pending.extend(handler.body)
    read = {n.id for n in ast.walk(_parse(hidden_tests)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(assigned & read)


# -- plain-data encoding -----------------------------------------------------


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-able plain data; raises :class:`Unencodable` for anything else."""
    if depth > 20:
        raise Unencodable("nested too deeply")
    if value is None or type(value) is bool:
        return value
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if np is not None and isinstance(value, np.generic):
        if value.dtype.kind not in "biufcU":
            raise Unencodable(f"numpy {value.dtype}")
        return {"$np": value.dtype.str, "v": encode(value.item(), depth + 1)}
    if np is not None and isinstance(value, np.ndarray):
        array = np.asarray(value)
        if array.dtype.kind in "biufc" and array.nbytes <= MAX_ARRAY_BYTES:
            raw = np.ascontiguousarray(array).tobytes()
            return {"$nd": array.dtype.str, "shape": list(array.shape), "b64": base64.b64encode(raw).decode()}
        if array.dtype.kind == "U" and array.size <= MAX_ARRAY_ITEMS:
            flat = [encode(v, depth + 1) for v in array.ravel().tolist()]
            return {"$nd": array.dtype.str, "shape": list(array.shape), "data": flat}
        raise Unencodable(f"numpy array of {array.dtype}, {array.size} items ({array.nbytes} bytes)")
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value) if type(value) is not int else value
    if isinstance(value, float):
        number = float.__float__(value)
        return number if math.isfinite(number) else {"$float": repr(number)}
    if isinstance(value, complex):
        return {"$complex": [encode(value.real, depth + 1), encode(value.imag, depth + 1)]}
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Mapping):
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(dict(value))]}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode(v, depth + 1) for v in value], "frozen": isinstance(value, frozenset)}
    raise Unencodable(type(value).__name__)


def decode(data: Any) -> Any:
    """The plain Python value :func:`encode` made ``data`` from (builtin types and numpy only)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$np" in data:
        import numpy as np

        return np.dtype(data["$np"]).type(decode(data["v"]))
    if "$nd" in data:
        import numpy as np

        dtype = np.dtype(data["$nd"])
        if dtype.kind not in "biufcU":
            raise ValueError(f"not a plain array type: {dtype}")
        if "b64" in data:
            return np.frombuffer(base64.b64decode(data["b64"]), dtype=dtype).reshape(data["shape"]).copy()
        return np.array([decode(v) for v in data["data"]], dtype=dtype).reshape(data["shape"])
    if "$float" in data:
        return float(data["$float"])
    if "$complex" in data:
        return complex(*(decode(v) for v in data["$complex"]))
    if "$bytes" in data:
        return base64.b64decode(data["$bytes"])
    if "$dict" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["$dict"]}
    if "$tuple" in data:
        return tuple(decode(v) for v in data["$tuple"])
    if "$set" in data:
        items = {_hashable(decode(v)) for v in data["$set"]}
        return frozenset(items) if data.get("frozen") else items
    if "$unavailable" in data or "$missing" in data:
        return data
    raise ValueError(f"unknown tag in {sorted(data)}")


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


# -- in the student's kernel -------------------------------------------------


def collect(namespace: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    """``{name: encoded value}`` for ``names`` in ``namespace``; missing or odd values are tagged."""
    found: dict[str, Any] = {}
    for name in names:
        if name not in namespace:
            found[name] = {"$missing": True}
            continue
        try:
            found[name] = encode(namespace[name])
        except Unencodable as error:
            found[name] = {"$unavailable": str(error)}
        except Exception as error:  # a value whose conversion raises
            found[name] = {"$unavailable": f"{type(error).__name__}"}
    return found


def emit(namespace: Mapping[str, Any], names: list[str]) -> None:
    """Print :func:`collect` as one marked JSON line (run by the grader after a test cell)."""
    text = json.dumps(collect(namespace, names))
    if len(text) > MAX_ENCODED_CHARS:
        text = json.dumps({name: {"$unavailable": "too large"} for name in names})
    print(MARKER + text)


def emit_code(names: list[str]) -> str:
    """The code the grader runs in the student's kernel to read ``names`` out."""
    return f"__import__('course_utils.grading.answers', fromlist=['emit']).emit(globals(), {names!r})"


def parse_emitted(text: str) -> dict[str, Any] | None:
    """The answers printed by :func:`emit` in ``text``, or None."""
    for line in text.splitlines():
        if line.startswith(MARKER):
            try:
                payload = json.loads(line[len(MARKER) :])
            except ValueError:
                return None
            return payload if isinstance(payload, dict) else None
    return None


# -- in the reference kernel -------------------------------------------------


def verify(namespace: Mapping[str, Any], hidden_tests: str, payload: str) -> dict[str, list[str]]:
    """Run ``hidden_tests`` once per student on a copy of ``namespace`` with their answers put in.

    ``payload`` is JSON ``{student: {name: encoded}}``. Returns (and prints,
    marked) ``{student: [outcome, message]}`` with outcome one of ``pass``,
    ``fail`` (an assertion failed), ``error`` (anything else raised) or
    ``unavailable`` (the answer could not be read as plain data).
    """
    code = compile(hidden_tests, "<hidden tests>", "exec")
    base = dict(namespace)
    results: dict[str, list[str]] = {}
    for student, answers in json.loads(payload).items():
        scope = dict(base)
        unavailable = ""
        for name, data in answers.items():
            try:
                value = decode(data)
            except Exception as error:  # a payload that is not what encode() writes
                unavailable = f"`{name}` could not be decoded ({type(error).__name__})"
                continue
            if isinstance(value, dict) and "$missing" in value:
                scope.pop(name, None)
            elif isinstance(value, dict) and "$unavailable" in value:
                unavailable = f"`{name}` could not be read as plain data ({value['$unavailable']})"
            else:
                scope[name] = value
        if unavailable:
            results[student] = [UNAVAILABLE, unavailable]
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(code, scope)
        except AssertionError as error:
            results[student] = [FAIL, str(error) or "a hidden test failed"]
        except Exception as error:
            results[student] = [ERROR, f"{type(error).__name__}: {error}"]
        else:
            results[student] = [PASS, ""]
    print(RESULT_MARKER + json.dumps(results))
    return results


def verify_code(hidden_tests: str, payload: dict) -> str:
    """The code the grader runs in the reference kernel for one exercise."""
    return (
        "__import__('course_utils.grading.answers', fromlist=['verify']).verify("
        f"globals(), {hidden_tests!r}, {json.dumps(payload)!r})"
    )


def parse_verified(text: str) -> dict[str, list[str]] | None:
    """The results printed by :func:`verify` in ``text``, or None."""
    for line in text.splitlines():
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER) :])
    return None
