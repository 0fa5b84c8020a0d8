"""The grading commands' edges: progress on stderr (a bar on a terminal, lines elsewhere), bad input in one line."""

from __future__ import annotations

import io
import re
import socket

import pytest
from rich.console import Console

from course_utils import cli
from course_utils.grading import cli as grading_cli
from course_utils.grading import dispatch
from course_utils.grading.job import Result
from course_utils.grading.report import Report

import grading_submissions as subs
from grading_course import ASSIGNMENT


def _result(student: str, status: str = "graded") -> Result:
    return Result(student, ASSIGNMENT, Report(student, ASSIGNMENT, status=status, score=6, max_score=6))


@pytest.mark.parametrize("terminal", [False, True])
def test_progress_shows_counts_and_never_breaks_off_a_terminal(terminal):
    out = io.StringIO()
    progress = grading_cli.Progress(Console(file=out, force_terminal=terminal, width=120, highlight=False))
    progress.connected("a LocalCluster of 2 worker process(es) on 127.0.0.1", "http://127.0.0.1:8787/status")
    progress.planned(3, 1)
    progress.graded(_result("ann"))
    progress.said("refused worker tcp://127.0.0.1:1: its course_utils is not the same code as here")
    progress.graded(_result("bob", "failed"))
    progress.done()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "dask dashboard: http://127.0.0.1:8787/status" in text
    assert "[1/3] ann" in text and "[2/3] bob" in text and "refused worker" in text
    if terminal:
        assert "graded 1 · failed 1 · remaining 1" in text
    else:
        assert "\x1b[" not in out.getvalue() and "ETA" not in text


def test_progress_goes_to_stderr_by_default():
    assert grading_cli.Progress().console.stderr


@pytest.mark.parametrize("arguments, words", [
    (["autograde", ASSIGNMENT, "--workers", "-2"], "expected a whole number, 0 or more"),
    (["autograde", ASSIGNMENT, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not allowed with argument"),
    (["grade", "--workers", "many"], "expected a whole number"),
    (["grade", "--cell-timeout", "-5"], "expected a number above 0"),
    (["autograde", ASSIGNMENT, "--memory-gib", "0"], "expected a number above 0"),
    (["collect", "x.zip", "--max-file-mib", "nan"], "expected a number above 0"),
    (["release", "--notebook-timeout", "inf"], "expected a number above 0"),
])
def test_bad_options_are_one_line_from_argparse(arguments, words, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(arguments)
    assert stopped.value.code == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("address", ["closed", "nonsense://where", "tcp://"])
def test_a_scheduler_that_cannot_be_reached_is_one_line_and_nothing_is_graded(address, course_dir, release, exercises,
                                                                             capsys, monkeypatch):
    monkeypatch.setattr(dispatch, "CONNECT_SECONDS", 2)  # a refused connection is retried until then
    if address == "closed":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    subs.BY_NAME["full"].write(course_dir / "submitted" / "ann" / ASSIGNMENT, release, exercises, {})
    code = cli.main(["autograde", ASSIGNMENT, "--course", str(course_dir), "--scheduler", address])
    err = capsys.readouterr().err
    assert code == grading_cli.FAILED
    assert err.startswith("error: ") and "Traceback" not in err, err
    assert len([line for line in err.splitlines() if line.startswith("error: ")]) == 1
    assert not (course_dir / "autograded" / "ann").exists()
