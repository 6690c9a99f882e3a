"""The sandbox that runs untrusted notebooks: what a notebook can see, reach and use, and how it is stopped.

Every property is checked by running real notebooks through ``sandbox.execute_notebook``. Where a check could
pass for a reason other than the sandbox (a file that does not exist anyway, a server that is not listening),
the same probe also runs *without* the sandbox and must then succeed: that proves the probe can fail.

The network probes only ever target 127.0.0.1 / localhost, where this test runs its own server.
"""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
import pytest
from net_helpers import CountingServer, processes_running

from course_lib.grading import cgroup, protocol, sandbox
from course_lib.grading.sandbox import Limits, execute_notebook

REPO = Path(__file__).resolve().parents[1]
HAS_BWRAP = shutil.which("bwrap") is not None
needs_sandbox = pytest.mark.skipif(
    not HAS_BWRAP or not sandbox.sandbox_available()[0],
    reason="bubblewrap is missing or unusable (see test_the_sandbox_works_where_bubblewrap_is_installed)",
)
pytestmark = pytest.mark.xdist_group("sandbox")  # the probe notebooks run once, on one worker
FAST = Limits(cell_timeout=3, notebook_timeout=30, memory_mb=1024, max_processes=48, max_output_bytes=200_000)


def notebook(*sources, **metadata):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata.update(metadata)
    return nb


