"""NumPy GRU, both reset placements: gradient checks, equality with nn.GRU and the scratch GRU, and what
differs."""

import numpy as np
import pytest
import torch
from hypothesis import given
from nn_helpers import FEW, assert_torch_close, check_gradients, leaf, seeds, small

from course_lib.nn_numpy import gru_backward, gru_forward, gru_step_backward, gru_step_forward, rnn_forward
from course_lib.nn_torch import GRU, numpy_to_torch, torch_to_numpy

NAMES = ["x", "h0", "Wx", "Wh", "bx", "bh"]
PLACEMENTS = pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])


def make_inputs(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, 3 * H)) * 0.5,
        "Wh": rng.standard_normal((H, 3 * H)) * 0.5,
        "bx": rng.standard_normal(3 * H) * 0.5,
        "bh": rng.standard_normal(3 * H) * 0.5,
    }


@pytest.mark.parametrize("reset_after", [True, False])
def test_step_matches_the_equations_by_hand(reset_after):
    # One unit: x = 1, h_prev = 2, every weight and bias chosen so each pre-activation is easy to write down.
    x, h_prev = np.array([[1.0]]), np.array([[2.0]])
    Wx = np.array([[0.1, 0.2, 0.3]])  # r, z, n
    Wh = np.array([[-0.2, 0.1, 0.4]])
    bx = np.array([0.0, 0.1, 0.2])
    bh = np.array([0.3, 0.0, -0.1])
    sig = lambda v: 1 / (1 + np.exp(-v))
    r = sig(0.1 + 0.0 + 2 * -0.2 + 0.3)
    z = sig(0.2 + 0.1 + 2 * 0.1 + 0.0)
    if reset_after:
        n = np.tanh(0.3 + 0.2 + r * (2 * 0.4 - 0.1))
    else:
        n = np.tanh(0.3 + 0.2 + (r * 2) * 0.4 - 0.1)
    h, _ = gru_step_forward(x, h_prev, Wx, Wh, bx, bh, reset_after=reset_after)
    assert h[0, 0] == pytest.approx(z * 2 + (1 - z) * n, abs=1e-15)


@PLACEMENTS
@FEW
@given(N=small, D=small, H=small, seed=seeds)
def test_step_gradients_numerically(reset_after, N, D, H, seed):
    p = make_inputs(N, 1, D, H, seed)
    p["x"] = p["x"][:, 0]
    dh = np.random.default_rng(seed + 1).standard_normal((N, H))
    _, cache = gru_step_forward(*p.values(), reset_after=reset_after)
    analytic = dict(zip(NAMES, gru_step_backward(dh, cache), strict=True))
    check_gradients(lambda: gru_step_forward(*p.values(), reset_after=reset_after)[0], p, analytic, dh)


@PLACEMENTS
@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_sequence_gradients_numerically(reset_after, N, T, D, H, seed):
    p = make_inputs(N, T, D, H, seed)
    dh = np.random.default_rng(seed + 1).standard_normal((N, T, H))
    _, cache = gru_forward(**p, reset_after=reset_after)
    analytic = dict(zip(NAMES, gru_backward(dh, cache), strict=True))
    check_gradients(lambda: gru_forward(**p, reset_after=reset_after)[0], p, analytic, dh)


