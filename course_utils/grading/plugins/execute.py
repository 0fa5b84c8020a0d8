"""nbgrader's execute step, hardened: every submission ends with a score for every test.

:class:`GradingExecute` replaces nbgrader's ``Execute`` preprocessor in the
autograde pipeline (see :mod:`course_utils.grading.plugins.config`). Where nbgrader
would stop grading a notebook, or wait for a long time, it records what
happened in the notebook and goes on:

- a cell that runs past the time limit is interrupted (nbgrader does that);
  if the kernel does not answer within a few seconds afterwards (an infinite
  loop that catches ``KeyboardInterrupt``, native code that ignores it), the
  kernel is stopped;
- a kernel that dies (``os._exit``, a segmentation fault, killed for memory)
  or is stopped makes the cell it was running fail with ``KernelDied``; a
  cell that ends the kernel on its way out (``exit()``, ``quit()``, a
  shutdown it asks for) is the one blamed, not the next cell that finds the
  kernel gone;
- once the kernel is gone, or the notebook's total time is used up, every
  later code cell gets a ``NotRun`` error instead of running, so its tests
  score zero instead of nbgrader's "no output means full marks";
- a cell's output beyond :attr:`GradingExecute.output_bytes` is dropped with
  a note, so a huge output cannot exhaust the grader's memory;
- after each test cell, the exercise's answer variables are read out of the
  kernel as plain data (cell metadata ``course_utils.answers``) for the
  check on a clean copy of the lesson (:mod:`course_utils.grading.answers`).

It starts kernels with :class:`course_utils.grading.plugins.kernel.SandboxedKernelManager`.
"""

from __future__ import annotations

import signal
from collections import defaultdict
from queue import Empty
from time import monotonic, sleep

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.client import NotebookClient
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from nbgrader import utils as nbgrader_utils
from traitlets import Dict, Int

from course_utils.grading import answers
from course_utils.grading.limits import KERNEL_DIED, NOT_RUN, OUTPUT_TRUNCATED, Limits
from course_utils.grading.plugins.kernel import SandboxedKernelManager

_SIGNAL_NAMES = {
    signal.SIGSEGV: "a segmentation fault (SIGSEGV)",
    signal.SIGKILL: "SIGKILL (killed: out of memory, or stopped by the grader)",
    signal.SIGABRT: "an abort (SIGABRT)",
    signal.SIGBUS: "a bus error (SIGBUS)",
    signal.SIGFPE: "a floating-point exception (SIGFPE)",
    signal.SIGTERM: "SIGTERM",
}


def describe_exit(returncode: int | None) -> str:
    """Words for how a kernel process ended, from its ``Popen.returncode``."""
    if returncode is None:
        return "an unknown reason"
    if returncode < 0 or returncode > 128:
        number = -returncode if returncode < 0 else returncode - 128
        try:
            return _SIGNAL_NAMES.get(signal.Signals(number), f"signal {signal.Signals(number).name}")
        except ValueError:
            return f"signal {number}"
    return f"exit code {returncode} (os._exit or sys.exit in the kernel)"


def error_output(ename: str, evalue: str):
    """An nbformat error output (red in the feedback, zero points in a test cell)."""
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


