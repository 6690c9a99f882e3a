"""The course's cells in PyTorch: built from ``nn.Parameter`` (``scratch``), and weight conversion
(``convert``).

Everything here mirrors ``course_lib.nn_numpy``: same letters, shapes and gate orders. The sequence modules
take and return what ``torch.nn.RNN/LSTM/GRU(batch_first=True)`` do.
"""

from .convert import cell_kind, copy_weights, numpy_to_torch, param_key, torch_to_numpy
from .scratch import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "RNN",
    "LSTM",
    "GRU",
    "cell_kind",
    "param_key",
    "torch_to_numpy",
    "numpy_to_torch",
    "copy_weights",
]
