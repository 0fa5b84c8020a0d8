"""Colab and Binder: every link, badge and set-up cell comes from one URL.

The course repository is configured once, ``[project.urls] Repository`` in
``pyproject.toml``. These tests fail when a notebook or README.md was not
re-synced after that URL (or a notebook) changed (``course-utils
sync-notebooks`` fixes it), when the URL is copied into code, when the Colab
set-up cell would do anything outside Colab or the wrong thing inside it,
and when Binder's configuration disagrees with the pins or fails to hide
nbgrader's instructor tools from students.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import tomllib
import types
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

from course_utils import authoring, delivery, pins
from course_utils.cli import main as cli_main

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = delivery.notebook_paths(REPO)
URL = delivery.repository_url()
OWNER, NAME = delivery.github_repository(URL)
FORK = "https://github.com/someone-else/a-fork-of-the-course"

# Every address of Colab or Binder in a text, and the repository it opens.
_COLAB = re.compile(r"https://colab\.research\.google\.com/github/([^/\s)]+)/([^/\s)]+)/blob/([^/\s)]+)/([^\s)]+)")
_BINDER = re.compile(r"https://mybinder\.org/v2/gh/([^/\s)]+)/([^/\s)?]+)/([^/\s)?]+)\?urlpath=([^\s)]+)")


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


# --- the one configured URL -------------------------------------------------------


def test_the_url_is_configured_in_pyproject():
    with (REPO / "pyproject.toml").open("rb") as handle:
        configured = tomllib.load(handle)["project"]["urls"][delivery.URL_LABEL]
    assert URL == configured.rstrip("/")
    assert URL.startswith("https://github.com/")


def test_no_code_or_configuration_holds_a_copy_of_the_url():
    """A fork changes pyproject.toml only: nothing else may spell the URL out."""
    places = [REPO / "course_utils", REPO / "tests", REPO / "binder", REPO / "bench", REPO / ".ci"]
    places += [REPO / name for name in ("environment.yml", "nbgrader_config.py")]
    copies = []
    for place in places:
        files = [place] if place.is_file() else sorted(place.rglob("*")) if place.is_dir() else []
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                text = path.read_text(encoding="utf-8", errors="ignore")
                if f"{OWNER}/{NAME}" in text:
                    copies.append(_relative(path))
    assert copies == [], f"the repository URL is spelled out outside pyproject.toml in {copies}"


@pytest.mark.parametrize(
    "written", [FORK, FORK + "/", FORK + ".git", FORK + ".git/", f"  {FORK}\n"]
)
def test_the_url_is_normalised(written, tmp_path):
    _fork_checkout(tmp_path, written)
    assert delivery.repository_url(tmp_path) == FORK


@pytest.mark.parametrize(
    "url", ["https://gitlab.com/owner/name", "http://github.com/owner/name", "https://github.com/owner"]
)
def test_only_a_github_repository_can_be_opened_in_colab(url):
    with pytest.raises(delivery.DeliveryError, match="github.com/OWNER/NAME"):
        delivery.colab_url("notebooks/x.ipynb", url)


def test_a_missing_url_is_a_clear_error(tmp_path):
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    without = re.sub(r'(?m)^Repository = ".*"\n', "", pyproject)
    assert without != pyproject
    (tmp_path / "pyproject.toml").write_text(without, encoding="utf-8")
    with pytest.raises(delivery.DeliveryError, match=r"\[project.urls\] Repository"):
        delivery.repository_url(tmp_path)


# --- links ----------------------------------------------------------------------------


def test_links_open_the_notebook_on_the_course_branch():
    notebook = "notebooks/01_store_interface.ipynb"
    assert delivery.colab_url(notebook, FORK) == (
        "https://colab.research.google.com/github/someone-else/a-fork-of-the-course/"
        f"blob/{delivery.BRANCH}/notebooks/01_store_interface.ipynb"
    )
    assert delivery.binder_url(notebook, FORK) == (
        f"https://mybinder.org/v2/gh/someone-else/a-fork-of-the-course/{delivery.BRANCH}"
        "?urlpath=lab/tree/notebooks/01_store_interface.ipynb"
    )


def test_colab_installs_the_course_package_from_the_repository():
    requirement = Requirement(delivery.install_requirement())
    assert requirement.name == pins.project_name()
    assert requirement.url == f"git+{URL}@{delivery.BRANCH}"
    # The course package's own dependencies are the exact runtime pins, so
    # installing it from git installs exactly the pinned set.
    assert pins.runtime_requirements() and all("==" in r for r in pins.runtime_requirements())


# --- every notebook starts with the header and the set-up cell ---------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_starts_with_its_header_and_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    fix = "run `course-utils sync-notebooks`"
    tags = [sorted(delivery._tags(c) & {delivery.HEADER_TAG, delivery.SETUP_TAG}) for c in nb.cells]
    assert tags[:2] == [[delivery.HEADER_TAG], [delivery.SETUP_TAG]], f"{path.name}: {fix}"
    assert sum(map(bool, tags)) == 2, f"{path.name} has more than one header or set-up cell"
    assert nb == delivery.synced(nb, _relative(path)), f"{path.name} is out of date: {fix}"

    header, setup = nb.cells[0], nb.cells[1]
    assert header.cell_type == "markdown" and setup.cell_type == "code"
    assert setup.outputs == [] and setup.execution_count is None
    # The header's badges open this very notebook from the configured repository.
    colab = _COLAB.findall(header.source)
    binder = _BINDER.findall(header.source)
    assert colab == [(OWNER, NAME, delivery.BRANCH, _relative(path))]
    assert binder == [(OWNER, NAME, delivery.BRANCH, f"lab/tree/{_relative(path)}")]
    assert f"]({URL})" in header.source
    # The glossary is one click away, in JupyterLab (beside the notebook) and in Colab (GitHub).
    assert f"]({delivery.GLOSSARY_FILE})" in header.source
    assert (path.parent / delivery.GLOSSARY_FILE).is_file()
    assert f"]({URL}/blob/{delivery.BRANCH}/{delivery.NOTEBOOKS_DIR}/{delivery.GLOSSARY_FILE})" in header.source
    # The set-up cell installs from the configured repository.
    assert f'"{delivery.install_requirement(URL)}"' in setup.source
    assert f"git+{URL}@{delivery.BRANCH}" in setup.source


def test_readme_has_the_badges_under_its_title():
    text = (REPO / delivery.README_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# ") and lines[1] == "" and lines[2] == delivery.README_START, (
        "README.md: the badge line belongs right under the title; run `course-utils sync-notebooks`"
    )
    block = delivery.readme_block([_relative(p) for p in NOTEBOOKS])
    assert block in text, "README.md's badges are out of date: run `course-utils sync-notebooks`"
    assert _BINDER.findall(block) == [(OWNER, NAME, delivery.BRANCH, f"lab/tree/{delivery.NOTEBOOKS_DIR}")]
    assert _COLAB.findall(block) == [(OWNER, NAME, delivery.BRANCH, _relative(p)) for p in NOTEBOOKS]


def test_every_colab_and_binder_link_in_the_course_uses_the_configured_repository():
    texts = {"README.md": (REPO / "README.md").read_text(encoding="utf-8")}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        texts[path.name] = "\n".join(cell.source for cell in nb.cells)
    links = 0
    for name, text in texts.items():
        for owner, repo, branch, _ in _COLAB.findall(text) + _BINDER.findall(text):
            assert (owner, repo, branch) == (OWNER, NAME, delivery.BRANCH), f"{name} links {owner}/{repo}"
            links += 1
    assert links >= 3 * len(NOTEBOOKS) + 1  # README: Binder + Colab per notebook; each header: two


def test_the_check_command_agrees_with_the_tests(capsys):
    expected = 0 if not delivery.sync(check=True) else 1
    assert cli_main(["sync-notebooks", "--check"]) == expected
    if expected:
        assert "out of date" in capsys.readouterr().out


# --- sync -------------------------------------------------------------------------------


def _fork_checkout(root: Path, url: str = FORK, notebooks: int = 1) -> list[Path]:
    """A minimal checkout in ``root``: pyproject.toml with ``url``, README.md and notebooks."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    configured = re.sub(r'(?m)^Repository = ".*"$', lambda _: f"Repository = {json.dumps(url)}", pyproject)
    assert configured != pyproject or url == URL
    (root / "pyproject.toml").write_text(configured, encoding="utf-8")
    shutil.copy(REPO / "README.md", root / "README.md")
    (root / "notebooks").mkdir(exist_ok=True)
    copied = []
    for path in NOTEBOOKS[:notebooks]:
        copied.append(Path(shutil.copy(path, root / "notebooks" / path.name)))
    return copied


