"""A deep character language model whose stack can be helped to train: residual connections and layer
normalisation between the layers.

Explained in the chapter *Deep and bidirectional RNNs* ("A stack that is too deep"). ``torch.nn.LSTM(num_layers=L)``
feeds each layer's hidden states straight into the next layer. ``DeepCharLM`` builds the same stack from L one-layer
``nn.LSTM`` modules so that something can be put between them:

- ``residual=True``: layer l's output is added to its input, ``u^(l) = u^(l-1) + h^(l)`` (He et al. 2016), so
  the signal and its gradient have a path around every layer;
- ``layer_norm=True``: each layer's output is normalised over its H features before it goes up
  (Ba et al. 2016; here *between* the layers, not inside the cell as in the paper's LSTM).

With both False it computes what ``CharLM(cell="lstm", num_layers=L)`` computes (same initialisation rule,
forget-gate bias 1). Batch first, as everywhere in the course.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .models import _as_long, _device_of, make_recurrent


class DeepCharLM(nn.Module):
    """Embedding -> L one-layer LSTMs (optionally residual and/or layer-normalised) -> linear.

    Parameters
    ----------
    vocab_size, hidden_size : int
        V and H (the embedding has H features too, so that every layer can be residual)
    num_layers : int
        L
    residual : bool
        add each layer's input to its output
    layer_norm : bool
        normalise each layer's output (after the residual sum) over its H features
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 64,
        num_layers: int = 2,
        residual: bool = False,
        layer_norm: bool = False,
    ):
        super().__init__()
        self.residual = residual
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.layers = nn.ModuleList(make_recurrent("lstm", hidden_size, hidden_size) for _ in range(num_layers))
        self.norms = nn.ModuleList(
            nn.LayerNorm(hidden_size) if layer_norm else nn.Identity() for _ in range(num_layers)
        )
        self.output = nn.Linear(hidden_size, vocab_size)

    def forward(self, X: torch.Tensor, state=None):
        """X: (N, T) token indices; state: None or the list of per-layer (h, c) returned by a previous call.

        Returns logits (N, T, V) and the list of the L layers' final states.
        """
        u = self.embedding(X)  # (N, T, H): the input of layer 0
        states = []
        for layer, (recurrent, norm) in enumerate(zip(self.layers, self.norms, strict=True)):
            h, layer_state = recurrent(u, None if state is None else state[layer])  # h: (N, T, H)
            u = norm(u + h if self.residual else h)  # what the layer above receives
            states.append(layer_state)
        return self.output(u), states

    def loss(self, batch, state=None):
        """batch = (X, Y), both (N, T). Mean cross-entropy per token, N * T tokens, and the final states."""
        device = _device_of(self)
        X, Y = _as_long(batch[0], device), _as_long(batch[1], device)
        logits, state = self(X, state)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1)), Y.numel(), state