class GradingExecute(Execute):
    """nbgrader's ``Execute`` that survives dead, stuck and noisy kernels (see the module doc)."""

    notebook_timeout = Int(
        Limits.notebook_seconds, help="Seconds the whole notebook may run; later cells are not run."
    ).tag(config=True)
    unresponsive_grace = Int(
        10, help="Seconds a kernel gets to answer after a timeout interrupt before it is stopped."
    ).tag(config=True)
    output_bytes = Int(Limits.output_bytes, help="Output bytes kept per cell (-1: no limit).").tag(config=True)
    answer_names = Dict(
        help="{notebook id: {test cell grade id: [answer variable names]}}, read out after each test cell."
    ).tag(config=True)
    answer_timeout = Int(15, help="Seconds to wait for the answer values after a test cell.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    # -- the notebook loop -------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        """Run every code cell; see the module doc for what happens when things go wrong."""
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._stopped: str | None = None
        self._deadline = monotonic() + self.notebook_timeout if self.notebook_timeout > 0 else None
        self._output_sizes: dict[int, int] = defaultdict(int)
        self._truncated: set[int] = set()

        with self.setup_kernel():
            assert self.kc is not None
            info = self.wait_for_reply(self.kc.kernel_info())
            if info is None:
                self._stopped = "the kernel did not start"
            else:
                self.nb.metadata["language_info"] = info["content"]["language_info"]
            previous = None
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if self._stopped is None and previous is not None and self._kernel_gone():
                    self._blame(previous, f"the Python kernel ended right after this cell ran: "
                                          f"{describe_exit(self._kernel_returncode())}")
                if self._stopped is None and self._deadline is not None and monotonic() >= self._deadline:
                    self._stopped = (
                        f"the notebook used up its {self.notebook_timeout} s time limit before this cell"
                    )
                if self._stopped is not None:
                    cell.outputs = [error_output(NOT_RUN, f"not run: {self._stopped}")]
                    cell.execution_count = None
                    continue
                self._run_cell(cell, resources, index)
                previous = cell
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _blame(self, cell, why: str) -> None:
        """Record that ``cell`` ended the kernel; every later cell is not run."""
        cell.outputs.append(error_output(KERNEL_DIED, why))
        label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        where = f"'{label}'" if label else "an earlier cell"
        self._stopped = f"the kernel was ended by {where}"

    def _kernel_gone(self) -> bool:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return process is not None and process.poll() is not None

    async def _check_raise_for_error(self, cell, cell_index, exec_reply):
        self._last_reply = exec_reply
        return await super()._check_raise_for_error(cell, cell_index, exec_reply)

    @staticmethod
    def _asked_to_exit(reply) -> bool:
        """True if the cell's reply says the kernel is about to end (``exit()``, ``quit()``)."""
        payload = ((reply or {}).get("content") or {}).get("payload") or []
        return any(p.get("source") == "ask_exit" and not p.get("keepkernel") for p in payload if isinstance(p, dict))

    def _run_cell(self, cell, resources, index: int) -> None:
        self._last_reply = None
        try:
            self.preprocess_cell(cell, resources, index)
        except DeadKernelError:
            code = self._kernel_returncode()
            reason = self.km.stop_reason() if hasattr(self.km, "stop_reason") else None
            if reason:  # the sandbox stopped it (too many processes, too much memory in all)
                how = f"the grader stopped it: {reason}"
                text = f"the grader stopped the Python kernel during this cell: {reason}"
            else:
                how = describe_exit(code)
                text = f"the Python kernel died while running this cell: {how}"
            cell.outputs.append(error_output(KERNEL_DIED, text))
            self._stopped = f"the kernel died in an earlier cell ({how})"
            return
        except CellTimeoutError as error:  # no output after the reply (iopub timeout)
            cell.outputs.append(error_output("CellTimeoutError", str(error).splitlines()[0]))
        finally:
            if index in self._truncated:
                cell.outputs.append(
                    new_output("stream", name="stdout", text=OUTPUT_TRUNCATED.format(limit=self.output_bytes))
                )
        if self._asked_to_exit(self._last_reply):
            self._stop_kernel()
            self._blame(cell, "this cell ended the Python kernel (exit() or quit()), so no later cell could run")
            return
        timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
        if timed_out and not self._responsive(self.unresponsive_grace):
            self._stop_kernel()
            cell.outputs.append(
                error_output(
                    KERNEL_DIED,
                    f"the cell ran past the {self.timeout} s time limit and did not stop when "
                    "interrupted, so the grader stopped the kernel",
                )
            )
            self._stopped = "the kernel was stopped after an earlier cell ran past the time limit"
            return
        names = self._names_for(cell)
        if names:
            cell.metadata.setdefault("course_utils", {})["answers"] = self._read_answers(names)

    def _names_for(self, cell) -> list[str]:
        if not nbgrader_utils.is_grade(cell) or nbgrader_utils.is_solution(cell):
            return []
        notebook = (self.resources or {}).get("nbgrader", {}).get("notebook", "")
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        return list(self.answer_names.get(notebook, {}).get(grade_id, []))

    async def _async_read_answers(self, names: list[str]) -> dict:
        """Run :func:`answers.emit` in the kernel; the encoded values, or an ``$unavailable`` tag."""
        assert self.kc is not None
        unavailable = {name: {"$unavailable": "the kernel did not report it"} for name in names}
        msg_id = self.kc.execute(answers.emit_code(names), silent=False, store_history=False, allow_stdin=False)
        deadline = monotonic() + self.answer_timeout
        text, idle, replied = [], False, False
        while not (idle and replied) and (remaining := deadline - monotonic()) > 0:
            channel = self.kc.iopub_channel if not idle else self.kc.shell_channel
            try:
                msg = await ensure_async(channel.get_msg(timeout=remaining))
            except Empty:
                break
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if channel is self.kc.shell_channel:
                replied = True
            elif msg["msg_type"] == "stream" and msg["content"].get("name") == "stdout":
                if sum(map(len, text)) < 2 * answers.MAX_ENCODED_CHARS:
                    text.append(msg["content"].get("text", ""))
            elif msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                idle = True
        found = answers.parse_emitted("".join(text))
        return found if found is not None else unavailable

    _read_answers = run_sync(_async_read_answers)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if self._deadline is None or cell is None:
            return timeout
        remaining = max(1, int(self._deadline - monotonic()) + 1)
        return remaining if timeout is None else min(timeout, remaining)

    # -- kernel state ------------------------------------------------------

    async def _async_responsive(self, seconds: float) -> bool:
        assert self.kc is not None
        if not await ensure_async(self.kc.is_alive()):
            return False
        msg_id = self.kc.kernel_info()
        deadline = monotonic() + seconds
        while (remaining := deadline - monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=remaining))
            except Empty:
                break
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    _responsive = run_sync(_async_responsive)

    async def _async_stop_kernel(self) -> None:
        assert self.km is not None
        try:
            await ensure_async(self.km.shutdown_kernel(now=True))
        except Exception:  # already gone
            self.log.warning("could not stop the kernel cleanly", exc_info=True)

    _stop_kernel = run_sync(_async_stop_kernel)

    def _kernel_returncode(self) -> int | None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is None:
            return None
        deadline = monotonic() + 1.0  # the launcher mirrors the kernel's end; give it a moment
        while (code := process.poll()) is None and monotonic() < deadline:
            sleep(0.02)
        return code

    # -- output cap --------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        """Keep a cell's output until it reaches :attr:`output_bytes`, then drop the rest."""
        if self.output_bytes >= 0 and msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
            content = msg.get("content", {})
            size = len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
            size += sum(len(line) for line in content.get("traceback", []))
            self._output_sizes[cell_index] += size
            if self._output_sizes[cell_index] > self.output_bytes and msg["msg_type"] != "error":
                self._truncated.add(cell_index)
                return None
        return super().output(outs, msg, display_id, cell_index)
