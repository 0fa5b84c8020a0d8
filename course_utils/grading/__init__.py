"""Grading the course with nbgrader: derived, one command per step, parallel and hardened.

The instructor's commands are ``course-utils release | collect | autograde |
feedback | export | grade`` (:mod:`course_utils.grading.cli`); the instructor
guide explains them. The modules, one job each:

- :mod:`~course_utils.grading.course`: the nbgrader course directory, built
  from notebooks/ and solutions/ (one notebook, one assignment);
- :mod:`~course_utils.grading.config`: the nbgrader configuration
  (``nbgrader_config.py`` calls it);
- :mod:`~course_utils.grading.collect`: LMS downloads (``nbgrader zip_collect``)
  and ``submitted/`` folders; which file to grade;
- :mod:`~course_utils.grading.audit`: read and repair a submission before
  nbgrader sees it;
- :mod:`~course_utils.grading.autograde` and :mod:`~course_utils.grading.worker`:
  sequential and parallel autograding, one gradebook writer;
- :mod:`~course_utils.grading.execute`, :mod:`~course_utils.grading.outputs`:
  nbgrader's execute step hardened; stderr not counted against a test;
- :mod:`~course_utils.grading.limits`, :mod:`~course_utils.grading.sandbox`:
  per-submission limits, and the kernel sandbox (no network, private files);
- :mod:`~course_utils.grading.answers`, :mod:`~course_utils.grading.verify`:
  the second look at every passing answer, on a clean kernel;
- :mod:`~course_utils.grading.gradebook`: snapshots and writes with nbgrader's
  ``Gradebook`` API;
- :mod:`~course_utils.grading.report`, :mod:`~course_utils.grading.export`:
  what happened to each submission; the grades CSV and feedback pages;
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
