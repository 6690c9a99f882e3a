"""Execute an untrusted notebook inside a bubblewrap sandbox, under resource limits and timeouts.

The learner's kernel runs *inside* the sandbox: bubblewrap (``bwrap``) starts ``python -m
course_lib.grading.runner``, which reads the notebook on standard input, executes it with a fresh IPython
kernel and writes the executed notebook on standard output (see ``runner.py``). Inside the sandbox there is

- no network (a private network namespace with only its own loopback);
- a read-only view of the system (``/usr``), the Python installation and virtualenv, and the ``course_lib``
  package itself, and nothing else of the course repository: no ``solutions/``, no gradebook or grading
  output, no other submission, no home directory, only a handful of harmless files of ``/etc``;
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
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

import course_lib

COURSE_LIB_DIR = Path(course_lib.__file__).resolve().parent
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
# cgroups: a hard cap on the memory and the number of processes of the whole sandbox, where the system lets us


class Cgroup:
    """A throwaway cgroup (v2, or v1 ``memory`` + ``pids``) with memory and process limits, or nothing.

    Creating one needs write access to the cgroup tree (root in a container, or a delegated v2 subtree). When
    it is not possible, ``self.paths`` is empty and every method does nothing: the rlimits still apply.
    """

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self, memory_mb, max_processes, enabled=True):
        self.paths = []
        if not enabled:
            return
        name = f"course-sandbox-{uuid.uuid4().hex[:12]}"
        try:
            if (self.ROOT / "cgroup.controllers").exists():
                self._make_v2(name, memory_mb, max_processes)
            else:
                self._make_v1(name, memory_mb, max_processes)
        except OSError:
            self.remove()
            self.paths = []

    @staticmethod
    def _own(controller):
        """This process's cgroup path in a hierarchy ("" for the v2 unified one)."""
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path.lstrip("/")
        raise OSError(f"no {controller} cgroup")

    def _make_v2(self, name, memory_mb, max_processes):
        path = self.ROOT / self._own("") / name
        path.mkdir()
        self.paths = [path]
        (path / "memory.max").write_text(str(memory_mb * 1024 * 1024))
        if (path / "memory.swap.max").exists():
            (path / "memory.swap.max").write_text("0")
        (path / "pids.max").write_text(str(max_processes))

    def _make_v1(self, name, memory_mb, max_processes):
        memory = self.ROOT / "memory" / self._own("memory") / name
        pids = self.ROOT / "pids" / self._own("pids") / name
        memory.mkdir()
        self.paths.append(memory)
        pids.mkdir()
        self.paths.append(pids)
        (memory / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
        (pids / "pids.max").write_text(str(max_processes))

    def add(self, pid):
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(pid))

    def oom_killed(self):
        """True if the kernel's OOM killer killed a process of this cgroup."""
        for path in self.paths:
            for name in ("memory.events", "memory.oom_control"):
                try:
                    for line in (path / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value) > 0:
                            return True
                except (OSError, ValueError):
                    continue
        return False

    def kill_all(self):
        """SIGKILL every process still in the cgroup (a fork bomb that outlived its parent, for example)."""
        for _ in range(50):
            pids = set()
            for path in self.paths:
                try:
                    pids.update(int(p) for p in (path / "cgroup.procs").read_text().split())
                except (OSError, ValueError):
                    continue
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self):
        self.kill_all()
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # processes are still exiting
                    time.sleep(0.02)


def cgroups_available():
    """True if this process can create the sandbox's cgroup (caps on total memory and process count)."""
    probe = Cgroup(64, 8)
    usable = bool(probe.paths)
    probe.remove()
    return usable


# ------------------------------------------------------------------------------------------------------------
# The bubblewrap command line