def _plain(nb):
    """The notebook without its delivery cells."""
    return [c for c in nb.cells if not delivery.is_delivery_cell(c)]


def test_a_fork_changes_one_line_and_every_link_follows(tmp_path):
    (path,) = _fork_checkout(tmp_path)
    before = nbformat.read(path, as_version=4)
    changed = delivery.sync(root=tmp_path)
    assert set(changed) == {path, tmp_path / "README.md"}
    for changed_path in changed:
        text = changed_path.read_text(encoding="utf-8")
        assert f"{OWNER}/{NAME}" not in text, f"{changed_path.name} still links the original repository"
        assert "someone-else/a-fork-of-the-course" in text
    after = nbformat.read(path, as_version=4)
    assert _plain(after) == _plain(before), "sync must not touch the lesson's own cells"
    assert f"git+{FORK}@{delivery.BRANCH}" in after.cells[1].source


def test_sync_is_idempotent_and_never_duplicates(tmp_path):
    (path,) = _fork_checkout(tmp_path)
    original = nbformat.read(path, as_version=4)
    original.cells = _plain(original)  # as a notebook arrives from its author
    nbformat.write(original, path)

    assert delivery.sync([path], readme=False, root=tmp_path) == [path]
    once = path.read_text(encoding="utf-8")
    assert delivery.sync([path], readme=False, root=tmp_path) == []
    assert path.read_text(encoding="utf-8") == once
    nb = nbformat.read(path, as_version=4)
    assert len(nb.cells) == len(original.cells) + 2
    assert [c.id for c in nb.cells[:2]] == [delivery.HEADER_TAG, delivery.SETUP_TAG]
    nbformat.validate(nb)

    # A moved and an edited delivery cell are put back and renewed, not repeated.
    nb.cells.append(nb.cells.pop(0))
    nb.cells[0].source = "# an old set-up cell"
    nbformat.write(nb, path)
    assert delivery.sync([path], readme=False, root=tmp_path, check=True) == [path]
    assert nbformat.read(path, as_version=4).cells[0].source == "# an old set-up cell"  # check wrote nothing
    delivery.sync([path], readme=False, root=tmp_path)
    assert path.read_text(encoding="utf-8") == once


