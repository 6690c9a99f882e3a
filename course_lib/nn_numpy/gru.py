"""The gated recurrent unit (GRU) in NumPy, forward and backward, with both placements of the reset gate.

Explained in the chapter *Gated recurrent units*. Sources: Cho et al. (2014, v3) for the GRU and its "reset before"
form; PyTorch's ``nn.GRU`` and cuDNN for the "reset after" form.

Conventions: batch first, row vectors, gates fused in PyTorch's order r, z, n, two biases. With
x_t (N, D), Wx (D, 3H), Wh (H, 3H), bx and bh (3H,), and ``_r, _z, _n`` naming column blocks, one step
computes::

    r_t = sigmoid(x_t Wx_r + bx_r + h_{t-1} Wh_r + bh_r)                  reset gate
    z_t = sigmoid(x_t Wx_z + bx_z + h_{t-1} Wh_z + bh_z)                  update gate
    n_t = tanh(x_t Wx_n + bx_n + r_t * (h_{t-1} Wh_n + bh_n))             reset_after=True  (PyTorch, cuDNN)
    n_t = tanh(x_t Wx_n + bx_n + (r_t * h_{t-1}) Wh_n + bh_n)             reset_after=False (Cho et al., d2l)
    h_t = z_t * h_{t-1} + (1 - z_t) * n_t                                 keep the old state where z is near 1

Why two biases: with reset_after=True, bh_n is multiplied by r_t, so it is not interchangeable with bx_n.

Speed: the input part x_t Wx + bx of all steps is one product before the loop; the weight gradients are one
product each over all N*T rows after the backward loop.
"""

import numpy as np

from ._shapes import check_shapes
from .functional import gate_sigmoid as sigmoid


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh, reset_after=True):
    """One time step of a GRU.

    Computes ``h = z * h_prev + (1 - z) * n`` with the reset gate ``r``, update gate ``z`` and candidate ``n`` of the
    module's equations (explained in the chapter *Gated recurrent units*).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        input at this step
    h_prev : ndarray, shape (N, H)
        previous hidden state
    Wx
        input-to-gates weights, (D, 3H), column blocks r, z, n
    Wh : ndarray, shape (H, 3H)
        hidden-to-gates weights
    bx : ndarray, shape (3H,)
        input-side biases
    bh : ndarray, shape (3H,)
        hidden-side biases
    reset_after
        where the reset gate acts (see the module docstring)

    Returns
    -------
    h : ndarray, shape (N, H)
        new hidden state
    cache
        what gru_step_backward needs
    """
    check_shapes(
        "gru_step_forward",
        ("x", x, "ND", "did you pass a whole sequence instead of one step x[:, t]?"),
        ("h_prev", h_prev, "NH", ""),
        ("Wx", Wx, ("D", "3H"), "the three blocks r, z, n are fused into one matrix of 3H columns"),
        ("Wh", Wh, ("H", "3H"), ""),
        ("bx", bx, ("3H",), ""),
        ("bh", bh, ("3H",), ""),
    )
    h, cache = gru_forward(x[:, None, :], h_prev, Wx, Wh, bx, bh, reset_after)
    return h[:, 0], cache


def gru_step_backward(dh, cache):
    """Backward pass of one GRU step.

    Parameters
    ----------
    dh : ndarray, shape (N, H)
        gradient of the loss with respect to this step's h
    cache
        from gru_step_forward

    Returns
    -------
    dx : ndarray, shape (N, D)
    dh_prev : ndarray, shape (N, H)
    dWx : ndarray, shape (D, 3H)
    dWh : ndarray, shape (H, 3H)
    dbx : ndarray, shape (3H,)
    dbh : ndarray, shape (3H,)
    """
    dx, dh_prev, dWx, dWh, dbx, dbh = gru_backward(dh[:, None, :], cache)
    return dx[:, 0], dh_prev, dWx, dWh, dbx, dbh


