"""The vanilla (Elman) recurrent layer in NumPy, forward and backward.

Explained in the chapters *The recurrent neural network* (forward) and *Backpropagation through time* (backward).

Conventions: batch first, row vectors. A step computes::

    a_t = x_t @ Wx + h_{t-1} @ Wh + b          (N, H)
    h_t = tanh(a_t)                             (N, H)

with x_t of shape (N, D), Wx (D, H), Wh (H, H), b (H,). The chapters' column form h_t = tanh(W x_t + U h_{t-1} + b)
is the same computation transposed: W = Wx.T, U = Wh.T.

Speed: ``rnn_forward`` projects the inputs of all time steps with one matrix product before the loop, loops in
Python only over time, and ``rnn_backward`` forms dWx and dWh with one matrix product over all steps after its loop.
"""

import numpy as np

from ._shapes import check_shapes


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a tanh RNN.

    Computes ``h = tanh(x @ Wx + h_prev @ Wh + b)``, the recurrence of the chapter *The recurrent neural network*.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        input at this step
    h_prev : ndarray, shape (N, H)
        hidden state of the previous step
    Wx : ndarray, shape (D, H)
        input-to-hidden weights
    Wh : ndarray, shape (H, H)
        hidden-to-hidden weights
    b : ndarray, shape (H,)
        bias

    Returns
    -------
    h : ndarray, shape (N, H)
        the new hidden state
    cache
        what rnn_step_backward needs
    """
    check_shapes(
        "rnn_step_forward",
        ("x", x, "ND", "did you pass a whole sequence instead of one step x[:, t]?"),
        ("h_prev", h_prev, "NH", ""),
        ("Wx", Wx, "DH", "the weights are (inputs, outputs): did you pass a transposed matrix?"),
        ("Wh", Wh, "HH", ""),
        ("b", b, "H", ""),
    )
    h = np.tanh(x @ Wx + h_prev @ Wh + b)
    cache = (x, h_prev, Wx, Wh, h)
    return h, cache


def rnn_step_backward(dh, cache):
    """Backward pass of one RNN step.

    Parameters
    ----------
    dh : ndarray, shape (N, H)
        gradient of the loss with respect to this step's hidden state h
    cache
        from rnn_step_forward

    Returns
    -------
    dx : ndarray, shape (N, D)
    dh_prev : ndarray, shape (N, H)
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
    """
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1.0 - h * h)  # tanh'(a) = 1 - tanh(a)^2 = 1 - h^2
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """A tanh RNN over a whole sequence.

    Computes ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)`` for t = 1 .. T, starting from ``h0``.

    Parameters
    ----------
    x : ndarray, shape (N, T, D)
        inputs of all steps
    h0 : ndarray, shape (N, H)
        initial hidden state
    Wx : ndarray, shape (D, H)
        input-to-hidden weights
    Wh : ndarray, shape (H, H)
        hidden-to-hidden weights
    b : ndarray, shape (H,)
        bias

    Returns
    -------
    h
        hidden states of every step, (N, T, H); h[:, t] is h_{t+1} in the book's 1-based notation
    cache
        what rnn_backward needs
    """
    check_shapes(
        "rnn_forward",
        ("x", x, "NTD", "did you pass one step instead of a sequence? A sequence batch is (N, T, D)"),
        ("h0", h0, "NH", "the initial state holds one row per sequence of the batch"),
        ("Wx", Wx, "DH", "the weights are (inputs, outputs): did you pass a transposed matrix?"),
        ("Wh", Wh, "HH", ""),
        ("b", b, "H", ""),
    )
    N, T, D = x.shape
    H = h0.shape[1]
    # The input part of every step at once: one (N*T, D) @ (D, H) product instead of T small ones.
    x_proj = (x.reshape(N * T, D) @ Wx).reshape(N, T, H) + b
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, Wx))
    h_prev = h0
    for t in range(T):
        h[:, t] = np.tanh(x_proj[:, t] + h_prev @ Wh)
        h_prev = h[:, t]
    cache = (x, h0, Wx, Wh, h)
    return h, cache


def rnn_backward(dh, cache):
    """Backpropagation through time for rnn_forward.

    With ``da_t = (dh_t + da_{t+1} @ Wh.T) * (1 - h_t**2)``: ``dx_t = da_t @ Wx.T``, ``dWx = sum_t x_t.T @ da_t``,
    ``dWh = sum_t h_{t-1}.T @ da_t``, ``db = sum_t sum_n da_t``;
    explained in the chapter *Backpropagation through time*.

    Parameters
    ----------
    dh
        upstream gradients of every hidden state, (N, T, H) (the loss may depend on each h_t directly)
    cache
        from rnn_forward

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dh0 : ndarray, shape (N, H)
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
    """
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    H = h0.shape[1]
    da = np.empty_like(h)  # da[:, t] = dL/da_t, the error term delta_t of the chapter *Backpropagation through time*
    dh_next = np.zeros_like(h0)  # gradient reaching h_t from step t+1 through Wh
    for t in reversed(range(T)):
        dh_t = dh[:, t] + dh_next
        da[:, t] = dh_t * (1.0 - h[:, t] * h[:, t])
        dh_next = da[:, t] @ Wh.T
    dh0 = dh_next
    # Each weight is shared by all steps, so its gradient is the sum over steps: one product over N*T rows.
    h_prev_all = np.concatenate([h0[:, None, :], h[:, :-1]], axis=1)  # (N, T, H): h_{t-1} for every t
    da_flat = da.reshape(N * T, H)
    dx = (da_flat @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ da_flat
    dWh = h_prev_all.reshape(N * T, H).T @ da_flat
    db = da_flat.sum(axis=0)
    return dx, dh0, dWx, dWh, db
