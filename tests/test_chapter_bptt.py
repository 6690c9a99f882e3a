"""Chapter 3 (book/03-bptt.md): its teaching code is right, and everything its prose refers to exists.

The chapter's functions are taken from the page itself (its import cell and every function definition), so a
change on the page is tested here. Gradients are checked against PyTorch autograd in float64 and against
analytic values, never against the code under test.
"""

import pathlib

import numpy as np
import pytest
import torch
from book_helpers import chapter_namespace

from course_lib.gradcheck import rel_error
from course_lib.nn_numpy import rnn_backward, rnn_forward

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "03-bptt.md"
TOLERANCE = 1e-10  # float64 agreement of two exact computations of the same gradient


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(CHAPTER)


def random_rnn(seed, N=3, T=6, D=4, H=5):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(N, T, D)),
        rng.normal(size=(N, H)),
        rng.normal(scale=0.5, size=(D, H)),
        rng.normal(scale=0.5, size=(H, H)),
        rng.normal(scale=0.1, size=H),
        rng.normal(size=(N, T, H)),
    )


def torch_gradients(x, h0, Wx, Wh, b, dh):
    """Gradients of sum(h * dh) for the tanh RNN, by PyTorch autograd (float64)."""
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, h0, Wx, Wh, b)]
    tx, th0, tWx, tWh, tb = tensors
    states, h = [], th0
    for t in range(x.shape[1]):
        h = torch.tanh(tx[:, t] @ tWx + h @ tWh + tb)
        states.append(h)
    (torch.stack(states, dim=1) * torch.tensor(dh)).sum().backward()
    return [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_teaching_bptt_matches_autograd(chapter, seed):
    x, h0, Wx, Wh, b, dh = random_rnn(seed)
    ours = chapter["bptt"](x, h0, Wx, Wh, b, dh)
    expected = torch_gradients(x, h0, Wx, Wh, b, dh)
    for name, mine, theirs in zip(["dx", "dh0", "dWx", "dWh", "db"], ours, expected, strict=True):
        assert rel_error(mine, theirs) < TOLERANCE, name


def test_clip_by_global_norm(chapter):
    clip = chapter["clip_by_global_norm"]
    grads = [np.array([3.0, 0.0]), np.array([[0.0, 4.0]])]
    clipped, norm = clip(grads, 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(clipped[0], [0.6, 0.0])
    np.testing.assert_allclose(clipped[1], [[0.0, 0.8]])
    # each array alone is shorter than 4; together they are not, so both shrink by the same factor 4/5
    clipped, _ = clip(grads, 4.0)
    np.testing.assert_allclose(clipped[1], [[0.0, 3.2]])
    unchanged, _ = clip(grads, 10.0)
    np.testing.assert_array_equal(unchanged[0], grads[0])
    zeros, norm = clip([np.zeros(3)], 1.0)
    assert norm == 0.0 and np.all(zeros[0] == 0.0)
    np.testing.assert_array_equal(grads[0], [3.0, 0.0])  # inputs untouched


def test_truncated_bptt(chapter):
    truncated = chapter["truncated_bptt_input_grads"]
    x, h0, Wx, Wh, b, dh = random_rnn(3, N=2, T=9)
    full_dx = rnn_backward(dh, rnn_forward(x, h0, Wx, Wh, b)[1])[0]
    # one chunk covering the whole sequence is full BPTT
    np.testing.assert_allclose(truncated(x, h0, Wx, Wh, b, dh, chunk=9), full_dx, rtol=1e-12, atol=1e-14)
    # a loss on the last step only: inputs before the last chunk get exactly zero, the rest full BPTT's values
    dh_last = np.zeros_like(dh)
    dh_last[:, -1] = dh[:, -1]
    full_last = rnn_backward(dh_last, rnn_forward(x, h0, Wx, Wh, b)[1])[0]
    dx = truncated(x, h0, Wx, Wh, b, dh_last, chunk=4)  # chunks [0:4], [4:8], [8:9]
    assert np.all(dx[:, :8] == 0.0)
    np.testing.assert_allclose(dx[:, 8:], full_last[:, 8:], rtol=1e-12)


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.3])
def test_jacobian_norm_of_a_linear_orthogonal_recurrence_is_a_power(chapter, radius):
    """With h_t = h_{t-1} (rho Q) for orthogonal Q, dh_T/dh_k has every singular value rho^(T-k)."""
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    norms = chapter["jacobian_norms"](radius * Q, rng.normal(size=(12, 6)), "linear")
    np.testing.assert_allclose(norms, radius ** np.arange(1, 13), rtol=1e-10)


def test_identity_relu_keeps_the_norm_while_units_are_active(chapter):
    norms = chapter["jacobian_norms"](np.eye(5), np.full((20, 5), 0.1), "relu")
    np.testing.assert_allclose(norms, 1.0)


def test_the_late_derivative_bug_passes_only_the_two_step_check(chapter):
    """The page's claim about source 001's check: with two steps from h0 = 0 and a loss on the last state, an error
    term that uses the next step's tanh' cannot be seen in dWh; with three steps it can."""
    late = chapter["bptt_derivative_one_step_late"]
    rng = np.random.default_rng(11)
    for T, should_agree in [(2, True), (3, False)]:
        x, Wx, Wh = rng.normal(size=(1, T, 3)), rng.normal(size=(3, 2)), rng.normal(size=(2, 2))
        h0, b = np.zeros((1, 2)), np.zeros(2)
        dh = np.zeros((1, T, 2))
        dh[0, -1] = 1.0
        expected = torch_gradients(x, h0, Wx, Wh, b, dh)[3]
        assert (rel_error(late(x, h0, Wx, Wh, b, dh), expected) < 1e-10) == should_agree, T


def test_mean_tanh_slope(chapter):
    mean_tanh_slope = chapter["mean_tanh_slope"]
    assert mean_tanh_slope(np.zeros((4, 4)), np.zeros((5, 4))) == 1.0  # h stays 0, where tanh' = 1
    assert mean_tanh_slope(np.zeros((4, 4)), np.full((5, 4), 20.0)) < 1e-10  # saturated: tanh'(20) ~ 1e-17
    x_proj = np.array([[0.5], [0.5]])  # one unit, Wh = 0: h_t = tanh(0.5) at both steps
    assert mean_tanh_slope(np.zeros((1, 1)), x_proj) == pytest.approx(1 - np.tanh(0.5) ** 2, rel=1e-12)


def test_train_sum_task_clips_only_the_steps_above_the_threshold(chapter):
    train = chapter["train_sum_task"]
    losses, norms, radii, slopes = train(np.inf, seed=0, steps=4, T=5, H=6)
    for array in (losses, norms, radii, slopes):
        assert array.shape == (4,)
    assert np.all((slopes > 0) & (slopes <= 1))
    # a threshold above every norm changes nothing; a tiny one leaves the first step's loss and norm (measured before
    # the first update) alone and changes every later step
    same = train(float(norms.max()) * 2, seed=0, steps=4, T=5, H=6)
    np.testing.assert_array_equal(same[0], losses)
    tiny = train(1e-6, seed=0, steps=4, T=5, H=6)
    assert tiny[0][0] == losses[0] and tiny[1][0] == norms[0]
    assert np.all(tiny[0][1:] != losses[1:])
