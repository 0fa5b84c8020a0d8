"""Run a notebook top to bottom in a fresh kernel, as Restart & Run All does."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

DEFAULT_CELL_TIMEOUT = 300


def execute(nb, workdir: Path, *, allow_errors: bool = False, timeout: int = DEFAULT_CELL_TIMEOUT, env: dict | None = None):
    """Execute ``nb`` in place in a new kernel whose working directory is ``workdir``.

    ``env`` adds environment variables for the kernel. With ``allow_errors``
    every cell runs even after one fails (errors stay in the outputs);
    without it the first error raises ``nbclient.exceptions.CellExecutionError``.
    Returns the notebook.
    """
    Path(workdir).mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env={**os.environ, **(env or {})})
    return nb


def errors(nb) -> dict[int, str]:
    """Index -> ``"ename: evalue"`` of every code cell whose outputs hold an error."""
    found = {}
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found[index] = f"{output['ename']}: {output['evalue']}"
    return found


def read(path: Path):
    """Read a notebook file (nbformat 4)."""
    return nbformat.read(path, as_version=4)
