"""Stacked and bidirectional NumPy networks: gradient checks, and equality with nn.RNN/LSTM/GRU(num_layers=2,
bidirectional=True) after weight conversion, values and gradients."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_helpers import FEW, assert_torch_close, check_gradients, leaf, seeds, small

from course_lib.nn_numpy import (
    bidirectional_backward,
    bidirectional_forward,
    gru_forward,
    init_params,
    lstm_forward,
    network_shape,
    rnn_forward,
    stacked_backward,
    stacked_forward,
)
from course_lib.nn_torch import numpy_to_torch, torch_to_numpy

CELLS = ["rnn", "lstm", "gru"]
TORCH_CLASSES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def random_state(cell, num_states, N, H, rng):
    h0 = rng.standard_normal((num_states, N, H))
    return (h0, rng.standard_normal((num_states, N, H))) if cell == "lstm" else h0


def flat(final):
    """All final states as one (N, ...) array, to treat them as one more output in a gradient check."""
    arrays = final if isinstance(final, tuple) else (final,)
    return np.concatenate([a.transpose(1, 0, 2).reshape(a.shape[1], -1) for a in arrays], axis=1)


@pytest.mark.parametrize("cell", CELLS)
@settings(FEW, max_examples=4)
@given(
    N=st.integers(1, 2),
    T=st.integers(1, 3),
    D=st.integers(1, 3),
    H=st.integers(1, 3),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    seed=seeds,
)
def test_gradients_numerically(cell, N, T, D, H, num_layers, bidirectional, seed):
    rng = np.random.default_rng(seed)
    params = init_params(cell, D, H, num_layers, bidirectional, seed=seed)
    for name in params:  # larger than PyTorch's initialisation, so that every path carries gradient
        params[name] *= np.sqrt(H)
    K = 2 if bidirectional else 1
    x = rng.standard_normal((N, T, D))
    state0 = random_state(cell, num_layers * K, N, H, rng)
    inputs = {"x": x, "h0": state0[0] if cell == "lstm" else state0, **params}
    if cell == "lstm":
        inputs["c0"] = state0[1]

    def output_and_final():
        output, final, _ = stacked_forward(cell, x, params, state0)
        return np.concatenate([output.reshape(N, -1), flat(final)], axis=1)

    output, final, cache = stacked_forward(cell, x, params, state0)
    doutput = rng.standard_normal(output.shape)
    dfinal = tuple(rng.standard_normal(a.shape) for a in final) if cell == "lstm" else rng.standard_normal(final.shape)
    dx, dstate0, grads = stacked_backward(doutput, cache, dfinal)
    analytic = {"x": dx, **grads}
    if cell == "lstm":
        analytic["h0"], analytic["c0"] = dstate0
    else:
        analytic["h0"] = dstate0
    dout = np.concatenate([doutput.reshape(N, -1), flat(dfinal)], axis=1)
    check_gradients(output_and_final, inputs, analytic, dout)


@pytest.mark.parametrize("cell", CELLS)
@settings(FEW, max_examples=6)
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_two_layer_bidirectional_equals_torch_nn(cell, N, T, D, H, seed):
    torch.manual_seed(seed)
    module = TORCH_CLASSES[cell](D, H, num_layers=2, bidirectional=True, batch_first=True, dtype=torch.float64)
    params = torch_to_numpy(module)
    assert network_shape(params) == (2, 2)
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal((N, T, D))
    state0 = random_state(cell, 4, N, H, rng)
    output, final, cache = stacked_forward(cell, x_np, params, state0)

    x = leaf(x_np)
    torch_state0 = tuple(leaf(a) for a in state0) if cell == "lstm" else leaf(state0)
    torch_output, torch_final = module(x, torch_state0)
    assert_torch_close(output, torch_output, "output")
    finals = zip(final, torch_final, strict=True) if cell == "lstm" else [(final, torch_final)]
    for mine, theirs in finals:
        assert_torch_close(mine, theirs, "final state")

    doutput = rng.standard_normal(output.shape)
    if cell == "lstm":
        dfinal = tuple(rng.standard_normal(a.shape) for a in final)
        loss = sum((t * torch.tensor(d)).sum() for t, d in zip(torch_final, dfinal, strict=True))
    else:
        dfinal = rng.standard_normal(final.shape)
        loss = (torch_final * torch.tensor(dfinal)).sum()
    (loss + (torch_output * torch.tensor(doutput)).sum()).backward()
    dx, dstate0, grads = stacked_backward(doutput, cache, dfinal)
    assert_torch_close(dx, x.grad, "dx")
    if cell == "lstm":
        assert_torch_close(dstate0[0], torch_state0[0].grad, "dh0")
        assert_torch_close(dstate0[1], torch_state0[1].grad, "dc0")
    else:
        assert_torch_close(dstate0, torch_state0.grad, "dh0")
    torch_grads = torch_to_numpy(module, grad=True)
    assert grads.keys() == torch_grads.keys()
    for name in grads:
        assert_torch_close(grads[name], torch_grads[name], f"d{name}")


@pytest.mark.parametrize("cell", CELLS)
def test_numpy_weights_into_torch_nn_give_the_same_outputs(cell):
    params = init_params(cell, 3, 4, num_layers=3, bidirectional=True, seed=1)
    module = numpy_to_torch(params, TORCH_CLASSES[cell](3, 4, 3, bidirectional=True, batch_first=True).double())
    x = np.random.default_rng(2).standard_normal((2, 5, 3))
    output, _, _ = stacked_forward(cell, x, params)
    assert_torch_close(output, module(torch.tensor(x))[0])


@pytest.mark.parametrize("cell", CELLS)
def test_backward_direction_is_realigned_in_time(cell):
    # output[:, t, H:] must be the backward cell's state after reading x_{T-1}, ..., x_t: the reversed
    # sequence's states, reversed again. Checked against the plain single-direction functions.
    N, T, D, H = 2, 5, 3, 4
    params = init_params(cell, D, H, bidirectional=True, seed=3)
    x = np.random.default_rng(4).standard_normal((N, T, D))
    output, final, _ = bidirectional_forward(cell, x, params)
    reverse = {name[: -len("_l0_reverse")]: value for name, value in params.items() if name.endswith("_reverse")}
    h0 = np.zeros((N, H))
    if cell == "rnn":
        h_rev, _ = rnn_forward(x[:, ::-1], h0, **reverse)
    elif cell == "lstm":
        h_rev, _, _ = lstm_forward(x[:, ::-1], h0, h0, **reverse)
    else:
        h_rev, _ = gru_forward(x[:, ::-1], h0, **reverse)
    np.testing.assert_allclose(output[:, :, H:], h_rev[:, ::-1], rtol=1e-14)
    h_n = final[0] if cell == "lstm" else final
    np.testing.assert_allclose(h_n[1], output[:, 0, H:], rtol=1e-14)  # the backward direction ends at t = 0
    np.testing.assert_allclose(h_n[0], output[:, -1, :H], rtol=1e-14)


def test_one_plain_layer_is_the_cell_itself():
    params = init_params("gru", 3, 4, seed=5)
    assert set(params) == {"Wx", "Wh", "bx", "bh"}
    x = np.random.default_rng(6).standard_normal((2, 5, 3))
    output, h_n, cache = stacked_forward("gru", x, params, reset_after=False)
    h, _ = gru_forward(x, np.zeros((2, 4)), **params, reset_after=False)
    np.testing.assert_array_equal(output, h)
    _, _, grads = stacked_backward(np.ones_like(output), cache)
    assert set(grads) == set(params)


def test_bidirectional_backward_is_stacked_backward():
    params = init_params("lstm", 2, 3, bidirectional=True, seed=7)
    x = np.random.default_rng(8).standard_normal((2, 4, 2))
    output, _, cache = bidirectional_forward("lstm", x, params)
    dx_a, _, grads_a = bidirectional_backward(np.ones_like(output), cache)
    dx_b, _, grads_b = stacked_backward(np.ones_like(output), cache)
    np.testing.assert_array_equal(dx_a, dx_b)
    with pytest.raises(ValueError):
        bidirectional_forward("lstm", x, init_params("lstm", 2, 3, seed=7))