def stdout_of(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def errors_of(cell):
    return [o.ename for o in cell.outputs if o.output_type == "error"]


def timed(nb, **kwargs):
    start = time.monotonic()
    result = execute_notebook(nb, **kwargs)
    return result, time.monotonic() - start


# A probe notebook: what can a submission see, write and reach? Each cell prints one JSON object.
PROBE_FILES = """
import json, os, sys
targets = {name: path for name, path in TARGETS.items()}
seen = {name: os.path.exists(path) for name, path in targets.items()}
readable = {}
for name, path in targets.items():
    try:
        with open(path, "rb") as f:
            f.read(16)
        readable[name] = True
    except OSError:
        readable[name] = False
print(json.dumps({"seen": seen, "readable": readable, "root": sorted(os.listdir("/")),
                  "repo": sorted(os.listdir(REPO)) if os.path.isdir(REPO) else None}))
"""
PROBE_WRITES = """
import json, os, course_lib
def try_write(path):
    try:
        with open(path, "w") as f:
            f.write("pwned")
        os.remove(path)
        return True
    except OSError:
        return False
package = os.path.dirname(course_lib.__file__)
print(json.dumps({"course_lib": course_lib.__file__,
                  "write_course_lib": try_write(os.path.join(package, "_sandbox_probe.py")),
                  "write_python": try_write(os.path.join(sys.prefix, "_sandbox_probe")),
                  "write_tmp": try_write("/tmp/_sandbox_probe" if os.path.isdir("/tmp") else "x"),
                  "uid": os.getuid()}))
"""
PROBE_NETWORK = """
import json, socket
def reach(host):
    try:
        with socket.create_connection((host, PORT), timeout=3) as s:
            return s.recv(64).decode()
    except OSError as error:
        return type(error).__name__
print(json.dumps({"ip": reach("127.0.0.1"), "name": reach("localhost"),
                  "interfaces": sorted(name for _, name in socket.if_nameindex())}))
"""
LATER_SECRET = "LATER-CELL-SECRET-7f3a9c"
PROBE_SECRECY = """
import json, os
found = []
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    for part in ("cmdline", "environ"):
        try:
            if SECRET.encode() in open(f"/proc/{pid}/{part}", "rb").read():
                found.append(f"/proc/{pid}/{part}")
        except OSError:
            pass
    try:  # the runner's memory holds the whole notebook
        if not DEEP_SCAN or b"course_lib.grading.runner" not in open(f"/proc/{pid}/cmdline", "rb").read():
            continue
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        with open(f"/proc/{pid}/mem", "rb") as mem:
            for line in maps:
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                if "rw" not in line.split()[1] or end - start > 1 << 28:
                    continue
                for chunk_start in range(start, end, 1 << 20):  # small reads: the probe has a memory limit
                    try:
                        mem.seek(chunk_start)
                        if SECRET.encode() in mem.read(min(1 << 20, end - chunk_start) + 64):
                            found.append(f"/proc/{pid}/mem")
                    except OSError:
                        pass
    except OSError:
        pass
for folder, _, files in os.walk("/tmp") if DEEP_SCAN else []:
    for name in files:
        try:
            if SECRET.encode() in open(os.path.join(folder, name), "rb").read():
                found.append(os.path.join(folder, name))
        except OSError:
            pass
print(json.dumps({"found": sorted(set(found))}))
"""


def probe_notebook(port, canary, home_canary, deep_scan):
    targets = {
        "solutions": str(REPO / "solutions"),
        "tests": str(REPO / "tests" / "test_sandbox.py"),
        "git": str(REPO / ".git"),
        "makefile": str(REPO / "Makefile"),
        "home": str(home_canary),
        "shadow": "/etc/shadow",
        "canary": str(canary),
    }
    header = (
        f"TARGETS = {targets!r}\nREPO = {str(REPO)!r}\nPORT = {port}\nDEEP_SCAN = {deep_scan}\n"
        # split, so that the secret itself appears only in the later cell
        f"SECRET = {LATER_SECRET[:10]!r} + {LATER_SECRET[10:]!r}"
    )
    return notebook(
        header,
        PROBE_FILES,
        PROBE_WRITES,
        PROBE_NETWORK,
        PROBE_SECRECY,
        f"x = 1  # {LATER_SECRET}",
        "from course_lib.checks import report\nimport numpy as np\nreport('probe', np.arange(3.0))",
        kernelspec={"name": "no-such-kernel", "display_name": "evil", "language": "bash"},
    )


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    """The probe notebook run inside the sandbox and, for comparison, without it."""
    canary = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    canary.write_text("grades of every student")
    # a file in the grader's home directory (which may hold credentials): removed at the end
    home_canary = Path.home() / f".course-sandbox-canary-{os.getpid()}"
    home_canary.write_text("an API token")
    server = CountingServer()
    try:
        limits = Limits(cell_timeout=30, notebook_timeout=120)
        inside = None
        if HAS_BWRAP and sandbox.sandbox_available()[0]:
            inside = execute_notebook(probe_notebook(server.port, canary, home_canary, True), limits=limits)
        accepted_inside = server.accepted
        # Outside, scanning runners' memory and /tmp would read the whole machine's: meaningful inside only.
        outside = execute_notebook(
            probe_notebook(server.port, canary, home_canary, False), limits=limits, sandbox=False
        )
    finally:
        server.close()
        home_canary.unlink()
    return inside, accepted_inside, outside


def probe_json(result, index):
    return json.loads(stdout_of(result.nb.cells[index]))


def test_the_sandbox_works_where_bubblewrap_is_installed():
    if not HAS_BWRAP:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    usable, why_not = sandbox.sandbox_available()
    assert usable, why_not


@needs_sandbox
def test_the_probe_notebook_runs_normally_and_reports(probes):
    inside, _, outside = probes
    for result in (inside, outside):
        assert result.status == "ok", result.message
        assert all(not errors_of(c) for c in result.nb.cells), [errors_of(c) for c in result.nb.cells]
        last = result.nb.cells[-1].outputs
        assert [o.output_type for o in last] == ["display_data"]
        assert last[0].data["application/vnd.rnn-course.report+json"]["key"] == "probe"


@needs_sandbox
def test_nothing_of_the_repository_the_home_or_the_gradebook_is_visible(probes):
    inside, _, outside = probes
    seen_inside, seen_outside = probe_json(inside, 1), probe_json(outside, 1)
    for name in ("solutions", "tests", "git", "makefile", "canary", "home"):
        assert seen_outside["seen"][name], f"{name} should exist outside the sandbox (else the probe proves nothing)"
        assert not seen_inside["seen"][name], f"{name} is visible inside the sandbox"
        assert not seen_inside["readable"][name], name
    assert not seen_inside["readable"]["shadow"]
    # Of the repository only course_lib (and the virtualenv, if it lives there) is mounted.
    assert set(seen_inside["repo"]) <= {"course_lib", ".venv"}
    assert "course_lib" in seen_inside["repo"]


@needs_sandbox
def test_course_lib_is_importable_but_read_only_and_tmp_is_writable(probes):
    inside, _, outside = probes
    writes_inside, writes_outside = probe_json(inside, 2), probe_json(outside, 2)
    assert writes_inside["course_lib"] == writes_outside["course_lib"]  # the same package, at the same path
    assert not writes_inside["write_course_lib"]
    assert not writes_inside["write_python"]
    assert writes_inside["write_tmp"]
    assert writes_inside["uid"] != 0
    assert not (REPO / "course_lib" / "_sandbox_probe.py").exists()


@needs_sandbox
def test_the_reference_implementations_are_hidden_but_checks_and_data_are_not():
    sources = (
        "from course_lib import checks; print('checks')",
        "from course_lib.nn_numpy import rnn_forward",
        "from course_lib.gradcheck import numerical_gradient",
        "from course_lib.nn_torch import RNN",
        "from course_lib.data import split_dataset; print('data')",
    )
    inside = execute_notebook(notebook(*sources), limits=FAST)
    outside = execute_notebook(notebook(*sources), limits=FAST, sandbox=False)
    assert [errors_of(c) for c in outside.nb.cells] == [[]] * 5  # the imports work outside: the probe can fail
    assert stdout_of(inside.nb.cells[0]) == "checks\n" and stdout_of(inside.nb.cells[4]) == "data\n"
    for cell in inside.nb.cells[1:4]:
        assert errors_of(cell) and errors_of(cell)[0] in ("ImportError", "ModuleNotFoundError"), cell.outputs


@needs_sandbox
def test_no_connection_leaves_the_sandbox(probes):
    inside, accepted_inside, outside = probes
    net_inside, net_outside = probe_json(inside, 3), probe_json(outside, 3)
    assert net_outside["ip"] == "SECRET-FROM-THE-HOST"  # the server was really there
    assert net_inside["ip"] == "ConnectionRefusedError"
    assert net_inside["name"] != "SECRET-FROM-THE-HOST"
    assert net_inside["interfaces"] == ["lo"]
    assert accepted_inside == 0


@needs_sandbox
def test_a_cell_cannot_read_later_cells_from_the_runner(probes):
    inside, _, _ = probes
    assert probe_json(inside, 4) == {"found": []}


@needs_sandbox
def test_a_loop_is_interrupted_memory_errors_are_caught_and_later_cells_still_run():
    nb = notebook(
        "import numpy as np\nstarted = True",
        "while True:\n    pass",
        "too_big = np.ones(10**10)",
        "hoard = []\nwhile True:\n    hoard.append(bytearray(10**7))",
        "del hoard\nprint('still alive', started)",
    )
    result, elapsed = timed(nb, limits=FAST)
    assert result.status == "timeout"  # the most severe event of the run
    assert errors_of(result.nb.cells[1]) == ["TimeoutError"]
    assert errors_of(result.nb.cells[2]) == ["MemoryError"]
    assert errors_of(result.nb.cells[3]) == ["MemoryError"]
    assert stdout_of(result.nb.cells[4]) == "still alive True\n"
    assert elapsed < 30


@needs_sandbox
@pytest.mark.slow
def test_a_kernel_that_ignores_the_interrupt_is_killed():
    nb = notebook(
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass", "print('never')"
    )
    result, elapsed = timed(nb, limits=FAST)
    assert result.status == "timeout"
    assert errors_of(result.nb.cells[0]) == ["TimeoutError"]
    assert result.nb.cells[1].outputs == [] and result.nb.cells[1].execution_count is None
    assert elapsed < 30


@needs_sandbox
def test_the_notebook_timeout_stops_a_run_of_slow_cells():
    limits = Limits(cell_timeout=3, notebook_timeout=4)
    nb = notebook(*["import time\ntime.sleep(1.5)"] * 6)
    result, elapsed = timed(nb, limits=limits)
    assert result.status == "timeout"
    assert result.nb.cells[-1].execution_count is None
    assert elapsed < 20


@needs_sandbox
def test_os_exit_ends_the_run_without_taking_the_grader_down():
    stale = nbformat.v4.new_output("stream", name="stdout", text="stale output from the learner's machine\n")
    nb = notebook("print('before')", "import os\nos._exit(3)", "print('after')")
    nb.cells[2].outputs = [stale]
    nb.cells[2].execution_count = 7
    result, elapsed = timed(nb, limits=FAST)
    assert result.status == "crashed"
    assert "exit status 3" in result.message
    assert stdout_of(result.nb.cells[0]) == "before\n"
    assert result.nb.cells[2].outputs == [] and result.nb.cells[2].execution_count is None
    assert elapsed < 30


@needs_sandbox
def test_a_fork_bomb_is_bounded_and_no_process_outlives_the_run():
    root_without_cgroup = os.geteuid() == 0 and not cgroup.cgroups_available()
    if root_without_cgroup:
        pytest.skip("as root without a writable cgroup, the number of processes cannot be capped")
    marker = "987.654321"  # a unique sleep duration marks the children in /proc/*/cmdline
    nb = notebook(
        "import os\nchildren = 0\nfor _ in range(500):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n"
        f"        os.execvp('sleep', ['sleep', '{marker}'])\n    children += 1\nprint(children)"
    )
    result, elapsed = timed(nb, limits=FAST)
    children = int(stdout_of(result.nb.cells[0]))
    assert children < FAST.max_processes
    assert elapsed < 30
    time.sleep(0.5)
    assert processes_running(marker) == []


@needs_sandbox
def test_printing_gigabytes_stops_at_the_output_budget():
    nb = notebook("import sys\nfor _ in range(10**7):\n    sys.stdout.write('x' * 1000)", "print('never')")
    result, elapsed = timed(nb, limits=FAST)
    assert result.status == "output-limit"
    assert errors_of(result.nb.cells[0]) == ["OutputLimitError"]
    assert result.nb.cells[1].execution_count is None
    assert len(nbformat.writes(result.nb)) < 2 * FAST.max_output_bytes
    assert elapsed < 30


MANY_HUNGRY_CHILDREN = """
import os, time
pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            block = bytearray(400 * 10**6)
            for i in range(0, len(block), 4096):  # touch every page: the memory is really used
                block[i] = 1
            time.sleep(2)
        except MemoryError:
            os._exit(1)
        finally:
            os._exit(0)
    pids.append(pid)
print([os.waitpid(pid, 0)[1] for pid in pids])
"""


@needs_sandbox
@pytest.mark.slow
def test_the_memory_of_all_processes_together_is_capped():
    if not cgroup.cgroups_available():
        pytest.skip("no writable cgroup here: only the per-process address-space limit applies")
    limits = Limits(cell_timeout=20, notebook_timeout=40, memory_mb=1200)
    nb = notebook(MANY_HUNGRY_CHILDREN)
    result = execute_notebook(nb, limits=limits)
    statuses = json.loads(stdout_of(result.nb.cells[0]))
    assert 9 in statuses  # some child was killed (SIGKILL = 9) by the cgroup's OOM killer: 4 x 400 MB > 1200 MiB
    assert result.status == "memory"


def test_an_unusable_sandbox_gives_a_status_not_an_exception(monkeypatch):
    monkeypatch.setattr(sandbox, "_AVAILABLE", (False, "bubblewrap is not installed"))
    nb = notebook("print('must not run')")
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="stale\n")]
    result = execute_notebook(nb)
    assert result.status == "sandbox-error"
    assert "bubblewrap" in result.message
    assert result.nb.cells[0].outputs == []


