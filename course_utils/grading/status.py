"""The status of a student's row: what became of their upload.

One word each, used in the grades CSV (``status`` column), the saved
report and the run's summary. Anything but :data:`GRADED` (and any flag)
needs the instructor's attention.
"""

from __future__ import annotations

GRADED = "graded"
"""A notebook was graded (its score may still be zero)."""
MISSING = "missing"
"""Nothing was uploaded, or nothing that holds a notebook file."""
NOT_A_NOTEBOOK = "not-a-notebook"
"""Files were uploaded, but none is a Jupyter notebook (a PDF, a script, text typed into the LMS)."""
UNREADABLE = "unreadable"
"""The notebook (or the zip holding it) is damaged, not notebook JSON, or nested too deeply to read."""
TOO_LARGE = "too-large"
"""The upload is beyond the upload limits; it was refused without being unpacked."""
FAILED = "failed"
"""The grader itself could not grade it (see the flags and the grading log)."""

READY = "ready"
"""Not a row's status: intake's word for a notebook placed and waiting to be graded."""

ALL = (GRADED, MISSING, NOT_A_NOTEBOOK, UNREADABLE, TOO_LARGE, FAILED)

HEADLINES = {
    MISSING: "no notebook was submitted.",
    NOT_A_NOTEBOOK: "no Jupyter notebook was submitted.",
    UNREADABLE: "the notebook could not be read.",
    TOO_LARGE: "the upload is too large to be graded.",
    FAILED: "grading failed:",
}
"""The words after the score in the feedback line of a submission that was not graded."""
