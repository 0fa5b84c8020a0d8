"""The README's two set-up commands, as written: take the course, run every test.

The commands are read from the README's "Set up" section, never copied here.
The course command must start JupyterLab even for root (the default user in a
container, where a plain ``jupyter lab`` exits at once); it is started as
written, from the repository, and must answer on 127.0.0.1, then it is
stopped. The test command is what CI runs, verbatim, and it installs the same
environment as the course command plus the test extra.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course_utils import pins

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
CI_SCRIPT = REPO / ".ci" / "run"
START_SECONDS = 120  # JupyterLab loads nbgrader's extensions: slow on a loaded machine


def setup_commands() -> list[str]:
    """The ``bash`` code blocks of the README's "Set up" section, in order."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Set up\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Set up' section"
    return [block.strip() for block in re.findall(r"^```bash\n(.*?)^```", section.group(1), re.S | re.M)]


def command_with(word: str) -> str:
    """The one set-up command that contains ``word``."""
    found = [command for command in setup_commands() if word in command]
    assert len(found) == 1, f"expected one set-up command with {word!r}, found {found}"
    return found[0]


def steps(command: str) -> list[str]:
    """The steps of a ``a && b && c`` command."""
    return [step.strip() for step in command.split("&&")]


def test_the_course_command_installs_what_the_test_command_installs_without_the_test_extra():
    course, tests = steps(command_with("jupyter lab")), steps(command_with("pytest"))
    assert course[:-1] == [step.replace('".[course,test]"', '".[course]"') for step in tests[:-1]]
    assert "pytest" in tests[-1] and "jupyter lab" in course[-1]


def test_the_commands_install_with_the_pinned_uv():
    """Both commands bootstrap uv at the version pyproject.toml pins (its test extra), then install with it."""
    (uv_pin,) = [r for r in pins.test_requirements() if r.startswith("uv==")]
    for command in (command_with("jupyter lab"), command_with("pytest")):
        install = steps(command)[1:3]
        assert install[0] == f".venv/bin/python -m pip install {uv_pin}", install
        assert install[1].startswith(".venv/bin/uv pip install --python .venv/bin/python --compile-bytecode -e "), install


def test_ci_runs_the_readme_test_command_verbatim():
    lines = [line.strip() for line in CI_SCRIPT.read_text(encoding="utf-8").splitlines()]
    assert command_with("pytest") in lines, f"{CI_SCRIPT} does not run the README's test command as written"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_info(runtime: Path, pid: int) -> dict | None:
    """What the server wrote about itself into its runtime directory (port, token), once there."""
    for path in runtime.glob(f"jpserver-{pid}.json"):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:  # caught mid-write
            return None
    return None


@pytest.mark.slow
def test_the_course_command_serves_jupyterlab_even_as_root(tmp_path):
    """Start the last step of the README's course command as written; it must answer on 127.0.0.1."""
    argv = shlex.split(steps(command_with("jupyter lab"))[-1])
    if not (REPO / argv[0]).exists():  # tests run from another environment than .venv
        argv[0] = str(Path(sys.executable).parent / Path(argv[0]).name)
    env = {
        **os.environ,
        # Only where it keeps its files and which port it tries first: the command is as written.
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_PORT": str(_free_port()),
        "BROWSER": "true",  # if a browser would open, a no-op stands in for it
    }
    env.pop("JUPYTER_CONFIG_PATH", None)
    log_path = tmp_path / "jupyterlab.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            info = _server_info(tmp_path / "runtime", process.pid)
            if info:
                url = f"http://127.0.0.1:{info['port']}/api/status?token={info['token']}"
                try:
                    with urllib.request.urlopen(url, timeout=10) as response:
                        status = response.status
                        break
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.5)
        log_tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        who = "root" if hasattr(os, "geteuid") and os.geteuid() == 0 else "this user"
        assert process.poll() is None, f"the course command exited ({process.returncode}) as {who}:\n{log_tail}"
        assert status == 200, f"JupyterLab did not answer on 127.0.0.1 within {START_SECONDS} s:\n{log_tail}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