def test_only_well_formed_outputs_are_taken_from_the_runners_answer():
    sent = notebook("a = 1", "b = 2")
    sent.cells[0].metadata["nbgrader"] = {"grade": True, "points": 3, "grade_id": "t"}
    answer = [
        {
            "source": "import os  # replaced by the runner?",
            "metadata": {"nbgrader": {"points": 100}},
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": "hi\n"},
                {"output_type": "display_data", "data": ["not", "a", "bundle"]},
                {"output_type": "error", "ename": 1},
                "junk",
            ],
            "execution_count": 1,
        },
        {"outputs": "junk", "execution_count": "1"},
    ]
    merged = protocol.merge_answer(sent, answer)
    assert [c.source for c in merged.cells] == ["a = 1", "b = 2"]
    assert merged.cells[0].metadata["nbgrader"]["points"] == 3
    assert [o.output_type for o in merged.cells[0].outputs] == ["stream"]
    assert merged.cells[0].execution_count == 1
    assert merged.cells[1].outputs == [] and merged.cells[1].execution_count is None
    nbformat.validate(merged)
    with pytest.raises(ValueError):
        protocol.merge_answer(sent, answer + answer)


def test_unsandboxed_mode_runs_the_same_executor():
    result = execute_notebook(notebook("import sys\nprint(sys.executable)", "1/0", "print(2)"), sandbox=False)
    assert result.status == "ok"
    assert stdout_of(result.nb.cells[0]).strip() == sys.executable
    assert errors_of(result.nb.cells[1]) == ["ZeroDivisionError"]
    assert stdout_of(result.nb.cells[2]) == "2\n"


