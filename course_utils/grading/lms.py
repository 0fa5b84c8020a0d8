"""Whose upload is this, and how late is it? The names Canvas, Moodle and Blackboard give uploads.

An LMS's "download all submissions" names every top-level entry after the
student who uploaded it. :func:`attribute` reads such a name (never anything
inside the upload) and returns an :class:`Attribution`: the student
(:class:`Owner`: which LMS, its own id for the student, the name it wrote)
and the upload's place in the LMS's own order, so that the latest of a
student's uploads can be graded. The schemes, as the LMSs' own code writes them:

Canvas (``ContentZipper`` in canvas-lms)
    ``<name>[_LATE]_<user id>_<attachment id>_<file name>`` for a file,
    ``<name>[_LATE]_<user id>_text.html`` / ``_link.html`` for a text or URL
    entry. ``<name>`` is the sortable name in lower case with everything
    but letters, digits and ``_`` removed (``Doe, Jane`` -> ``doejane``;
    letters of any script are kept); with anonymous grading there is no
    name and the id is ``anon_<id>``. Every uploaded file gets a new
    attachment id, so a later upload has a larger one; ``LATE`` marks a
    submission after the due date.
Moodle (``assign::download_submissions`` in mod/assign)
    a folder ``<full name>_<participant id>_assignsubmission_<plugin>_/``
    per student and plugin (``file``, ``onlinetext``), the files inside
    it; without "download as folders", the same prefix glued to each file
    name. ``_`` in the name becomes a space. The participant id is
    Moodle's number for the student in this assignment (the one its grading
    worksheet uses). A download holds each student's latest attempt only.
Blackboard Learn (Grade Centre, "Assignment File Download")
    ``<assignment>_<username>_attempt_<yyyy-mm-dd-hh-mm-ss>_<file name>``
    per file and ``<assignment>_<username>_attempt_<date>.txt`` per attempt
    (its first line ``Name: <full name> (<username>)``); with "all
    attempts", one set per attempt, ordered by the date.
A folder per student
    ``<student>/...`` (for example nbgrader's own ``<student>/<assignment>/``).

Entries no scheme explains are not guessed at: they have no owner and the
instructor is told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from course_utils.grading import names

CANVAS = "canvas"
MOODLE = "moodle"
BLACKBOARD = "blackboard"
FOLDER = "folder"

FILE, TEXT, INFO, IGNORED, UNKNOWN = "file", "text", "info", "ignored", "unknown"

IGNORED_NAMES = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", ".ipynb_checkpoints"}
"""Entries operating systems and editors add to folders and archives: never uploads."""

_CANVAS_ID = r"(?P<uid>\d+|anon_[A-Za-z0-9]+)"
CANVAS_FILE = re.compile(rf"^(?:(?P<name>[^/]+?)_)??(?:(?P<late>LATE)_)?{_CANVAS_ID}_(?P<attachment>\d+)_(?P<file>[^/]+)$")
CANVAS_TEXT = re.compile(rf"^(?:(?P<name>[^/]+?)_)??(?:(?P<late>LATE)_)?{_CANVAS_ID}_(?P<kind>text|link)\.html$")
MOODLE_FOLDER = re.compile(r"^(?P<name>[^/]+?)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_$")
MOODLE_FILE = re.compile(r"^(?P<name>[^/]+?)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>[^/]+)$")
BLACKBOARD_ENTRY = re.compile(
    r"^(?P<prefix>[^/]+)_attempt_(?P<date>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})(?:_(?P<file>[^/]+)|(?P<info>\.txt))$"
)
BLACKBOARD_INFO_NAME = re.compile(r"^\s*Name:\s*(?P<full>.*?)\s*\((?P<user>[^()\s]+)\)\s*$", re.M)


@dataclass(frozen=True)
class Owner:
    """A student as the LMS knows them: which LMS, its id for them, and their name as written."""

    lms: str
    number: str
    name: str = ""

    @property
    def key(self) -> str:
        """One key per real student (``canvas:1002``): two uploads with one key are the same student's."""
        return f"{self.lms}:{self.number}"

    def student_id(self) -> str:
        """The id this student wants (:func:`course_utils.grading.names.student_id`)."""
        if self.lms in (BLACKBOARD, FOLDER):  # the username / folder name is itself the id
            return names.student_id(self.number)
        return names.student_id(self.name, self.number)


