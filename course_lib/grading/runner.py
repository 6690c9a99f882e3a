"""The executor that runs a notebook cell by cell; ``course_lib.grading.sandbox`` starts it inside the
sandbox.

Run as ``python -m course_lib.grading.runner CELL_TIMEOUT NOTEBOOK_TIMEOUT MAX_OUTPUT_BYTES MEMORY_MB
CPU_SECONDS MAX_PROCESSES``: it reads ``{"cells": [{"cell_type", "source"}, ...]}`` (JSON) on standard input,
executes the code cells in a fresh IPython kernel and writes one JSON object ``{"status", "message", "cells":
[{"outputs", "execution_count", "execution"}, ...]}`` on standard output, one entry per input cell. Everything
the kernel prints at the level of file descriptors goes to ``/dev/null``; only what it sends over the Jupyter
protocol becomes cell outputs. Plain JSON, no nbformat: importing nbformat (and jsonschema) would cost seconds
per submission.

Why a hand-written loop instead of nbclient's ``NotebookClient``: the grader needs control that nbclient does
not give in one place -- a budget on the *total* output size (a learner may print gigabytes), a per-notebook
deadline on top of the per-cell timeout, going on to the next cell after an interrupted one, and a precise
account of why a kernel died.

Statuses (worst event wins): ``ok``; ``timeout`` (a cell was interrupted or the notebook ran out of time);
``memory`` (a cell raised ``MemoryError``); ``crashed`` (the kernel died or could not start);
``output-limit``.
"""

import ctypes
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from queue import Empty

STATUS_RANK = {"ok": 0, "memory": 1, "timeout": 2, "output-limit": 3, "crashed": 4}
"""Severity of each status: the notebook's status is the most severe event seen."""

INTERRUPT_GRACE = 3.0
"""Seconds a kernel gets to come back to idle after an interrupt before it is killed."""

KERNEL_START_TIMEOUT = 60.0

MAX_FILE_BYTES = 256 * 1024 * 1024
"""Largest file a process in the sandbox may write (a model checkpoint fits; a disk-filling loop does not)."""


class OutputLimitExceeded(Exception):
    """The cells' outputs together passed the byte budget."""


def apply_limits(memory_mb, cpu_seconds, max_processes):
    """Set resource limits on this process; the kernel and everything it starts inherit them.

    Files are limited to MAX_FILE_BYTES each (past it SIGXFSZ ends the process); the private /tmp is small
    anyway, and what the cells print is budgeted separately.

    Parameters
    ----------
    memory_mb : int
        Address-space limit of each process, in MiB (a cgroup, where the sandbox has one, caps the sum).
    cpu_seconds : int
        CPU time of each process, in seconds (SIGXCPU, then SIGKILL, past it).
    max_processes : int
        RLIMIT_NPROC (0 or less: not set); honoured by the kernel except for processes owned by root outside the
        sandbox, where the sandbox's pids cgroup does the job.
    """
    limits = [
        (resource.RLIMIT_AS, memory_mb * 1024 * 1024),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_FSIZE, MAX_FILE_BYTES),
        (resource.RLIMIT_CORE, 0),
    ]
    if max_processes > 0:
        limits.append((resource.RLIMIT_NPROC, max_processes))
    for which, value in limits:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def make_undumpable():
    """Forbid the learner's code (same user) from reading this process's memory through /proc."""
    try:
        PR_SET_DUMPABLE = 4
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: nothing to protect against here
        pass


