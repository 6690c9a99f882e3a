"""Every layer of the course in pure NumPy, forward and backward (see the API reference page).

Each ``*_forward`` returns its output(s) and a ``cache``; the matching ``*_backward`` takes upstream
gradients and that cache. Shapes are batch first: a sequence is (N, T, D), a step input (N, D), a hidden
state (N, H).
"""

from .functional import gate_sigmoid, log_softmax, sigmoid, softmax
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .layers import (
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    softmax_cross_entropy,
)
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .optim import SGD, Adam, clip_grad_norm
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .stacked import (
    bidirectional_backward,
    bidirectional_forward,
    init_params,
    layer_params,
    network_shape,
    param_key,
    stacked_backward,
    stacked_forward,
)

__all__ = [
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "sigmoid",
    "gate_sigmoid",
    "softmax",
    "log_softmax",
    "affine_forward",
    "affine_backward",
    "embedding_forward",
    "embedding_backward",
    "softmax_cross_entropy",
    "stacked_forward",
    "stacked_backward",
    "bidirectional_forward",
    "bidirectional_backward",
    "init_params",
    "layer_params",
    "network_shape",
    "param_key",
    "SGD",
    "Adam",
    "clip_grad_norm",
]