def gru_forward(x, h0, Wx, Wh, bx, bh, reset_after=True):
    """A GRU over a whole sequence.

    Applies ``gru_step_forward``'s equations for t = 1 .. T, starting from ``h0``.

    Parameters
    ----------
    x : ndarray, shape (N, T, D)
        inputs of all steps
    h0 : ndarray, shape (N, H)
        initial hidden state
    Wx : ndarray, shape (D, 3H)
        input weights, column blocks r, z, n
    Wh : ndarray, shape (H, 3H)
        hidden weights, same blocks
    bx : ndarray, shape (3H,)
        input bias, same blocks
    bh : ndarray, shape (3H,)
        hidden bias, same blocks
    reset_after
        True for PyTorch's form, False for Cho et al.'s (see the module docstring)

    Returns
    -------
    h : ndarray, shape (N, T, H)
        hidden states of every step
    cache
        what gru_backward needs
    """
    check_shapes(
        "gru_forward",
        ("x", x, "NTD", "did you pass one step instead of a sequence? A sequence batch is (N, T, D)"),
        ("h0", h0, "NH", "the initial state holds one row per sequence of the batch"),
        ("Wx", Wx, ("D", "3H"), "the three blocks r, z, n are fused into one matrix of 3H columns"),
        ("Wh", Wh, ("H", "3H"), ""),
        ("bx", bx, ("3H",), ""),
        ("bh", bh, ("3H",), ""),
    )
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, Wx)
    # Time-major buffers (T, N, ...), as in lstm_forward: the slice of step t is one contiguous block.
    x_rows = x.transpose(1, 0, 2).reshape(T * N, D)  # row t*N + n is x[n, t]
    # x_t Wx + bx for every step at once: one (T*N, D) @ (D, 3H) product; bx is added in place (see lstm_forward).
    x_part = np.matmul(x_rows, Wx).astype(dtype, copy=False).reshape(T, N, 3 * H)
    x_part += bx
    gates = np.empty((T, N, 3 * H), dtype=dtype)  # r_t, z_t, n_t side by side
    # The hidden-side part of n before the reset gate acts (reset_after=True: h_{t-1} Wh_n + bh_n) or after it
    # (False: (r_t * h_{t-1}) Wh_n + bh_n); for False also r_t * h_{t-1}, which the n block of Wh multiplies.
    n_hidden = np.empty((T, N, H), dtype=dtype)
    n_input = None if reset_after else np.empty((T, N, H), dtype=dtype)
    h = np.empty((T, N, H), dtype=dtype)
    h_part = np.empty((N, 3 * H), dtype=dtype)  # buffer for h_{t-1} Wh
    h_prev = h0
    for t in range(T):
        rz, n = gates[t, :, : 2 * H], gates[t, :, 2 * H :]
        r, z = rz[:, :H], rz[:, H:]
        if reset_after:
            np.matmul(h_prev, Wh, out=h_part)
            h_part += bh  # h_{t-1} Wh + bh, all three blocks at once
            np.add(x_part[t, :, : 2 * H], h_part[:, : 2 * H], out=rz)
            sigmoid(rz, out=rz)  # r_t, z_t
            n_hidden[t] = h_part[:, 2 * H :]  # h_{t-1} Wh_n + bh_n
            np.multiply(r, n_hidden[t], out=n)  # r_t * (h_{t-1} Wh_n + bh_n)
        else:
            np.matmul(h_prev, Wh[:, : 2 * H], out=h_part[:, : 2 * H])
            np.add(x_part[t, :, : 2 * H], h_part[:, : 2 * H], out=rz)
            rz += bh[: 2 * H]
            sigmoid(rz, out=rz)  # r_t, z_t
            np.multiply(r, h_prev, out=n_input[t])  # r_t * h_{t-1}
            np.matmul(n_input[t], Wh[:, 2 * H :], out=n_hidden[t])
            n_hidden[t] += bh[2 * H :]  # (r_t * h_{t-1}) Wh_n + bh_n
            n[...] = n_hidden[t]
        n += x_part[t, :, 2 * H :]
        np.tanh(n, out=n)  # n_t = tanh(x_t Wx_n + bx_n + the hidden part above)
        # h_t = z_t * h_{t-1} + (1 - z_t) * n_t, computed as n_t + z_t * (h_{t-1} - n_t)
        np.subtract(h_prev, n, out=h[t])
        h[t] *= z
        h[t] += n
        h_prev = h[t]
    cache = (x_rows, h0, Wx, Wh, gates, n_input, n_hidden, h, reset_after)
    return np.ascontiguousarray(h.swapaxes(0, 1)), cache  # back to batch first, (N, T, H)