def write_kernel_spec(root):
    """Write a ``python3`` kernel spec under ``root/kernels`` that runs this very interpreter.

    The notebook's own kernelspec metadata is ignored: a submission cannot choose what runs it.

    Parameters
    ----------
    root : str
        The Jupyter data folder (put first on ``JUPYTER_PATH``).
    """
    spec_dir = os.path.join(root, "kernels", "python3")
    os.makedirs(spec_dir, exist_ok=True)
    spec = {
        # no history database: nothing to write, and no warning when a notebook fills /tmp
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--HistoryManager.enabled=False",
        ],
        "display_name": "Python 3 (grader)",
        "language": "python",
    }
    with open(os.path.join(spec_dir, "kernel.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f)


class CellRunner:
    """Executes code cells one at a time in a kernel and records their outputs under an output budget.

    Parameters
    ----------
    kernel_manager : jupyter_client.KernelManager
        A started kernel.
    kernel_client : jupyter_client.BlockingKernelClient
        Its blocking client.
    max_output_bytes : int
        Budget for the JSON size of all outputs of the notebook together.
    """

    def __init__(self, kernel_manager, kernel_client, max_output_bytes):
        self.km = kernel_manager
        self.kc = kernel_client
        self.output_budget = max_output_bytes

    def _charge(self, content):
        self.output_budget -= len(json.dumps(content, default=str))
        if self.output_budget < 0:
            raise OutputLimitExceeded()

    def _record(self, outputs, msg):
        """Turn one IOPub message into a cell output (streams of the same name are merged).

        Parameters
        ----------
        outputs : list of dict
            The cell's outputs so far, extended (or cleared) in place.
        msg : dict
            The IOPub message.

        Raises
        ------
        OutputLimitExceeded
            When the budget runs out.
        """
        msg_type, content = msg["msg_type"], msg["content"]
        if msg_type == "clear_output":
            outputs.clear()
            return
        if msg_type not in ("stream", "display_data", "execute_result", "error"):
            return  # status, execute_input, comms, display updates: nothing to keep
        self._charge(content)
        if (
            msg_type == "stream"
            and outputs
            and outputs[-1].get("output_type") == "stream"
            and outputs[-1]["name"] == content["name"]
        ):
            outputs[-1]["text"] += content["text"]
            return
        outputs.append(output_from_message(msg_type, content))

    def run_cell(self, cell, timeout):
        """Execute one code cell, filling its ``outputs``, ``execution_count`` and ``execution`` (timing).

        Parameters
        ----------
        cell : dict
            A cell with "source", modified in place.
        timeout : float
            Seconds the cell may run before it is interrupted.

        Returns
        -------
        str
            One of "ok", "error", "timeout", "dead" (the kernel died), "stuck" (it ignored the interrupt).

        Raises
        ------
        OutputLimitExceeded
            When the budget runs out.
        """
        outputs = cell["outputs"] = []
        cell["execution_count"] = None
        # nbclient's timing keys, so that the grader can tell the notebook's own compute from its overhead
        timing = cell["execution"] = {}
        msg_id = self.kc.execute(cell["source"], store_history=True, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + timeout
        interrupted_at = None
        errored = False
        while True:
            now = time.monotonic()
            if interrupted_at is None and now > deadline:
                self.km.interrupt_kernel()
                interrupted_at = now
            if interrupted_at is not None and now > interrupted_at + INTERRUPT_GRACE:
                return "stuck"
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                if not self.km.is_alive():
                    return "dead"
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] == "execute_input":
                timing["iopub.execute_input"] = _timestamp(msg)
            if "execution_count" in content:
                cell["execution_count"] = content["execution_count"]
            if msg["msg_type"] == "status" and content["execution_state"] == "idle":
                timing["shell.execute_reply"] = _timestamp(msg)
                break
            if interrupted_at is not None and msg["msg_type"] == "error":
                continue  # the KeyboardInterrupt we caused: replaced by a clear timeout error below
            if msg["msg_type"] == "error":
                errored = True
            self._record(outputs, msg)
        if interrupted_at is not None:
            outputs.append(timeout_error(timeout))
            return "timeout"
        return "error" if errored else "ok"


def output_from_message(msg_type, content):
    """The notebook output (nbformat 4 layout, as a plain dict) for one IOPub message.

    Parameters
    ----------
    msg_type : str
        "stream", "error", "display_data" or "execute_result".
    content : dict
        The message's content.

    Returns
    -------
    dict
    """
    if msg_type == "stream":
        return {"output_type": "stream", "name": content["name"], "text": content["text"]}
    if msg_type == "error":
        return {
            "output_type": "error",
            "ename": content["ename"],
            "evalue": content["evalue"],
            "traceback": content["traceback"],
        }
    output = {"output_type": msg_type, "data": content["data"], "metadata": content.get("metadata", {})}
    if msg_type == "execute_result":
        output["execution_count"] = content.get("execution_count")
    return output


def _timestamp(msg):
    date = msg["header"].get("date")
    return date.isoformat() if hasattr(date, "isoformat") else str(date)


def error_output(ename, message):
    """An error output written by the runner itself (the cell then counts as failed).

    Parameters
    ----------
    ename : str
        The error's name.
    message : str
        Its message.

    Returns
    -------
    dict
    """
    return {"output_type": "error", "ename": ename, "evalue": message, "traceback": [f"{ename}: {message}"]}


def timeout_error(timeout):
    """The error output put in a cell that ran out of time.

    Parameters
    ----------
    timeout : float
        The cell's time limit, in seconds.

    Returns
    -------
    dict
    """
    return error_output(
        "TimeoutError", f"the cell ran longer than its time limit ({timeout:.0f} s) and was interrupted"
    )


def execute(cells, cell_timeout, notebook_timeout, max_output_bytes, workdir):
    """Execute every code cell in order, going on after errors and interrupted cells.

    Parameters
    ----------
    cells : list of dict
        Cells with "cell_type" and "source" (str); outputs are added to the code cells.
    cell_timeout, notebook_timeout : float
        Seconds.
    max_output_bytes : int
        Budget for all outputs together.
    workdir : str
        The kernel's working directory.

    Returns
    -------
    cells : list of dict
        The same list, executed as far as it got.
    status : str
        "ok", "timeout", "memory", "crashed" or "output-limit".
    message : str
        What happened, for the grader's report.
    """
    from jupyter_client import KernelManager

    status, messages = "ok", []

    def note(new_status, message):
        nonlocal status
        if STATUS_RANK[new_status] > STATUS_RANK[status]:
            status = new_status
        messages.append(message)

    for cell in cells:
        cell.update(outputs=[], execution_count=None, execution={})

    # Unix sockets, not TCP ports: kernels that run side by side outside the sandbox cannot race for a port.
    sockets = os.path.join(tempfile.mkdtemp(prefix="kernel-"), "channel")
    km = KernelManager(kernel_name="python3", transport="ipc", ip=sockets)
    try:
        km.start_kernel(cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
    except Exception as error:  # noqa: BLE001 -- any failure to start is reported, not raised
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        return cells, "crashed", f"the kernel could not start: {error}"

    runner = CellRunner(km, kc, max_output_bytes)
    notebook_deadline = time.monotonic() + notebook_timeout
    try:
        for index, cell in enumerate(cells):
            if cell["cell_type"] != "code" or not cell["source"].strip():
                continue
            remaining = notebook_deadline - time.monotonic()
            if remaining <= 0:
                note("timeout", f"the notebook ran out of time ({notebook_timeout:.0f} s) before cell {index}")
                break
            outcome = runner.run_cell(cell, min(cell_timeout, remaining))
            if outcome == "error" and any(o.get("ename") == "MemoryError" for o in cell["outputs"]):
                note("memory", f"cell {index} ran out of memory")
            elif outcome == "timeout":
                note("timeout", f"cell {index} was interrupted after {min(cell_timeout, remaining):.0f} s")
            elif outcome == "stuck":
                cell["outputs"].append(timeout_error(min(cell_timeout, remaining)))
                note("timeout", f"cell {index} ran out of time and ignored the interrupt; execution stopped")
                break
            elif outcome == "dead":
                code = km.provisioner.process.poll() if km.provisioner and km.provisioner.process else None
                note(
                    "crashed",
                    f"the kernel died in cell {index} (exit status {code}); later cells did not run",
                )
                break
    except OutputLimitExceeded:
        cell["outputs"].append(error_output("OutputLimitError", f"more than {max_output_bytes} bytes"))
        note("output-limit", f"the outputs passed {max_output_bytes} bytes in cell {index}; execution stopped")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return cells, status, "; ".join(messages) or "all cells ran"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    cell_timeout, notebook_timeout = float(argv[0]), float(argv[1])
    max_output_bytes, memory_mb, cpu_seconds, max_processes = (int(a) for a in argv[2:6])
    # Keep the real stdout for the result only; the kernel inherits /dev/null instead, so nothing it writes to
    # its file descriptors can corrupt the result.
    result_stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    source = sys.stdin.read()
    for fd in (0, 1):
        os.dup2(devnull, fd)
    make_undumpable()
    apply_limits(memory_mb, cpu_seconds, max_processes)
    workdir = tempfile.mkdtemp(prefix="work-")
    jupyter_dir = tempfile.mkdtemp(prefix="jupyter-")
    write_kernel_spec(jupyter_dir)
    os.environ["JUPYTER_PATH"] = jupyter_dir  # searched first: our spec wins over any installed one
    os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(jupyter_dir, "runtime")
    try:
        cells = [{"cell_type": str(c["cell_type"]), "source": str(c["source"])} for c in json.loads(source)["cells"]]
    except (ValueError, KeyError, TypeError) as error:
        json.dump({"status": "crashed", "message": f"bad input: {error}", "cells": None}, result_stream)
        result_stream.flush()
        os._exit(0)
    del source
    cells, status, message = execute(cells, cell_timeout, notebook_timeout, max_output_bytes, workdir)
    json.dump({"status": status, "message": message, "cells": cells}, result_stream)
    result_stream.flush()
    # Leave at once: after an interrupted cell, ZeroMQ's clean-up at interpreter exit can linger for seconds,
    # and the kernel is already gone.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
