"""Deep (stacked) and bidirectional recurrent networks in NumPy, for all three cells, forward and backward.

Explained in the chapter *Deep and bidirectional RNNs*.

A network is described by its parameter dict, with PyTorch's names (the same dict that
``course_lib.nn_torch.convert`` exchanges with ``nn.RNN/LSTM/GRU``):

- ``"Wx_l0"``, ``"Wh_l0"``, ``"b_l0"`` (GRU: ``"bx_l0"``, ``"bh_l0"``) for layer 0 read forward in time,
- ``"Wx_l0_reverse"``, ... for layer 0 read backward in time (present only in a bidirectional network),
- ``"Wx_l1"``, ... for layer 1, which reads the layer below's output, and so on.

A one-layer unidirectional network may use the plain names ``"Wx"``, ``"Wh"``, ... of ``rnn_forward``.

Layer l, direction d is an ordinary ``rnn_forward``, ``lstm_forward`` or ``gru_forward``. The backward
direction runs on the time-reversed sequence; its outputs are reversed once more before the two directions are
concatenated, so ``output[:, t]`` holds both directions' states *at step t* (the forward one has read
x_0..x_t, the backward one x_t..x_{T-1}). Initial and final states are stacked as PyTorch does:
``h0[layer * num_directions + direction]``.
"""

import numpy as np

from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward

NUM_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
BIAS_NAMES = {"rnn": ("b",), "lstm": ("b",), "gru": ("bx", "bh")}


def param_key(name, layer=0, direction=0):
    """Key in a multi-layer or bidirectional dict: ``param_key("Wx", 1, 1) == "Wx_l1_reverse"``."""
    return f"{name}_l{layer}" + ("_reverse" if direction == 1 else "")


def cell_names(cell):
    """The parameter names of one cell: ("Wx", "Wh", "b") or, for the GRU, ("Wx", "Wh", "bx", "bh")."""
    return ("Wx", "Wh") + BIAS_NAMES[cell]


def network_shape(params):
    """(num_layers, num_directions) of the network a parameter dict describes."""
    if "Wx" in params:
        return 1, 1
    num_layers = 0
    while param_key("Wx", num_layers) in params:
        num_layers += 1
    if num_layers == 0:
        raise KeyError("the parameter dict has neither 'Wx' nor 'Wx_l0'")
    return num_layers, 2 if param_key("Wx", 0, 1) in params else 1


def layer_params(params, cell, layer=0, direction=0):
    """The arrays of one layer and direction, under the plain names {"Wx", "Wh", "b" or "bx", "bh"}."""
    if "Wx" in params:
        return {name: params[name] for name in cell_names(cell)}
    return {name: params[param_key(name, layer, direction)] for name in cell_names(cell)}


def init_params(cell, input_size, hidden_size, num_layers=1, bidirectional=False, seed=0, dtype=np.float64):
    """Random parameters, uniform in (-1/sqrt(H), 1/sqrt(H)) as PyTorch initialises its recurrent layers.

    Parameters
    ----------
    cell
        "rnn", "lstm" or "gru"
    input_size
        D, the features of x
    hidden_size
        H
    num_layers, bidirectional
        the shape of the network
    seed
        for np.random.default_rng
    dtype
        of the arrays

    Returns
    -------
    params
        dict name -> array; plain names for one unidirectional layer, PyTorch's suffixed names otherwise
    """
    rng = np.random.default_rng(seed)
    G = NUM_GATES[cell] * hidden_size
    bound = 1.0 / np.sqrt(hidden_size)
    num_directions = 2 if bidirectional else 1
    plain = num_layers == 1 and num_directions == 1
    params = {}
    for layer in range(num_layers):
        D_in = input_size if layer == 0 else num_directions * hidden_size
        shapes = {"Wx": (D_in, G), "Wh": (hidden_size, G), **{name: (G,) for name in BIAS_NAMES[cell]}}
        for direction in range(num_directions):
            for name, shape in shapes.items():
                key = name if plain else param_key(name, layer, direction)
                params[key] = rng.uniform(-bound, bound, size=shape).astype(dtype)
    return params


def _cell_forward(cell, x, h0, c0, p, reset_after):
    """One layer, one direction. Returns h (N, T, H), c (N, T, H) or None, and the cell's cache."""
    if cell == "rnn":
        h, cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        return h, None, cache
    if cell == "lstm":
        return lstm_forward(x, h0, c0, p["Wx"], p["Wh"], p["b"])
    if cell == "gru":
        h, cache = gru_forward(x, h0, p["Wx"], p["Wh"], p["bx"], p["bh"], reset_after=reset_after)
        return h, None, cache
    raise ValueError(f"unknown cell {cell!r}: use 'rnn', 'lstm' or 'gru'")


def _cell_backward(cell, dh, cache, dc_last):
    """Backward of _cell_forward. Returns dx, dh0, dc0 (None but for the LSTM) and the parameter gradients."""
    if cell == "lstm":
        dx, dh0, dc0, dWx, dWh, db = lstm_backward(dh, cache, dc_last=dc_last)
        return dx, dh0, dc0, {"Wx": dWx, "Wh": dWh, "b": db}
    if cell == "rnn":
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, None, {"Wx": dWx, "Wh": dWh, "b": db}
    dx, dh0, dWx, dWh, dbx, dbh = gru_backward(dh, cache)
    return dx, dh0, None, {"Wx": dWx, "Wh": dWh, "bx": dbx, "bh": dbh}


