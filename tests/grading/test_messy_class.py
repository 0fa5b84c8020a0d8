"""A messy class, graded in one run by ``course-utils grade``: every upload ends as its student's row.

The download of :mod:`messy_class` (real Canvas, Moodle and Blackboard
naming: resubmissions, names in several scripts, namesakes, a shared id,
an over-long name, nested zips named after other students, a bomb, deep
JSON, files that are not notebooks, next to honest submissions) is graded
once, through the command line, by real nbgrader in sandboxed kernels, two
at a time. Then: exactly the right students with the right files and
scores; nothing aborted; the last line and the exit code; the grades CSV;
feedback pages that run no script; ``exit()`` blamed on its answer cell;
a kernel that searched the whole file system it can see found no hidden
test; answers the second look could not confirm withheld, then accepted.
"""

from __future__ import annotations

import contextlib
import csv
import html.parser
import io
import json
import os

import nbformat
import pytest
from nbgrader.api import Gradebook

from course_utils import cli
from course_utils.grading import cli as grading_cli
from course_utils.grading import gradebook, report
from course_utils.grading.plugins import safe_html

import messy_class
from grading_course import ASSIGNMENT, REPO, copy_course

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory, template_course, messy_download, data_dir):
    """Grade the messy class once, as an instructor would: one command."""
    root = copy_course(template_course, tmp_path_factory.mktemp("messy") / "course", limits=None)
    target = root.parent / "grades.csv"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main([
            "grade", str(messy_download), "--course", str(root), "--csv", str(target), "--workers", "2",
            "--cell-timeout", "150", "--memory-gib", "2",
            "--max-file-mib", str(messy_class.LIMITS.file_bytes / 2**20),
            "--max-upload-mib", str(messy_class.LIMITS.upload_bytes / 2**20),
        ])
    with target.open(newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    reports = {s: report.load(root / "autograded" / s / ASSIGNMENT) for s in rows}
    return {"root": root, "code": code, "printed": printed.getvalue(), "rows": rows, "reports": reports}


def _score(root, student) -> float:
    with Gradebook(gradebook.db_url(root / "gradebook.db")) as gb:
        return gb.find_submission(ASSIGNMENT, student).score


def test_nothing_aborted_and_every_student_has_a_row(graded):
    assert sorted(graded["rows"]) == sorted(messy_class.EXPECTED)
    with Gradebook(gradebook.db_url(graded["root"] / "gradebook.db")) as gb:
        assert sorted(s.id for s in gb.students) == sorted(messy_class.EXPECTED)


@pytest.mark.parametrize("student", sorted(messy_class.EXPECTED))
def test_each_student_gets_their_status_score_and_a_line_saying_what_happened(graded, student):
    expected = messy_class.EXPECTED[student]
    row, rep = graded["rows"][student], graded["reports"][student]
    assert row["status"] == rep.status == expected.status, row
    assert float(row["score"]) == _score(graded["root"], student) == rep.score == expected.score, row["feedback"]
    assert expected.feedback in row["feedback"], row["feedback"]
    assert bool(row["flags"]) is expected.flagged, row["flags"]
    assert row["feedback"] == rep.summary()


def test_the_last_line_counts_and_the_exit_code_says_attention_is_needed(graded):
    lines = graded["printed"].strip().splitlines()
    graded_count = sum(1 for e in messy_class.EXPECTED.values() if e.status == "graded")
    need = sum(1 for e in messy_class.EXPECTED.values() if e.status != "graded" or e.flagged) + len(messy_class.UNATTRIBUTED)
    assert lines[-1].startswith(f"{graded_count} of {len(messy_class.EXPECTED)} submission(s) of {ASSIGNMENT} graded; "
                                f"{need} need attention"), lines[-1]
    assert graded["code"] == grading_cli.ATTENTION
    assert lines[0].startswith("sandbox: ") and "WITHOUT" not in graded["printed"]
    assert any(line.startswith("(nobody)") and "readme.txt" in line for line in lines)


def test_the_csv_keeps_the_name_the_lms_wrote(graded):
    rows = graded["rows"]
    assert rows["zhang-wei-1004"]["lms_name"] == "张伟"
    assert rows["aleksey-smirnov-2005"]["lms_name"] == "Алексей Смирнов"
    assert rows["mary_ann"]["lms_name"] == "Mary Ann Smith"


def _snoop(graded) -> dict:
    nb = nbformat.read(graded["root"] / "autograded" / "snoop-1015" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    return json.loads(printed.split("SNOOP ", 1)[1].splitlines()[0])


def test_a_graded_kernel_searching_everything_it_can_see_finds_no_hidden_test(graded):
    """grep -r over every visible folder; the system folders, skipped for time, are the machine's own."""
    seen = _snoop(graded)
    assert seen["hidden"] == [], seen["hidden"]
    assert seen["control"], "the search found nothing at all, not even course_utils: it did not search"
    assert seen["git"] == []
    for folder, (device, inode) in seen["system"].items():
        assert (os.stat(folder).st_dev, os.stat(folder).st_ino) == (device, inode), folder
        assert not REPO.is_relative_to(folder) and not graded["root"].is_relative_to(folder)
    # the same search outside the sandbox does find the hidden tests (the search works)
    text = messy_class.hidden_test_text(REPO)
    assert any(text in p.read_text() for p in (REPO / "solutions" / ASSIGNMENT).glob("*.py"))


def test_exit_in_an_answer_cell_is_blamed_on_that_cell(graded):
    summary = graded["rows"]["longname-1013"]["feedback"]
    assert "The answer cell 'scale0_chunk_keys': this cell ended the Python kernel (exit() or quit())" in summary
    assert "scale0_chunk_keys_tests failed (not run: the kernel was ended by 'scale0_chunk_keys')" in summary


class _Page(html.parser.HTMLParser):
    """What in a page could run script: script elements, event handlers, javascript: links, frames."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers, self.javascript, self.frames, self.tags = [], [], [], [], []
        self.policy = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy" and self.policy is None:
            self.policy = (attrs.get("content"), len(self.tags))
        if tag == "script":
            self.scripts.append(attrs)
        if tag in ("iframe", "object", "embed"):
            self.frames.append(tag)
        self.handlers += [name for name in attrs if name.startswith("on")]
        self.javascript += [v for v in attrs.values() if v and v.strip().lower().startswith("javascript:")]


def test_feedback_pages_run_no_script_but_lessons_still_render(graded):
    page = (graded["root"] / "feedback" / "snoop-1015" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    parsed = _Page()
    parsed.feed(page)
    assert parsed.policy == (safe_html.POLICY, 3), "the policy must come first in <head>"  # html, head, meta
    assert "script-src 'none'" in safe_html.POLICY
    assert not parsed.handlers and not parsed.javascript and not parsed.frames
    assert all(s.get("src", "").startswith("https://cdnjs") or s.get("type") == "text/x-mathjax-config"
               for s in parsed.scripts)  # only the template's MathJax, which the policy blocks
    assert 'document.title = "owned"' not in page.replace("&quot;", '"').split("<body", 1)[1].split("<pre", 1)[0]
    assert "<table>" in page and "<th>exercise</th>" in page  # lesson markdown still renders: tables,
    assert '<img alt="lesson image" src="https://example.org/picture.png"' in page  # images,
    assert "<h1" in page and "<b>bold</b>" in page  # headings, and harmless HTML output
    assert messy_class.hidden_test_text(REPO) not in page  # and the hidden tests are not shown to students


def test_every_page_carries_the_policy(graded):
    for student in messy_class.EXPECTED:
        page = next((graded["root"] / "feedback" / student / ASSIGNMENT).glob("*.html")).read_text()
        assert safe_html.META in page, student


def test_unconfirmed_answers_are_withheld_until_the_instructor_accepts_them(graded):
    rep = graded["reports"]["opaque-1017"]
    assert rep.score == 0 and [t.withheld for t in rep.tests] == [3.0, 2.0, 1.0]
    assert any("course-utils accept 01_store_interface opaque-1017" in f for f in rep.flags)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["accept", ASSIGNMENT, "opaque-1017", "--course", str(graded["root"])])
    assert code == grading_cli.OK, printed.getvalue()
    after = report.load(graded["root"] / "autograded" / "opaque-1017" / ASSIGNMENT)
    assert after.score == 6 and _score(graded["root"], "opaque-1017") == 6
    assert "accepted" in after.summary() and not any("withheld" in f for f in after.flags)
    page = (graded["root"] / "feedback" / "opaque-1017" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "6 / 6" in page
    with contextlib.redirect_stderr(io.StringIO()) as errors:
        assert cli.main(["accept", ASSIGNMENT, "opaque-1017", "--course", str(graded["root"])]) == grading_cli.FAILED
    assert "no withheld points" in errors.getvalue()