@needs_sandbox
def test_a_course_checked_out_under_tmp_is_visible_above_the_private_tmp(tmp_path, monkeypatch):
    copy = tmp_path / "checkout" / "course_lib"  # pytest's tmp_path lies under /tmp, like a fresh clone might
    shutil.copytree(sandbox.COURSE_LIB_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sandbox, "COURSE_LIB_DIR", copy)
    result = execute_notebook(notebook("import course_lib\nprint(course_lib.__file__)"), limits=FAST)
    assert result.status == "ok", result.message
    assert stdout_of(result.nb.cells[0]).strip() == str(copy / "__init__.py")


@needs_sandbox
def test_files_fit_in_the_private_tmp_but_cannot_fill_the_disk():
    nb = notebook(
        "with open('/tmp/checkpoint.bin', 'wb') as f:\n    f.write(b'w' * 20 * 2**20)\nprint('saved')",
        "import itertools\nfor i in itertools.count():\n    with open(f'/tmp/fill{i}', 'wb') as f:\n"
        "        f.write(b'x' * 2**20)",
        "import os\nprint(len(os.listdir('/tmp')) > 1)",
    )
    result, elapsed = timed(nb, limits=FAST)
    assert stdout_of(result.nb.cells[0]) == "saved\n"
    assert errors_of(result.nb.cells[1]) == ["OSError"]  # "No space left on device", in the sandbox only
    assert stdout_of(result.nb.cells[2]) == "True\n"
    assert elapsed < 30


