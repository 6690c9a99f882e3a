"""Chapter 4 (book/04-char-lm.md): its teaching code is right.

The chapter's functions are taken from the page itself (its import cell and every function definition), so a
change on the page is tested here. Gradients are compared with PyTorch autograd in float64 and with centred
differences; the other functions with direct computations written here, never with the code under test.
"""

import itertools
import pathlib

import numpy as np
import pytest
import torch
from book_helpers import chapter_namespace

from course_lib.data import lm_sequential_batches
from course_lib.gradcheck import numerical_gradient, rel_error
from course_lib.nn_torch.models import CharLM

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "04-char-lm.md"
TOLERANCE = 1e-10  # float64 agreement of two exact computations of the same gradient


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(CHAPTER)


def torch_lm_loss(params, X, Y, h0):
    """The chapter's model (embedding, tanh RNN, affine, mean softmax cross-entropy) by autograd, float64."""
    tensors = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    x = tensors["E"][torch.as_tensor(X)]  # (N, T, D)
    h = torch.tensor(h0)
    states = []
    for t in range(X.shape[1]):
        h = torch.tanh(x[:, t] @ tensors["Wx"] + h @ tensors["Wh"] + tensors["b"])
        states.append(h)
    z = torch.stack(states, dim=1) @ tensors["Wy"] + tensors["by"]  # (N, T, V)
    loss = torch.nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), torch.as_tensor(Y).reshape(-1))
    loss.backward()
    return loss.item(), {name: t.grad.numpy() for name, t in tensors.items()}, h.detach().numpy()


