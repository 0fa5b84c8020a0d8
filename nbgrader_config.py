"""nbgrader configuration of the course: this repository is the course directory.

``nbgrader generate_assignment``, ``autograde``, ``zip_collect`` ... run here
use the course's settings from :mod:`course_utils.grading.plugins.config`
(hardened execution in a sandboxed kernel, stderr not counted against a
test, deleted tests put back, sanitised feedback). ``course-utils
release|collect|autograde|feedback|export|grade`` do the same steps, and
more, in one command each (see the instructor guide).
"""

from pathlib import Path

from course_utils.grading.plugins import config

c = get_config()  # noqa: F821  (nbgrader provides get_config)
config.configure(c, Path(__file__).resolve().parent)
