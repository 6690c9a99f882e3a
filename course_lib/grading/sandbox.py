"""Execute an untrusted notebook inside a bubblewrap sandbox, under resource limits and timeouts.

The learner's kernel runs *inside* the sandbox: bubblewrap (``bwrap``) starts ``python -m
course_lib.grading.runner``, which reads the notebook on standard input, executes it with a fresh IPython
kernel and writes the executed notebook on standard output (see ``runner.py``). Inside the sandbox there is

- no network (a private network namespace with only its own loopback);
- a read-only view of the system (``/usr``), the Python installation and virtualenv, and the ``course_lib``
  package itself, and nothing else of the course repository: no ``solutions/``, no gradebook or grading
  output, no other submission, no home directory, only a handful of harmless files of ``/etc``;
- no reference implementation (``HIDDEN_FROM_SUBMISSIONS``) in any form: source, byte code in ``__pycache__``,
  a sourceless ``.pyc``, a copy in site-packages or where an editable install points (see ``hiding.py``);
- a private, size-limited, writable ``/tmp`` (a tmpfs), which disappears with the sandbox;
- its own process-ID space, an unprivileged user with no capabilities, a new session (no terminal injection);
- limits: address space, CPU time and file size per process (rlimits); total memory and number of processes
  through a cgroup where one can be created (v1 or v2), else RLIMIT_NPROC; per-cell and per-notebook timeouts;
  a budget on the size of all outputs.

On timeout the whole tree is killed: bubblewrap dies with its parent (``--die-with-parent``), every process in
the sandbox's PID namespace dies with it, and the cgroup, where there is one, is emptied with SIGKILL.

``sandbox=False`` runs the same runner without bubblewrap (for ``course grade --unsafe-no-sandbox`` and for
trusted solution runs): same timeouts, output budget and rlimits (except RLIMIT_NPROC), no isolation.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

import course_lib
from course_lib.grading.cgroup import Cgroup
from course_lib.grading.hiding import hidden_paths
from course_lib.grading.protocol import blank_copy, merge_answer, request_bytes

COURSE_LIB_DIR = Path(course_lib.__file__).resolve().parent
# Parts of course_lib that a submission must not see: they hold the answers to the exercises.
HIDDEN_FROM_SUBMISSIONS = ("nn_numpy", "nn_torch", "gradcheck.py", "baselines", "train.py", "metrics.py")
"""The ``course_lib`` package, the only part of the course repository visible inside the sandbox
(read-only)."""

ETC_FILES = ("ld.so.cache", "localtime", "hosts", "nsswitch.conf", "passwd", "group", "os-release")
"""Harmless ``/etc`` files that programs expect; the rest of ``/etc`` (secrets, config) stays invisible."""

TMPFS_BYTES = 256 * 1024 * 1024
"""Size of the sandbox's private ``/tmp``."""

START_GRACE = 60.0
"""Seconds added to the notebook timeout for starting the sandbox and the kernel, before the hard kill."""

SANDBOX_UID = 65534  # "nobody" inside the sandbox's user namespace


@dataclass
class Limits:
    """Per-submission limits."""

    cell_timeout: float = 60.0  # seconds one cell may run before it is interrupted
    notebook_timeout: float = 300.0  # seconds for the whole notebook
    memory_mb: int = 2048  # memory of the whole sandbox (cgroup) and address space of each process (rlimit)
    max_processes: int = 64  # processes (and threads) inside the sandbox
    max_output_bytes: int = 5_000_000  # size of all cell outputs together


@dataclass
class ExecutionResult:
    """What ``execute_notebook`` returns."""

    nb: nbformat.NotebookNode  # executed notebook; outputs filled; cells after a fatal error may be unexecuted
    status: str  # "ok", "timeout", "memory", "crashed", "output-limit", "sandbox-error"
    message: str


# ------------------------------------------------------------------------------------------------------------
# ------------------------------------------------------------------------------------------------------------
# The bubblewrap command line


def _python_roots():
    """Directories the interpreter needs, resolved: virtualenv, base installation, stdlib, site-packages."""
    executable_dir = os.path.dirname(os.path.realpath(sys.executable))
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, executable_dir}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        candidates.add(sysconfig.get_paths()[key])
    roots = set()
    for path in candidates:
        for variant in (path, os.path.realpath(path)):
            if os.path.isdir(variant):
                roots.add(variant)
    # Keep only the outermost directories, and never the root of the filesystem.
    return sorted(r for r in roots if r != "/" and not any(r != o and r.startswith(o + os.sep) for o in roots))


