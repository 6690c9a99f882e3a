"""Run a notebook: in the sandbox for untrusted submissions, directly for trusted notebooks and self-checks.

``course_lib.grading.sandbox`` (bubblewrap, limits) runs untrusted code; ``run_untrusted`` is the grader's way in.
``run_trusted`` runs what needs no sandbox: the solution notebooks and a learner's own ``course check``. Both return
an object with ``nb`` (the executed notebook), ``status`` and ``message``.
"""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.grading import sandbox

COURSE_ROOT = Path(__file__).resolve().parents[2]
"""The directory that holds ``course_lib``: put on the kernel's path so exercises import it even
uninstalled."""


@dataclass
class TrustedResult:
    """The outcome of an unsandboxed run (same fields as ``sandbox.ExecutionResult``)."""

    nb: nbformat.NotebookNode
    status: str  # "ok", "timeout", "crashed"
    message: str


def kernel_env():
    """Environment for a grading kernel: ``course_lib`` importable, no GUI backend, one thread per kernel.

    Parallel grading runs several kernels at once, and oversubscribed BLAS threads make all of them slower.

    Returns
    -------
    dict of str to str
        A copy of ``os.environ`` with these changes.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(COURSE_ROOT), env.get("PYTHONPATH", "")) if p)
    env["MPLBACKEND"] = "Agg"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env.pop("JPY_PARENT_PID", None)
    return env


def run_trusted(nb, *, cwd=None, cell_timeout=600.0, kernel_name="python3"):
    """Execute ``nb`` with nbclient and no sandbox: only for trusted code (solutions, one's own notebook).

    Errors inside cells do not stop execution (each graded cell gets its own verdict); a timeout or a dead kernel
    stops it and is reported in ``status``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Notebook to execute (modified in place and returned).
    cwd : str or pathlib.Path, optional
        Working directory of the kernel (default: a fresh temporary directory, removed afterwards).
    cell_timeout : float
        Seconds allowed per cell.
    kernel_name : str
        The Jupyter kernel to run.

    Returns
    -------
    TrustedResult
        ``nb``, ``status`` (``"ok"``, ``"timeout"``, ``"crashed"``) and ``message``.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    own_dir = cwd is None
    workdir = tempfile.mkdtemp(prefix="course-run-") if own_dir else str(cwd)
    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name=kernel_name,
        allow_errors=True,
        record_timing=True,
        resources={"metadata": {"path": workdir}},
    )
    status, message = "ok", ""
    try:
        # the kernel's own stderr (start-up chatter) only clutters the output; cell errors come as outputs
        client.execute(env=kernel_env(), cwd=workdir, stderr=subprocess.DEVNULL)
    except CellTimeoutError as error:
        status, message = (
            "timeout",
            f"a cell ran longer than {cell_timeout:g} s ({str(error).splitlines()[0]})",
        )
    except DeadKernelError as error:
        status, message = (
            "crashed",
            f"the kernel died ({str(error).splitlines()[0] if str(error) else 'no reason'})",
        )
    finally:
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return TrustedResult(nb=nb, status=status, message=message)


def sandbox_state():
    """Whether the bubblewrap sandbox can be used.

    Returns
    -------
    usable : bool
        True if it can.
    why_not : str
        Empty when usable, otherwise why not (a failed probe is reported here, never raised).
    """
    try:
        return sandbox.sandbox_available()
    except Exception as error:  # a broken probe means no sandbox, never a crash
        return False, f"the sandbox probe failed: {error}"


def make_limits(**overrides):
    """A ``sandbox.Limits`` with ``overrides`` applied.

    Parameters
    ----------
    **overrides
        Fields of ``sandbox.Limits``.

    Returns
    -------
    sandbox.Limits
    """
    return sandbox.Limits(**overrides)


def run_untrusted(nb, *, limits=None, use_sandbox=True):
    """Execute a learner's rebuilt notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The rebuilt notebook (see ``notebooks.rebuild``).
    limits : sandbox.Limits or None
        The limits (``None`` for its defaults).
    use_sandbox : bool
        False only under ``--unsafe-no-sandbox``: the same runner, limits and timeouts, no isolation.

    Returns
    -------
    sandbox.ExecutionResult
        ``nb``, ``status``, ``message``.
    """
    return sandbox.execute_notebook(nb, limits=limits, sandbox=use_sandbox)


def compute_seconds(executed_nb):
    """Seconds the kernel spent in cells (nbclient's timing metadata).

    Parameters
    ----------
    executed_nb : nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    float or None
        The total, or ``None`` if no cell's timing was recorded.
    """
    from datetime import datetime

    total, seen = 0.0, False
    for cell in executed_nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
            total += (parse(end) - parse(start)).total_seconds()
            seen = True
    return total if seen else None
