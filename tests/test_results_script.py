"""benchmarks/results.py runs from a checkout and prints one table with every model beside its task's baseline.

The real run takes half an hour; here every model gets one CPU second, so only the plumbing is checked (every
job runs, side by side in two processes, and the table is complete), not the numbers.
"""

import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_MODELS = {
    "char LM (People's Daily)": {"Kneser-Ney 5-gram", "RNN 256", "GRU 256", "LSTM 256"},
    "POS tagging": {"most frequent tag", "BiLSTM 2x128"},
    "sentiment (reviews)": {"TF-IDF char 1-3-grams + LR", "LSTM 128, max over states"},
    "slot filling, cue before": {"most frequent label", "unidirectional LSTM 64", "bidirectional LSTM 64"},
    "slot filling, cue after": {"most frequent label", "unidirectional LSTM 64", "bidirectional LSTM 64"},
    "adding problem, T = 100": {"always 1", "RNN 64", "LSTM 64", "GRU 64"},
    "adding problem, T = 200": {"always 1", "RNN 64", "LSTM 64", "GRU 64"},
}


def _table_rows(output: str) -> list[list[str]]:
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    assert lines[0].startswith("| task | model |") and lines[1].startswith("| --- |")
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


@pytest.mark.slow
def test_results_script_runs_every_task_and_fills_the_table(tmp_path):
    completed = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "results.py"), "--budget", "1",
                                "--jobs", "2", "--device", "cpu"], cwd=tmp_path, capture_output=True, text=True,
                               timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = _table_rows(completed.stdout)
    models = {}
    for task, model, _metric, value, baseline, baseline_value, seconds, _note in rows:
        models.setdefault(task, set()).add(model)
        assert math.isfinite(float(value)) and math.isfinite(float(baseline_value))
        assert float(seconds) >= 0
        if model == baseline:
            assert value == baseline_value
    assert models == EXPECTED_MODELS
    # Each task's rows name that task's baseline, measured once.
    for task, baseline in {"POS tagging": "most frequent tag", "adding problem, T = 200": "always 1"}.items():
        assert {row[4] for row in rows if row[0] == task} == {baseline}
    assert {row[5] for row in rows if row[0].startswith("adding")} == {f"{1 / 6:.4g}"}


def test_results_script_refuses_an_unknown_task():
    completed = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "results.py"), "--tasks", "lm,chess"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 2
    assert "chess" in completed.stderr
