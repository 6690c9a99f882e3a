"""NumPy functional helpers and non-recurrent layers: values against PyTorch, gradients numerically."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from nn_helpers import FEW, assert_torch_close, check_gradients, leaf, seeds, small

from course_lib.nn_numpy import (
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    gate_sigmoid,
    log_softmax,
    sigmoid,
    softmax,
    softmax_cross_entropy,
)

EXTREMES = np.array([[-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0]])


def test_sigmoid_is_stable_and_exact():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # overflow would raise here
        s = sigmoid(EXTREMES)
    np.testing.assert_allclose(s, torch.sigmoid(torch.tensor(EXTREMES)).numpy(), rtol=1e-15, atol=0)
    assert s[0, -1] == 1.0 and s[0, 3] == 0.5
    assert s[0, 1] == pytest.approx(np.exp(-50.0), rel=1e-14)  # tiny values keep their relative accuracy


def test_sigmoid_float32_extremes():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(EXTREMES.astype(np.float32))
    assert s.dtype == np.float32
    np.testing.assert_allclose(s, torch.sigmoid(torch.tensor(EXTREMES, dtype=torch.float32)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gate_sigmoid_in_place_agrees_in_absolute_terms(dtype):
    x = np.linspace(-60, 60, 241).astype(dtype)
    expected = sigmoid(x)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = gate_sigmoid(x, out=x)
    assert out is x and x.dtype == dtype
    np.testing.assert_allclose(x, expected, rtol=0, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax_are_stable(axis):
    x = np.vstack([EXTREMES, -EXTREMES, np.zeros_like(EXTREMES)])
    with np.errstate(over="raise"):
        p = softmax(x, axis=axis)
        log_p = log_softmax(x, axis=axis)
    assert_torch_close(p, torch.softmax(torch.tensor(x), dim=axis))
    assert_torch_close(log_p, torch.log_softmax(torch.tensor(x), dim=axis))
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-15)
    assert np.all(np.isfinite(log_p))


@FEW
@given(N=small, T=small, D=small, M=small, three_d=st.booleans(), seed=seeds)
def test_affine_gradients(N, T, D, M, three_d, seed):
    rng = np.random.default_rng(seed)
    shape = (N, T, D) if three_d else (N, D)
    p = {"x": rng.standard_normal(shape), "W": rng.standard_normal((D, M)), "b": rng.standard_normal(M)}
    out, cache = affine_forward(**p)
    assert out.shape == shape[:-1] + (M,)
    dout = rng.standard_normal(out.shape)
    analytic = dict(zip(["x", "W", "b"], affine_backward(dout, cache), strict=True))
    check_gradients(lambda: affine_forward(**p)[0], p, analytic, dout)


@FEW
@given(N=small, T=small, V=small, D=small, seed=seeds)
def test_embedding_values_and_gradients_with_repeated_indices(N, T, V, D, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, V, size=(N, T))
    indices[0, 0] = indices[-1, -1]  # at least one repeat when N*T > 1
    W = rng.standard_normal((V, D))
    out, cache = embedding_forward(indices, W)
    np.testing.assert_array_equal(out, F.embedding(torch.tensor(indices), torch.tensor(W)).numpy())
    dout = rng.standard_normal(out.shape)
    dW = embedding_backward(dout, cache)
    check_gradients(lambda: embedding_forward(indices, W)[0], {"W": W}, {"W": dW}, dout)


@FEW
@given(N=small, T=small, C=st.integers(2, 6), three_d=st.booleans(), masked=st.booleans(), seed=seeds)
def test_softmax_cross_entropy_equals_torch_and_gradcheck(N, T, C, three_d, masked, seed):
    rng = np.random.default_rng(seed)
    shape = (N, T) if three_d else (N,)
    logits = rng.standard_normal(shape + (C,)) * 3
    y = rng.integers(0, C, size=shape)
    mask = None
    if masked:
        mask = rng.random(shape) < 0.6
        mask.reshape(-1)[0] = True  # at least one position counts
    loss, dlogits = softmax_cross_entropy(logits, y, mask)

    target = torch.tensor(y if mask is None else np.where(mask, y, -100))
    tlogits = leaf(logits)
    torch_loss = F.cross_entropy(tlogits.reshape(-1, C), target.reshape(-1), ignore_index=-100)
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    assert_torch_close(dlogits, tlogits.grad)
    # The numerical check uses milder logits: with large ones some probabilities (and gradient entries) are
    # ~1e-5, below what finite differences resolve to a relative 1e-7. The torch comparison above covers them.
    logits = logits / 3
    _, dlogits = softmax_cross_entropy(logits, y, mask)
    check_gradients(
        lambda: np.array(softmax_cross_entropy(logits, y, mask)[0]),
        {"logits": logits},
        {"logits": dlogits},
        np.array(1.0),
    )


def test_cross_entropy_of_confident_wrong_answer_is_finite():
    loss, dlogits = softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))
    assert loss == pytest.approx(2000.0)
    np.testing.assert_allclose(dlogits, [[1.0, -1.0]])


def test_cross_entropy_of_uniform_scores_is_log_c():
    loss, _ = softmax_cross_entropy(np.zeros((4, 3, 10)), np.zeros((4, 3), dtype=int))
    assert loss == pytest.approx(np.log(10))


def test_empty_mask_is_an_error():
    with pytest.raises(ValueError):
        softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2, dtype=int), mask=np.zeros(2, dtype=bool))
