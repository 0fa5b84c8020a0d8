"""course_utils.ome_zarr_cli: the ome_zarr tool of this environment, run from Python."""

from __future__ import annotations

import os

import pytest

from course_utils import ome_zarr_cli


def test_the_tool_of_this_environment_is_found():
    command = ome_zarr_cli.command()
    assert os.path.basename(command) == "ome_zarr" and os.access(command, os.X_OK)
    assert "info" in ome_zarr_cli.run("--help")


def test_a_failing_command_says_what_went_wrong(tmp_path):
    with pytest.raises(ome_zarr_cli.OmeZarrError, match=r"ome_zarr download .* failed \(exit"):
        ome_zarr_cli.run("download", str(tmp_path / "nothing.zarr"), f"--output={tmp_path}")


def test_the_tool_leaves_the_notebooks_logging_as_it_was():
    import logging

    root = logging.getLogger()
    before = (root.handlers[:], root.level, logging.getLogger("s3fs").level)
    ome_zarr_cli.run("--help")
    assert (root.handlers[:], root.level, logging.getLogger("s3fs").level) == before
