"""Run a notebook: in the sandbox for untrusted submissions, directly for trusted notebooks and self-checks.

``course_lib.grading.sandbox`` (bubblewrap, limits) runs untrusted code. This module adds the two paths that
need no sandbox: ``run_trusted`` for the solution notebooks and for a learner's own ``course check``, and the
fallback that ``course grade --unsafe-no-sandbox`` uses when the sandbox module cannot be used at all. Every
path returns an object with ``nb`` (the executed notebook), ``status`` and ``message``, like
``sandbox.ExecutionResult``.
"""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

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
    """Environment for a grading kernel: ``course_lib`` importable, no GUI backend, one thread per kernel
    (parallel grading runs several kernels at once, and oversubscribed BLAS threads make all of them slower).
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

    Inputs:
    - nb: notebook to execute (modified in place and returned).
    - cwd: working directory of the kernel (default: a fresh temporary directory, removed afterwards).
    - cell_timeout: seconds allowed per cell.

    Returns a ``TrustedResult``. Errors inside cells do not stop execution (each graded cell gets its own
    verdict); a timeout or a dead kernel stops it and is reported in ``status``.
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


def sandbox_module():
    """The sandbox module, or ``None`` if it is not there yet (it is written separately)."""
    try:
        from course_lib.grading import sandbox
    except ImportError:
        return None
    return sandbox


def sandbox_state():
    """``(usable, why_not)`` for the bubblewrap sandbox."""
    sandbox = sandbox_module()
    if sandbox is None:
        return False, "course_lib.grading.sandbox is not installed"
    try:
        return sandbox.sandbox_available()
    except Exception as error:  # a broken probe means no sandbox, never a crash
        return False, f"the sandbox probe failed: {error}"


def make_limits(**overrides):
    """A ``sandbox.Limits`` with ``overrides`` applied, or a plain dict of them when the sandbox is absent."""
    sandbox = sandbox_module()
    if sandbox is None:
        return dict(overrides)
    return sandbox.Limits(**overrides)


def run_untrusted(nb, *, limits=None, use_sandbox=True):
    """Execute a learner's rebuilt notebook.

    Inputs:
    - nb: the rebuilt notebook (see ``notebooks.rebuild``).
    - limits: a ``sandbox.Limits`` (or ``None`` for its defaults).
    - use_sandbox: False only under ``--unsafe-no-sandbox``.

    Returns an object with ``nb``, ``status``, ``message``. With the sandbox, its verdict is passed through;
    without it, the notebook runs in a throwaway directory with the per-cell timeout only.
    """
    sandbox = sandbox_module()
    if sandbox is not None:
        kwargs = {"sandbox": use_sandbox}
        if limits is not None and not isinstance(limits, dict):
            kwargs["limits"] = limits
        return sandbox.execute_notebook(nb, **kwargs)
    if use_sandbox:
        return TrustedResult(
            nb=nb, status="sandbox-error", message="no sandbox module: refusing to run untrusted code"
        )
    cell_timeout = (
        (limits or {}).get("cell_timeout", 60.0) if isinstance(limits, dict | None) else limits.cell_timeout
    )
    return run_trusted(nb, cell_timeout=cell_timeout)


def compute_seconds(executed_nb):
    """Seconds the kernel spent in cells (nbclient's timing metadata), or ``None`` if not recorded."""
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
