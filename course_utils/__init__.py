"""Helpers for the course on where OME-Zarr data lives.

The notebooks import these modules for everything that is not the lesson
itself: fetching data (:mod:`course_utils.data`), describing stores
(:mod:`course_utils.inspect`), telling whether the course runs online or
offline (:mod:`course_utils.mode`), exercise feedback
(:mod:`course_utils.feedback`, :mod:`course_utils.checks`) and turning the
solutions into notebooks (:mod:`course_utils.authoring`).
"""

__version__ = "0.1.0"