def test_sync_refuses_a_cell_that_takes_a_delivery_id(tmp_path):
    (path,) = _fork_checkout(tmp_path)
    nb = nbformat.read(path, as_version=4)
    nb.cells = _plain(nb)
    nb.cells[0].id = delivery.SETUP_TAG
    nbformat.write(nb, path)
    with pytest.raises(delivery.DeliveryError, match="already uses the cell id"):
        delivery.sync([path], readme=False, root=tmp_path)


def test_readme_badges_go_under_the_title_once(tmp_path):
    text = "# A course\n\nIntro.\n\n## More\n"
    first = delivery.synced_readme(text, ["notebooks/01_a.ipynb"], FORK)
    assert first.startswith(f"# A course\n\n{delivery.README_START}\n")
    assert first.endswith(f"{delivery.README_END}\n\nIntro.\n\n## More\n")
    second = delivery.synced_readme(first, ["notebooks/01_a.ipynb", "notebooks/02_b.ipynb"], FORK)
    assert second.count(delivery.README_START) == 1 and "02_b.ipynb" in second
    assert delivery.synced_readme(second, ["notebooks/01_a.ipynb", "notebooks/02_b.ipynb"], FORK) == second
    with pytest.raises(delivery.DeliveryError, match="markers"):
        delivery.synced_readme(second.replace(delivery.README_END, ""), [], FORK)