PROBE_HIDDEN_FORMS = """
import importlib.machinery, importlib.util, json, os
found = {}
for path in CANDIDATES:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        found[path] = type(error).__name__
        continue
    if not data:
        found[path] = "empty"
    elif path.endswith(".pyc") and os.path.basename(path).startswith("gradcheck"):
        try:
            loader = importlib.machinery.SourcelessFileLoader("stolen", path)
            module = importlib.util.module_from_spec(importlib.util.spec_from_loader("stolen", loader))
            loader.exec_module(module)
            found[path] = "loaded" if callable(getattr(module, "numerical_gradient", None)) else "no function"
        except Exception as error:
            found[path] = "load failed: " + type(error).__name__
    else:
        found[path] = "readable"
print(json.dumps(found))
"""


@needs_sandbox
def test_hidden_modules_are_hidden_as_byte_code_and_in_every_copy(tmp_path, monkeypatch):
    """Issue 16, item 2: with byte-code caches present (compiled first), neither the sources nor the .pyc of the
    hidden modules can be read, in the package, in a copy installed in site-packages, or in the folder an
    editable install's finder maps course_lib to. Unsandboxed, the same probe loads numerical_gradient from the
    byte code: the probe can fail."""
    import compileall

    from course_lib.grading import hiding

    checkout = tmp_path / "checkout" / "course_lib"
    site = tmp_path / "site-packages"
    editable = tmp_path / "site-packages" / "src" / "course_lib"
    copies = (checkout, site / "course_lib", editable)
    for copy in copies:
        shutil.copytree(sandbox.COURSE_LIB_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
        assert compileall.compile_dir(copy, quiet=1)
    cache = next((checkout / "__pycache__").glob("gradcheck.*.pyc"))
    shutil.copyfile(cache, checkout / "gradcheck.pyc")  # a sourceless module beside the package's own
    (site / "__editable___course_lib_0_1_0_finder.py").write_text(f"MAPPING: dict = {{'course_lib': '{editable}'}}\n")
    real_roots = sandbox._python_roots()
    monkeypatch.setattr(sandbox, "COURSE_LIB_DIR", checkout)
    monkeypatch.setattr(sandbox, "_python_roots", lambda: [*real_roots, str(site)])
    real_site_dirs = hiding._site_dirs()
    monkeypatch.setattr(hiding, "_site_dirs", lambda: [str(site), *real_site_dirs])

    stems = {Path(n).stem for n in sandbox.HIDDEN_FROM_SUBMISSIONS}
    candidates = sorted(
        str(p)
        for copy in copies
        for p in copy.rglob("*")
        if p.is_file()
        and p.relative_to(copy).parts
        and (p.relative_to(copy).parts[0].split(".")[0] in stems or p.name.split(".")[0] in stems)
    )
    assert any(c.endswith(".pyc") and "/__pycache__/gradcheck." in c for c in candidates)
    assert any("/nn_numpy/__pycache__/" in c for c in candidates)
    nb = notebook(f"CANDIDATES = {candidates!r}\n" + PROBE_HIDDEN_FORMS)
    outside = execute_notebook(nb, limits=FAST, sandbox=False)
    inside = execute_notebook(nb, limits=FAST)
    assert outside.status == inside.status == "ok", (outside.message, inside.message)
    seen_outside, seen_inside = json.loads(stdout_of(outside.nb.cells[0])), json.loads(stdout_of(inside.nb.cells[0]))
    stolen = [p for p, how in seen_outside.items() if how == "loaded"]
    assert len(stolen) >= 4, seen_outside  # each copy's cache, and the sourceless .pyc: real ways in
    assert all(how in ("loaded", "readable") for how in seen_outside.values()), seen_outside
    leaks = {p: how for p, how in seen_inside.items() if how not in ("empty", "FileNotFoundError", "PermissionError")}
    assert leaks == {}
