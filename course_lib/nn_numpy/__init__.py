"""Every layer of the course in pure NumPy, forward and backward (the API contract of DESIGN §3).

Each ``*_forward`` returns its output(s) and a ``cache``; the matching ``*_backward`` takes upstream gradients and
that cache. Shapes are batch first: a sequence is (N, T, D), a step input (N, D), a hidden state (N, H).
"""

from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = [
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
]
