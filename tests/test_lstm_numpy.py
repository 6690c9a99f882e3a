"""NumPy LSTM: numerical gradient checks, step vs sequence, and equality with nn.LSTM and the scratch LSTM."""

import numpy as np
import pytest
import torch
from hypothesis import given
from nn_helpers import FEW, assert_torch_close, check_gradients, leaf, seeds, small

from course_lib.nn_numpy import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from course_lib.nn_torch import LSTM, numpy_to_torch, torch_to_numpy

NAMES = ["x", "h0", "c0", "Wx", "Wh", "b"]


def make_inputs(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "c0": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, 4 * H)) * 0.5,
        "Wh": rng.standard_normal((H, 4 * H)) * 0.5,
        "b": rng.standard_normal(4 * H) * 0.5,
    }


def test_step_matches_the_equations_by_hand():
    # One unit, all weights zero: every gate is sigmoid(bias) or tanh(bias), so c and h follow by hand.
    b = np.array([0.0, 1.0, 0.5, -1.0])  # a_i, a_f, a_g, a_o
    zeros = np.zeros((1, 4))
    h, c, _ = lstm_step_forward(np.zeros((1, 1)), np.zeros((1, 1)), np.array([[2.0]]), zeros, zeros, b)
    sig = lambda v: 1 / (1 + np.exp(-v))
    c_expected = sig(1.0) * 2.0 + sig(0.0) * np.tanh(0.5)
    assert c[0, 0] == pytest.approx(c_expected, abs=1e-15)
    assert h[0, 0] == pytest.approx(sig(-1.0) * np.tanh(c_expected), abs=1e-15)


@FEW
@given(N=small, D=small, H=small, seed=seeds)
def test_step_gradients_numerically(N, D, H, seed):
    p = make_inputs(N, 1, D, H, seed)
    p["x"] = p["x"][:, 0]
    rng = np.random.default_rng(seed + 1)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _, _, cache = lstm_step_forward(*p.values())
    analytic = dict(zip(NAMES, lstm_step_backward(dh, dc, cache), strict=True))

    def h_and_c():
        h, c, _ = lstm_step_forward(*p.values())
        return np.concatenate([h, c], axis=1)

    check_gradients(h_and_c, p, analytic, np.concatenate([dh, dc], axis=1))


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_sequence_gradients_numerically(N, T, D, H, seed):
    p = make_inputs(N, T, D, H, seed)
    dh = np.random.default_rng(seed + 1).standard_normal((N, T, H))
    _, _, cache = lstm_forward(**p)
    analytic = dict(zip(NAMES, lstm_backward(dh, cache), strict=True))
    check_gradients(lambda: lstm_forward(**p)[0], p, analytic, dh)


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_gradient_of_the_last_cell_state(N, T, D, H, seed):
    # A loss that also reads c_T (as when an encoder hands (h_T, c_T) to a decoder).
    p = make_inputs(N, T, D, H, seed)
    rng = np.random.default_rng(seed + 1)
    dh, dc_last = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    _, _, cache = lstm_forward(**p)
    analytic = dict(zip(NAMES, lstm_backward(dh, cache, dc_last=dc_last), strict=True))

    def h_all_and_c_last():
        h, c, _ = lstm_forward(**p)
        return np.concatenate([h.reshape(N, T * H), c[:, -1]], axis=1)

    check_gradients(h_all_and_c_last, p, analytic, np.concatenate([dh.reshape(N, T * H), dc_last], axis=1))


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_sequence_equals_steps(N, T, D, H, seed):
    p = make_inputs(N, T, D, H, seed)
    h, c, _ = lstm_forward(**p)
    h_prev, c_prev = p["h0"], p["c0"]
    for t in range(T):
        h_prev, c_prev, _ = lstm_step_forward(p["x"][:, t], h_prev, c_prev, p["Wx"], p["Wh"], p["b"])
        np.testing.assert_allclose(h[:, t], h_prev, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(c[:, t], c_prev, rtol=1e-13, atol=1e-14)


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_equals_nn_lstm_values_and_gradients(N, T, D, H, seed):
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    params = torch_to_numpy(lstm)
    p = make_inputs(N, T, D, H, seed)
    h, c, cache = lstm_forward(p["x"], p["h0"], p["c0"], params["Wx"], params["Wh"], params["b"])
    x, h0, c0 = leaf(p["x"]), leaf(p["h0"]), leaf(p["c0"])
    out, (h_n, c_n) = lstm(x, (h0[None], c0[None]))
    assert_torch_close(h, out, "output")
    assert_torch_close(h[:, -1], h_n[0], "h_n")
    assert_torch_close(c[:, -1], c_n[0], "c_n")

    rng = np.random.default_rng(seed + 1)
    dh, dc_last = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    ((out * torch.tensor(dh)).sum() + (c_n[0] * torch.tensor(dc_last)).sum()).backward()
    dx, dh0, dc0, dWx, dWh, db = lstm_backward(dh, cache, dc_last=dc_last)
    torch_grads = torch_to_numpy(lstm, grad=True)
    assert_torch_close(dx, x.grad, "dx")
    assert_torch_close(dh0, h0.grad, "dh0")
    assert_torch_close(dc0, c0.grad, "dc0")
    for name, grad in (("Wx", dWx), ("Wh", dWh), ("b", db)):
        assert_torch_close(grad, torch_grads[name], f"d{name}")


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_numpy_weights_give_the_same_outputs_in_nn_lstm_and_scratch(N, T, D, H, seed):
    p = make_inputs(N, T, D, H, seed)
    h, c, _ = lstm_forward(**p)
    params = {name: p[name] for name in ("Wx", "Wh", "b")}
    x = torch.tensor(p["x"])
    state = (torch.tensor(p["h0"])[None], torch.tensor(p["c0"])[None])
    for module in (
        torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64),
        LSTM(D, H, dtype=torch.float64),
    ):
        numpy_to_torch(params, module)
        out, (h_n, c_n) = module(x, state)
        assert_torch_close(h, out, type(module).__module__)
        assert_torch_close(c[:, -1], c_n[0], type(module).__module__)


def test_forget_gate_block_is_the_second():
    # Gate order i, f, g, o: a huge forget bias and a closed input gate keep c0 unchanged for every step.
    H = 3
    b = np.zeros(4 * H)
    b[:H] = -50.0  # i = 0
    b[H : 2 * H] = 50.0  # f = 1
    rng = np.random.default_rng(0)
    c0 = rng.standard_normal((2, H))
    _, c, _ = lstm_forward(
        rng.standard_normal((2, 5, 4)), np.zeros((2, H)), c0, np.zeros((4, 4 * H)), np.zeros((H, 4 * H)), b
    )
    np.testing.assert_allclose(c, np.repeat(c0[:, None], 5, axis=1), rtol=1e-12)


def test_float32_stays_float32():
    p = {name: value.astype(np.float32) for name, value in make_inputs(2, 3, 4, 5, 0).items()}
    h, c, cache = lstm_forward(**p)
    assert h.dtype == c.dtype == np.float32
    assert all(g.dtype == np.float32 for g in lstm_backward(np.ones_like(h), cache))
