"""The four NumPy RNN functions: numerical gradient checks, PyTorch autograd, and nn.RNN after weight
conversion."""

import numpy as np
import pytest
import torch
from hypothesis import given
from nn_helpers import FEW, assert_torch_close, check_gradients, leaf, seeds, small

from course_lib.nn_numpy import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from course_lib.nn_torch import RNN, copy_weights, numpy_to_torch, torch_to_numpy


def make_inputs(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, H)) * 0.5,
        "Wh": rng.standard_normal((H, H)) * 0.5,
        "b": rng.standard_normal(H) * 0.5,
    }


def test_step_matches_hand_computation():
    # One unit, one input: h = tanh(1*2 + 0.5*(-1) + 0.25) = tanh(1.75).
    h, _ = rnn_step_forward(
        np.array([[2.0]]), np.array([[0.5]]), np.array([[1.0]]), np.array([[-1.0]]), np.array([0.25])
    )
    assert h[0, 0] == pytest.approx(np.tanh(1.75), abs=1e-15)


def test_worked_example_with_linear_units_is_reproduced_by_small_tanh_inputs():
    # Chapter 2's all-ones example (inputs [1,1],[1,1],[2,2]; outputs 4, 12, 32 with linear units) scaled down
    # by 1e-4: tanh is linear to first order there, so h / 1e-4 approaches 2, 6, 16 per unit (4, 12, 32
    # summed).
    scale = 1e-4
    x = scale * np.array([[[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]])
    Wx = np.ones((2, 2))
    Wh = np.ones((2, 2))
    h, _ = rnn_forward(x, np.zeros((1, 2)), Wx, Wh, np.zeros(2))
    np.testing.assert_allclose(h[0].sum(axis=1) / scale, [4.0, 12.0, 32.0], rtol=1e-6)


@FEW
@given(N=small, D=small, H=small, seed=seeds)
def test_step_gradients_numerically(N, D, H, seed):
    p = make_inputs(N, 1, D, H, seed)
    p["x"] = p["x"][:, 0]
    p["h_prev"] = p.pop("h0")
    dh = np.random.default_rng(seed + 1).standard_normal((N, H))
    _, cache = rnn_step_forward(p["x"], p["h_prev"], p["Wx"], p["Wh"], p["b"])
    dx, dh_prev, dWx, dWh, db = rnn_step_backward(dh, cache)
    analytic = {"x": dx, "h_prev": dh_prev, "Wx": dWx, "Wh": dWh, "b": db}
    check_gradients(lambda: rnn_step_forward(p["x"], p["h_prev"], p["Wx"], p["Wh"], p["b"])[0], p, analytic, dh)


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_sequence_gradients_numerically(N, T, D, H, seed):
    p = make_inputs(N, T, D, H, seed)
    dh = np.random.default_rng(seed + 1).standard_normal((N, T, H))
    _, cache = rnn_forward(**p)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    analytic = {"x": dx, "h0": dh0, "Wx": dWx, "Wh": dWh, "b": db}
    check_gradients(lambda: rnn_forward(**p)[0], p, analytic, dh)


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_sequence_equals_torch_autograd(N, T, D, H, seed):
    p = make_inputs(N, T, D, H, seed)
    dh = np.random.default_rng(seed + 1).standard_normal((N, T, H))
    h, cache = rnn_forward(**p)
    grads = dict(zip(["x", "h0", "Wx", "Wh", "b"], rnn_backward(dh, cache), strict=False))

    # The same recurrence written directly with torch operations; autograd supplies the oracle gradients.
    tp = {name: leaf(value) for name, value in p.items()}
    h_prev, states = tp["h0"], []
    for t in range(T):
        h_prev = torch.tanh(tp["x"][:, t] @ tp["Wx"] + h_prev @ tp["Wh"] + tp["b"])
        states.append(h_prev)
    h_torch = torch.stack(states, dim=1)
    (h_torch * torch.tensor(dh)).sum().backward()
    assert_torch_close(h, h_torch, "h")
    for name, tensor in tp.items():
        assert_torch_close(grads[name], tensor.grad, f"d{name}")


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_step_equals_torch_autograd(N, D, H, T, seed):
    p = make_inputs(N, 1, D, H, seed)
    x = p["x"][:, 0]
    dh = np.random.default_rng(seed + 1).standard_normal((N, H))
    h, cache = rnn_step_forward(x, p["h0"], p["Wx"], p["Wh"], p["b"])
    grads = rnn_step_backward(dh, cache)
    tensors = [leaf(a) for a in (x, p["h0"], p["Wx"], p["Wh"], p["b"])]
    tx, th, tWx, tWh, tb = tensors
    h_torch = torch.tanh(tx @ tWx + th @ tWh + tb)
    (h_torch * torch.tensor(dh)).sum().backward()
    assert_torch_close(h, h_torch, "h")
    for grad, tensor in zip(grads, tensors, strict=False):
        assert_torch_close(grad, tensor.grad)


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_equals_nn_rnn_after_conversion_from_torch(N, T, D, H, seed):
    torch.manual_seed(seed)
    rnn = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    p = make_inputs(N, T, D, H, seed)
    params = torch_to_numpy(rnn)
    h, cache = rnn_forward(p["x"], p["h0"], params["Wx"], params["Wh"], params["b"])
    x, h0 = leaf(p["x"]), leaf(p["h0"])
    out, h_n = rnn(x, h0[None])
    assert_torch_close(h, out, "output")
    assert_torch_close(h[:, -1], h_n[0], "h_n")

    dh = np.random.default_rng(seed + 1).standard_normal((N, T, H))
    (out * torch.tensor(dh)).sum().backward()
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    torch_grads = torch_to_numpy(rnn, grad=True)
    assert_torch_close(dx, x.grad, "dx")
    assert_torch_close(dh0, h0.grad, "dh0")
    assert_torch_close(dWx, torch_grads["Wx"], "dWx")
    assert_torch_close(dWh, torch_grads["Wh"], "dWh")
    assert_torch_close(db, torch_grads["b"], "db")


@FEW
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_numpy_weights_into_nn_rnn_and_scratch(N, T, D, H, seed):
    p = make_inputs(N, T, D, H, seed)
    h, _ = rnn_forward(**p)
    params = {name: p[name] for name in ("Wx", "Wh", "b")}
    rnn = numpy_to_torch(params, torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64))
    assert torch.all(rnn.bias_hh_l0 == 0)
    scratch_rnn = numpy_to_torch(params, RNN(D, H, dtype=torch.float64))
    x, h0 = torch.tensor(p["x"]), torch.tensor(p["h0"])[None]
    assert_torch_close(h, rnn(x, h0)[0], "nn.RNN")
    assert_torch_close(h, scratch_rnn(x, h0)[0], "scratch RNN")
    # Back again: the merged bias survives the round trip exactly.
    for name, value in torch_to_numpy(rnn).items():
        np.testing.assert_array_equal(value, params[name])


def test_copy_weights_between_nn_rnn_and_scratch_both_ways():
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, batch_first=True, dtype=torch.float64)
    scratch_rnn = copy_weights(rnn, RNN(3, 5, dtype=torch.float64))
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    assert_torch_close(scratch_rnn(x)[0].detach().numpy(), rnn(x)[0])
    rnn2 = copy_weights(scratch_rnn, torch.nn.RNN(3, 5, batch_first=True, dtype=torch.float64))
    assert_torch_close(rnn2(x)[0].detach().numpy(), rnn(x)[0])


def test_forward_keeps_float32():
    p = make_inputs(2, 3, 4, 5, 0)
    p32 = {name: value.astype(np.float32) for name, value in p.items()}
    h, cache = rnn_forward(**p32)
    assert h.dtype == np.float32
    grads = rnn_backward(np.ones_like(h), cache)
    assert all(g.dtype == np.float32 for g in grads)
