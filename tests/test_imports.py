"""How course_utils imports: no cycle between its modules, nothing heavy where a light command runs.

The import graph is read from the source (module-level ``import`` and
``from ... import`` statements, the ones that run when a module is
imported); what a command really loads is checked in a fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import course_utils

PACKAGE = Path(course_utils.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "netguard" in parts:  # put on a kernel's PYTHONPATH as it is, never imported as course_utils.*
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The course_utils modules ``name`` imports when it is imported (module level, TYPE_CHECKING aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = set()

    def visit(statements):
        for node in statements:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))
            elif isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                for alias in node.names:
                    edges.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)

    visit(tree.body)
    return {edge for edge in edges if edge in modules and edge != name}


def test_no_module_of_course_utils_imports_itself_back():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node):
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                walk(target)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert cycles == []


def _loaded_after(code: str) -> dict:
    """What a fresh interpreter has loaded, and its PATH, after running ``code``."""
    probe = code + (
        "\nimport json, os, sys\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'path': os.environ.get('PATH', '')}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


HEAVY = ("course_utils.grading.", "dask", "distributed", "nbgrader", "nbconvert", "jupyter_client", "zarr")


def test_inspect_loads_no_grading_code_and_no_dask(tmp_path):
    loaded = _loaded_after(
        "from course_utils import cli\n"
        f"cli.main(['inspect', {str(tmp_path / 'nothing')!r}])\n"
    )["modules"]
    assert [m for m in loaded if m.startswith(("course_utils.grading", "dask", "distributed", "nbgrader"))] == []


@pytest.mark.parametrize("module", ["course_utils.grading", "course_utils.grading.limits", "course_utils.grading.cli",
                                    "course_utils.grading.identity", "course_utils.grading.plugins"])
def test_light_grading_modules_load_nothing_heavy_and_change_nothing(module):
    """The package, its constants, the command line's parser: no nbgrader, no dask, PATH as it was."""
    before = _loaded_after("")
    after = _loaded_after(f"import {module}")
    new = set(after["modules"]) - set(before["modules"])
    allowed = {"course_utils.grading", module, "course_utils.grading.limits", "course_utils.grading.plugins"}
    assert [m for m in sorted(new) if m.startswith(HEAVY) and m not in allowed] == []
    assert after["path"] == before["path"]


def test_release_and_collect_take_no_option_they_would_ignore(capsys):
    from course_utils import cli

    for command in (["release", "--workers", "2"], ["release", "--isolation", "none"],
                    ["collect", "x.zip", "--workers", "2"], ["collect", "x.zip", "--scheduler", "tcp://a:1"]):
        with pytest.raises(SystemExit) as stopped:
            cli.main(command)
        assert stopped.value.code == 2
        assert "unrecognized arguments" in capsys.readouterr().err
