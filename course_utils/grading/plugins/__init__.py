"""What nbgrader (and nbconvert) load by name while they grade: the course's plug-ins.

:mod:`~course_utils.grading.plugins.config` fills nbgrader's configuration
and names the others:

- :mod:`~course_utils.grading.plugins.execute`: the execute preprocessor
  (``GradingExecute``: limits that always end, dead kernels scored, output
  capped, answers read out);
- :mod:`~course_utils.grading.plugins.outputs`: stderr is not a failure
  (``StderrIsNotFailure``);
- :mod:`~course_utils.grading.plugins.kernel`: the kernel manager
  (``SandboxedKernelManager``: each kernel in the sandbox, with the limits);
- :mod:`~course_utils.grading.plugins.sandbox` and
  :mod:`~course_utils.grading.plugins.view`: the sandbox a kernel starts in
  (``python -m course_utils.grading.plugins.sandbox``) and what it may read;
  ``plugins/netguard``: the network guard put on a kernel's ``PYTHONPATH``
  when it runs without a sandbox (``--isolation none``);
- :mod:`~course_utils.grading.plugins.collector`: ``nbgrader zip_collect``'s
  LMS collector (``LmsCollector``);
- :mod:`~course_utils.grading.plugins.safe_html`: the feedback pages' HTML
  filters.

Nothing here is imported when this package is: the sandbox launcher starts
in a fresh interpreter for every kernel.
"""