def gru_backward(dh, cache):
    """Backpropagation through time for gru_forward.

    Parameters
    ----------
    dh : ndarray, shape (N, T, H)
        upstream gradients of every hidden state
    cache
        from gru_forward

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dh0 : ndarray, shape (N, H)
    dWx : ndarray, shape (D, 3H)
    dWh : ndarray, shape (H, 3H)
    dbx : ndarray, shape (3H,)
    dbh : ndarray, shape (3H,)
    """
    x_rows, h0, Wx, Wh, gates, n_input, n_hidden, h, reset_after = cache  # time-major, see gru_forward
    T, N, H = h.shape
    D = x_rows.shape[1]
    dtype = gates.dtype
    dh = dh.swapaxes(0, 1)  # a time-major view: dh[t] is (N, H)
    WhT = np.ascontiguousarray(Wh.T)  # used T times below: transpose it once
    dx_part = np.empty((T, N, 3 * H), dtype=dtype)  # dL/d(x_t Wx + bx), blocks r, z, n
    dh_part = np.empty((T, N, 3 * H), dtype=dtype)  # dL/d(hidden-side pre-activations of r, z, n)
    dh_next = np.zeros((N, H), dtype=dtype)
    for t in reversed(range(T)):
        r, z, n = gates[t, :, :H], gates[t, :, H : 2 * H], gates[t, :, 2 * H :]
        h_prev = h[t - 1] if t > 0 else h0
        dh_t = dh[t] + dh_next
        # h_t = z * h_prev + (1 - z) * n
        dn = dh_t * (1.0 - z)
        dz = dh_t * (h_prev - n)
        dh_prev = dh_t * z
        # n = tanh(a_n): da_n = dn (1 - n^2)
        da_n = dx_part[t, :, 2 * H :]
        np.multiply(n, n, out=da_n)
        np.subtract(1.0, da_n, out=da_n)
        da_n *= dn
        if reset_after:
            dr = da_n * n_hidden[t]  # a_n = x_n + r * (h_prev Wh_n + bh_n)
            np.multiply(da_n, r, out=dh_part[t, :, 2 * H :])
        else:
            dh_part[t, :, 2 * H :] = da_n  # a_n = x_n + (r * h_prev) Wh_n + bh_n
            d_n_input = da_n @ WhT[2 * H :]  # gradient of r * h_prev
            dr = d_n_input * h_prev
            dh_prev += d_n_input * r
        # r, z = sigmoid(.): sigmoid' = s (1 - s); x part and hidden part of r and z get the same gradient
        np.multiply(dr, r * (1.0 - r), out=dx_part[t, :, :H])
        np.multiply(dz, z * (1.0 - z), out=dx_part[t, :, H : 2 * H])
        dh_part[t, :, : 2 * H] = dx_part[t, :, : 2 * H]
        if reset_after:
            dh_prev += dh_part[t] @ WhT
        else:
            dh_prev += dh_part[t, :, : 2 * H] @ WhT[: 2 * H]
        dh_next = dh_prev
    # Weight gradients: one product over all T*N rows each.
    h_prev_rows = np.concatenate([h0[None], h[:-1]]).reshape(T * N, H)  # h_{t-1} for every t
    dx_rows = dx_part.reshape(T * N, 3 * H)
    dh_rows = dh_part.reshape(T * N, 3 * H)
    dx = np.ascontiguousarray((dx_rows @ Wx.T).reshape(T, N, D).swapaxes(0, 1))  # batch first, (N, T, D)
    dWx = x_rows.T @ dx_rows
    dbx = dx_rows.sum(axis=0)
    dbh = dh_rows.sum(axis=0)
    if reset_after:
        dWh = h_prev_rows.T @ dh_rows
    else:
        # the n block of Wh multiplies r_t * h_{t-1}, not h_{t-1}
        dWh = np.empty(Wh.shape, dtype=dtype)
        dWh[:, : 2 * H] = h_prev_rows.T @ dh_rows[:, : 2 * H]
        dWh[:, 2 * H :] = n_input.reshape(T * N, H).T @ dh_rows[:, 2 * H :]
    return dx, dh_next, dWx, dWh, dbx, dbh
