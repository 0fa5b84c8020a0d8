"""Submissions of notebook 01 for the grading tests, built from the released notebook and solutions/.

Each :class:`Case` writes one student's upload (usually ``01_store_interface.ipynb``)
and says what it must score and what its feedback must say. Notebook 01 has
three exercises: ``key_counts`` (3 points), ``scale0_chunk_keys`` (2) and
``why_many_keys`` (1): 6 points in all.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils import authoring

ASSIGNMENT = "01_store_interface"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
MAX_SCORE = 6.0
BYSTANDERS = ("bystander_a", "bystander_b")
"""Ordinary full solutions graded next to the hard cases: they must come out as if graded alone."""
CHECKS_FILE = Path(__file__).resolve().parents[2] / "course_utils" / "checks" / "store_interface.py"
"""A course file the tamper case tries to change."""

WRONG = {
    "key_counts": 'key_counts = {"total": 1, "metadata": 0, "chunks": 1}',
    "scale0_chunk_keys": "scale0_chunk_keys = 42",
    "why_many_keys": 'why_many_keys = "B"',
}


def answered(release, exercises, overrides: dict[str, str] | None = None):
    """``release`` with every answer from solutions/, or the code in ``overrides`` (grade id -> code)."""
    nb = copy.deepcopy(release)
    overrides = overrides or {}
    for grade_id, cell in authoring.answer_cells(nb).items():
        code = overrides.get(grade_id, exercises[grade_id].answer)
        cell.source = cell.source.replace(authoring.STUB, code)
    return nb


def cell_index(nb, grade_id: str) -> int:
    for index, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise KeyError(grade_id)


@dataclass(frozen=True)
class Case:
    """One submission: how to build it, its expected score and a phrase its feedback must contain."""

    name: str
    score: float
    feedback: str
    build: object = field(repr=False)
    status: str = "graded"
    flagged: bool = False

    def write(self, folder: Path, release, exercises, context: dict) -> None:
        """Write the upload into ``folder`` (the student's ``submitted/<student>/<assignment>/``)."""
        folder.mkdir(parents=True, exist_ok=True)
        made = self.build(release, exercises, context)
        if isinstance(made, nbformat.NotebookNode):
            nbformat.write(made, folder / NOTEBOOK)
        else:  # {file name: content}
            for name, content in made.items():
                path = folder / name
                path.write_bytes(content if isinstance(content, bytes) else content.encode())


def _full(release, exercises, context):
    return answered(release, exercises)


def _blank(release, exercises, context):
    return copy.deepcopy(release)


def _partial(release, exercises, context):
    return answered(release, exercises, {"scale0_chunk_keys": WRONG["scale0_chunk_keys"]})


def _infinite_loop(release, exercises, context):
    return answered(release, exercises, {"scale0_chunk_keys": "while True:\n    pass"})


UNSTOPPABLE = """import time
while True:  # swallows the grader's interrupt
    try:
        time.sleep(0.2)
    except KeyboardInterrupt:
        pass"""


def _unstoppable_loop(release, exercises, context):
    return answered(release, exercises, {"scale0_chunk_keys": UNSTOPPABLE})


def _exit(release, exercises, context):
    return answered(release, exercises, {"scale0_chunk_keys": "import os\nos._exit(3)"})


def _segfault(release, exercises, context):
    return answered(release, exercises, {"scale0_chunk_keys": "import ctypes\nctypes.string_at(0)"})


# A small new Python does the forking: a fork copies the page tables of the process that forks,
# and on a busy machine a kernel of a few hundred MB forks so slowly (measured: 257 forks of a
# 600 MB process took 18 s) that the 20 s time limit could stop it before the process limit.
FORK_BOMB = '''import subprocess, sys
BOMB = """import os, time
for _ in range(2000):  # bounded, in case the sandbox's process limit ever fails
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
time.sleep(60)"""
subprocess.run([sys.executable, "-c", BOMB])'''


def _fork_bomb(release, exercises, context):
    return answered(release, exercises, {"scale0_chunk_keys": FORK_BOMB})


MEMORY_HOG = """def grow():
    hog = []
    while True:  # a mebibyte at a time, every page touched
        hog.append(bytearray(2**20) + b"x")
grow()"""


def _memory_hog(release, exercises, context):
    code = MEMORY_HOG + "\n" + exercises["scale0_chunk_keys"].answer
    return answered(release, exercises, {"scale0_chunk_keys": code})


def _huge_output(release, exercises, context):
    code = 'print("x" * 50_000_000)\nfor line in range(100_000):\n    print(line)\n' + exercises["why_many_keys"].answer
    return answered(release, exercises, {"why_many_keys": code})


def _exception(release, exercises, context):
    code = 'raise ValueError("I do not know yet")'
    return answered(release, exercises, {"scale0_chunk_keys": code})


def _deleted_test_cell(release, exercises, context):
    nb = answered(release, exercises, {"key_counts": WRONG["key_counts"]})
    del nb.cells[cell_index(nb, "key_counts_tests")]
    return nb


def _edited_test_cell(release, exercises, context):
    nb = answered(release, exercises, {"key_counts": WRONG["key_counts"]})
    nb.cells[cell_index(nb, "key_counts_tests")].source = "print('all good')"
    return nb


def _changed_metadata(release, exercises, context):
    nb = answered(release, exercises, {"key_counts": WRONG["key_counts"]})
    test = nb.cells[cell_index(nb, "key_counts_tests")]
    test.metadata["nbgrader"].update(grade=False, locked=False, points=100)
    test.source = "pass"
    answer = nb.cells[cell_index(nb, "why_many_keys")]
    answer.metadata["nbgrader"].update(grade=True, points=50)
    nb.cells[cell_index(nb, "scale0_chunk_keys_tests")].metadata["nbgrader"]["grade_id"] = "why_many_keys_tests"
    return nb


PATCH_CHECKS = """
import course_utils.feedback as feedback
feedback.expect = lambda *args, **kwargs: None
feedback.passed = lambda message: print("✓ trust me")
check.key_counts = check.scale0_chunk_keys = check.why_many_keys = lambda namespace: None
"""


def _cheat_patch_checks(release, exercises, context):
    overrides = dict(WRONG)
    overrides["key_counts"] = WRONG["key_counts"] + "\n" + PATCH_CHECKS
    return answered(release, exercises, overrides)


FAKE_VALUES = {
    # a builtin shadowed and a lesson variable replaced, so that zero counts look right
    "key_counts": """len = lambda obj: 0
keys_v05 = {}
key_counts = {"total": 0, "metadata": 0, "chunks": 0}""",
    # an int that equals everything, and the visible check switched off
    "scale0_chunk_keys": """class Anything(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
check.scale0_chunk_keys = lambda namespace: None
scale0_chunk_keys = label_chunk_keys = Anything(0)""",
    # a string that always reads as the right letter
    "why_many_keys": """class Letter(str):
    def __str__(self):
        return self
    def strip(self, *args):
        return self
    def upper(self):
        return "C"
why_many_keys = Letter("B")""",
}


def _cheat_fake_values(release, exercises, context):
    return answered(release, exercises, FAKE_VALUES)


HIDE_TRACEBACKS = """
import sys
ip = get_ipython()
ip.showtraceback = lambda *args, **kwargs: None
ip.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
sys.excepthook = lambda *args: None
"""


def _cheat_hide_tracebacks(release, exercises, context):
    overrides = dict(WRONG)
    overrides["key_counts"] = WRONG["key_counts"] + "\n" + HIDE_TRACEBACKS
    return answered(release, exercises, overrides)


SWALLOW_ERRORS = """
ip = get_ipython()
_run = ip.run_cell_async
async def _no_errors(*args, **kwargs):  # every cell now "succeeds"
    result = await _run(*args, **kwargs)
    result.error_in_exec = result.error_before_exec = None
    return result
ip.run_cell_async = _no_errors
ip.showtraceback = lambda *args, **kwargs: None
"""


def _cheat_swallow_errors(release, exercises, context):
    overrides = dict(WRONG)
    overrides["key_counts"] = WRONG["key_counts"] + "\n" + SWALLOW_ERRORS
    return answered(release, exercises, overrides)


TAMPER = """
import glob, os, pathlib, sqlite3
attempts = []
def _try(what, action):
    try:
        action()
        attempts.append(what + ": done")
    except Exception as error:
        attempts.append(what + ": " + type(error).__name__)
def _wipe(path):
    with open(path, "wb") as handle:
        handle.write(b"corrupted")
for path in ["../../../gradebook.db", GRADEBOOK]:
    _try("wipe " + path, lambda: _wipe(path))
    _try("sql " + path, lambda: sqlite3.connect(path).execute("update grade set auto_score = 99"))
for path in glob.glob("../../../submitted/*/*/*.ipynb") + glob.glob(OTHERS) + [VICTIM, SOURCE]:
    _try("wipe " + path, lambda: _wipe(path))
_try("delete " + VICTIM, lambda: os.remove(VICTIM))
_try("patch checks", lambda: open(CHECKS, "a").write("raise SystemExit"))
_try("home", lambda: pathlib.Path.home().joinpath("planted.txt").write_text("x"))
print(attempts)
"""


def _tamper(release, exercises, context):
    code = TAMPER
    for key in ("gradebook", "others", "victim", "source", "checks"):
        code = code.replace(key.upper(), repr(str(context[key])))
    code += "\n" + exercises["key_counts"].answer
    return answered(release, exercises, {"key_counts": code})


NETWORK = """
import socket
interfaces = [name for _, name in socket.if_nameindex()]
def _reach(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return "reached"
    except OSError as error:
        return type(error).__name__
network_seen = {{"interfaces": interfaces, "grader loopback": _reach("127.0.0.1", {port}), "internet": _reach("1.1.1.1", 53)}}
print("NETWORK", network_seen)
"""


def _network(release, exercises, context):
    code = NETWORK.format(port=context["port"]) + exercises["why_many_keys"].answer
    return answered(release, exercises, {"why_many_keys": code})


def _missing(release, exercises, context):
    return {"my answers.txt": "I ran out of time\n"}


def _misnamed(release, exercises, context):
    return {"Copy of 01_store_interface (1).ipynb": nbformat.writes(answered(release, exercises))}


def _invalid_json(release, exercises, context):
    text = nbformat.writes(answered(release, exercises))
    return {NOTEBOOK: text[: len(text) // 2]}


STDERR_ANSWER = """import sys, warnings

class LegacyCounts(dict):
    \"\"\"A mapping as some libraries return it: right values, a warning on every read.\"\"\"
    def __getitem__(self, key):
        warnings.warn("LegacyCounts item access is deprecated", FutureWarning, stacklevel=2)
        sys.stderr.write("progress: 100%|##########|\\n")  # a progress bar, as tqdm draws it
        return super().__getitem__(key)

metadata_keys = [key for key in keys_v05 if key.endswith("zarr.json")]
key_counts = LegacyCounts(total=len(keys_v05), metadata=len(metadata_keys), chunks=len(keys_v05) - len(metadata_keys))"""


def _stderr_warnings(release, exercises, context):
    return answered(release, exercises, {"key_counts": STDERR_ANSWER})


CASES = [
    Case("full", 6, "all tests passed", _full),
    Case("blank", 0, "is not defined yet", _blank),
    Case("partial", 4, "scale0_chunk_keys_tests failed", _partial),
    Case("infinite_loop", 4, "ran past the time limit and was interrupted", _infinite_loop),
    Case("unstoppable_loop", 3, "did not stop when interrupted", _unstoppable_loop),
    Case("kernel_exit", 3, "exit code 3", _exit),
    Case("segfault", 3, "segmentation fault", _segfault),
    Case("memory_hog", 4, "ran out of memory", _memory_hog),
    Case("fork_bomb", 3, "processes at once", _fork_bomb),
    Case("huge_output", 6, "printed too much", _huge_output),
    Case("exception", 4, "ValueError", _exception),
    Case("deleted_test_cell", 3, "was deleted; it was put back and run", _deleted_test_cell),
    Case("edited_test_cell", 3, "was edited; the edits were discarded", _edited_test_cell),
    Case("changed_metadata", 3, "were changed", _changed_metadata),
    Case("cheat_patch_checks", 0, "hidden test failed", _cheat_patch_checks, flagged=True),
    Case("cheat_fake_values", 0, "clean copy of the lesson", _cheat_fake_values, flagged=True),
    Case("cheat_hide_tracebacks", 0, "failed", _cheat_hide_tracebacks, flagged=True),
    Case("cheat_swallow_errors", 0, "clean copy of the lesson", _cheat_swallow_errors, flagged=True),
    Case("tamper", 6, "all tests passed", _tamper, flagged=True),
    Case("network", 6, "all tests passed", _network),
    Case("missing_notebook", 0, "No notebook was submitted", _missing, status="missing"),
    Case("misnamed_notebook", 6, "graded as 01_store_interface.ipynb", _misnamed),
    Case("invalid_json", 0, "not valid notebook JSON", _invalid_json, status="unreadable"),
    Case("stderr_warnings", 6, "not counted against the test", _stderr_warnings),
]
"""Every adversarial case of issue 5, with its expected score out of 6."""

BY_NAME = {case.name: case for case in CASES}
RUN_TO_THE_LIMIT = ("unstoppable_loop", "infinite_loop")
"""The cases that run until the cell time limit (20 to 40 s each, the rest about 6 s): a class
graded with these first has their waits beside the other jobs, not alone at the end."""


def notebook_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())
