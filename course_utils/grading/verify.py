"""The second look: every passing answer, checked again on a clean copy of the lesson.

After an assignment's submissions are autograded, :func:`verify_assignment`
runs the solved notebook once in a fresh sandboxed kernel (the *reference*).
Just before each test cell it hands the reference every student's answer
values (read out of their kernels as plain data, see
:mod:`course_utils.grading.answers`) and runs the exercise's hidden tests on
each. A test that passed in the student's kernel but fails here scores zero
and the submission is flagged: the student's code changed what the tests
use (a builtin, a lesson variable, an answer object that equals anything,
IPython's error handling). A check that cannot be made (an answer that is
not plain data) leaves the score and flags the submission for review.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

from course_utils import authoring
from course_utils.grading import answers, config, gradebook
from course_utils.grading.limits import SandboxedKernelManager


class ReferenceError(RuntimeError):
    """The solved notebook itself failed in the reference kernel."""


def _hidden_by_test(notebook: Path, solutions: Path) -> dict[str, str]:
    return {
        grade_id + authoring.TEST_SUFFIX: ex.hidden_tests
        for grade_id, ex in authoring.read_exercises(notebook, solutions).items()
    }


def reference_results(settings, assignment, payloads: dict[str, dict[str, dict]]) -> dict[str, dict[str, list[str]]]:
    """``{test grade id: {student: [outcome, message]}}`` from one reference run.

    ``payloads`` is ``{test grade id: {student: {name: encoded value}}}``.
    """
    solutions = Path(settings.repo) / "solutions"
    hidden = _hidden_by_test(assignment.notebook, solutions)
    nb = authoring.build(assignment.notebook, solutions, "solved")
    c = Config()
    config.configure(c, settings.course_root, limits=settings.limits, isolation=settings.isolation, repo=settings.repo, data_dir=settings.data_dir)
    results: dict[str, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory(prefix="cg-ref-") as workdir:
        client = NotebookClient(
            nb,
            timeout=settings.limits.cell_seconds,
            kernel_name="python3",
            allow_errors=True,
            kernel_manager_class=SandboxedKernelManager,
            config=c,
            resources={"metadata": {"path": workdir}},
        )
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if grade_id in payloads and payloads[grade_id] and grade_id in hidden:
                    probe = nbformat.v4.new_code_cell(answers.verify_code(hidden[grade_id], payloads[grade_id]))
                    client.execute_cell(probe, index, store_history=False)
                    text = "".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout")
                    found = answers.parse_verified(text)
                    if found is None:
                        raise ReferenceError(f"the reference kernel did not check {grade_id}: {probe.outputs}")
                    results[grade_id] = found
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
                    errors = [o for o in cell.outputs if o.get("output_type") == "error"]
                    if errors and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                        raise ReferenceError(f"the solution fails its own test {grade_id}: {errors[0].get('evalue')}")
    return results


def verify_assignment(settings, assignment, results: list) -> dict[str, list[str]]:
    """Re-check the passing answers of ``results`` (autograde results of ``assignment``); apply the outcome.

    Lowers scores in the course's gradebook and updates each saved report.
    Returns ``{student: [what changed]}``.
    """
    main = Path(settings.course_root).resolve()
    payloads: dict[str, dict[str, dict]] = {}
    for result in results:
        passed = {t.grade_id for t in result.report.tests if t.score > 0}
        for grade_id, values in result.answers.items():
            if grade_id in passed:
                payloads.setdefault(grade_id, {})[result.student] = values
    if not payloads:
        return {}
    checked = reference_results(settings, assignment, payloads)
    changes: dict[str, list[str]] = {}
    for result in results:
        rep, changed = result.report, False
        for test in rep.tests:
            outcome, message = checked.get(test.grade_id, {}).get(result.student, [None, ""])
            if outcome == answers.FAIL:
                gradebook.set_auto_score(main / "gradebook.db", assignment.name, assignment.notebook_id, result.student, test.grade_id, 0.0)
                rep.score -= test.score
                test.score = 0.0
                test.reason = f"hidden test failed on a clean copy of the lesson{': ' + message if message else ''}"
                rep.flags.append(
                    f"For review: {test.grade_id} passed in the submission's own kernel but fails on a clean copy "
                    "of the lesson with the same answer values; it now scores zero."
                )
                changed = True
            elif outcome in (answers.ERROR, answers.UNAVAILABLE):
                gradebook.set_flagged(main / "gradebook.db", assignment.name, assignment.notebook_id, result.student)
                rep.flags.append(f"For review: {test.grade_id} could not be double-checked ({message}).")
                changed = True
        if changed:
            rep.save(main / "autograded" / result.student / result.assignment)
            changes[result.student] = [t.reason for t in rep.tests if "clean copy" in t.reason]
    return changes
