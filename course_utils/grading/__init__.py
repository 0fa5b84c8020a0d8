"""Grading the course with nbgrader: derived, one command per step, on dask, hardened, sandboxed.

The instructor's commands are ``course-utils release | collect | autograde |
feedback | export | grade | accept`` (:mod:`course_utils.grading.cli`); the
instructor guide explains them. Importing this package does nothing but
import it: every ``course-utils`` command loads :mod:`~course_utils.grading.cli`
and :mod:`~course_utils.grading.limits` only. The modules, one job each, in
the order a class meets them:

- :mod:`~course_utils.grading.limits`: what every module shares (the
  limits, the course's place, what kernels never see), standard library only;
- :mod:`~course_utils.grading.course`: the nbgrader course directory, built
  from notebooks/ and solutions/ (one notebook, one assignment), and the
  grade ids of a notebook;
- :mod:`~course_utils.grading.plugins`: what nbgrader loads by name (its
  configuration, the execute preprocessor, the kernel manager, the
  sandbox and the network guard, the LMS collector, the feedback filters);
- collecting an LMS download: :mod:`~course_utils.grading.collect` (the one
  way in, for ``collect`` and ``grade``), :mod:`~course_utils.grading.unpack`
  (read archives without unpacking them), :mod:`~course_utils.grading.lms`
  (whose upload, from the LMS's names), :mod:`~course_utils.grading.names`
  (ids in any script), :mod:`~course_utils.grading.intake` and
  :mod:`~course_utils.grading.choice` (the latest notebook of each student,
  limits, every upload accounted for); :mod:`~course_utils.grading.status`
  (what a row's status means);
- :mod:`~course_utils.grading.audit`: read and repair a submission before
  nbgrader sees it;
- grading a class: :mod:`~course_utils.grading.job` (one submission: what a
  dask task carries, does and returns), :mod:`~course_utils.grading.dispatch`
  (the jobs over dask.distributed: a LocalCluster or a scheduler's address,
  refused workers, workers that die, a cluster that goes away),
  :mod:`~course_utils.grading.identity` (what a worker must share with this
  machine), :mod:`~course_utils.grading.autograde` (which submissions, and
  the one gradebook writer);
- :mod:`~course_utils.grading.answers`, :mod:`~course_utils.grading.verify`,
  :mod:`~course_utils.grading.selfcheck`, :mod:`~course_utils.grading.accept`:
  the second look at every passing answer, on a clean kernel; the check
  that it confirms the course's own solutions; giving back withheld points;
- :mod:`~course_utils.grading.gradebook`: snapshots and writes with nbgrader's
  ``Gradebook`` API;
- :mod:`~course_utils.grading.report`, :mod:`~course_utils.grading.export`:
  what happened to each submission; the grades CSV and feedback pages that
  run no script;
- :mod:`~course_utils.grading.warm`: warm caches for grading kernels, here
  and on each worker machine;
- :mod:`~course_utils.grading.pipeline`: all steps in one call.
"""
