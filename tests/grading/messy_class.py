"""A "messy class": one LMS download the way a real class's first week looks, and what must become of it.

:func:`build` writes ``download.zip`` with Canvas, Moodle and Blackboard
entries named exactly as those LMSs name them (see
:mod:`course_utils.grading.lms`): resubmissions, names with accents and in
other scripts, namesakes, an id two students would share, an over-long file
name, a student's zip holding a notebook and a zip named after other
students, a zip bomb, JSON nested 100,000 deep, files that are not notebooks,
a text entry, an entry nobody's, next to honest submissions, plus a few
submissions that test the grader itself (``exit()`` in an answer cell,
script in markdown and outputs, a search of the whole file system for the
hidden tests, answers the kernel will not hand over). :data:`EXPECTED` says,
per student id, the status, the file graded, the score and a phrase of the
feedback line.
"""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils import authoring
from course_utils.grading import answers
from course_utils.grading.limits import MIB, UploadLimits

import grading_submissions as subs

ASSIGNMENT = subs.ASSIGNMENT
LIMITS = UploadLimits(file_bytes=8 * MIB, upload_bytes=32 * MIB, archive_members=50)
"""Upload limits of the messy class (smaller than the defaults, so the test's bomb stays small to build)."""
BOMB_BYTES = 300 * MIB
LONG_NAME = "answers for the store interface lesson, final version, really final this time " * 4 + ".ipynb"
SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class Expect:
    """What must become of one student: status, the file graded, score out of 6, a phrase of the feedback."""

    status: str
    graded: str = ""
    score: float | None = None
    feedback: str = ""
    flagged: bool = False


EXPECTED = {
    # Canvas: a partial upload, then a full one LATE with a new attachment id: the latest is graded
    "doejane-1001": Expect("graded", "01_store_interface-1.ipynb", 6, "(your latest upload, marked late by the LMS)"),
    # accents: josé keeps his number... and a Blackboard user whose name is "jose-1002" wants the same id
    "jose-1002-2": Expect("graded", "01_store_interface.ipynb", 6, "all tests passed", flagged=True),
    "jose-1002": Expect("not-a-notebook", "", 0, "answers.pdf", flagged=True),
    "jose-1003": Expect("not-a-notebook", "", 0, "answers.py"),
    # other scripts
    "zhang-wei-1004": Expect("graded", "Copy of 01_store_interface.ipynb", 6, "Graded: 'Copy of 01_store_interface.ipynb'"),
    "li-na-1005": Expect("not-a-notebook", "", 0, "the text typed into the LMS"),
    "aleksey-smirnov-2005": Expect("graded", "answers.zip/01_store_interface.ipynb", 6, "answers.zip/01_store_interface.ipynb"),
    # a zip holding a notebook named after doejane and a zip named after li na: both mallory's, the inner zip unopened
    "mallory-1008": Expect("graded", "my work.zip/doejane_1001_9999_01_store_interface.ipynb", 0,
                           "an archive inside an archive is never opened"),
    "bomber-1009": Expect("too-large", "", 0, "not opened: it holds 300 MiB once unpacked"),
    "deep-1010": Expect("unreadable", "01_store_interface.ipynb", 0, "nested more than 64 levels deep"),
    # an over-long file name (more than 255 bytes), and exit() in the answer cell
    "longname-1013": Expect("graded", None, 3, "The answer cell 'scale0_chunk_keys': this cell ended the Python kernel"),
    # script in markdown and outputs; a search of the file system for the hidden tests
    "snoop-1015": Expect("graded", "01_store_interface.ipynb", 6, "all tests passed"),
    # answers that pass in the student's kernel but cannot be read out of it: withheld, flagged, acceptable
    "opaque-1017": Expect("graded", "01_store_interface.ipynb", 0, "not confirmed by the second look", flagged=True),
    # Moodle: accents, a folder with a draft and a text entry next to the file, namesakes (two participant ids)
    "zoe-muller-2004": Expect("graded", "01_store_interface.ipynb", 6,
                              "'draft.ipynb' (it does not hold this assignment's exercises); the text typed into the LMS"),
    "kim-lee-2002": Expect("not-a-notebook", "", 0, "essay.docx"),
    "kim-lee-2003": Expect("not-a-notebook", "", 0, "answers.pdf"),
    # Blackboard: two attempts (with their records); a username with an underscore
    "mary_ann": Expect("graded", "final.ipynb", 6, "'01_store_interface.ipynb' (an earlier upload)"),
}
UNATTRIBUTED = ["readme.txt"]


def hidden_test_text(repo: Path) -> str:
    """The longest line of the assignment's hidden tests: what a snooping kernel would look for."""
    lines = []
    for path in sorted((repo / "solutions" / ASSIGNMENT).glob("*.py")):
        lines += [line.strip() for line in authoring.read_exercise(path).hidden_tests.splitlines()]
    return max(lines, key=len)


SNOOP = """
import base64, json, os, subprocess
_skip = {{"proc", "sys", "dev"}} | {{s.strip("/") for s in {system!r}}}
_places = sorted(os.path.join("/", e) for e in os.listdir("/") if e not in _skip)
def _grep(encoded):
    text = base64.b64decode(encoded).decode()
    done = subprocess.run(["grep", "-rlF", "--no-messages", "-e", text, *_places], capture_output=True, text=True)
    return done.stdout.split()
_git = subprocess.run(["find", *_places, "-name", ".git"], capture_output=True, text=True).stdout.split()
snoop = {{"hidden": _grep({needle!r}), "control": _grep({control!r})[:3], "git": _git, "places": _places,
         "system": {{d: [os.stat(d).st_dev, os.stat(d).st_ino] for d in {system!r} if os.path.isdir(d)}}}}
print("SNOOP " + json.dumps(snoop))
"""

