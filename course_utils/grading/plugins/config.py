"""The nbgrader configuration of the course, in one place.

``nbgrader_config.py`` at the top of the repository (and the one
:func:`course_utils.grading.course.write_config` puts in any other course
directory) calls :func:`configure`, so ``nbgrader`` run by hand and the
``course-utils`` grading commands grade the same way. It names the course's
plug-ins, which nbgrader and nbconvert load (by class or by dotted name):

- each notebook ``notebooks/NN_name.ipynb`` is its own assignment ``NN_name``;
- the execute step is :class:`~course_utils.grading.plugins.execute.GradingExecute`
  (time limits that always end, dead kernels scored, output capped) in a
  :class:`~course_utils.grading.plugins.kernel.SandboxedKernelManager` kernel
  (no network, private files, memory limit);
- stderr in a test cell does not zero it
  (:class:`~course_utils.grading.plugins.outputs.StderrIsNotFailure`);
- deleted test cells are put back and run (``OverwriteCells.add_missing_cells``);
- feedback pages are sanitised (:mod:`course_utils.grading.plugins.safe_html`)
  and do not show the hidden tests;
- ``nbgrader zip_collect`` understands the file names of common LMS downloads
  (:class:`~course_utils.grading.plugins.collector.LmsCollector`).
"""

from __future__ import annotations

from pathlib import Path

from course_utils.grading.limits import COURSE_ID, HIDDEN_COURSE_ENTRIES, HIDDEN_REPO_ENTRIES, REPO, Limits


def grading_home(data_dir: Path | None = None) -> Path:
    """The warm home directory whose caches every grading kernel gets a copy of."""
    from course_utils import data

    return Path(data_dir or data.cache_dir()) / "grading-home"


def grading_data(data_dir: Path | None = None) -> Path:
    """The data cache (synthetic stand-ins) every grading kernel gets a copy of."""
    from course_utils import data

    return Path(data_dir or data.cache_dir()) / "grading-data"


def answer_names_by_notebook(notebooks_dir: Path, solutions_dir: Path) -> dict[str, dict[str, list[str]]]:
    """``{notebook id: {test cell grade id: [answer variable names]}}`` from solutions/."""
    from course_utils import authoring
    from course_utils.grading.answers import answer_names

    found: dict[str, dict[str, list[str]]] = {}
    for notebook in sorted(Path(notebooks_dir).glob("*.ipynb")):
        exercises = authoring.read_exercises(notebook, solutions_dir)
        found[notebook.stem] = {
            grade_id + authoring.TEST_SUFFIX: answer_names(ex.answer, ex.hidden_tests) for grade_id, ex in exercises.items()
        }
    return found


def configure(
    c,
    course_root: Path,
    *,
    limits: Limits = Limits(),
    isolation: str = "auto",
    repo: Path = REPO,
    data_dir: Path | None = None,
    hide: tuple[str, ...] = (),
    answer_names: dict[str, dict[str, list[str]]] | None = None,
) -> None:
    """Fill the traitlets config ``c`` (``get_config()`` in nbgrader_config.py) for this course.

    ``course_root`` is the nbgrader course directory; ``repo`` the course
    repository (its ``notebooks/`` and ``solutions/``); ``data_dir`` the
    course data cache (default: :func:`course_utils.data.cache_dir`);
    ``hide``: more paths kernels must not see. ``answer_names`` (``{notebook
    id: {test grade id: [names]}}``) are read from ``repo``'s solutions
    unless given: a grading job brings its own, so a dask worker needs no
    copy of the solutions.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearHiddenTests,
        GetGrades,
        LimitOutput,
        SaveAutoGrades,
    )

    from course_utils.grading.plugins.execute import GradingExecute
    from course_utils.grading.plugins.outputs import StderrIsNotFailure

    course_root = Path(course_root).resolve()
    repo = Path(repo).resolve()
    c.CourseDirectory.root = str(course_root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{course_root / 'gradebook.db'}"

    c.Autograde.autograde_preprocessors = [
        GradingExecute,
        StderrIsNotFailure,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.OverwriteCells.add_missing_cells = True
    c.GradingExecute.timeout = limits.cell_seconds
    c.GradingExecute.notebook_timeout = limits.notebook_seconds
    c.GradingExecute.output_bytes = limits.output_bytes
    if answer_names is None:
        answer_names = answer_names_by_notebook(repo / "notebooks", repo / "solutions")
    c.GradingExecute.answer_names = answer_names

    hidden = [str(course_root / entry) for entry in HIDDEN_COURSE_ENTRIES]
    hidden += [str(repo / entry) for entry in HIDDEN_REPO_ENTRIES]
    c.SandboxedKernelManager.isolation = isolation
    c.SandboxedKernelManager.memory_bytes = limits.memory_bytes
    c.SandboxedKernelManager.file_bytes = limits.file_bytes
    c.SandboxedKernelManager.scratch_bytes = limits.scratch_bytes
    c.SandboxedKernelManager.processes = limits.processes
    c.SandboxedKernelManager.memory_total_bytes = limits.memory_total_bytes
    c.SandboxedKernelManager.hide = list(dict.fromkeys(hidden + list(hide)))
    c.SandboxedKernelManager.home_template = str(grading_home(data_dir))
    c.SandboxedKernelManager.data_dir = str(grading_data(data_dir))

    # Feedback pages show the results, not the hidden tests (they are reused every term) ...
    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
    # ... and run no script: sanitised content (safe_html.clean_html) and a strict CSP (export).
    c.HTMLExporter.sanitize_html = True
    c.HTMLExporter.filters = {
        "clean_html": "course_utils.grading.plugins.safe_html.clean_html",
        "markdown2html": "course_utils.grading.plugins.safe_html.SafeMarkdown",
    }

    c.ZipCollectApp.collector_plugin = "course_utils.grading.plugins.collector.LmsCollector"
    c.ZipCollectApp.force = True
    c.ExtractorPlugin.force = True
