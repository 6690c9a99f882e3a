"""RNN, LSTM and GRU built from ``nn.Parameter`` and autograd: the "PyTorch from scratch" version of every
cell.

Explained in the chapters *The recurrent neural network*, *Long short-term memory*, *Gated recurrent units* and
*Deep and bidirectional RNNs*.

The cells use the same letters, shapes and gate orders as ``course_lib.nn_numpy``: batch first,
row vectors, ``x @ Wx + h @ Wh + b``; LSTM gates i, f, g, o; GRU gates r, z, n with ``h = z*h_prev +
(1-z)*n``. So a NumPy parameter dict and a scratch module hold exactly the same arrays, and
``course_lib.nn_torch.convert`` copies them without any reshuffling (only ``torch.nn`` needs transposes and
bias splitting).

The sequence modules ``RNN``, ``LSTM`` and ``GRU`` take and return what
``torch.nn.RNN/LSTM/GRU(batch_first=True)`` do, so the three versions can be swapped in a model:

    output, h_n = RNN(D, H)(x)                       # x (N, T, D), output (N, T, H), h_n (1, N, H)
    output, (h_n, c_n) = LSTM(D, H, num_layers=2, bidirectional=True)(x)  # output (N, T, 2H), h_n (4, N, H)

Initialisation follows PyTorch: every weight and bias uniform in (-1/sqrt(H), 1/sqrt(H)).
"""

import math

import torch
from torch import nn


class _Cell(nn.Module):
    """Base of the three cells: creates the weights with PyTorch's uniform initialisation."""

    num_gates = 1

    def __init__(self, input_size, hidden_size, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        G = self.num_gates * hidden_size
        self.Wx = nn.Parameter(torch.empty(input_size, G, dtype=dtype))
        self.Wh = nn.Parameter(torch.empty(hidden_size, G, dtype=dtype))
        self._make_biases(G, dtype)
        bound = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def _make_biases(self, G, dtype):
        self.b = nn.Parameter(torch.empty(G, dtype=dtype))

    def zero_state(self, N, device=None, dtype=None):
        """The initial hidden state: zeros of shape (N, H)."""
        return torch.zeros(N, self.hidden_size, device=device, dtype=dtype or self.Wx.dtype)


class RNNCell(_Cell):
    """One step of a tanh RNN: ``h = tanh(x @ Wx + h_prev @ Wh + b)``.

    Parameters: Wx (D, H), Wh (H, H), b (H,).
    """

    def forward(self, x, h_prev):
        """

        Parameters
        ----------
        x : ndarray, shape (N, D)
        h_prev : ndarray, shape (N, H)

        Returns
        -------
        h : ndarray, shape (N, H)
        """
        return torch.tanh(x @ self.Wx + h_prev @ self.Wh + self.b)


class LSTMCell(_Cell):
    """One step of an LSTM (no peepholes), gates in PyTorch's order i, f, g, o.

    Parameters: Wx (D, 4H), Wh (H, 4H), b (4H,); column block k of each belongs to gate k.
    """

    num_gates = 4

    def forward(self, x, state):
        """

        Parameters
        ----------
        x : ndarray, shape (N, D)
        state : tuple of two tensors, each of shape (N, H)
            the pair (h_prev, c_prev)

        Returns
        -------
        h, c : tensors, each of shape (N, H)
            the new hidden and cell states
        """
        h_prev, c_prev = state
        a = x @ self.Wx + h_prev @ self.Wh + self.b  # (N, 4H): all four pre-activations at once
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        i = torch.sigmoid(a_i)  # input gate
        f = torch.sigmoid(a_f)  # forget gate
        g = torch.tanh(a_g)  # candidate cell content
        o = torch.sigmoid(a_o)  # output gate
        c = f * c_prev + i * g
        h = o * torch.tanh(c)
        return h, c

    def zero_state(self, N, device=None, dtype=None):
        """The initial (h, c): two zero tensors of shape (N, H)."""
        h0 = super().zero_state(N, device, dtype)
        return h0, torch.zeros_like(h0)


class GRUCell(_Cell):
    """One step of a GRU, gates in PyTorch's order r, z, n, and ``h = z * h_prev + (1 - z) * n``.

    Parameters: Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,).

    ``reset_after=True`` (PyTorch, cuDNN):  n = tanh(x Wx_n + bx_n + r * (h_prev Wh_n + bh_n))
    ``reset_after=False`` (Cho et al. 2014 v3, d2l): n = tanh(x Wx_n + bx_n + (r * h_prev) Wh_n + bh_n)
    """

    num_gates = 3

    def __init__(self, input_size, hidden_size, reset_after=True, dtype=None):
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, dtype=dtype)

    def _make_biases(self, G, dtype):
        # Two biases: with reset_after=True, bh_n is multiplied by r, so it cannot be merged into bx_n.
        self.bx = nn.Parameter(torch.empty(G, dtype=dtype))
        self.bh = nn.Parameter(torch.empty(G, dtype=dtype))

    def forward(self, x, h_prev):
        """

        Parameters
        ----------
        x : ndarray, shape (N, D)
        h_prev : ndarray, shape (N, H)

        Returns
        -------
        h : ndarray, shape (N, H)
        """
        H = self.hidden_size
        ax = x @ self.Wx + self.bx  # (N, 3H): the input's share of r, z, n
        ax_r, ax_z, ax_n = ax.chunk(3, dim=1)
        Wh_rz, Wh_n = self.Wh[:, : 2 * H], self.Wh[:, 2 * H :]
        bh_rz, bh_n = self.bh[: 2 * H], self.bh[2 * H :]
        ah_r, ah_z = (h_prev @ Wh_rz + bh_rz).chunk(2, dim=1)
        r = torch.sigmoid(ax_r + ah_r)  # reset gate
        z = torch.sigmoid(ax_z + ah_z)  # update gate
        if self.reset_after:
            n = torch.tanh(ax_n + r * (h_prev @ Wh_n + bh_n))
        else:
            n = torch.tanh(ax_n + (r * h_prev) @ Wh_n + bh_n)
        return z * h_prev + (1 - z) * n

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, reset_after={self.reset_after}"


