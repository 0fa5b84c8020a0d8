"""The second look: every passing answer, checked again on a clean copy of the lesson.

After an assignment's submissions are autograded, :func:`verify_assignment`
runs the solved notebook once in a fresh sandboxed kernel (the *reference*).
Just before each test cell it hands the reference every student's answer
values (read out of their kernels as plain data, see
:mod:`course_utils.grading.answers`) and runs the exercise's hidden tests on
each. The second look decides:

- a test that passed in the student's kernel but fails here scores zero and
  the submission is flagged: the student's code changed what the tests use
  (a builtin, a lesson variable, an answer object that equals anything,
  IPython's error handling);
- a test whose answer cannot be checked here (a value that is not plain
  data, an answer the kernel would not hand over, a check that could not
  run) scores zero too: its points are *withheld*
  (:attr:`~course_utils.grading.report.TestResult.withheld`), the feedback
  line says why, and the submission is flagged. After looking, the
  instructor gives them back with ``course-utils accept ASSIGNMENT STUDENT``
  (:mod:`course_utils.grading.accept`).

Honest answers are never affected: every solution's answers pass this
check (``tests/grading/test_second_look.py`` proves it for every notebook).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets.config import Config

from course_utils import authoring
from course_utils.grading import answers, gradebook, report
from course_utils.grading.plugins import config
from course_utils.grading.plugins.kernel import SandboxedKernelManager


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
    Raises :class:`ReferenceError` if the solved notebook itself fails.
    """
    solutions = Path(settings.repo) / "solutions"
    hidden = _hidden_by_test(assignment.notebook, solutions)
    nb = authoring.build(assignment.notebook, solutions, "solved")
    c = Config()
    config.configure(c, settings.course_root, limits=settings.limits, isolation=settings.isolation,
                     repo=settings.repo, data_dir=settings.data_dir)
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
                    results[grade_id] = _check_exercise(client, index, hidden[grade_id], payloads[grade_id])
                if cell.cell_type == "code":
                    try:
                        client.execute_cell(cell, index)
                    except (CellTimeoutError, DeadKernelError) as error:
                        raise ReferenceError(f"the solved notebook stopped at cell {index + 1}: {error}") from None
                    errors = [o for o in cell.outputs if o.get("output_type") == "error"]
                    if errors and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                        raise ReferenceError(f"the solution fails its own test {grade_id}: {errors[0].get('evalue')}")
    return results


def _check_exercise(client, index: int, hidden: str, payload: dict[str, dict]) -> dict[str, list[str]]:
    """Run ``hidden`` on every student's values in ``payload``; one student at a time if the batch fails."""
    found = _run_check(client, index, hidden, payload)
    if found is not None:
        return found
    results = {}
    for student, values in payload.items():
        single = _run_check(client, index, hidden, {student: values})
        results[student] = (single or {}).get(student) or [answers.UNAVAILABLE, "the check did not finish"]
    return results


def _run_check(client, index: int, hidden: str, payload: dict[str, dict]) -> dict[str, list[str]] | None:
    probe = nbformat.v4.new_code_cell(answers.verify_code(hidden, payload))
    try:
        client.execute_cell(probe, index, store_history=False)
    except (CellTimeoutError, DeadKernelError):
        return None
    text = "".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout")
    try:
        return answers.parse_verified(text)
    except ValueError:
        return None


UNCONFIRMED = "not confirmed by the second look ({why}); the points are withheld until the instructor accepts them"


def verify_assignment(settings, assignment, results: list) -> dict[str, list[str]]:
    """Re-check the passing answers of ``results`` (autograde results of ``assignment``); apply the outcome.

    Lowers scores in the course's gradebook and updates each saved report
    (see the module doc); every report of ``results`` is then marked as
    seen by the second look (:data:`course_utils.grading.report.DONE`), so a
    later run does not look again. Returns ``{student: [what changed]}``.
    """
    main = Path(settings.course_root).resolve()
    payloads: dict[str, dict[str, dict]] = {}
    passed_tests: dict[str, set[str]] = {}
    for result in results:
        passed = {t.grade_id for t in result.report.tests if t.score > 0}
        passed_tests[result.student] = passed
        for grade_id in passed:
            values = result.answers.get(grade_id)
            if values is not None:
                payloads.setdefault(grade_id, {})[result.student] = values
    checked, broken = {}, ""
    if any(passed_tests.values()) and payloads:
        try:
            checked = reference_results(settings, assignment, payloads)
        except ReferenceError as error:
            broken = str(error)
    changes: dict[str, list[str]] = {}
    for result in results:
        rep, changed = result.report, []
        for test in rep.tests:
            if test.grade_id not in passed_tests[result.student]:
                continue
            if broken:
                outcome, message = answers.UNAVAILABLE, f"the clean run of the lesson failed: {broken}"
            elif test.grade_id not in result.answers:
                outcome, message = answers.UNAVAILABLE, "the answer was not read out of the kernel"
            else:
                outcome, message = checked.get(test.grade_id, {}).get(result.student, [answers.UNAVAILABLE, "no result"])
            if outcome == answers.PASS:
                continue
            _withhold(main, assignment, result, test, outcome, message)
            changed.append(test.reason)
        if changed:
            changes[result.student] = changed
        rep.second_look = report.DONE
        rep.save(main / "autograded" / result.student / result.assignment)
    return changes


def _withhold(main: Path, assignment, result, test, outcome: str, message: str) -> None:
    """Zero ``test`` in the gradebook and the report, and say why; unconfirmed points can be accepted later."""
    rep = result.report
    gradebook.set_auto_score(main / "gradebook.db", assignment.name, assignment.notebook_id, result.student,
                             test.grade_id, 0.0)
    gradebook.set_flagged(main / "gradebook.db", assignment.name, assignment.notebook_id, result.student)
    rep.score -= test.score
    if outcome == answers.FAIL:
        test.reason = f"hidden test failed on a clean copy of the lesson{': ' + message if message else ''}"
        rep.flags.append(
            f"For review: {test.grade_id} passed in the submission's own kernel but fails on a clean copy "
            "of the lesson with the same answer values; it now scores zero."
        )
    else:
        test.withheld = test.score
        test.reason = UNCONFIRMED.format(why=message or outcome)
        rep.flags.append(
            f"For review: {test.grade_id} passed in the submission's own kernel, but its answer could not be "
            f"checked again on a clean copy of the lesson ({message or outcome}); its {test.withheld:g} point(s) "
            f"are withheld. To give them: course-utils accept {assignment.name} {result.student}"
        )
    test.score = 0.0