def test_cli_syncs_only_the_notebooks_it_is_given(tmp_path, monkeypatch, capsys):
    (path,) = _fork_checkout(tmp_path)
    monkeypatch.setattr(pins, "repo_root", lambda: tmp_path)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert cli_main(["sync-notebooks", "--check", str(path)]) == 1
    assert cli_main(["sync-notebooks", str(path)]) == 0
    assert cli_main(["sync-notebooks", "--check", str(path)]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == readme, "README.md only without arguments"
    assert cli_main(["sync-notebooks"]) == 0
    assert "someone-else" in (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "updated:" in capsys.readouterr().out


# --- the Colab set-up cell ------------------------------------------------------------------


class _Recorder:
    """Stands in for subprocess.run, os.kill and time.sleep while a set-up cell runs."""

    def __init__(self, pip_fails: bool = False):
        self.calls = []
        self.pip_fails = pip_fails

    def run(self, args, **kwargs):
        self.calls.append(("run", list(args), kwargs))
        if self.pip_fails:
            raise subprocess.CalledProcessError(1, args)
        return subprocess.CompletedProcess(args, 0)

    def kill(self, pid, sig):
        self.calls.append(("kill", pid, sig))

    def sleep(self, seconds):
        self.calls.append(("sleep", seconds))


def _run_setup_cell(monkeypatch, *, colab: bool, installed: bool, pip_fails: bool = False):
    """Run the set-up cell's code as a kernel would, with the outside world recorded."""
    import importlib.util

    recorder = _Recorder(pip_fails)
    monkeypatch.setattr(subprocess, "run", recorder.run)
    monkeypatch.setattr(os, "kill", recorder.kill)
    monkeypatch.setattr(time, "sleep", recorder.sleep)
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *a: (real_find_spec(name, *a) if installed else None) if name == "course_utils"
        else real_find_spec(name, *a),
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(delivery.setup_source(), "<setup cell>", "exec"), {"__name__": "__main__"})
    return recorder.calls, out.getvalue()


def test_setup_cell_is_plain_python():
    compile(delivery.setup_source(), "<setup cell>", "exec")  # no IPython magics: runs anywhere


@pytest.mark.parametrize("installed", [False, True])
def test_setup_cell_does_nothing_outside_colab(monkeypatch, installed):
    calls, printed = _run_setup_cell(monkeypatch, colab=False, installed=installed)
    assert calls == [] and printed == ""


def test_setup_cell_in_colab_installs_the_course_then_restarts_python(monkeypatch):
    calls, printed = _run_setup_cell(monkeypatch, colab=True, installed=False)
    (kind, args, kwargs), *rest = calls
    assert kind == "run" and kwargs == {"check": True}
    assert args == [sys.executable, "-m", "pip", "install", "--quiet", delivery.install_requirement()]
    assert rest[-1] == ("kill", os.getpid(), signal.SIGKILL), "Python must restart after the install"
    assert "Run all" in printed and "restart" in printed


def test_setup_cell_in_colab_does_nothing_once_the_course_is_installed(monkeypatch):
    calls, printed = _run_setup_cell(monkeypatch, colab=True, installed=True)
    assert calls == [] and printed == ""


def test_setup_cell_in_colab_stops_without_restarting_when_pip_fails(monkeypatch):
    with pytest.raises(subprocess.CalledProcessError):
        _run_setup_cell(monkeypatch, colab=True, installed=False, pip_fails=True)


# --- Binder -------------------------------------------------------------------------------


def test_binder_files_agree_with_the_pins():
    stale = pins.stale_generated_files()
    assert stale == [], f"out of date: {stale}; run `course-utils pins --write`"
    environment = (REPO / pins.BINDER_ENVIRONMENT_FILE).read_text(encoding="utf-8")
    for requirement in pins.runtime_requirements() + pins.course_requirements():
        assert f"      - {requirement}\n" in environment
    assert f"python={pins.CONDA_PYTHON}" in environment
    assert pins.CONDA_PYTHON in pins.SUPPORTED_PYTHONS


def test_binder_start_puts_the_student_configuration_first():
    start = REPO / pins.BINDER_START_FILE
    assert start.stat().st_mode & stat.S_IXUSR, "binder/start must be executable"
    text = start.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") and text.rstrip().endswith('exec "$@"')
    subprocess.run(["bash", "-n", str(start)], check=True)
    shown = subprocess.run(
        ["bash", str(start), "bash", "-c", 'echo "$JUPYTER_CONFIG_PATH"'],
        capture_output=True, text=True, check=True, env={**os.environ, "JUPYTER_CONFIG_PATH": "/elsewhere"},
    ).stdout.strip()
    assert shown == f"{REPO / pins.BINDER_JUPYTER_DIR}:/elsewhere"


def test_the_disabled_nbgrader_parts_exist_in_the_installed_nbgrader():
    """A typo or a renamed plugin would silently disable nothing."""
    import nbgrader

    static = Path(nbgrader.__file__).parent / "labextension" / "static"
    code = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in static.glob("*.js"))
    for plugin in pins.STUDENT_DISABLED_LAB_PLUGINS:
        assert f'"{plugin}"' in code, f"nbgrader has no JupyterLab plugin {plugin}"
    assert '"@jupyter/nbgrader:validate-assignment"' in code
    enabled = json.loads(
        (Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/nbgrader.json").read_text()
    )["ServerApp"]["jpserver_extensions"]
    for extension in pins.STUDENT_DISABLED_SERVER_EXTENSIONS:
        assert enabled.get(extension) is True, f"{extension} is not an nbgrader server extension"


def _jupyter_env(tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("JUPYTER_CONFIG_PATH", None)
    return env


def test_students_on_binder_do_not_get_nbgrader_instructor_plugins(tmp_path):
    listing = subprocess.run(
        ["bash", str(REPO / pins.BINDER_START_FILE), sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True, text=True, check=True, env=_jupyter_env(tmp_path), timeout=120,
    )
    output = listing.stdout + listing.stderr
    disabled = output.split("Disabled extensions:", 1)[1] if "Disabled extensions:" in output else ""
    for plugin in pins.STUDENT_DISABLED_LAB_PLUGINS:
        assert plugin in disabled, f"{plugin} is not disabled:\n{output}"
    assert "validate-assignment" not in disabled


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _server_routes(tmp_path: Path, student: bool) -> dict[str, int]:
    """Start a Jupyter server on loopback (as Binder would, or plainly) and probe nbgrader's pages."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    token, port = "test-token", _free_port()
    command = [
        sys.executable, "-m", "jupyter", "server", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={tmp_path}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    if student:
        command = ["bash", str(REPO / pins.BINDER_START_FILE), *command]
    server = subprocess.Popen(
        command, env=_jupyter_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert server.poll() is None, "the Jupyter server exited"
            try:
                if _status(f"{base}/api/status?token={token}") == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the Jupyter server did not start")
        routes = ("formgrader", "assignments", "courses", "api/status")
        return {route: _status(f"{base}/{route}?token={token}") for route in routes}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.mark.slow
def test_students_on_binder_do_not_get_the_formgrader(tmp_path):
    student = _server_routes(tmp_path / "student", student=True)
    instructor = _server_routes(tmp_path / "instructor", student=False)
    assert instructor["formgrader"] != 404, "control: without binder/start the formgrader is there"
    assert student == {"formgrader": 404, "assignments": 404, "courses": 404, "api/status": 200}


def test_sync_tags_exactly_the_exercise_cells_to_run_past(tmp_path):
    """Run All in JupyterLab carries on past a blank exercise, and only past one."""
    (path,) = _fork_checkout(tmp_path)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if delivery.RUN_PAST_TAG in tags:
            tags.remove(delivery.RUN_PAST_TAG)
    nbformat.write(nb, path)

    delivery.sync([path], readme=False, root=tmp_path)
    nb = nbformat.read(path, as_version=4)
    exercises = [*authoring.answer_cells(nb).values(), *authoring.test_cells(nb).values()]
    assert exercises
    tagged = [c for c in nb.cells if delivery.RUN_PAST_TAG in c.metadata.get("tags", [])]
    assert sorted(c.id for c in tagged) == sorted(c.id for c in exercises)
