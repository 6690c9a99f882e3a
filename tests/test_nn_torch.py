"""The scratch PyTorch modules (nn.Parameter + autograd) against torch.nn, after copying the weights."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_helpers import FEW, assert_torch_close, seeds, small

from course_lib.nn_numpy import gru_forward
from course_lib.nn_torch import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, copy_weights, torch_to_numpy

SCRATCH = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
TORCH_NN = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def make_pair(cell, D, H, num_layers, bidirectional):
    reference = TORCH_NN[cell](D, H, num_layers, bidirectional=bidirectional, batch_first=True).double()
    scratch = SCRATCH[cell](D, H, num_layers, bidirectional=bidirectional, dtype=torch.float64)
    copy_weights(reference, scratch)
    return reference, scratch


def random_state(cell, num_states, N, H, generator):
    h0 = torch.randn(num_states, N, H, dtype=torch.float64, generator=generator)
    if cell == "lstm":
        return h0, torch.randn(num_states, N, H, dtype=torch.float64, generator=generator)
    return h0


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@settings(FEW, max_examples=6)
@given(N=small, T=small, D=small, H=small, num_layers=st.integers(1, 3), bidirectional=st.booleans(), seed=seeds)
def test_scratch_equals_torch_nn_values_and_gradients(cell, N, T, D, H, num_layers, bidirectional, seed):
    torch.manual_seed(seed)
    reference, scratch = make_pair(cell, D, H, num_layers, bidirectional)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(N, T, D, dtype=torch.float64, generator=generator)
    state0 = random_state(cell, num_layers * (2 if bidirectional else 1), N, H, generator)
    outputs = []
    for module in (reference, scratch):
        x_leaf = x.clone().requires_grad_()
        output, final = module(x_leaf, state0)
        finals = final if cell == "lstm" else (final,)
        # a loss that reads the output and every final state, with fixed random weights
        loss = (output * torch.cos(torch.arange(output.numel()).reshape(output.shape))).sum()
        loss = loss + sum((f * torch.sin(torch.arange(f.numel()).reshape(f.shape))).sum() for f in finals)
        loss.backward()
        outputs.append((output, finals, x_leaf.grad))
    (out_ref, finals_ref, dx_ref), (out_scr, finals_scr, dx_scr) = outputs
    assert_torch_close(out_scr.detach().numpy(), out_ref, "output")
    for mine, theirs in zip(finals_scr, finals_ref, strict=True):
        assert_torch_close(mine.detach().numpy(), theirs, "final state")
    assert_torch_close(dx_scr.numpy(), dx_ref, "dx")
    # parameter gradients, in the NumPy layout (transposed, merged bias) where they can be compared
    ref_grads, scr_grads = torch_to_numpy(reference, grad=True), torch_to_numpy(scratch, grad=True)
    assert ref_grads.keys() == scr_grads.keys()
    for name in ref_grads:
        assert_torch_close(scr_grads[name], ref_grads[name], f"d{name}")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_default_initial_state_is_zero(cell):
    torch.manual_seed(0)
    module = SCRATCH[cell](3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    zeros = torch.zeros(4, 2, 4, dtype=torch.float64)
    explicit = module(x, (zeros, zeros) if cell == "lstm" else zeros)[0]
    assert torch.equal(module(x)[0], explicit)


@pytest.mark.parametrize(
    "cell_class, gates, biases", [(RNNCell, 1, ["b"]), (LSTMCell, 4, ["b"]), (GRUCell, 3, ["bx", "bh"])]
)
def test_cell_parameters_shapes_and_initialisation(cell_class, gates, biases):
    torch.manual_seed(0)
    D, H = 5, 16
    cell = cell_class(D, H)
    names = dict(cell.named_parameters())
    assert set(names) == {"Wx", "Wh", *biases}
    assert names["Wx"].shape == (D, gates * H) and names["Wh"].shape == (H, gates * H)
    bound = 1 / math.sqrt(H)
    for p in cell.parameters():
        assert p.abs().max() <= bound and p.abs().max() > 0.5 * bound


def test_parameter_counts_match_torch_nn():
    # The LSTM has 4x and the GRU 3x the weights of a plain RNN layer; the merged bias of the RNN and the LSTM
    # saves one bias vector per cell compared with torch.nn's two.
    D, H = 7, 9
    for cell, gates in (("rnn", 1), ("lstm", 4), ("gru", 3)):
        scratch = sum(p.numel() for p in SCRATCH[cell](D, H).parameters())
        reference = sum(p.numel() for p in TORCH_NN[cell](D, H).parameters())
        merged = 0 if cell == "gru" else gates * H
        assert scratch == gates * (D * H + H * H + 2 * H) - merged
        assert reference == scratch + merged


def test_gru_placements_differ_and_match_the_numpy_ones():
    torch.manual_seed(1)
    after = GRU(3, 4, reset_after=True, dtype=torch.float64)
    before = GRU(3, 4, reset_after=False, dtype=torch.float64)
    before.load_state_dict(after.state_dict())  # the same weights (copy_weights refuses: placements differ)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    out_after, out_before = after(x)[0], before(x)[0]
    assert (out_after - out_before).abs().max() > 1e-3
    params = torch_to_numpy(before)
    h, _ = gru_forward(x.numpy(), np.zeros((2, 4)), **params, reset_after=False)
    assert_torch_close(h, out_before)


def test_float32_and_no_grad_inference():
    module = LSTM(3, 4, num_layers=2)
    with torch.no_grad():
        output, (h_n, c_n) = module(torch.randn(2, 5, 3))
    assert output.dtype == torch.float32 and output.shape == (2, 5, 4) and h_n.shape == c_n.shape == (2, 2, 4)
