"""Grading the course with nbgrader: derived, one command per step, parallel, hardened, sandboxed.

The instructor's commands are ``course-utils release | collect | autograde |
feedback | export | grade | accept`` (:mod:`course_utils.grading.cli`); the
instructor guide explains them. The modules, one job each, in the order a
class meets them:

- :mod:`~course_utils.grading.course`: the nbgrader course directory, built
  from notebooks/ and solutions/ (one notebook, one assignment);
- :mod:`~course_utils.grading.config`: the nbgrader configuration
  (``nbgrader_config.py`` calls it);
- collecting an LMS download: :mod:`~course_utils.grading.unpack` (read
  archives without unpacking them), :mod:`~course_utils.grading.lms` (whose
  upload, from the LMS's names), :mod:`~course_utils.grading.names` (ids in
  any script), :mod:`~course_utils.grading.intake` (the latest notebook of
  each student, limits, every upload accounted for),
  :mod:`~course_utils.grading.collect` (``submitted/`` folders, nbgrader's
  plugin); :mod:`~course_utils.grading.status` (what a row's status means);
- :mod:`~course_utils.grading.audit`: read and repair a submission before
  nbgrader sees it;
- :mod:`~course_utils.grading.submission` (one submission in its own copy
  of the course), :mod:`~course_utils.grading.worker` (worker processes) and
  :mod:`~course_utils.grading.autograde` (many, one gradebook writer);
- :mod:`~course_utils.grading.execute`, :mod:`~course_utils.grading.outputs`:
  nbgrader's execute step hardened; stderr not counted against a test;
- :mod:`~course_utils.grading.quota`, :mod:`~course_utils.grading.limits`,
  :mod:`~course_utils.grading.sandbox`, :mod:`~course_utils.grading.view`:
  limits, and the kernel sandbox (no network, a file system from an
  allow-list, no privileges);
- :mod:`~course_utils.grading.answers`, :mod:`~course_utils.grading.verify`,
  :mod:`~course_utils.grading.selfcheck`, :mod:`~course_utils.grading.accept`:
  the second look at every passing answer, on a clean kernel; the check
  that it confirms the course's own solutions; giving back withheld points;
- :mod:`~course_utils.grading.gradebook`: snapshots and writes with nbgrader's
  ``Gradebook`` API;
- :mod:`~course_utils.grading.report`, :mod:`~course_utils.grading.export`,
  :mod:`~course_utils.grading.safe_html`: what happened to each submission;
  the grades CSV and feedback pages that run no script;
- :mod:`~course_utils.grading.warm`: warm caches for grading kernels;
- :mod:`~course_utils.grading.pipeline`: all steps in one call.
"""

import os as _os
import sysconfig as _sysconfig


def _put_environment_scripts_on_path() -> None:
    """Make this environment's console scripts findable by name.

    nbgrader runs ``alembic`` by name whenever it opens a gradebook; an
    instructor who calls ``.venv/bin/course-utils`` without activating the
    environment (as the README's commands do) would otherwise get a
    FileNotFoundError from deep inside nbgrader.
    """
    scripts = _sysconfig.get_path("scripts")
    path = _os.environ.get("PATH", "")
    if scripts and scripts not in path.split(_os.pathsep):
        _os.environ["PATH"] = _os.pathsep.join(filter(None, [scripts, path]))


_put_environment_scripts_on_path()