@pytest.mark.parametrize("seed, shape", [(0, (2, 5, 7, 3, 4)), (1, (3, 1, 5, 2, 6)), (2, (1, 8, 11, 4, 3))])
def test_lm_loss_matches_autograd(chapter, seed, shape):
    N, T, V, D, H = shape
    params = chapter["init_lm_params"](V, D, H, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(100 + seed)
    params["b"] = rng.normal(size=H)
    params["by"] = rng.normal(size=V)
    X, Y = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    h0 = rng.normal(size=(N, H))
    loss, grads, h_last = chapter["lm_loss"](params, X, Y, h0)
    expected_loss, expected_grads, expected_h = torch_lm_loss(params, X, Y, h0)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert rel_error(h_last, expected_h) < TOLERANCE
    assert sorted(grads) == sorted(params)
    for name in params:
        assert grads[name].shape == params[name].shape, name
        assert rel_error(grads[name], expected_grads[name]) < TOLERANCE, name


def test_lm_loss_zero_initial_state_and_numerical_gradient(chapter):
    params = chapter["init_lm_params"](6, 3, 4, seed=5, dtype=np.float64)
    rng = np.random.default_rng(6)
    X, Y = rng.integers(0, 6, (2, 4)), rng.integers(0, 6, (2, 4))
    loss, grads, _ = chapter["lm_loss"](params, X, Y, None)
    assert loss == pytest.approx(chapter["lm_loss"](params, X, Y, np.zeros((2, 4)))[0], rel=1e-15)
    numeric = numerical_gradient(lambda _: np.array(chapter["lm_loss"](params, X, Y)[0]), params["Wh"], np.array(1.0))
    assert rel_error(numeric, grads["Wh"]) < 1e-7


def test_init_lm_params_shapes_and_dtype(chapter):
    params = chapter["init_lm_params"](10, 3, 5)
    shapes = {"E": (10, 3), "Wx": (3, 5), "Wh": (5, 5), "b": (5,), "Wy": (5, 10), "by": (10,)}
    assert {name: p.shape for name, p in params.items()} == shapes
    assert all(p.dtype == np.float32 for p in params.values())


def test_numpy_lm_step_returns_loss_grads_count_and_state(chapter):
    params = chapter["init_lm_params"](6, 3, 4, seed=0, dtype=np.float64)
    X = np.array([[1, 2, 3], [4, 5, 0]])
    loss, grads, count, state = chapter["numpy_lm_step"](params, (X, X), None)
    assert count == 6 and state.shape == (2, 4) and set(grads) == set(params)


@pytest.mark.parametrize("seed", [0, 1])
def test_squared_error_gradient_matches_autograd(chapter, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=5)
    loss, dz = chapter["squared_error_and_grad"](z, 3)
    tz = torch.tensor(z, requires_grad=True)
    target = torch.zeros(5, dtype=torch.float64)
    target[3] = 1.0
    expected = ((torch.softmax(tz, dim=0) - target) ** 2).sum()
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    assert rel_error(dz, tz.grad.numpy()) < TOLERANCE


def test_unigram_bias_makes_softmax_the_smoothed_frequencies(chapter):
    ids = np.array([0, 0, 0, 2, 2, 3])
    log_p = chapter["unigram_log_probabilities"](ids, 5)
    np.testing.assert_allclose(np.exp(log_p), np.array([4, 1, 3, 2, 1]) / 11)


def test_rounds_of_batches_walk_along_the_stream(chapter):
    # The page sets these constants in an experiment cell, which chapter_namespace does not run.
    chapter.update(STEPS_PER_ROUND=3, N_TRAIN=2, T_TRAIN=4)
    stream = np.arange(200)
    rounds = [list(chapter["round_of_batches"](stream, r)) for r in (1, 2)]
    assert [len(r) for r in rounds] == [3, 3]
    expected = list(itertools.islice(lm_sequential_batches(stream, 2, 4, seed=0), 6))
    for got, want in zip(rounds[0] + rounds[1], expected, strict=True):
        np.testing.assert_array_equal(got[0], want[0])


@torch.no_grad()
def test_model_token_probabilities_reads_rows_with_carried_state(chapter):
    torch.manual_seed(0)
    model = CharLM(9, embed_size=3, hidden_size=4, cell="rnn")
    ids = np.random.default_rng(1).integers(0, 9, 47)
    rows = 3
    probabilities, positions = chapter["model_token_probabilities"](model, ids, rows=rows, chunk=5)
    length = (len(ids) - 1) // rows
    np.testing.assert_array_equal(positions, np.arange(1, rows * length + 1))
    assert model.training  # the function restores training mode
    model.eval()
    for r in range(rows):  # each row in one piece, from a zero state
        row = ids[r * length : (r + 1) * length + 1]
        logits, _ = model(torch.as_tensor(row[None, :-1]))
        expected = torch.softmax(logits[0].double(), dim=-1)[torch.arange(length), torch.as_tensor(row[1:])]
        np.testing.assert_allclose(probabilities[r * length : (r + 1) * length], expected.numpy(), rtol=1e-5)


def test_choose_lambda_and_perplexity(chapter):
    ppl_of = chapter["ppl_of"]
    assert ppl_of(np.full(10, 0.25)) == pytest.approx(4.0)
    p_good, p_bad = np.array([0.5, 0.4, 0.6]), np.array([0.1, 0.2, 0.05])
    grid = np.linspace(0, 1, 11)
    best, ppls = chapter["choose_lambda"](p_good, p_bad, grid)
    assert best == 1.0
    assert ppls[0] == pytest.approx(np.exp(-np.mean(np.log(p_bad))))
    # Each model is right where the other is wrong: the best mixture is strictly inside (0, 1).
    best, _ = chapter["choose_lambda"](np.array([0.9, 0.01]), np.array([0.01, 0.9]), grid)
    assert best == pytest.approx(0.5)


def test_context_codes(chapter):
    ids = np.array([3, 1, 4, 1, 5, 3, 1, 4])
    codes = chapter["context_codes"](ids, 2)
    contexts = [tuple(ids[i - 2 : i]) for i in range(2, len(ids))]  # the two tokens before positions 2, ..., 7
    assert len(codes) == len(contexts)
    for code_a, context_a in zip(codes, contexts, strict=True):
        for code_b, context_b in zip(codes, contexts, strict=True):
            assert (code_a == code_b) == (context_a == context_b)
    assert np.isin(codes, codes[[0]]).tolist() == [True, False, False, False, False, True]


def test_context_codes_do_not_collide_where_base_v_numbers_would_overflow(chapter):
    """The context whose base-V number is 2**64 wraps around to 0 in int64, the number of the all-zero context."""
    V, order, digits, rest = 4040, 6, [], 2**64
    for _ in range(order):
        digits.append(rest % V)
        rest //= V
    assert rest == 0 and sum(d * V**k for k, d in enumerate(digits)) == 2**64
    wrapping = chapter["context_codes"](np.array(digits[::-1] + [0]), order)
    zeros = chapter["context_codes"](np.zeros(order + 1, dtype=np.int64), order)
    assert not np.isin(zeros, wrapping).any()
