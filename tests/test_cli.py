"""The ``course`` command's conventions: --version, python -m course_lib, options after the subcommand, numbers
validated, and every unknown exercise set refused with one line and exit status 2."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import course_lib
from course_lib.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"course {course_lib.__version__}"


def test_python_dash_m_runs_the_command():
    out = subprocess.run([sys.executable, "-m", "course_lib", "--help"], capture_output=True, text=True, check=True)
    assert "examples:" in out.stdout and "exit status:" in out.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["release", "nosuch"],
        ["--root", "ROOT", "release", "nosuch"],
        ["release", "nosuch", "--root", "ROOT"],
        ["check", "exercises/rnn/rnn.ipynb", "--assignment", "nosuch", "--root", "ROOT"],
        ["grade", "nosuch", "ROOT/exercises", "--out", "OUT", "--root", "ROOT"],
    ],
)
def test_an_unknown_exercise_set_is_one_line_and_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = [a.replace("ROOT", str(ROOT)).replace("OUT", str(tmp_path / "out")) for a in argv]
    assert main(argv + (["--unsafe-no-sandbox"] if argv[0] == "grade" else [])) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith(("WARNING", "Grading"))]
    assert len(err) == 1 and "no exercise set named 'nosuch'" in err[0] and "rnn" in err[0], err


@pytest.mark.parametrize(
    "argv",
    [
        ["grade", "rnn", "subs", "--out", "out", "--workers", "0"],
        ["grade", "rnn", "subs", "--out", "out", "--cell-timeout", "-5"],
        ["grade", "rnn", "subs", "--out", "out", "--memory-mb", "lots"],
        ["check", "nb.ipynb", "--cell-timeout", "0"],
    ],
)
def test_numbers_are_validated(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "must be greater than 0" in err or "is not a number" in err


def test_an_empty_submissions_folder_warns(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    (tmp_path / "subs").mkdir()
    status = main(["grade", "rnn", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--unsafe-no-sandbox"])
    assert status == 0
    assert "is empty: there is nothing to grade" in capsys.readouterr().err


def test_the_instructor_guide_documents_every_grading_option_and_the_jupyterhub_path():
    """Issue 16 asks for a guide an instructor can run a term from: every option of ``course grade`` and
    ``course export`` is explained there, and so is the JupyterHub path (course grade, not nbgrader autograde)."""
    from course_lib.cli import build_parser

    guide = (ROOT / "book" / "instructor.md").read_text(encoding="utf-8")
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in ("grade", "export"):
        options = {o for a in commands[name]._actions for o in a.option_strings if o.startswith("--")}
        missing = sorted(o for o in options - {"--help", "--root"} if not re.search(rf"(?<![\w-]){o}(?![\w-])", guide))
        assert not missing, f"book/instructor.md does not explain course {name} {missing}"
    hub = guide.split("### Grading on JupyterHub", 1)[1].split("\n## ", 1)[0]
    assert "nbgrader autograde" in hub and "full marks" in hub and "course grade rnn submitted" in hub
