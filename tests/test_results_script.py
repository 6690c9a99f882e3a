"""benchmarks/results.py runs from a checkout and prints one table with every model beside its task's baseline.

The real run takes half an hour; here every model gets one CPU second, so only the plumbing is checked (every
job runs, side by side in two processes, and the table is complete), not the numbers.
"""

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_MODELS = {
    "char LM (People's Daily)": {
        "Kneser-Ney 7-gram",
        "RNN 256",
        "GRU 256",
        "LSTM 256",
        "RNN 256 + Kneser-Ney 7-gram",
        "GRU 256 + Kneser-Ney 7-gram",
        "LSTM 256 + Kneser-Ney 7-gram",
    },
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
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "results.py"), "--budget", "1", "--jobs", "2", "--device", "cpu"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
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
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "results.py"), "--tasks", "lm,chess"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 2
    assert "chess" in completed.stderr


def _results_module():
    spec = importlib.util.spec_from_file_location("results", ROOT / "benchmarks" / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@torch.no_grad()
def test_interpolated_lm_helpers():
    """The interpolation row's pieces, in about a second: held-out probabilities of a tiny network, read row by
    row from a zero state, and the weight chosen on validation tokens."""
    results = _results_module()
    torch.manual_seed(0)
    model = results.CharLM(7, embed_size=3, hidden_size=4, cell="gru")
    ids = np.random.default_rng(0).integers(0, 7, 41)
    probabilities, positions = results.held_out_probabilities(model, ids, rows=2, chunk=3)
    np.testing.assert_array_equal(positions, np.arange(1, 41))
    for r in range(2):
        row = ids[20 * r : 20 * r + 21]
        logits, _ = model(torch.as_tensor(row[None, :-1]))
        expected = torch.softmax(logits[0].double(), dim=-1)[torch.arange(20), torch.as_tensor(row[1:])]
        np.testing.assert_allclose(probabilities[20 * r : 20 * r + 20], expected.numpy(), rtol=1e-5)
    # Model A is right on the first token, B on the second: the best mixture weighs them equally.
    assert results.interpolation_weight(np.array([0.9, 0.01]), np.array([0.01, 0.9])) == 0.5
    assert results.interpolation_weight(np.array([0.5, 0.5]), np.array([0.1, 0.2])) == 1.0
    assert results.interpolation_weight(np.array([0.1, 0.2]), np.array([0.5, 0.5])) == 0.0


def test_regularised_lm_job_trains_and_reports_both_rows(monkeypatch):
    """The "lmreg" job (not in the default run) on a tiny stand-in corpus, one CPU second: its model has the
    regularisers it is named for, and it reports the network alone and interpolated with the n-gram."""
    results = _results_module()
    rng = np.random.default_rng(0)
    vocab = list(range(12))
    stream = rng.integers(0, 12, 12_000)  # held-out parts long enough for 16 rows of 64 characters
    monkeypatch.setattr(results, "lm_data", lambda: (vocab, stream[:6000], stream[6000:9000], stream[9000:]))
    monkeypatch.setattr(results, "lm_best_order", lambda: 2)
    built = []
    real_charlm = results.CharLM
    monkeypatch.setattr(results, "CharLM", lambda *a, **k: built.append(real_charlm(*a, **k)) or built[-1])
    rows = results.lm_regularised(budget=1, device="cpu", bfloat16=False)
    (model,) = built
    assert model.output.weight is model.embedding.weight
    assert model.embedding_dropout.p > 0 and model.dropout.p > 0
    name = "LSTM 512, dropout 0.3, tied"
    assert [r["model"] for r in rows] == [name, f"{name} + Kneser-Ney 2-gram"]
    assert all(math.isfinite(r["value"]) and r["value"] > 1 for r in rows)
    assert "lmreg" not in results.DEFAULT_TASKS and "lmreg" in results.TASKS