SCRIPTS = """# Notes
<script>document.title = "owned"</script><img src="x" onerror="document.title='owned'">
<a href="javascript:alert(1)">click</a>

| exercise | done |
|---|---|
| key counts | yes |

![lesson image](https://example.org/picture.png)
"""

SCRIPT_OUTPUT = """
from IPython.display import HTML, Javascript, display
display(HTML('<b>bold</b><script>document.title = "owned"</script><iframe src="https://example.org"></iframe>'))
display(Javascript('document.title = "owned"'))
"""

REFUSE_ANSWERS = """import sys
sys.modules["course_utils.grading.answers"] = None  # the grader can no longer read the answers out
"""


def _zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _text(nb) -> str:
    return nbformat.writes(nb)


def _bomb(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """A student's zip holding one file of ``size`` zeros (about 1/1000 of that compressed)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as bomb:
        with bomb.open(f"{ASSIGNMENT}.ipynb", "w", force_zip64=True) as handle:
            chunk = bytes(MIB)
            for _ in range(size // MIB):
                handle.write(chunk)
    archive.writestr(name, inner.getvalue())


def build(folder: Path, release, exercises, repo: Path, bomb_bytes: int = BOMB_BYTES) -> Path:
    """Write the messy class's LMS download into ``folder``; its path. ``bomb_bytes``: what the bomb unpacks to."""
    full = subs.answered(release, exercises)
    blank = subs.answered(release, exercises, {g: "pass" for g in exercises})
    partial = subs.answered(release, exercises, {"scale0_chunk_keys": subs.WRONG["scale0_chunk_keys"]})
    exiting = subs.answered(release, exercises, {"scale0_chunk_keys": "exit()"})
    refusing = subs.answered(release, exercises, {"key_counts": REFUSE_ANSWERS + exercises["key_counts"].answer})
    snooping = subs.answered(release, exercises, {"why_many_keys": SNOOP.format(
        needle=base64.b64encode(hidden_test_text(repo).encode()).decode(),
        control=base64.b64encode(answers.MARKER.encode()).decode(),
        system=SYSTEM,
    ) + exercises["why_many_keys"].answer})
    snooping.cells.insert(1, nbformat.v4.new_markdown_cell(SCRIPTS))
    key_counts = subs.cell_index(snooping, "key_counts")
    snooping.cells[key_counts].source = snooping.cells[key_counts].source + "\n" + SCRIPT_OUTPUT
    download = Path(folder) / "download.zip"
    canvas = {
        "doejane_1001_5001_01_store_interface.ipynb": _text(partial),
        "doejane_LATE_1001_5077_01_store_interface-1.ipynb": _text(full),
        "josé_1002_5002_01_store_interface.ipynb": _text(full),
        "josè_1003_5003_answers.py": exercises["key_counts"].answer,
        "张伟_1004_5004_Copy of 01_store_interface.ipynb": _text(full),
        "李娜_1005_text.html": "<p>I could not upload my notebook</p>",
        "mallory_1008_5008_my work.zip": _zip({
            "doejane_1001_9999_01_store_interface.ipynb": _text(blank),
            "李娜_1005_9998_01_store_interface.zip": _zip({f"{ASSIGNMENT}.ipynb": _text(full)}),
        }),
        "deep_1010_5010_01_store_interface.ipynb": "[" * 100_000 + "]" * 100_000,
        f"longname_1013_5013_{LONG_NAME}": _text(exiting),
        "snoop_1015_5015_01_store_interface.ipynb": _text(snooping),
        "opaque_1017_5017_01_store_interface.ipynb": _text(refusing),
    }
    moodle = {
        "Zoë Müller_2004_assignsubmission_file_/01_store_interface.ipynb": _text(full),
        "Zoë Müller_2004_assignsubmission_onlinetext_/onlinetext.html": "<p>see my notebook</p>",
        "Kim Lee_2002_assignsubmission_file_/essay.docx": b"PK\x03\x04 not really",
        "Zoë Müller_2004_assignsubmission_file_/draft.ipynb": _text(nbformat.v4.new_notebook()),
        "Kim Lee_2003_assignsubmission_file_/answers.pdf": b"%PDF-1.4",
        "Алексей Смирнов_2005_assignsubmission_file_/answers.zip": _zip({f"{ASSIGNMENT}.ipynb": _text(full)}),
    }
    blackboard = {
        "Lesson 1_mary_ann_attempt_2026-11-20-10-00-00.txt": "Name: Mary Ann Smith (mary_ann)\nAssignment: Lesson 1\n",
        "Lesson 1_mary_ann_attempt_2026-11-20-10-00-00_01_store_interface.ipynb": _text(blank),
        "Lesson 1_mary_ann_attempt_2026-11-21-09-30-00.txt": "Name: Mary Ann Smith (mary_ann)\nAssignment: Lesson 1\n",
        "Lesson 1_mary_ann_attempt_2026-11-21-09-30-00_final.ipynb": _text(full),
        "Lesson 1_jose-1002_attempt_2026-11-20-11-00-00.txt": "Name: José Ruiz (jose-1002)\n",
        "Lesson 1_jose-1002_attempt_2026-11-20-11-00-00_answers.pdf": b"%PDF-1.4",
    }
    with zipfile.ZipFile(download, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in {**canvas, **moodle, **blackboard}.items():
            archive.writestr(name, content)
        _bomb(archive, "bomber_1009_5009_01_store_interface.zip", bomb_bytes)
        archive.writestr("readme.txt", "downloaded from the LMS on Monday")
        archive.writestr("__MACOSX/._doejane_1001_5001_01_store_interface.ipynb", b"\x00\x05\x16\x07")
    return download
