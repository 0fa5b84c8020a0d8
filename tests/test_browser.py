"""Every notebook in a real browser: JupyterLab on loopback, driven by Chromium.

A session fixture makes sure Debian's Chromium is there (``apt-get install
chromium`` when it is missing and we are root; otherwise the tests skip and
say why); Playwright drives that binary, never a browser of its own. A module
fixture starts JupyterLab on 127.0.0.1 (free port, random token, offline, a
temporary copy of ``notebooks/``, Binder's student configuration from
``binder/jupyter``, the session's data cache with the stand-ins built) and
always stops it by the pid it started. One JupyterLab and one Chromium serve
every test: the tests that use them share the ``xdist_group`` "browser", so
with pytest-xdist they all run on one worker, one after the other.

For each notebook the test opens it, runs all cells from the Run menu (the
exercise cells carry the ``raises-exception`` tag, see
:mod:`course_utils.delivery`, so one Run All goes through the blank
exercises, in order), saves it and checks the outputs: every code cell ran,
in order; lesson cells have no error, answer cells only their ``NotImplementedError``, test cells
only the course's ``AnswerError``; the page shows error-like output exactly
where the saved file has it. Then it types a wrong answer into the first
exercise, runs it and its test cell, and checks the friendly feedback ("✗ ..."
and "Hint: ...", no traceback) is on the page. A screenshot of that lands in
``test-artifacts/``. A separate test checks that the students' JupyterLab
(Binder's configuration) has nbgrader's Validate button but not its
instructor tools.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from course_utils import authoring, pins, runner

from chromium import CHROMIUM, unavailable
from notebook_runs import blank_run_problems, notebook_params, notebooks

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebooks()
SOLUTIONS = REPO / "solutions"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MARKER = "COURSE_BROWSER_TEST"  # in the environment of everything the lab server starts
LAB_START_SECONDS = 90
RUN_SECONDS = 300  # the longest wait for one run (all cells, or one): generous for a loaded CI machine
ACTION_SECONDS = 60  # a click, a menu, a save
VIEWPORT = {"width": 1400, "height": 1000}
#: One JupyterLab and one Chromium serve every test that needs them: with
#: pytest-xdist (``--dist loadgroup``) those tests run on one worker.
SHARED_LAB = pytest.mark.xdist_group("browser")


# --- Chromium -------------------------------------------------------------------


def _install_chromium() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "-o", "DPkg::Lock::Timeout=300", "chromium"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
            pytest.fail(f"{' '.join(command)} failed (exit {done.returncode}):\n{tail}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed from the package registry if missing (root only)."""
    if reason := unavailable():
        pytest.skip(reason)
    if not CHROMIUM.exists():
        _install_chromium()
        assert CHROMIUM.exists(), f"apt-get installed chromium but {CHROMIUM} is not there"
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    """A Chromium context (fresh profile) driven by Playwright; closed after the module.

    Module-scoped, not session-scoped: Playwright's sync API keeps an asyncio
    loop marked running in this thread while it is open, which would break
    later tests that call ``asyncio.run``.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(chromium),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=VIEWPORT,
        )
        context.set_default_timeout(ACTION_SECONDS * 1000)
        try:
            yield context
        finally:
            context.close()


@pytest.mark.slow
@SHARED_LAB
def test_chromium_renders_a_page(browser):
    page = browser.new_page()
    try:
        page.set_content("<h1 id='x'>✗ Hint:</h1>")
        assert page.inner_text("#x") == "✗ Hint:"
    finally:
        page.close()


# --- JupyterLab -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _marked_processes(marker_value: str) -> list[psutil.Process]:
    """Every live process whose environment carries ``MARKER=marker_value``."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(MARKER) == marker_value:
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def _write_lab_settings(settings: Path) -> None:
    """User settings for a quiet, test-friendly JupyterLab: no news, every cell in the DOM."""
    overrides = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false", "checkForUpdates": False,
        },
        # Without windowing every cell stays in the page, so its outputs can be read.
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for relative, values in overrides.items():
        path = settings / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the test process dies.

    The fixture stops the server itself; this covers the test run being
    killed outright (SIGKILL, a CI timeout), which runs no teardown.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Lab:
    """A running JupyterLab: its URL, token, folder and process."""

    def __init__(self, root: Path, home: Path, data_dir: Path):
        self.root = root
        self.token = secrets.token_hex(24)
        self.marker = secrets.token_hex(8)
        self.port = _free_port()
        self.log_path = home / "jupyterlab.log"
        settings = home / "settings"
        _write_lab_settings(settings)
        env = {
            **os.environ,
            "COURSE_OFFLINE": "1",
            "COURSE_DATA_DIR": str(data_dir),  # the session's, stand-ins already built
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
            "IPYTHONDIR": str(home / "ipython"),
            MARKER: self.marker,
        }
        env.pop("JUPYTER_CONFIG_PATH", None)
        command = [
            "bash", str(REPO / pins.BINDER_START_FILE),  # Binder's student configuration
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            f"--ServerApp.token={self.token}", "--ServerApp.ip=127.0.0.1",
            f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent,
        )

    def url(self, path: str) -> str:
        """``path`` on this server, with the token."""
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{separator}token={self.token}"

    def request(self, path: str, method: str = "GET") -> tuple[int, bytes]:
        """Status and body of an HTTP request to the server."""
        request = urllib.request.Request(self.url(path), method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def wait_ready(self, timeout: float = LAB_START_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if self.request("api/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer in {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.closed:
            self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def shutdown_kernels(self) -> None:
        """Shut every running kernel down through the REST API."""
        status, body = self.request("api/kernels")
        for kernel in json.loads(body) if status == 200 else []:
            self.request(f"api/kernels/{kernel['id']}", method="DELETE")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and anything it started that is still alive."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        leftovers = _marked_processes(self.marker)
        for process in leftovers:  # kernels the server failed to stop: ours, found by marker
            process.kill()
        psutil.wait_procs(leftovers, timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, course_data):
    """JupyterLab serving a copy of ``notebooks/``; always stopped afterwards."""
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    shutil.copytree(REPO / "notebooks", root)
    server = Lab(root, home, course_data)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
    assert _marked_processes(server.marker) == [], "JupyterLab left processes behind"


# --- driving a notebook -----------------------------------------------------------

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CODE_PROMPTS = f"{PANEL} .jp-Notebook-cell.jp-CodeCell .jp-InputPrompt"

_PROMPTS_JS = f"() => [...document.querySelectorAll({CODE_PROMPTS!r})].map(e => e.textContent.trim())"
_IDLE_JS = f"""() => {{
    const prompts = [...document.querySelectorAll({CODE_PROMPTS!r})].map(e => e.textContent);
    const indicator = document.querySelector('{PANEL} .jp-Notebook-ExecutionIndicator');
    return !prompts.some(p => p.includes('*')) && (!indicator || indicator.dataset.status === 'idle');
}}"""


def _prompts(page) -> list[str]:
    return page.evaluate(_PROMPTS_JS)


def _menu(page, menu: str, command: str, attempts: int = 15) -> None:
    """Click ``menu`` in the menu bar, then the item that runs ``command``.

    A menu works out which items are enabled when it opens; if the item is
    still disabled (the notebook has not caught up with a click yet), close
    the menu and open it again.
    """
    item = page.locator(f".lm-Menu-item[data-command='{command}']")
    for _ in range(attempts):
        page.locator(".lm-MenuBar-item", has_text=menu).first.click()
        item.wait_for()
        try:
            page.wait_for_selector(
                f".lm-Menu-item[data-command='{command}']:not([aria-disabled='true'])", timeout=2000
            )
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        item.click()
        return
    raise AssertionError(f"{menu} > {command} stayed disabled")


def _wait_idle(page, code_index: int, before: str) -> None:
    """Wait until code cell ``code_index`` has run (its prompt left ``before``) and all is idle."""
    page.wait_for_function(
        f"([i, before]) => ({_PROMPTS_JS})()[i] !== before", arg=[code_index, before],
        timeout=RUN_SECONDS * 1000, polling=250,
    )
    page.wait_for_function(_IDLE_JS, timeout=RUN_SECONDS * 1000, polling=250)


def _select_code_cell(page, code_index: int) -> None:
    """Click code cell ``code_index``'s prompt: it becomes the one selected, active cell."""
    page.locator(CODE_PROMPTS).nth(code_index).click()
    page.wait_for_function(
        f"""i => {{
            const cells = [...document.querySelectorAll('{PANEL} .jp-Notebook-cell.jp-CodeCell')];
            return cells[i].classList.contains('jp-mod-active')
                && document.querySelectorAll('{PANEL} .jp-Notebook-cell.jp-mod-selected').length <= 1;
        }}""",
        arg=code_index, polling=100,
    )


def run_everything(page) -> int:
    """Run All Cells, then "Run Selected Cell and All Below" past each cell that stopped it.

    The notebooks' exercise cells carry the ``raises-exception`` tag, so one
    Run All goes through them; a lesson cell that fails still stops the run,
    and this carries on below it, as a student would, so every failure is seen.
    Returns how many runs it took.
    """
    _wait_for_kernel(page)
    before = _prompts(page)[0]
    _menu(page, "Run", "runmenu:run-all")
    _wait_idle(page, 0, before)
    runs = 1
    while True:
        prompts = _prompts(page)
        waiting = [i for i, prompt in enumerate(prompts) if prompt in ("[ ]:", "")]
        if not waiting:
            return runs
        assert runs <= len(prompts), f"cells still not run after {runs} runs: {waiting}"
        first = waiting[0]
        _select_code_cell(page, first)
        # JupyterLab disables "... and All Below" on the last cell.
        last = first == len(prompts) - 1 and _is_last_cell(page)
        _menu(page, "Run", "notebook:run-cell" if last else "notebook:run-all-below")
        _wait_idle(page, first, prompts[first])
        runs += 1


def _is_last_cell(page) -> bool:
    return page.evaluate(
        f"() => [...document.querySelectorAll('{PANEL} .jp-Notebook-cell')].pop()"
        ".classList.contains('jp-mod-active')"
    )


def _wait_for_kernel(page) -> None:
    """Wait until the notebook's kernel is connected and idle.

    The toolbar's execution indicator says "idle" before any kernel is
    attached ("No Kernel | Initializing" in the status bar), and cells run
    then are silently dropped; the status bar names the kernel once it is there.
    """
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(
            item => /\\| Idle$/.test(item.textContent) && !item.textContent.startsWith('No Kernel'))""",
        timeout=LAB_START_SECONDS * 1000, polling=100,
    )


def open_notebook(page, lab: Lab, name: str) -> None:
    """Open ``name`` in a workspace of its own and wait for its kernel."""
    workspace = Path(name).stem.replace("_", "-")
    page.goto(lab.url(f"lab/workspaces/{workspace}/tree/{name}"))
    page.wait_for_selector(f"{PANEL} .jp-Notebook-cell", timeout=LAB_START_SECONDS * 1000)
    _wait_for_kernel(page)


def save(page, path: Path):
    """Save the notebook from the browser and read back what was saved."""
    before = path.stat().st_mtime_ns
    _menu(page, "File", "docmanager:save")
    deadline = time.monotonic() + ACTION_SECONDS
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            try:
                return runner.read(path)
            except Exception:  # caught mid-write: read again
                pass
        time.sleep(0.2)
    raise AssertionError(f"{path.name} was not saved within {ACTION_SECONDS} s")


def _stderr_outputs_on_page(page) -> list[int]:
    """Per code cell, how many outputs the page renders as stderr (errors and warnings)."""
    return page.evaluate(
        f"""() => [...document.querySelectorAll('{PANEL} .jp-Notebook-cell.jp-CodeCell')].map(cell =>
            cell.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").length)"""
    )


def _cell_output_text(page, cell_index: int) -> str:
    return page.locator(f"{PANEL} .jp-Notebook-cell").nth(cell_index).locator(".jp-OutputArea").inner_text()


class _AssignedNames(ast.NodeVisitor):
    """The names a piece of code assigns at module level (also inside ``with``, ``if``, ``for``)."""

    def __init__(self):
        self.names: list[str] = []

    def _targets(self, *targets) -> None:
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and node.id not in self.names:
                    self.names.append(node.id)

    def visit_Assign(self, node):
        self._targets(*node.targets)

    def visit_AnnAssign(self, node):
        self._targets(node.target)

    visit_AugAssign = visit_AnnAssign

    def visit_FunctionDef(self, node):  # a function's names are its own
        pass

    visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_FunctionDef


def wrong_answer(notebook: Path, grade_id: str, solutions: Path = SOLUTIONS) -> str:
    """Code for a wrong answer: every name the solution's answer assigns set to -1."""
    exercise = authoring.read_exercises(notebook, solutions)[grade_id]
    visitor = _AssignedNames()
    visitor.visit(ast.parse(exercise.answer))
    assert visitor.names, f"the solution of {grade_id} assigns no name"
    return "# a wrong answer\n" + "\n".join(f"{name} = -1" for name in visitor.names)


def type_into_cell(page, cell_index: int, text: str) -> None:
    """Replace cell ``cell_index``'s source by typing ``text`` into its editor."""
    editor = page.locator(f"{PANEL} .jp-Notebook-cell").nth(cell_index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    for line_number, line in enumerate(text.splitlines()):
        if line_number:
            page.keyboard.press("Enter")
            page.keyboard.press("Home")  # no auto-indent carried over
        page.keyboard.insert_text(line)


def _cells_with(nb, output_type: str, name: str | None = None) -> set[int]:
    return {
        index for index, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output["output_type"] == output_type and (name is None or output.get("name") == name)
    }


@pytest.mark.slow
@SHARED_LAB
def test_students_get_validate_but_no_nbgrader_instructor_tools(lab, browser):
    """Binder's student configuration, as JupyterLab shows it (the lab runs binder/start)."""
    page = browser.new_page()
    try:
        open_notebook(page, lab, NOTEBOOKS[0].name)
        menus = page.locator(".lm-MenuBar-item").all_inner_texts()
        assert "Run" in menus and "Nbgrader" not in menus, menus
        # nbgrader's extension is loaded (its Validate button is there), its instructor parts are not.
        assert page.locator(f"{PANEL} .jp-Toolbar", has_text="Validate").count() == 1
        assert page.locator(".lm-TabBar-tab", has_text="Create Assignment").count() == 0
        assert lab.request("formgrader")[0] == 404
    finally:
        page.close()
        lab.shutdown_kernels()


@pytest.mark.parametrize("path", notebook_params())
def test_every_exercise_has_a_wrong_answer_to_type(path):
    nb = runner.read(path)
    for grade_id in authoring.answer_cells(nb):
        code = wrong_answer(path, grade_id)
        compile(code, grade_id, "exec")
        assert code.count(" = -1") >= 1


def test_wrong_answer_finds_names_assigned_inside_blocks_but_not_in_functions(tmp_path):
    folder = tmp_path / "solutions" / "nb"
    folder.mkdir(parents=True)
    (folder / "answer.py").write_text(
        "def helper(x):\n    local = x\n    return local\n"
        "with open(__file__) as handle:\n    answer = helper(1)\n"
        "total: int = 2\n"
        "# ---- hidden tests ----\nassert answer == 1\n"
    )
    code = wrong_answer(Path("nb.ipynb"), "answer", tmp_path / "solutions")
    assert code == "# a wrong answer\nanswer = -1\ntotal = -1"


@pytest.mark.slow
@SHARED_LAB
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_jupyterlab_and_gives_friendly_feedback(path, lab, browser):
    page = browser.new_page()
    try:
        open_notebook(page, lab, path.name)
        runs = run_everything(page)
        nb = save(page, lab.root / path.name)

        # Every code cell ran, in order; only the exercises failed, each in the expected way.
        problems = blank_run_problems(nb)
        assert not problems, f"{path.name} in JupyterLab:\n" + "\n".join(problems)
        assert runs == 1, "Run All stopped at an exercise: are the exercise cells tagged raises-exception?"
        # What the page shows is what was saved: stderr-looking output only where the file has it.
        code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        shown = {code[k] for k, count in enumerate(_stderr_outputs_on_page(page)) if count}
        assert shown == _cells_with(nb, "error") | _cells_with(nb, "stream", "stderr")

        # A wrong answer to the first exercise gets the friendly feedback, not a traceback.
        grade_id, answer_cell = next(iter(authoring.answer_cells(nb).items()))
        answer_index = nb.cells.index(answer_cell)
        test_index = nb.cells.index(authoring.test_cells(nb)[grade_id + authoring.TEST_SUFFIX])
        assert test_index == answer_index + 1, "the test cell must follow its answer cell"
        type_into_cell(page, answer_index, wrong_answer(path, grade_id))
        answer_code_index = code.index(answer_index)
        before = _prompts(page)
        page.keyboard.press("Shift+Enter")  # run the answer, move to the test cell
        _wait_idle(page, answer_code_index, before[answer_code_index])
        page.keyboard.press("Shift+Enter")  # run the test cell
        _wait_idle(page, answer_code_index + 1, before[answer_code_index + 1])
        feedback = _cell_output_text(page, test_index)
        assert "✗" in feedback and "Hint:" in feedback, f"no friendly feedback: {feedback!r}"
        assert "Traceback" not in feedback, f"a traceback instead of feedback: {feedback!r}"
        assert "NotImplementedError" not in _cell_output_text(page, answer_index)

        page.locator(f"{PANEL} .jp-Notebook-cell").nth(test_index).scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"browser-{path.stem}.png"))
        (ARTIFACTS / f"browser-{path.stem}-FAILED.png").unlink(missing_ok=True)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"browser-{path.stem}-FAILED.png"))
        raise
    finally:
        page.close()
        lab.shutdown_kernels()