def stacked_forward(cell, x, params, state0=None, reset_after=True):
    """A stack of recurrent layers, each unidirectional or bidirectional, over whole sequences.

    Parameters
    ----------
    cell
        "rnn", "lstm" or "gru"
    x : ndarray, shape (N, T, D)
        inputs
    params
        parameter dict (module docstring); its keys decide num_layers L and num_directions K
    state0
        initial states, as PyTorch takes them: h0 (L*K, N, H), or for the LSTM a pair (h0, c0);
        zeros if None
    reset_after
        the GRU's reset placement (ignored by the other cells)

    Returns
    -------
    output
        the top layer's hidden states, (N, T, K*H), both directions concatenated at each step
    final : ndarray, shape (h_n, c_n)
        every layer's and direction's last state: h_n (L*K, N, H), or for the LSTM
    cache
        what stacked_backward needs
    """
    num_layers, num_directions = network_shape(params)
    N, T, _ = x.shape
    H = layer_params(params, cell)["Wh"].shape[0]
    if state0 is None:
        zeros = np.zeros((num_layers * num_directions, N, H), dtype=x.dtype)
        state0 = (zeros, zeros) if cell == "lstm" else zeros
    h0, c0 = state0 if cell == "lstm" else (state0, None)
    h_n = np.empty((num_layers * num_directions, N, H), dtype=np.result_type(x, h0))
    c_n = np.empty_like(h_n) if cell == "lstm" else None
    caches = []
    layer_input = x
    for layer in range(num_layers):
        outputs = []
        for direction in range(num_directions):
            k = layer * num_directions + direction
            p = layer_params(params, cell, layer, direction)
            # The backward direction reads x_{T-1}, ..., x_0: run it on the reversed sequence.
            steps = layer_input if direction == 0 else layer_input[:, ::-1]
            h, c, cache = _cell_forward(cell, steps, h0[k], None if c0 is None else c0[k], p, reset_after)
            h_n[k] = h[:, -1]  # the last state in reading order (for the backward direction: at t = 0)
            if c_n is not None:
                c_n[k] = c[:, -1]
            outputs.append(h if direction == 0 else h[:, ::-1])  # back into time order before concatenating
            caches.append(cache)
        layer_input = np.concatenate(outputs, axis=2)  # (N, T, K*H)
    final = (h_n, c_n) if cell == "lstm" else h_n
    cache = (cell, num_layers, num_directions, H, caches, params)
    return layer_input, final, cache


def stacked_backward(doutput, cache, dfinal=None):
    """Backward pass of stacked_forward.

    Parameters
    ----------
    doutput : ndarray, shape (N, T, K*H)
        upstream gradient of output
    cache
        from stacked_forward
    dfinal
        optional upstream gradient of ``final``: dh_n (L*K, N, H), or for the LSTM (dh_n, dc_n);
        None means zero

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dstate0 : ndarray, shape (dh0, dc0)
        gradient of state0: dh0 (L*K, N, H), or for the LSTM
    grads
        dict with the keys of params, each gradient of its parameter's shape
    """
    cell, num_layers, num_directions, H, caches, params = cache
    dh_n, dc_n = dfinal if (cell == "lstm" and dfinal is not None) else (dfinal, None)
    N, T, _ = doutput.shape
    dh0 = np.empty((num_layers * num_directions, N, H), dtype=doutput.dtype)
    dc0 = np.empty_like(dh0) if cell == "lstm" else None
    grads = {}
    plain = "Wx" in params
    dlayer_output = doutput
    for layer in reversed(range(num_layers)):
        dlayer_input = None
        for direction in range(num_directions):
            k = layer * num_directions + direction
            dh = dlayer_output[:, :, direction * H : (direction + 1) * H]
            dh = dh.copy() if direction == 0 else dh[:, ::-1].copy()  # into this direction's reading order
            if dh_n is not None:
                dh[:, -1] += dh_n[k]  # h_n[k] is the last state in reading order
            dc_last = None if dc_n is None else dc_n[k]
            dx, dh0[k], dc0_k, cell_grads = _cell_backward(cell, dh, caches[k], dc_last)
            if dc0 is not None:
                dc0[k] = dc0_k
            dx = dx if direction == 0 else dx[:, ::-1]  # back into time order
            dlayer_input = dx if dlayer_input is None else dlayer_input + dx
            for name, grad in cell_grads.items():
                grads[name if plain else param_key(name, layer, direction)] = grad
        dlayer_output = dlayer_input
    dstate0 = (dh0, dc0) if cell == "lstm" else dh0
    return dlayer_output, dstate0, grads


def bidirectional_forward(cell, x, params, state0=None, reset_after=True):
    """One bidirectional layer: ``stacked_forward`` with a dict holding "..._l0" and "..._l0_reverse" keys.

    Inputs and returns: as stacked_forward, with L = 1 and K = 2: output (N, T, 2H), h_n (2, N, H).
    """
    if network_shape(params) != (1, 2):
        raise ValueError("bidirectional_forward needs the parameters of one layer in two directions")
    return stacked_forward(cell, x, params, state0, reset_after)


def bidirectional_backward(doutput, cache, dfinal=None):
    """Backward pass of bidirectional_forward (the same as stacked_backward)."""
    return stacked_backward(doutput, cache, dfinal)
