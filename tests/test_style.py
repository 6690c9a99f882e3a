"""The code keeps one style: ruff's lint rules and ruff's formatter (configured in pyproject.toml) pass."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).parent / "ruff"


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(command):
    if not RUFF.exists():
        pytest.fail(f"ruff is missing beside {sys.executable}: run `make venv` (it is in the dev extra)")
    run = subprocess.run(
        [str(RUFF), *command, "course_lib", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, f"`ruff {' '.join(command)}` found problems; run `ruff format` / fix:\n{run.stdout}"
