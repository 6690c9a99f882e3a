"""The gated recurrent unit (GRU) in NumPy, forward and backward, with both placements of the reset gate.

Explained in the book's chapter 6. Sources: Cho et al. (2014, v3) for the GRU and its "reset before" form;
PyTorch's ``nn.GRU`` and cuDNN for the "reset after" form.

Conventions (DESIGN §3): batch first, row vectors, gates fused in PyTorch's order r, z, n, two biases. With
x_t (N, D), Wx (D, 3H), Wh (H, 3H), bx and bh (3H,), and ``_r, _z, _n`` naming column blocks, one step
computes

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

from .functional import gate_sigmoid as sigmoid


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh, reset_after=True):
    """One time step of a GRU.

    Inputs:
    - x: input at this step, (N, D)
    - h_prev: previous hidden state, (N, H)
    - Wx: input-to-gates weights, (D, 3H), column blocks r, z, n
    - Wh: hidden-to-gates weights, (H, 3H)
    - bx: input-side biases, (3H,)
    - bh: hidden-side biases, (3H,)
    - reset_after: where the reset gate acts (see the module docstring)

    Returns a tuple of:
    - h: new hidden state, (N, H)
    - cache: what gru_step_backward needs
    """
    h, cache = gru_forward(x[:, None, :], h_prev, Wx, Wh, bx, bh, reset_after)
    return h[:, 0], cache


def gru_step_backward(dh, cache):
    """Backward pass of one GRU step.

    Inputs:
    - dh: gradient of the loss with respect to this step's h, (N, H)
    - cache: from gru_step_forward

    Returns a tuple of:
    - dx: (N, D)
    - dh_prev: (N, H)
    - dWx: (D, 3H)
    - dWh: (H, 3H)
    - dbx: (3H,)
    - dbh: (3H,)
    """
    dx, dh_prev, dWx, dWh, dbx, dbh = gru_backward(dh[:, None, :], cache)
    return dx[:, 0], dh_prev, dWx, dWh, dbx, dbh


def gru_forward(x, h0, Wx, Wh, bx, bh, reset_after=True):
    """A GRU over a whole sequence.

    Inputs:
    - x: inputs of all steps, (N, T, D)
    - h0: initial hidden state, (N, H)
    - Wx: (D, 3H), Wh: (H, 3H), bx: (3H,), bh: (3H,); gate blocks r, z, n
    - reset_after: True for PyTorch's form, False for Cho et al.'s (see the module docstring)

    Returns a tuple of:
    - h: hidden states of every step, (N, T, H)
    - cache: what gru_backward needs
    """
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, Wx)
    # x_t Wx + bx for every step at once: one (N*T, D) @ (D, 3H) product.
    x_part = (x.reshape(N * T, D) @ Wx + bx).reshape(N, T, 3 * H).astype(dtype, copy=False)
    gates = np.empty((N, T, 3 * H), dtype=dtype)  # r_t, z_t, n_t side by side
    # The hidden-side part of n before the reset gate acts (reset_after=True: h_{t-1} Wh_n + bh_n) or after it
    # (False: (r_t * h_{t-1}) Wh_n + bh_n); for False also r_t * h_{t-1}, which the n block of Wh multiplies.
    n_hidden = np.empty((N, T, H), dtype=dtype)
    n_input = None if reset_after else np.empty((N, T, H), dtype=dtype)
    h = np.empty((N, T, H), dtype=dtype)
    h_prev = h0
    for t in range(T):
        r, z, n = gates[:, t, :H], gates[:, t, H : 2 * H], gates[:, t, 2 * H :]
        if reset_after:
            h_part = h_prev @ Wh + bh  # (N, 3H): h_{t-1} Wh + bh, all three blocks at once
            np.add(x_part[:, t, : 2 * H], h_part[:, : 2 * H], out=gates[:, t, : 2 * H])
            sigmoid(gates[:, t, : 2 * H], out=gates[:, t, : 2 * H])  # r_t, z_t
            n_hidden[:, t] = h_part[:, 2 * H :]  # h_{t-1} Wh_n + bh_n
        else:
            rz_hidden = h_prev @ Wh[:, : 2 * H] + bh[: 2 * H]
            np.add(x_part[:, t, : 2 * H], rz_hidden, out=gates[:, t, : 2 * H])
            sigmoid(gates[:, t, : 2 * H], out=gates[:, t, : 2 * H])  # r_t, z_t
            np.multiply(r, h_prev, out=n_input[:, t])  # r_t * h_{t-1}
            n_hidden[:, t] = n_input[:, t] @ Wh[:, 2 * H :] + bh[2 * H :]  # (r_t * h_{t-1}) Wh_n + bh_n
        # n_t = tanh(x_t Wx_n + bx_n + [r_t *] hidden part): r multiplies here only for reset_after=True
        if reset_after:
            np.multiply(r, n_hidden[:, t], out=n)
        else:
            n[...] = n_hidden[:, t]
        n += x_part[:, t, 2 * H :]
        np.tanh(n, out=n)
        # h_t = z_t * h_{t-1} + (1 - z_t) * n_t, computed as n_t + z_t * (h_{t-1} - n_t)
        np.subtract(h_prev, n, out=h[:, t])
        h[:, t] *= z
        h[:, t] += n
        h_prev = h[:, t]
    cache = (x, h0, Wx, Wh, gates, n_input, n_hidden, h, reset_after)
    return h, cache


def gru_backward(dh, cache):
    """Backpropagation through time for gru_forward.

    Inputs:
    - dh: upstream gradients of every hidden state, (N, T, H)
    - cache: from gru_forward

    Returns a tuple of:
    - dx: (N, T, D)
    - dh0: (N, H)
    - dWx: (D, 3H)
    - dWh: (H, 3H)
    - dbx: (3H,)
    - dbh: (3H,)
    """
    x, h0, Wx, Wh, gates, n_input, n_hidden, h, reset_after = cache
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = gates.dtype
    dx_part = np.empty((N, T, 3 * H), dtype=dtype)  # dL/d(x_t Wx + bx)
    dh_part = np.empty((N, T, 3 * H), dtype=dtype)  # dL/d(hidden-side pre-activation of r, z, n)
    dh_next = np.zeros((N, H), dtype=dtype)
    for t in reversed(range(T)):
        r, z, n = gates[:, t, :H], gates[:, t, H : 2 * H], gates[:, t, 2 * H :]
        h_prev = h[:, t - 1] if t > 0 else h0
        dh_t = dh[:, t] + dh_next
        # h_t = z * h_prev + (1 - z) * n
        dn = dh_t * (1.0 - z)
        dz = dh_t * (h_prev - n)
        dh_prev = dh_t * z
        # n = tanh(a_n): da_n = dn (1 - n^2); a_n = x part + (r * n_hidden or n_hidden)
        da_n = dn * (1.0 - n * n)
        dx_part[:, t, 2 * H :] = da_n
        if reset_after:
            dr = da_n * n_hidden[:, t]  # a_n = x_n + r * (h_prev Wh_n + bh_n)
            dh_part[:, t, 2 * H :] = da_n * r
        else:
            dh_part[:, t, 2 * H :] = da_n  # a_n = x_n + (r * h_prev) Wh_n + bh_n
            d_n_input = da_n @ Wh[:, 2 * H :].T  # gradient of r * h_prev
            dr = d_n_input * h_prev
            dh_prev += d_n_input * r
        # r, z = sigmoid(.): sigmoid' = s (1 - s); x part and hidden part of r and z get the same gradient
        dx_part[:, t, :H] = dr * r * (1.0 - r)
        dx_part[:, t, H : 2 * H] = dz * z * (1.0 - z)
        dh_part[:, t, : 2 * H] = dx_part[:, t, : 2 * H]
        if reset_after:
            dh_prev += dh_part[:, t] @ Wh.T
        else:
            dh_prev += dh_part[:, t, : 2 * H] @ Wh[:, : 2 * H].T
        dh_next = dh_prev
    # Weight gradients: one product over all N*T rows each.
    h_prev_all = np.concatenate([h0[:, None, :], h[:, :-1]], axis=1).reshape(N * T, H)
    dx_flat = dx_part.reshape(N * T, 3 * H)
    dh_flat = dh_part.reshape(N * T, 3 * H)
    dx = (dx_flat @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ dx_flat
    dbx = dx_flat.sum(axis=0)
    dbh = dh_flat.sum(axis=0)
    if reset_after:
        dWh = h_prev_all.T @ dh_flat
    else:
        # the n block of Wh multiplies r_t * h_{t-1}, not h_{t-1}
        dWh = np.empty_like(Wh, dtype=dtype)
        dWh[:, : 2 * H] = h_prev_all.T @ dh_flat[:, : 2 * H]
        dWh[:, 2 * H :] = n_input.reshape(N * T, H).T @ dh_flat[:, 2 * H :]
    return dx, dh_next, dWx, dWh, dbx, dbh
