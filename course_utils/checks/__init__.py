"""Visible checks for the exercises, one module per notebook.

Each check takes the notebook's namespace (``globals()``), finds the
student's answer and what the lesson computed, and either prints a tick or
raises :class:`course_utils.feedback.AnswerError` with a hint. The hidden
tests nbgrader adds at grading time do not use these checks.
"""
