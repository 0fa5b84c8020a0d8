"""The nbgrader course directory, built from notebooks/ and solutions/ (never by hand).

One notebook is one assignment, named after the notebook's stem
(``notebooks/01_store_interface.ipynb`` is assignment ``01_store_interface``
holding notebook ``01_store_interface.ipynb``): lessons are released and
submitted one at a time, a submission is one file whose name leaves no doubt
where it belongs, and one bad notebook never touches the grade of another.

:func:`build_source` writes the instructor's source version of each
assignment (``source/<assignment>/<assignment>.ipynb``, answers between
``### BEGIN/END SOLUTION``, hidden tests between ``### BEGIN/END HIDDEN
TESTS``) with :func:`course_utils.authoring.build`; :func:`generate` runs
``nbgrader generate_assignment`` on it, which writes the student version to
``release/`` and records every graded cell (hidden tests included) in the
gradebook. The student version's cells are exactly those of ``notebooks/``
(tests/grading checks it). The course directory defaults to the repository
itself, where ``source/``, ``release/``, ``submitted/``, ``autograded/``,
``feedback/`` and ``gradebook.db`` are git-ignored; any other directory
gets its own ``nbgrader_config.py`` (:func:`write_config`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat

from course_utils import authoring
from course_utils.grading.limits import REPO, Limits, scripts_on_path

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"

CONFIG_HEADER = '"""nbgrader configuration of this course directory (written by course-utils)."""'
CONFIG_TEMPLATE = CONFIG_HEADER + '''

from pathlib import Path

from course_utils.grading.limits import Limits
from course_utils.grading.plugins import config

c = get_config()  # noqa: F821  (nbgrader provides get_config)
config.configure(c, Path(__file__).resolve().parent, repo=Path({repo!r}), limits=Limits(**{limits!r}))
'''

_GRADE_ID_TEXT = re.compile(rb'"grade_id"\s*:\s*"([^"\\]{1,200})"')


def grade_ids(nb, *, answers_only: bool = False) -> set[str]:
    """The grade ids of notebook ``nb`` (every cell nbgrader grades or holds an answer in; ``answers_only``: answers).

    The one place the grade ids of a parsed notebook are computed; for a
    file that may not even parse, :func:`grade_ids_in_text`.
    """
    from nbgrader import utils

    found = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str):
            continue
        if answers_only and not utils.is_solution(cell):
            continue
        found.add(meta["grade_id"])
    return found


def grade_ids_in_text(raw: bytes | str) -> set[str]:
    """The grade ids a notebook file names, read as text: no JSON parsing, so any file (deep, broken) is safe."""
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    return {found.decode("utf-8", "replace") for found in _GRADE_ID_TEXT.findall(data)}


@dataclass(frozen=True)
class Assignment:
    """One assignment: a notebook of the course, graded on its own."""

    name: str
    notebook: Path

    @property
    def notebook_id(self) -> str:
        """nbgrader's name for the notebook inside the assignment (the same stem)."""
        return self.notebook.stem

    @cached_property
    def grade_ids(self) -> frozenset[str]:
        """The grade ids of its exercises (answer and test cells), from ``notebooks/``."""
        return frozenset(grade_ids(nbformat.read(self.notebook, as_version=4)))

    @cached_property
    def answer_ids(self) -> frozenset[str]:
        """The grade ids of its answer cells."""
        return frozenset(grade_ids(nbformat.read(self.notebook, as_version=4), answers_only=True))


def assignments(repo: Path = REPO) -> list[Assignment]:
    """Every notebook of ``repo/notebooks`` as an :class:`Assignment`, in order."""
    return [Assignment(path.stem, path) for path in sorted(Path(repo, "notebooks").glob("*.ipynb"))]


def find_assignment(name: str, repo: Path = REPO) -> Assignment:
    """The assignment called ``name``; ``ValueError`` listing the known ones otherwise."""
    for assignment in assignments(repo):
        if assignment.name == name:
            return assignment
    known = ", ".join(a.name for a in assignments(repo))
    raise ValueError(f"no assignment {name!r}; the course has: {known}")


