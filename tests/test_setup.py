"""The set-up that `make book` and `make test` do on a fresh machine: the system-package script and the rule that a
missing sandbox never passes silently."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "system-packages.sh"
CONFTEST = (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")


def _bin_dir(tmp_path, *, uid, tools=("ls", "grep", "cat")):
    """A PATH holding only the given real tools plus stubs: `id -u` prints uid, apt-get records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/apt.log\n')
    for stub in ("id", "apt-get"):
        (bin_dir / stub).chmod(0o755)
    return bin_dir


def _run(bin_dir, what):
    env = {"PATH": str(bin_dir), "PYTHON": shutil.which("python3") or "python3"}
    return subprocess.run(["/bin/bash", str(SCRIPT), what], env=env, capture_output=True, text=True, timeout=60)


def test_as_root_the_script_installs_what_is_missing(tmp_path):
    result = _run(_bin_dir(tmp_path, uid=0), "test")
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "apt.log").read_text()
    assert "update" in log
    install = next(line for line in log.splitlines() if line.startswith("install"))
    for package in ("chromium", "bubblewrap", "npm", "fonts-noto-cjk"):
        assert package in install.split(), install


def test_the_book_needs_fewer_packages_than_the_tests(tmp_path):
    _run(_bin_dir(tmp_path, uid=0), "book")
    install = next(line for line in (tmp_path / "apt.log").read_text().splitlines() if line.startswith("install"))
    assert "npm" in install.split() and "chromium" not in install.split() and "bubblewrap" not in install.split()


def test_without_root_it_stops_at_once_with_the_command_to_run(tmp_path):
    result = _run(_bin_dir(tmp_path, uid=1000), "test")
    assert result.returncode == 1
    assert not (tmp_path / "apt.log").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "sudo apt-get install" in lines[0] and "bubblewrap" in lines[0], result.stderr


def test_the_check_can_be_skipped_explicitly(tmp_path):
    bin_dir = _bin_dir(tmp_path, uid=1000)
    env = {"PATH": str(bin_dir), "COURSE_SKIP_SYSTEM_PACKAGES": "1"}
    result = subprocess.run(["/bin/bash", str(SCRIPT), "test"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not (tmp_path / "apt.log").exists()


SKIPPING_TEST = """
import pytest

@pytest.mark.skipif(True, reason="bubblewrap is not installed")
def test_needs_the_sandbox():
    pass

def test_other():
    pytest.skip("no GPU here")
"""


def test_a_missing_sandbox_fails_the_run(pytester, monkeypatch):
    monkeypatch.delenv("COURSE_ALLOW_NO_SANDBOX", raising=False)
    pytester.makeconftest(CONFTEST.replace('pytest_plugins = ["pytester"]', ""))
    pytester.makepyfile(SKIPPING_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1, skipped=1)  # the skip in set-up becomes an error: the run fails
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*COURSE_ALLOW_NO_SANDBOX=1*"])


def test_an_explicit_opt_out_skips_and_says_so(pytester, monkeypatch):
    monkeypatch.setenv("COURSE_ALLOW_NO_SANDBOX", "1")
    pytester.makeconftest(CONFTEST.replace('pytest_plugins = ["pytester"]', ""))
    pytester.makepyfile(SKIPPING_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*1 security tests SKIPPED: no sandbox*"])
    assert result.ret == 0
