"""benchmarks/cells.py times each library in a process of its own: smoke-run it and check that isolation."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "cells.py"


def _worker(library):
    command = [
        sys.executable,
        str(SCRIPT),
        "--worker",
        library,
        "rnn",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--threads",
        "1",
    ]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True, timeout=300).stdout)


@pytest.mark.slow
@pytest.mark.parametrize("library", ["numpy", "products"])
def test_the_numpy_processes_never_load_torch(library):
    result = _worker(library)
    assert result["libraries_loaded"] == ["numpy"]
    assert len(result["times_ms"]) == 1 and result["times_ms"][0] > 0


@pytest.mark.slow
def test_the_whole_benchmark_prints_a_row_per_cell():
    command = [
        sys.executable,
        str(SCRIPT),
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--rounds",
        "1",
        "--threads",
        "1",
        "--cells",
        "rnn",
        "gru",
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600).stdout
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["rnn"], ["gru"])]
    assert [row[0] for row in rows] == ["rnn", "gru"]
    for row in rows:
        numpy_ms, torch_ms, ratio = map(float, row[1:4])
        assert ratio == pytest.approx(numpy_ms / torch_ms, rel=0.02, abs=0.006)  # printed with 2 decimals
        products_ms = float(row[5])
        assert 0 < products_ms
