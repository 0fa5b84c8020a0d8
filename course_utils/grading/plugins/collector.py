"""``nbgrader zip_collect``'s collector plug-in: whose a file is, from the names an LMS gives a download's entries.

``course-utils collect`` does not use nbgrader's extraction (it unpacks
archives inside uploads, whole, with no limits); it reads a download with
:mod:`course_utils.grading.intake`. This plug-in is for instructors who run
``nbgrader zip_collect`` themselves (``c.ZipCollectApp.collector_plugin`` in
:mod:`course_utils.grading.plugins.config`): it reads the same LMS names.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin

from course_utils.grading import lms, names


class LmsCollector(FileNameCollectorPlugin):
    """``nbgrader zip_collect`` plugin: who submitted a file, from LMS-style names.

    Tries :attr:`named_regexp` (if the instructor set one), then the
    Canvas, Blackboard and Moodle schemes of :mod:`course_utils.grading.lms`
    on the top-level name, then a folder per student.
    """

    def collect(self, submitted_file: str):
        """``{"student_id", "file_id"[, "timestamp"]}`` for ``submitted_file``, or None to skip it."""
        path = Path(submitted_file)
        if path.suffix not in self.valid_ext:
            return None
        if self.named_regexp:
            found = self._match(submitted_file)
            if found:
                found["student_id"] = names.student_id(found["student_id"])
                return found
        parts = path.parts
        start = parts.index("extracted") + 1 if "extracted" in parts else max(0, len(parts) - 3)
        top = parts[start] if start < len(parts) else path.name
        found = lms.attribute(top, is_dir=top != path.name)
        if found.owner is None or found.kind not in (lms.FILE,):
            self.log.warning("cannot tell whose file this is, skipped: %s", submitted_file)
            return None
        info = {"student_id": found.owner.student_id(), "file_id": found.file_name or path.name}
        if "timestamp" in found.extra:
            info["timestamp"] = found.extra["timestamp"]
        return info
