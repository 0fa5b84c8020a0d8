"""course_utils.inspect.inspect_store's dispatch, and the command line."""

from __future__ import annotations

import pytest

from course_utils.cli import main as cli_main
from course_utils.inspect import inspect_store


def test_wrong_type():
    with pytest.raises(TypeError):
        inspect_store(42)


def test_cli_prints_the_table(stores, capsys):
    assert cli_main(["inspect", str(stores["0.4"])]) == 0
    out = capsys.readouterr().out
    assert "scale0/image" in out
    assert "OME-Zarr 0.4" in out


def test_cli_bad_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["inspect", "missing.zarr"]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert "missing.zarr does not exist" in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_cli_json(stores, capsys):
    import json

    assert cli_main(["inspect", "--json", str(stores["0.5-sharded"])]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == json.loads(json.dumps(inspect_store(stores["0.5-sharded"]).as_dict()))
    assert (data["n_shards"], data["n_chunks"], data["n_chunks_in_shards"]) == (6, 0, 21)


def test_an_internal_error_is_one_line_not_a_traceback(stores, monkeypatch, capsys):
    from course_utils.inspect import assemble

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(assemble, "describe_ome", broken)
    assert cli_main(["inspect", str(stores["0.4"])]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "unexpected KeyError" in err and "please report it" in err