class _Recurrent(nn.Module):
    """A stack of ``num_layers`` recurrent layers, each one or two directions, over whole sequences.

    ``cells[layer * num_directions + direction]`` is the cell of that layer and direction (0 forward, 1
    backward), the same order as PyTorch's ``h_0``. Layer 0 reads x (D features); a higher layer reads the
    layer below's output (num_directions * H features). The backward direction reads the sequence from the
    last step to the first; its outputs are put back in time order before the two directions are concatenated,
    so ``output[:, t]`` holds both directions' states *at step t*.
    """

    cell_class = RNNCell

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dtype=None, **cell_kwargs):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        cells = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self.num_directions * hidden_size
            for _ in range(self.num_directions):
                cells.append(self.cell_class(layer_input, hidden_size, dtype=dtype, **cell_kwargs))
        self.cells = nn.ModuleList(cells)

    def cell(self, layer=0, direction=0):
        """The cell of a layer (0 = bottom) and direction (0 = forward in time, 1 = backward)."""
        return self.cells[layer * self.num_directions + direction]

    def forward(self, x, h0=None):
        """Run the stack over whole sequences, for cells whose state is one tensor (RNN, GRU; LSTM overrides this).

        Parameters
        ----------
        x : Tensor, shape (N, T, D)
        h0 : Tensor, shape (num_layers * num_directions, N, H), optional
            initial states; zeros if None

        Returns
        -------
        output : Tensor, shape (N, T, num_directions * H)
            top layer's states at every step
        h_n : Tensor, shape (num_layers * num_directions, N, H)
            every cell's last state
        """
        if h0 is None:
            h0 = x.new_zeros(len(self.cells), x.shape[0], self.hidden_size)
        output, final = self._forward(x, list(h0))
        return output, torch.stack(final)

    def _run_direction(self, cell, x, state, reverse):
        """Runs a cell over x (N, T, D_in); returns the states in time order (N, T, H) and the last state."""
        T = x.shape[1]
        steps = range(T - 1, -1, -1) if reverse else range(T)
        outputs = [None] * T
        for t in steps:
            state = cell(x[:, t], state)
            outputs[t] = state[0] if isinstance(state, tuple) else state
        return torch.stack(outputs, dim=1), state

    def _forward(self, x, initial_states):
        """initial_states: one state per cell (tensor, or (h, c) pair). Returns output and the last states."""
        final_states = []
        layer_input = x
        for layer in range(self.num_layers):
            direction_outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                out, last = self._run_direction(self.cells[k], layer_input, initial_states[k], reverse=direction == 1)
                direction_outputs.append(out)
                final_states.append(last)
            layer_input = torch.cat(direction_outputs, dim=2)  # (N, T, num_directions * H)
        return layer_input, final_states


class RNN(_Recurrent):
    """A (stacked, optionally bidirectional) tanh RNN; the interface of ``nn.RNN(batch_first=True)``:
    ``forward(x, h0=None) -> (output, h_n)``."""

    cell_class = RNNCell


class LSTM(_Recurrent):
    """A (stacked, optionally bidirectional) LSTM; the interface of ``nn.LSTM(batch_first=True)``."""

    cell_class = LSTMCell

    def forward(self, x, state=None):
        """Run the stack over whole sequences; the state of an LSTM cell is the pair (h, c).

        Parameters
        ----------
        x : Tensor, shape (N, T, D)
        state : tuple of Tensors, each of shape (num_layers * num_directions, N, H), optional
            (h0, c0); zeros if None

        Returns
        -------
        output : Tensor, shape (N, T, num_directions * H)
            top layer's hidden states at every step
        (h_n, c_n) : tuple of Tensors, each of shape (num_layers * num_directions, N, H)
            every cell's last hidden and cell state
        """
        if state is None:
            zeros = x.new_zeros(len(self.cells), x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h0, c0 = state
        output, final = self._forward(x, list(zip(h0, c0, strict=False)))
        h_n = torch.stack([h for h, _ in final])
        c_n = torch.stack([c for _, c in final])
        return output, (h_n, c_n)


class GRU(_Recurrent):
    """A (stacked, optionally bidirectional) GRU; the interface of ``nn.GRU(batch_first=True)``:
    ``forward(x, h0=None) -> (output, h_n)``.

    ``reset_after=True`` is PyTorch's form (the only one ``nn.GRU`` has); ``False`` is Cho et al.'s and d2l's.
    """

    cell_class = GRUCell

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, reset_after=True, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dtype=dtype, reset_after=reset_after)
        self.reset_after = reset_after
