"""Chapter 11 (book/11-long-range-memory.md): its teaching code is right.

The chapter's functions are taken from the page itself (its import cell and every function definition). Oracles are
independent of the code under test: closed-form values, central differences in float64, hand-built arrays.
"""

import pathlib

import numpy as np
import pytest
import torch
from book_helpers import chapter_namespace

from course_lib.data.synthetic import adding_problem

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "11-long-range-memory.md"


@pytest.fixture(scope="module")
def chapter():
    torch.set_num_threads(1)
    return chapter_namespace(CHAPTER)


def test_trivial_baselines_match_their_derivation(chapter):
    X, y = adding_problem(100_000, seq_len=12, seed=3)
    mse_one, mse_half = chapter["constant_and_half_memory_mse"](X, y)
    assert mse_one == pytest.approx(1 / 6, rel=0.02)  # Var(U1 + U2)
    assert mse_half == pytest.approx(1 / 12, rel=0.02)  # Var(U1)


def test_half_memory_predictor_on_a_hand_built_sequence(chapter):
    X = np.zeros((1, 4, 2))
    X[0, :, 0] = [0.2, 0.9, 0.3, 0.7]
    X[0, [1, 3], 1] = 1.0  # marks 0.9 (first half) and 0.7 (second half)
    y = np.array([1.6])
    mse_one, mse_half = chapter["constant_and_half_memory_mse"](X, y)
    assert mse_one == pytest.approx(0.36)
    assert mse_half == pytest.approx((1.6 - 1.2) ** 2)


def test_irnn_is_identity_initialised_relu(chapter):
    torch.manual_seed(0)
    layer = chapter["make_irnn"](3, 5)
    assert layer.nonlinearity == "relu"
    assert torch.equal(layer.weight_hh_l0, torch.eye(5))
    assert torch.count_nonzero(layer.bias_ih_l0) == 0 and torch.count_nonzero(layer.bias_hh_l0) == 0
    assert float(layer.weight_ih_l0.detach().abs().max()) < 0.01
    # With zero input the state is carried forward unchanged (where it is positive)
    h0 = torch.tensor([[[0.5, 1.0, 2.0, 0.1, 3.0]]])
    out, h = layer(torch.zeros(1, 7, 3), h0)
    assert torch.allclose(h, h0)


def test_make_regressor_builds_each_cell(chapter):
    for cell in ("rnn", "lstm", "gru", "irnn"):
        model = chapter["make_regressor"](cell, 4)
        assert model(torch.zeros(2, 6, 2)).shape == (2,)
    assert chapter["make_regressor"]("irnn", 4).recurrent.nonlinearity == "relu"


def test_input_gradient_norms_against_central_differences(chapter):
    torch.manual_seed(1)
    model = chapter["make_regressor"]("gru", 3).double()
    X, y = adding_problem(4, 6, seed=2)
    norms = chapter["input_gradient_norms"](model, X, y)
    assert norms.shape == (6,)

    def loss(inputs):
        with torch.no_grad():
            prediction = model(torch.as_tensor(inputs))
        return float(torch.mean((prediction - torch.as_tensor(y)) ** 2))

    eps = 1e-6
    numerical = np.zeros_like(X)
    for index in np.ndindex(*X.shape):
        plus, minus = X.copy(), X.copy()
        plus[index] += eps
        minus[index] -= eps
        numerical[index] = (loss(plus) - loss(minus)) / (2 * eps)
    expected = np.linalg.norm(numerical, axis=-1).mean(axis=0)
    np.testing.assert_allclose(norms, expected, rtol=1e-6)


def test_first_to_last_ratio(chapter):
    ratio = chapter["first_to_last_ratio"]
    assert ratio(np.array([1.0, 3.0, 5.0, 10.0]), num_steps=2) == pytest.approx(2.0 / 7.5)
    np.testing.assert_allclose(ratio(np.array([[2.0, 2.0, 4.0], [1.0, 5.0, 1.0]]), num_steps=1), [0.5, 1.0])


def test_copy_batch_and_written_accuracy(chapter):
    X = np.array([[1, 2, 0, 5, 0, 0], [3, 3, 0, 5, 0, 0]])
    Y = np.array([[0, 0, 0, 0, 1, 2], [0, 0, 0, 0, 3, 3]])
    batch = chapter["copy_batch"](X, Y)
    assert batch["lengths"].tolist() == [6, 6] and batch["mask"].all()
    predictions = np.array([[9, 9, 9, 9, 1, 4], [0, 0, 0, 0, 3, 3]])  # wrong early steps do not count
    assert chapter["written_accuracy"](predictions, Y, 2) == pytest.approx(3 / 4)


def test_train_adding_learns_a_short_sequence(chapter):
    result = chapter["train_adding"]("gru", 6, seed=0, steps=150, hidden_size=16, probe_every=50)
    assert result["probe_steps"] == [0, 50, 100, 150]
    assert result["grad_norms"].shape == (4, 6)
    assert result["test_mse"] < 1 / 12  # far below the trivial 1/6 on sequences of 6


def test_train_copy_returns_an_accuracy(chapter):
    accuracy = chapter["train_copy"](
        "lstm", 2, seed=0, steps=5, num_symbols=3, num_written=2, hidden_size=8, batch_size=8
    )
    assert 0.0 <= accuracy <= 1.0


def test_benchmark_sweep_smoke_run(capsys):
    import runpy

    module = runpy.run_path(str(ROOT / "benchmarks" / "memory_sweep.py"), run_name="memory_sweep")
    module["main"](
        ["--lengths", "6", "--delays", "2", "--steps", "2", "--seeds", "2", "--hidden", "4", "--cells", "rnn", "gru"]
    )
    out = capsys.readouterr().out
    assert "| 6 | 0.1667 |" in out and "| 2 |" in out
    assert out.count("±") == 4  # two seeds: mean ± spread, for 2 cells x 2 tasks
