"""Copy weights between NumPy parameter dicts, the scratch modules and ``torch.nn.RNN/LSTM/GRU``.

Explained in the chapters *The recurrent neural network*, *Long short-term memory* and *Gated recurrent units*: once the
weights are the same, the three versions of a cell must compute the same numbers, and the chapters check that they do.

**The NumPy parameter dict.** For one unidirectional layer it holds the NumPy arrays under their names:
``{"Wx", "Wh", "b"}`` for the RNN and the LSTM, ``{"Wx", "Wh", "bx", "bh"}`` for the GRU. For several layers
or two directions every name gets PyTorch's suffix: ``"Wx_l0"``, ``"Wx_l0_reverse"``, ``"Wx_l1"``, ... (see
``param_key``). The scratch modules hold exactly these arrays, so copying to and from them changes nothing.

**What ``torch.nn`` does differently**, and what the conversion therefore does:

- column vectors: ``weight_ih_l0`` is (G*H, D) where we have Wx (D, G*H), so each matrix is transposed;
- the gate blocks are in the same order (LSTM i, f, g, o; GRU r, z, n), so no block is moved;
- two biases ``bias_ih`` and ``bias_hh``. The RNN and the LSTM only ever use their sum, so NumPy keeps one
  ``b = bias_ih + bias_hh``; going back, ``b`` goes into ``bias_ih`` and ``bias_hh`` is set to zero. The GRU
  keeps both (``bx = bias_ih``, ``bh = bias_hh``) because r multiplies ``bh_n``;
- ``nn.GRU`` only has the reset-after form, so a ``reset_after=False`` GRU cannot be converted to it.
"""

import numpy as np
import torch
from torch import nn

from ..nn_numpy.stacked import param_key
from . import scratch

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def cell_kind(module):
    """'rnn', 'lstm' or 'gru' for a ``torch.nn`` or scratch recurrent module."""
    if isinstance(module, nn.LSTM | scratch.LSTM):
        return "lstm"
    if isinstance(module, nn.GRU | scratch.GRU):
        return "gru"
    if isinstance(module, nn.RNN | scratch.RNN):
        return "rnn"
    raise TypeError(f"not a recurrent module this course knows: {type(module).__name__}")


def _layout(module):
    """Kind, number of layers, number of directions, and whether the dict uses plain (unsuffixed) names."""
    kind = cell_kind(module)
    num_directions = 2 if module.bidirectional else 1
    plain = module.num_layers == 1 and num_directions == 1
    if isinstance(module, nn.RNNBase):
        if not module.bias:
            raise ValueError("modules built with bias=False are not supported: the NumPy cells always have biases")
        if getattr(module, "proj_size", 0):
            raise ValueError("LSTMs with proj_size > 0 are not supported")
        if kind == "rnn" and module.nonlinearity != "tanh":
            raise ValueError("only tanh RNNs match course_lib.nn_numpy's rnn_forward")
    return kind, module.num_layers, num_directions, plain


def _bias_names(kind):
    return ("bx", "bh") if kind == "gru" else ("b",)


def _names(kind, layer, direction, plain):
    """NumPy keys of one cell: Wx, Wh, then the bias(es)."""
    names = ("Wx", "Wh") + _bias_names(kind)
    if plain:
        return {name: name for name in names}
    return {name: param_key(name, layer, direction) for name in names}


def _to_array(tensor):
    return tensor.detach().cpu().numpy().copy()


