"""Weight conversion between NumPy dicts, scratch modules and torch.nn: layouts, round trips and refusals."""

import numpy as np
import pytest
import torch

from course_lib.nn_numpy import init_params
from course_lib.nn_torch import (
    GRU,
    LSTM,
    RNN,
    cell_kind,
    copy_weights,
    numpy_to_torch,
    param_key,
    torch_to_numpy,
)


def test_rnn_layout_is_transposed_and_bias_merged():
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, batch_first=True)
    params = torch_to_numpy(rnn)
    assert set(params) == {"Wx", "Wh", "b"}
    np.testing.assert_array_equal(params["Wx"], rnn.weight_ih_l0.detach().numpy().T)  # (D, H) = weight_ih.T
    np.testing.assert_array_equal(params["Wh"], rnn.weight_hh_l0.detach().numpy().T)
    np.testing.assert_allclose(params["b"], (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy(), rtol=0)
    assert params["Wx"].dtype == np.float32  # the module's dtype is kept


def test_lstm_gate_blocks_keep_their_order():
    # Gate k occupies rows k*H:(k+1)*H of weight_ih and columns k*H:(k+1)*H of Wx: a transpose, no reordering.
    H = 2
    lstm = torch.nn.LSTM(1, H, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.arange(4 * H, dtype=torch.float32)[:, None])
    Wx = torch_to_numpy(lstm)["Wx"]
    np.testing.assert_array_equal(Wx, np.arange(4 * H, dtype=np.float32)[None, :])


def test_gru_keeps_both_biases():
    torch.manual_seed(0)
    gru = torch.nn.GRU(2, 3, batch_first=True)
    params = torch_to_numpy(gru)
    assert set(params) == {"Wx", "Wh", "bx", "bh"}
    np.testing.assert_array_equal(params["bx"], gru.bias_ih_l0.detach().numpy())
    np.testing.assert_array_equal(params["bh"], gru.bias_hh_l0.detach().numpy())


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (1, True), (3, False), (2, True)])
def test_round_trips_through_torch_nn_and_scratch(cell, num_layers, bidirectional):
    params = init_params(cell, 3, 4, num_layers, bidirectional, seed=11)
    classes = {"rnn": (torch.nn.RNN, RNN), "lstm": (torch.nn.LSTM, LSTM), "gru": (torch.nn.GRU, GRU)}[cell]
    reference = classes[0](3, 4, num_layers, bidirectional=bidirectional, batch_first=True).double()
    scratch = classes[1](3, 4, num_layers, bidirectional=bidirectional, dtype=torch.float64)
    for module in (numpy_to_torch(params, reference), numpy_to_torch(params, scratch)):
        back = torch_to_numpy(module)
        assert back.keys() == params.keys()
        for name in params:
            np.testing.assert_array_equal(back[name], params[name])
    if cell != "gru":
        for name, tensor in reference.named_parameters():
            if name.startswith("bias_hh"):
                assert torch.all(tensor == 0), "the merged bias goes into bias_ih, bias_hh is zeroed"


def test_suffixed_keys_accepted_for_a_single_layer():
    params = init_params("lstm", 2, 3, seed=0)
    suffixed = {param_key(name): value for name, value in params.items()}
    assert set(suffixed) == {"Wx_l0", "Wh_l0", "b_l0"}
    a = torch_to_numpy(numpy_to_torch(params, torch.nn.LSTM(2, 3).double()))
    b = torch_to_numpy(numpy_to_torch(suffixed, torch.nn.LSTM(2, 3).double()))
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_param_key_names():
    assert param_key("Wx") == "Wx_l0"
    assert param_key("bh", 2) == "bh_l2"
    assert param_key("b", 1, 1) == "b_l1_reverse"


def test_copy_weights_into_a_float32_module_casts():
    torch.manual_seed(0)
    source = torch.nn.GRU(2, 3, batch_first=True).double()
    target = copy_weights(source, GRU(2, 3))  # float32 scratch
    assert target.cell(0).Wx.dtype == torch.float32
    x = torch.randn(1, 4, 2, dtype=torch.float64)
    np.testing.assert_allclose(target(x.float())[0].detach().numpy(), source(x)[0].detach().numpy(), atol=1e-6)


def test_cell_kind():
    assert cell_kind(torch.nn.LSTM(1, 1)) == "lstm"
    assert cell_kind(GRU(1, 1)) == "gru"
    assert cell_kind(RNN(1, 1)) == "rnn"
    with pytest.raises(TypeError):
        cell_kind(torch.nn.Linear(1, 1))


@pytest.mark.parametrize(
    "module",
    [
        torch.nn.RNN(2, 3, nonlinearity="relu"),
        torch.nn.LSTM(2, 3, bias=False),
        torch.nn.LSTM(2, 3, proj_size=2),
    ],
    ids=["relu-rnn", "no-bias", "projection"],
)
def test_unsupported_torch_modules_are_refused(module):
    with pytest.raises(ValueError):
        torch_to_numpy(module)


def test_mismatches_are_refused():
    with pytest.raises(ValueError):  # different cells
        copy_weights(torch.nn.LSTM(2, 3), GRU(2, 3))
    with pytest.raises(ValueError):  # different shapes
        copy_weights(torch.nn.LSTM(2, 3), LSTM(2, 4))
    with pytest.raises(KeyError):  # a two-layer module needs two layers of parameters
        numpy_to_torch(init_params("rnn", 2, 3, num_layers=1), torch.nn.RNN(2, 3, num_layers=2))
    with pytest.raises(ValueError):  # nn.GRU cannot express reset_after=False
        copy_weights(GRU(2, 3, reset_after=False), torch.nn.GRU(2, 3))