@dataclass(frozen=True)
class Attribution:
    """What the LMS's name of one top-level entry says.

    ``kind``: ``file`` (an uploaded file or a folder of them), ``text`` (a
    text or URL entry, not a file), ``info`` (the LMS's own record, such as
    Blackboard's attempt ``.txt``), ``ignored`` (an operating system's
    clutter) or ``unknown`` (no scheme explains it; ``owner`` is None).
    ``order`` sorts one student's uploads from first to latest;
    ``file_name`` is the uploaded file's own name (without the LMS's
    prefix); ``late`` is the LMS's late mark; ``detail`` says how the name
    was read, for the instructor's listing.
    """

    kind: str
    owner: Owner | None = None
    order: tuple = ()
    file_name: str = ""
    late: bool = False
    detail: str = ""
    extra: dict = field(default_factory=dict)


def _canvas(name: str) -> Attribution | None:
    text = CANVAS_TEXT.match(name)
    if text:
        owner = Owner(CANVAS, text["uid"], text["name"] or "")
        return Attribution(TEXT, owner, (bool(text["late"]), -1), name, bool(text["late"]),
                           f"Canvas {text['kind']} entry of user {text['uid']}")
    match = CANVAS_FILE.match(name)
    if not match:
        return None
    owner = Owner(CANVAS, match["uid"], match["name"] or "")
    late = bool(match["late"])
    detail = f"Canvas user {match['uid']}, attachment {match['attachment']}" + (", LATE" if late else "")
    return Attribution(FILE, owner, (late, int(match["attachment"])), match["file"], late, detail)


def _moodle(name: str, is_dir: bool) -> Attribution | None:
    match = (MOODLE_FOLDER if is_dir else MOODLE_FILE).match(name)
    if not match:
        return None
    owner = Owner(MOODLE, match["uid"], match["name"].strip())
    kind = FILE if match["plugin"] == "file" else TEXT
    file_name = "" if is_dir else match["file"]
    return Attribution(kind, owner, (0,), file_name, False,
                       f"Moodle participant {match['uid']} ({match['plugin']})")


def blackboard_usernames(info_texts: dict[str, str]) -> dict[str, tuple[str, str]]:
    """``{attempt prefix: (username, full name)}`` from Blackboard's attempt ``.txt`` files.

    ``info_texts`` maps each ``..._attempt_<date>.txt`` entry name to its
    text. The prefix is the part of the name before ``_attempt_``.
    """
    found: dict[str, tuple[str, str]] = {}
    for entry, text in info_texts.items():
        match = BLACKBOARD_ENTRY.match(entry)
        who = BLACKBOARD_INFO_NAME.search(text or "")
        if match and who and match["prefix"].endswith("_" + who["user"]):
            found[match["prefix"]] = (who["user"], who["full"])
    return found


def _blackboard(name: str, usernames: dict[str, tuple[str, str]]) -> Attribution | None:
    match = BLACKBOARD_ENTRY.match(name)
    if not match:
        return None
    prefix = match["prefix"]
    if prefix in usernames:
        user, full = usernames[prefix]
    elif "_" in prefix:
        user, full = prefix.rsplit("_", 1)[1], ""
    else:
        return None
    owner = Owner(BLACKBOARD, user, full or user)
    date = match["date"]
    if match["info"]:
        return Attribution(INFO, owner, (date,), "", False, f"Blackboard attempt record of {user}, {date}")
    return Attribution(FILE, owner, (date,), match["file"], False, f"Blackboard user {user}, attempt of {date}",
                       {"timestamp": _blackboard_timestamp(date)})


def _blackboard_timestamp(date: str) -> str:
    day, clock = date[:10], date[11:].replace("-", ":")
    return f"{day} {clock}"


def attribute(name: str, is_dir: bool = False, blackboard: dict[str, tuple[str, str]] | None = None) -> Attribution:
    """Read the top-level entry ``name`` of an LMS download (see the module doc).

    ``is_dir``: the entry is a folder. ``blackboard``: usernames from
    :func:`blackboard_usernames`, which settle usernames that hold ``_``.
    """
    if name in IGNORED_NAMES or name.startswith("._"):
        return Attribution(IGNORED, detail="added by an operating system or editor, not an upload")
    if is_dir:
        found = _moodle(name, True)
        if found:
            return found
        return Attribution(FILE, Owner(FOLDER, name, name), (0,), "", False, "a folder per student")
    for reader in (lambda n: _moodle(n, False), lambda n: _blackboard(n, blackboard or {}), _canvas):
        found = reader(name)
        if found:
            return found
    return Attribution(UNKNOWN, detail="no LMS naming scheme (Canvas, Moodle, Blackboard) explains this name")