def torch_to_numpy(module, grad=False):
    """The NumPy parameter dict of an ``nn.RNN/LSTM/GRU`` or a scratch module (see the module docstring).

    Parameters
    ----------
    module
        the torch module
    grad
        if True, convert the parameters' ``.grad`` instead of their values. The gradient of the merged
        bias ``b = bias_ih + bias_hh`` is the gradient of either one, so it is taken from ``bias_ih``.

    Returns
    -------
    params
        dict name -> ndarray, in the module's dtype
    """
    kind, num_layers, num_directions, plain = _layout(module)
    pick = (lambda p: p.grad) if grad else (lambda p: p)
    params = {}
    for layer in range(num_layers):
        for direction in range(num_directions):
            keys = _names(kind, layer, direction, plain)
            if isinstance(module, nn.RNNBase):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                weight_ih = pick(getattr(module, "weight_ih" + suffix))
                weight_hh = pick(getattr(module, "weight_hh" + suffix))
                bias_ih = pick(getattr(module, "bias_ih" + suffix))
                bias_hh = pick(getattr(module, "bias_hh" + suffix))
                params[keys["Wx"]] = _to_array(weight_ih).T.copy()
                params[keys["Wh"]] = _to_array(weight_hh).T.copy()
                if kind == "gru":
                    params[keys["bx"]] = _to_array(bias_ih)
                    params[keys["bh"]] = _to_array(bias_hh)
                elif grad:
                    params[keys["b"]] = _to_array(bias_ih)
                else:
                    params[keys["b"]] = _to_array(bias_ih + bias_hh)
            else:
                cell = module.cell(layer, direction)
                for name, key in keys.items():
                    params[key] = _to_array(pick(getattr(cell, name)))
    return params


def numpy_to_torch(params, module):
    """Copy a NumPy parameter dict into an ``nn.RNN/LSTM/GRU`` or a scratch module, in place; returns the
    module.

    Parameters
    ----------
    params
        dict name -> ndarray (see the module docstring). For a one-layer unidirectional module, the
        plain names ("Wx", ...) and the suffixed ones ("Wx_l0", ...) are both accepted.
    module
        the torch module; its shapes must match, its dtype and device are kept

    Returns
    -------
    module
        the same module, now holding the weights
    """
    kind, num_layers, num_directions, plain = _layout(module)
    if plain and "Wx" not in params:
        plain = False
    with torch.no_grad():
        for layer in range(num_layers):
            for direction in range(num_directions):
                keys = _names(kind, layer, direction, plain)
                missing = [key for key in keys.values() if key not in params]
                if missing:
                    raise KeyError(f"the parameter dict lacks {missing}")
                arrays = {name: np.asarray(params[key]) for name, key in keys.items()}
                if isinstance(module, nn.RNNBase):
                    suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                    _copy(getattr(module, "weight_ih" + suffix), arrays["Wx"].T)
                    _copy(getattr(module, "weight_hh" + suffix), arrays["Wh"].T)
                    if kind == "gru":
                        _copy(getattr(module, "bias_ih" + suffix), arrays["bx"])
                        _copy(getattr(module, "bias_hh" + suffix), arrays["bh"])
                    else:
                        # PyTorch adds the two biases; all of b goes into bias_ih and bias_hh contributes
                        # nothing.
                        _copy(getattr(module, "bias_ih" + suffix), arrays["b"])
                        getattr(module, "bias_hh" + suffix).zero_()
                else:
                    cell = module.cell(layer, direction)
                    for name, array in arrays.items():
                        _copy(getattr(cell, name), array)
    return module


def _copy(parameter, array):
    if tuple(parameter.shape) != tuple(array.shape):
        raise ValueError(f"shape mismatch: the module has {tuple(parameter.shape)}, the array {tuple(array.shape)}")
    parameter.copy_(torch.as_tensor(np.ascontiguousarray(array), dtype=parameter.dtype, device=parameter.device))


def copy_weights(source, target):
    """Give ``target`` the weights of ``source`` (any two of nn.RNN/LSTM/GRU and the scratch modules, same
    kind).

    Returns
    -------
    target
        the same module, now holding the weights of ``source``
    """
    if cell_kind(source) != cell_kind(target):
        raise ValueError(f"cannot copy {cell_kind(source)} weights into a {cell_kind(target)}")
    if getattr(source, "reset_after", True) != getattr(target, "reset_after", True):
        raise ValueError("the two GRUs use different reset placements: equal weights would compute different things")
    return numpy_to_torch(torch_to_numpy(source), target)