def _python_roots():
    """Directories the interpreter needs, resolved: virtualenv, base installation, stdlib, site-packages."""
    candidates = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
    }
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

    Inputs:
    - inner_command: list of str, run inside the sandbox (its paths must be visible there)

    Returns a list of str.
    """
    cmd = [
        "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--disable-userns",
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--clearenv",
    ]
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
    return [
        sys.executable,
        "-m",
        "course_lib.grading.runner",
        str(limits.cell_timeout),
        str(limits.notebook_timeout),
        str(limits.max_output_bytes),
        str(limits.memory_mb),
        str(cpu_seconds),
    ]


# ------------------------------------------------------------------------------------------------------------
# Availability


_AVAILABLE = None


def sandbox_available():
    """Check once per process that bubblewrap can build the sandbox and run Python with course_lib inside.

    Returns a tuple of:
    - usable: bool
    - why_not: str, empty when usable (otherwise what failed and how to fix it)
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
    """Read ``stream`` to its end, keeping about ``limit`` bytes in ``sink`` (a list), discarding the rest."""
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


def _is_text(value):
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _clean_output(output):
    """``output`` as a well-formed nbformat 4 output, or None if it is not one (it is then dropped)."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream" and output.get("name") in ("stdout", "stderr") and _is_text(output.get("text")):
        return nbformat.v4.new_output("stream", name=output["name"], text=output["text"])
    if kind == "error" and isinstance(output.get("ename"), str) and isinstance(output.get("evalue"), str):
        traceback = output.get("traceback")
        return nbformat.v4.new_output(
            "error", ename=output["ename"], evalue=output["evalue"], traceback=traceback if _is_text(traceback) else []
        )
    if kind in ("display_data", "execute_result"):
        data, metadata = output.get("data"), output.get("metadata", {})
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data) or not isinstance(metadata, dict):
            return None
        clean = nbformat.from_dict({"output_type": kind, "data": data, "metadata": metadata})
        if kind == "execute_result":
            count = output.get("execution_count")
            clean["execution_count"] = count if isinstance(count, int) else None
        return clean
    return None


def _merge_outputs(original, executed_cells):
    """``original`` with the outputs, execution counts and timings that the runner sent for its code cells.

    Sources, cell types and metadata stay the caller's: the runner shares the sandbox with the learner's code,
    so its answer is data to check, not to trust. Malformed outputs are dropped.
    """
    merged = _blank_copy(original)
    if not isinstance(executed_cells, list) or len(executed_cells) != len(merged.cells):
        raise ValueError("the runner's answer does not have the cells that were sent")
    for cell, done in zip(merged.cells, executed_cells, strict=True):
        if cell.cell_type != "code" or not isinstance(done, dict):
            continue
        outputs = done.get("outputs") if isinstance(done.get("outputs"), list) else []
        cell.outputs = [clean for clean in map(_clean_output, outputs) if clean is not None]
        count = done.get("execution_count")
        cell.execution_count = count if isinstance(count, int) else None
        timing = done.get("execution")
        if isinstance(timing, dict) and timing and all(isinstance(v, str) for v in timing.values()):
            cell.metadata["execution"] = {str(k): v for k, v in timing.items()}
    return merged


def _blank_copy(nb):
    blank = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in blank.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)  # stale timings from the learner's machine
    return blank


def execute_notebook(nb, *, limits=None, sandbox=True):
    """Execute ``nb`` in a fresh kernel, inside the sandbox unless ``sandbox=False``.

    Inputs:
    - nb: nbformat.NotebookNode (version 4); not modified
    - limits: a ``Limits`` (default: ``Limits()``)
    - sandbox: False runs the same executor without bubblewrap (no isolation: trusted code only)

    Returns an ``ExecutionResult``. Execution goes on after a cell error, so every graded cell gets its own
    verdict; after a fatal event (dead kernel, output limit, notebook timeout) later cells stay unexecuted.
    Never raises for anything the notebook does.
    """
    limits = limits or Limits()
    if sandbox:
        usable, why_not = sandbox_available()
        if not usable:
            return ExecutionResult(_blank_copy(nb), "sandbox-error", why_not)
    # The runner gets cell types and sources only: no metadata, no outputs (it needs nothing else).
    cells = [{"cell_type": c.cell_type, "source": "".join(c.source)} for c in nb.cells]
    source = json.dumps({"cells": cells}).encode("utf-8")
    inner = _runner_command(limits)
    # Outside the sandbox RLIMIT_NPROC would count all of the user's processes: the runner gets 0 (no limit)
    # there.
    inner.append(str(limits.max_processes) if sandbox else "0")
    cgroup = Cgroup(limits.memory_mb, limits.max_processes, enabled=sandbox)
    if sandbox and not cgroup.paths and os.geteuid() == 0:
        warnings.warn(
            "grading as root without a writable cgroup: the number of processes in a sandbox is not capped "
            "(the kernel exempts root from RLIMIT_NPROC)",
            RuntimeWarning,
            stacklevel=2,
        )
    workdir = tempfile.mkdtemp(prefix="course-unsafe-") if not sandbox else None
    # A gate: the shell waits for one line before exec'ing the sandbox, so that its PID is in the cgroup
    # before anything inside can fork.
    command = bwrap_command(inner) if sandbox else inner
    env = (
        sandbox_env()
        if sandbox
        else {
            **os.environ,
            **sandbox_env(),
            "HOME": workdir,
            "TMPDIR": workdir,
            "MPLCONFIGDIR": workdir,
            "IPYTHONDIR": os.path.join(workdir, "ipython"),
        }
    )
    gate = ["/bin/sh", "-c", 'read -r _go; exec "$@"', "gate"]
    try:
        proc = subprocess.Popen(
            gate + command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=workdir or "/",
            start_new_session=True,
        )
    except OSError as error:
        cgroup.remove()
        return ExecutionResult(_blank_copy(nb), "sandbox-error", f"could not start the executor: {error}")
    result_cap = len(source) + 2 * limits.max_output_bytes + (1 << 20)
    stdout_chunks, stderr_chunks = [], []
    readers = [
        threading.Thread(target=_read_capped, args=(proc.stdout, result_cap, stdout_chunks), daemon=True),
        threading.Thread(target=_read_capped, args=(proc.stderr, 1 << 16, stderr_chunks), daemon=True),
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        cgroup.add(proc.pid)
        proc.stdin.write(b"go\n" + source)
        proc.stdin.close()
    except (OSError, BrokenPipeError):
        pass
    try:
        proc.wait(timeout=limits.notebook_timeout + START_GRACE)
    except subprocess.TimeoutExpired:
        timed_out = True
    _kill_tree(proc, cgroup)  # also reaps anything the notebook left running in the background
    proc.wait()
    for reader in readers:
        reader.join(timeout=10)
    oom = cgroup.oom_killed()
    cgroup.remove()
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return _interpret(
        nb,
        proc.returncode,
        b"".join(stdout_chunks),
        b"".join(stderr_chunks),
        result_cap,
        timed_out,
        oom,
        limits,
    )


def _interpret(nb, returncode, stdout, stderr, result_cap, timed_out, oom, limits):
    """Turn what the runner left into an ExecutionResult."""
    error_tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if timed_out:
        return ExecutionResult(
            _blank_copy(nb),
            "timeout",
            f"the notebook did not finish within {limits.notebook_timeout:.0f} s and was killed",
        )
    if len(stdout) > result_cap:
        return ExecutionResult(_blank_copy(nb), "output-limit", "the executor's answer was larger than allowed")
    try:
        answer = json.loads(stdout.decode("utf-8"))
        status, message = answer["status"], str(answer["message"])
        if status not in ("ok", "timeout", "memory", "crashed", "output-limit"):
            raise ValueError(f"unknown status {status!r}")
        executed = _merge_outputs(nb, answer["cells"]) if answer["cells"] is not None else _blank_copy(nb)
    except (ValueError, KeyError, TypeError):
        if oom:
            return ExecutionResult(
                _blank_copy(nb), "memory", f"the sandbox used more than {limits.memory_mb} MiB and was killed"
            )
        if error_tail[0].startswith("bwrap:"):
            return ExecutionResult(_blank_copy(nb), "sandbox-error", error_tail[0])
        return ExecutionResult(
            _blank_copy(nb),
            "crashed",
            f"the executor stopped without an answer (exit status {returncode}) {error_tail[0]}",
        )
    if oom and status in ("ok", "crashed"):
        status, message = "memory", f"the sandbox used more than {limits.memory_mb} MiB; {message}"
    return ExecutionResult(executed, status, message)