def bwrap_command(inner_command):
    """The ``bwrap`` argument list that runs ``inner_command`` in the sandbox.

    Parameters
    ----------
    inner_command : list of str
        Run inside the sandbox (its paths must be visible there).

    Returns
    -------
    list of str
    """
    isolation = "--unshare-all --unshare-user --disable-userns --cap-drop ALL --die-with-parent --new-session"
    identity = f"--uid {SANDBOX_UID} --gid {SANDBOX_UID} --hostname sandbox --clearenv"
    cmd = ["bwrap", *isolation.split(), *identity.split()]
    # The private /tmp comes first: a later bind (a virtualenv or a course checked out under /tmp) must sit on
    # top of it, not be hidden by it.
    cmd += ["--dev", "/dev", "--proc", "/proc", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
    for system_dir in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(system_dir):
            cmd += ["--symlink", os.readlink(system_dir), system_dir]
        elif os.path.isdir(system_dir):
            cmd += ["--ro-bind", system_dir, system_dir]
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            cmd += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
    # course_lib, read-only, at its own path: an editable install (a .pth pointing at the repository) then
    # finds it, while the rest of the repository (solutions/, tests, gradebook) does not exist inside.
    cmd += ["--ro-bind", str(COURSE_LIB_DIR), str(COURSE_LIB_DIR), "--chdir", "/tmp"]
    # The reference implementations are what the exercises ask learners to write: hide them, in every form and
    # every copy, so that a submission cannot simply import (or unmarshal) the answer. Exercise tests need only
    # checks (and data for the demos).
    for path in hidden_paths(COURSE_LIB_DIR, _python_roots(), HIDDEN_FROM_SUBMISSIONS):
        cmd += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    for key, value in sandbox_env().items():
        cmd += ["--setenv", key, value]
    return cmd + ["--"] + list(inner_command)


def sandbox_env():
    """The whole environment of the runner and the kernel (nothing of the grader's environment leaks in)."""
    return {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(COURSE_LIB_DIR.parent),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython",
        "JUPYTER_PLATFORM_DIRS": "1",
        # One thread per kernel: parallel graders share the cores, and every thread counts against
        # max_processes.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _runner_command(limits):
    cpu_seconds = int(limits.notebook_timeout + START_GRACE)
    numbers = (limits.cell_timeout, limits.notebook_timeout, limits.max_output_bytes, limits.memory_mb, cpu_seconds)
    return [sys.executable, "-m", "course_lib.grading.runner", *map(str, numbers)]


# ------------------------------------------------------------------------------------------------------------
# Availability


_AVAILABLE = None


def sandbox_available():
    """Check once per process that bubblewrap can build the sandbox and run Python with course_lib inside.

    Returns
    -------
    usable : bool
    why_not : str
        Empty when usable (otherwise what failed and how to fix it).
    """
    global _AVAILABLE
    if _AVAILABLE is None:
        _AVAILABLE = _probe()
    return _AVAILABLE


def _probe():
    if shutil.which("bwrap") is None:
        return False, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = "import socket, course_lib.grading.runner; socket.create_connection(('127.0.0.1', 9), timeout=1)"
    try:
        done = subprocess.run(bwrap_command([sys.executable, "-c", probe]), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"bubblewrap could not start: {error}"
    # The probe must reach Python, import course_lib, and find no server on the sandbox's own loopback.
    if "ConnectionRefusedError" not in done.stderr:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if last.startswith("bwrap:"):
            return False, (
                f"bubblewrap could not build the sandbox ({last}); user namespaces may be disabled "
                "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0, or on Ubuntu "
                "kernel.apparmor_restrict_unprivileged_userns=0)"
            )
        return False, f"the sandbox started, but Python inside it failed: {last}"
    return True, ""


# ------------------------------------------------------------------------------------------------------------
# Execution


def _read_capped(stream, limit, sink):
    """Read ``stream`` to its end, keeping about ``limit`` bytes in ``sink``, discarding the rest.

    Parameters
    ----------
    stream : binary file
        The stream to read.
    limit : int
        Bytes to keep.
    sink : list of bytes
        Where the kept chunks are appended.
    """
    kept = 0
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        if kept <= limit:
            sink.append(chunk[: limit - kept + 1])
            kept += len(chunk)


def _kill_tree(proc, cgroup):
    """Kill the runner and everything it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner's session (without sandbox: the runner and its children)
    except (ProcessLookupError, PermissionError):
        pass
    cgroup.kill_all()
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def execute_notebook(nb, *, limits=None, sandbox=True):
    """Execute ``nb`` in a fresh kernel, inside the sandbox unless ``sandbox=False``.

    Execution goes on after a cell error, so every graded cell gets its own verdict; after a fatal event (dead
    kernel, output limit, notebook timeout) later cells stay unexecuted. Never raises for anything the notebook does.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (version 4); not modified.
    limits : Limits, optional
        The limits (default: ``Limits()``).
    sandbox : bool
        False runs the same executor without bubblewrap (no isolation: trusted code only).

    Returns
    -------
    ExecutionResult
    """
    limits = limits or Limits()
    if sandbox and not sandbox_available()[0]:
        return ExecutionResult(blank_copy(nb), "sandbox-error", sandbox_available()[1])
    # Outside the sandbox, RLIMIT_NPROC would count all the user's processes: the runner gets 0 (no limit).
    inner = _runner_command(limits) + [str(limits.max_processes) if sandbox else "0"]
    cgroup = Cgroup(limits.memory_mb, limits.max_processes, enabled=sandbox)
    if sandbox and not cgroup.paths and os.geteuid() == 0:
        warnings.warn(
            "grading as root without a writable cgroup: the number of processes in a sandbox is not "
            "capped (the kernel exempts root from RLIMIT_NPROC)",
            RuntimeWarning,
            stacklevel=2,
        )
    workdir = None if sandbox else tempfile.mkdtemp(prefix="course-unsafe-")
    if sandbox:
        command, env = bwrap_command(inner), sandbox_env()
    else:
        private = {"HOME": workdir, "TMPDIR": workdir, "MPLCONFIGDIR": workdir, "IPYTHONDIR": workdir}
        command, env = inner, {**os.environ, **sandbox_env(), **private}
    try:
        outcome = _run(command, env, workdir, cgroup, request_bytes(nb), limits)
    finally:
        cgroup.remove()
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return _interpret(nb, *outcome, limits)


def _run(command, env, workdir, cgroup, request, limits):
    """Run the executor to its end (or kill it at the deadline).

    Parameters
    ----------
    command : list of str
        The executor's command (in bubblewrap or not).
    env : dict of str to str
        Its environment.
    workdir : str or None
        Its working directory (None: ``/``).
    cgroup : cgroup.Cgroup
        The cgroup to put it in.
    request : bytes
        What the runner reads (``protocol.request_bytes``).
    limits : Limits
        The limits.

    Returns
    -------
    tuple
        What ``_interpret`` needs: ``(returncode, stdout, stderr, answer_cap, timed_out, oom)``.
    """
    # A gate: the shell waits for one line before exec'ing the sandbox, so that its PID is in the cgroup
    # before anything inside can fork.
    gate = ["/bin/sh", "-c", 'read -r _go; exec "$@"', "gate"]
    pipe = subprocess.PIPE
    try:
        proc = subprocess.Popen(
            gate + command, stdin=pipe, stdout=pipe, stderr=pipe, env=env, cwd=workdir or "/", start_new_session=True
        )
    except OSError as error:
        return None, b"", f"bwrap: could not start the executor: {error}".encode(), 0, False, False
    answer_cap = len(request) + 2 * limits.max_output_bytes + (1 << 20)
    stdout, stderr = [], []
    readers = [
        threading.Thread(target=_read_capped, args=(proc.stdout, answer_cap, stdout), daemon=True),
        threading.Thread(target=_read_capped, args=(proc.stderr, 1 << 16, stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        cgroup.add(proc.pid)
        proc.stdin.write(b"go\n" + request)
        proc.stdin.close()
    except OSError:  # the executor died at once: its stderr says why
        pass
    try:
        proc.wait(timeout=limits.notebook_timeout + START_GRACE)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    _kill_tree(proc, cgroup)  # also reaps anything the notebook left running in the background
    proc.wait()
    for reader in readers:
        reader.join(timeout=10)
    return proc.returncode, b"".join(stdout), b"".join(stderr), answer_cap, timed_out, cgroup.oom_killed()


def _interpret(nb, returncode, stdout, stderr, answer_cap, timed_out, oom, limits):
    """Turn what the executor left behind into an ExecutionResult.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook that was sent.
    returncode : int or None
        The executor's exit status.
    stdout, stderr : bytes
        What it wrote (capped).
    answer_cap : int
        The most bytes an answer may have.
    timed_out : bool
        True if it was killed at the deadline.
    oom : bool
        True if the cgroup's OOM killer struck.
    limits : Limits
        The limits.

    Returns
    -------
    ExecutionResult
    """
    last_error = (stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
    if timed_out:
        message = f"the notebook did not finish within {limits.notebook_timeout:.0f} s and was killed"
        return ExecutionResult(blank_copy(nb), "timeout", message)
    if len(stdout) > answer_cap:
        return ExecutionResult(blank_copy(nb), "output-limit", "the executor's answer was larger than allowed")
    try:
        answer = json.loads(stdout.decode("utf-8"))
        status, message = answer["status"], str(answer["message"])
        if status not in ("ok", "timeout", "memory", "crashed", "output-limit"):
            raise ValueError(f"unknown status {status!r}")
        executed = merge_answer(nb, answer["cells"]) if answer["cells"] is not None else blank_copy(nb)
    except (ValueError, KeyError, TypeError):
        if oom:
            message = f"the sandbox used more than {limits.memory_mb} MiB and was killed"
            return ExecutionResult(blank_copy(nb), "memory", message)
        if last_error.startswith("bwrap:"):
            return ExecutionResult(blank_copy(nb), "sandbox-error", last_error)
        message = f"the executor stopped without an answer (exit status {returncode}) {last_error}"
        return ExecutionResult(blank_copy(nb), "crashed", message)
    if oom and status in ("ok", "crashed"):
        status, message = "memory", f"the sandbox used more than {limits.memory_mb} MiB; {message}"
    return ExecutionResult(executed, status, message)