@PLACEMENTS
@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_equals_scratch_gru_values_and_autograd(reset_after, N, T, D, H, seed):
    p = make_inputs(N, T, D, H, seed)
    h, cache = gru_forward(**p, reset_after=reset_after)
    gru = numpy_to_torch(
        {k: p[k] for k in ("Wx", "Wh", "bx", "bh")}, GRU(D, H, reset_after=reset_after, dtype=torch.float64)
    )
    x, h0 = leaf(p["x"]), leaf(p["h0"])
    out, h_n = gru(x, h0[None])
    assert_torch_close(h, out, "output")
    dh = np.random.default_rng(seed + 1).standard_normal((N, T, H))
    (out * torch.tensor(dh)).sum().backward()
    grads = dict(zip(NAMES, gru_backward(dh, cache), strict=True))
    assert_torch_close(grads["x"], x.grad, "dx")
    assert_torch_close(grads["h0"], h0.grad, "dh0")
    torch_grads = torch_to_numpy(gru, grad=True)
    for name in ("Wx", "Wh", "bx", "bh"):
        assert_torch_close(grads[name], torch_grads[name], f"d{name}")


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_reset_after_equals_nn_gru_values_and_gradients(N, T, D, H, seed):
    torch.manual_seed(seed)
    gru = torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64)
    params = torch_to_numpy(gru)
    p = make_inputs(N, T, D, H, seed)
    h, cache = gru_forward(p["x"], p["h0"], **params, reset_after=True)
    x, h0 = leaf(p["x"]), leaf(p["h0"])
    out, h_n = gru(x, h0[None])
    assert_torch_close(h, out, "output")
    assert_torch_close(h[:, -1], h_n[0], "h_n")
    dh = np.random.default_rng(seed + 1).standard_normal((N, T, H))
    (out * torch.tensor(dh)).sum().backward()
    grads = dict(zip(NAMES, gru_backward(dh, cache), strict=True))
    assert_torch_close(grads["x"], x.grad, "dx")
    assert_torch_close(grads["h0"], h0.grad, "dh0")
    torch_grads = torch_to_numpy(gru, grad=True)
    for name in ("Wx", "Wh", "bx", "bh"):
        assert_torch_close(grads[name], torch_grads[name], f"d{name}")


def test_the_two_placements_differ_for_the_same_weights():
    p = make_inputs(3, 4, 2, 5, seed=7)
    h_after, _ = gru_forward(**p, reset_after=True)
    h_before, _ = gru_forward(**p, reset_after=False)
    assert np.max(np.abs(h_after - h_before)) > 1e-3
    # ... and they agree where the reset gate is fully open (r = 1) and bh_n = 0: then r * (h Wh_n + bh_n) and
    # (r * h) Wh_n + bh_n are the same.
    H = 5
    p["bx"][:H] = 60.0
    p["Wx"][:, :H] = 0.0
    p["Wh"][:, :H] = 0.0
    p["bh"][:H] = 0.0
    p["bh"][2 * H :] = 0.0
    h_after, _ = gru_forward(**p, reset_after=True)
    h_before, _ = gru_forward(**p, reset_after=False)
    np.testing.assert_allclose(h_after, h_before, rtol=1e-13, atol=1e-14)


@PLACEMENTS
def test_open_reset_and_closed_update_recover_the_plain_rnn(reset_after):
    # r = 1 and z = 0 (saturated gates) turn h = z h_prev + (1 - z) n into h = tanh(x Wx_n + h Wh_n + b).
    N, T, D, H = 2, 6, 3, 4
    p = make_inputs(N, T, D, H, seed=3)
    p["Wx"][:, : 2 * H] = 0.0
    p["Wh"][:, : 2 * H] = 0.0
    p["bx"][:H], p["bh"][:H] = 40.0, 0.0  # r = sigmoid(40) = 1 to double precision
    p["bx"][H : 2 * H], p["bh"][H : 2 * H] = -40.0, 0.0  # z = sigmoid(-40) ~ 4e-18
    h, _ = gru_forward(**p, reset_after=reset_after)
    Wx_n, Wh_n = p["Wx"][:, 2 * H :], p["Wh"][:, 2 * H :]
    h_rnn, _ = rnn_forward(p["x"], p["h0"], Wx_n, Wh_n, p["bx"][2 * H :] + p["bh"][2 * H :])
    np.testing.assert_allclose(h, h_rnn, rtol=1e-12, atol=1e-14)


def test_converting_a_reset_before_gru_to_nn_gru_is_refused():
    from course_lib.nn_torch import copy_weights

    with pytest.raises(ValueError):
        copy_weights(GRU(2, 3, reset_after=False), torch.nn.GRU(2, 3, batch_first=True))


@PLACEMENTS
def test_float32_stays_float32(reset_after):
    p = {name: value.astype(np.float32) for name, value in make_inputs(2, 3, 4, 5, 0).items()}
    h, cache = gru_forward(**p, reset_after=reset_after)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in gru_backward(np.ones_like(h), cache))