def source_notebook(assignment: Assignment, solutions_dir: Path):
    """The instructor's source version of ``assignment`` (an nbformat notebook).

    The answers and markers come from :func:`course_utils.authoring.build`;
    each test cell is then laid out as ``<visible tests>\\n### BEGIN HIDDEN
    TESTS\\n...\\n### END HIDDEN TESTS`` so that nbgrader, which drops the
    marked lines, gives back the visible source character for character.
    """
    student = nbformat.read(assignment.notebook, as_version=4)
    source = authoring.build(assignment.notebook, solutions_dir, "source")
    exercises = authoring.read_exercises(assignment.notebook, solutions_dir)
    visible = authoring.test_cells(student)
    tests = authoring.test_cells(source)
    for grade_id, exercise in exercises.items():
        test_id = grade_id + authoring.TEST_SUFFIX
        tests[test_id].source = (
            f"{visible[test_id].source}\n{HIDDEN_BEGIN}\n{exercise.hidden_tests}\n{HIDDEN_END}"
        )
    return source


def build_source(course_root: Path, repo: Path = REPO, names: list[str] | None = None) -> list[Path]:
    """Write ``source/<assignment>/<assignment>.ipynb`` for every (or each named) assignment."""
    written = []
    for assignment in assignments(repo):
        if names and assignment.name not in names:
            continue
        target = Path(course_root) / "source" / assignment.name / f"{assignment.notebook_id}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(assignment, Path(repo) / "solutions"), target)
        written.append(target)
    return written


def write_config(course_root: Path, repo: Path = REPO, limits=None) -> Path:
    """Put an ``nbgrader_config.py`` for this course into ``course_root`` (not in the repository)."""
    course_root = Path(course_root).resolve()
    target = course_root / "nbgrader_config.py"
    if course_root == Path(repo).resolve():
        return target  # the repository's own nbgrader_config.py
    course_root.mkdir(parents=True, exist_ok=True)
    target.write_text(CONFIG_TEMPLATE.format(repo=str(Path(repo).resolve()), limits=(limits or Limits()).as_dict()))
    return target


def load_config(course_root: Path):
    """The traitlets config in ``course_root/nbgrader_config.py``.

    A configuration course-utils wrote that names modules of an earlier
    version (the plug-ins moved to :mod:`course_utils.grading.plugins`) is
    written again first, with the limits it had.
    """
    from traitlets.config.loader import PyFileConfigLoader

    _renew_config(Path(course_root))
    return PyFileConfigLoader("nbgrader_config.py", path=str(Path(course_root).resolve())).load_config()


def _renew_config(course_root: Path) -> None:
    import ast

    target = course_root / "nbgrader_config.py"
    try:
        text = target.read_text(encoding="utf-8")
    except OSError:
        return
    if not text.startswith(CONFIG_HEADER) or "course_utils.grading.plugins" in text:
        return
    repo = re.search(r"repo=Path\((.+?)\), limits=", text)
    limits = re.search(r"limits=Limits\(\*\*(\{.*?\})\)\)", text)
    try:
        kept_repo = Path(ast.literal_eval(repo.group(1))) if repo else REPO
        kept_limits = Limits(**ast.literal_eval(limits.group(1))) if limits else Limits()
    except (ValueError, TypeError, SyntaxError):
        kept_repo, kept_limits = REPO, Limits()
    target.write_text(CONFIG_TEMPLATE.format(repo=str(kept_repo), limits=kept_limits.as_dict()))


def api(course_root: Path, config=None):
    """An ``NbGraderAPI`` for the course in ``course_root`` (its own config unless one is given)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    scripts_on_path()

    config = config if config is not None else load_config(course_root)
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(Path(course_root).resolve())
    return NbGraderAPI(coursedir=coursedir, config=config)


class GradingError(RuntimeError):
    """An nbgrader step failed for the course as a whole (not for one student)."""


def generate(course_root: Path, repo: Path = REPO, names: list[str] | None = None, limits=None) -> list[str]:
    """Build the source versions and run ``nbgrader generate_assignment`` on each; returns the names.

    Writes the student versions to ``release/<assignment>/`` and the graded
    cells to the gradebook. Raises :class:`GradingError` with nbgrader's
    log if an assignment fails.
    """
    write_config(course_root, repo, limits)
    build_source(course_root, repo, names)
    grader = api(course_root)
    done = []
    for assignment in assignments(repo):
        if names and assignment.name not in names:
            continue
        result = grader.generate_assignment(assignment.name, force=True, create=True)
        if not result["success"]:
            raise GradingError(f"nbgrader generate_assignment {assignment.name} failed:\n{result.get('log', '')}")
        done.append(assignment.name)
    return done


def release_notebook(course_root: Path, assignment: Assignment):
    """The generated student version of ``assignment`` from ``release/``."""
    path = Path(course_root) / "release" / assignment.name / f"{assignment.notebook_id}.ipynb"
    return nbformat.read(path, as_version=4)
