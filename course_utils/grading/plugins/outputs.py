"""Make a test cell's score depend on whether its tests passed, and on nothing else.

nbgrader scores a test cell zero when it has an error output, **or when it
wrote anything to stderr**, and reads a number in its result as partial
credit. In this course a test passes or fails by raising, so:

- a warning on stderr in a test cell (a library's ``DeprecationWarning``, a
  log line from a background thread that lands in whichever cell is running)
  must not cost a correct answer its points. :class:`StderrIsNotFailure`
  turns such output into ordinary output, marked as having come from stderr,
  so the student still sees it in the feedback;
- a test cell's ``execute_result`` (which student code could forge) is shown
  as plain display output, never read as partial credit.

Errors are untouched: a failing test still scores zero. It runs after the
cells have run and before nbgrader saves the scores, in place of nbgrader's
``IgnorePattern`` (see :mod:`course_utils.grading.plugins.config`).
"""

from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from course_utils.grading.limits import STDERR_NOTE


class StderrIsNotFailure(NbGraderPreprocessor):
    """In graded test cells: stderr becomes stdout (with a note); results become display output."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                output = new_output("stream", name="stdout", text=STDERR_NOTE + output.get("text", ""))
            elif output.get("output_type") == "execute_result":
                output = new_output("display_data", data=output.get("data", {}), metadata=output.get("metadata", {}))
            outputs.append(output)
        cell.outputs = outputs
        return cell, resources
