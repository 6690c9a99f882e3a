"""The long short-term memory (LSTM) layer in NumPy, forward and backward.

Explained in the chapter *Long short-term memory*. Sources: Hochreiter & Schmidhuber (1997), with the forget gate of
Gers, Schmidhuber & Cummins (2000); no peephole connections, as in PyTorch's ``nn.LSTM``.

Conventions: batch first, row vectors, gates fused into one matrix in PyTorch's order i, f, g, o.
With x_t (N, D), Wx (D, 4H), Wh (H, 4H), b (4H,), one step computes::

    a_t = x_t @ Wx + h_{t-1} @ Wh + b          (N, 4H), split into four (N, H) blocks a_i, a_f, a_g, a_o
    i_t = sigmoid(a_i)                          input gate:  how much of the candidate to write
    f_t = sigmoid(a_f)                          forget gate: how much of the old cell to keep
    g_t = tanh(a_g)                             candidate cell content
    o_t = sigmoid(a_o)                          output gate: how much of the cell to show
    c_t = f_t * c_{t-1} + i_t * g_t             cell state
    h_t = o_t * tanh(c_t)                       hidden state

Backward, with dh_t and dc_t the total gradients reaching h_t and c_t (dc_t also collects what comes back
from step t+1 through c_{t+1} = f_{t+1} * c_t + ...)::

    do_t = dh_t * tanh(c_t)
    dc_t += dh_t * o_t * (1 - tanh(c_t)^2)
    di_t = dc_t * g_t,   df_t = dc_t * c_{t-1},   dg_t = dc_t * i_t,   dc_{t-1} = dc_t * f_t
    da_i = di_t * i_t (1 - i_t),   da_f = df_t * f_t (1 - f_t)
    da_g = dg_t * (1 - g_t^2),     da_o = do_t * o_t (1 - o_t)
    dh_{t-1} = da_t @ Wh.T,   dx_t = da_t @ Wx.T
    dWx = sum_t x_t.T @ da_t,   dWh = sum_t h_{t-1}.T @ da_t,   db = sum over t and n of da_t

Speed: ``lstm_forward`` computes x_t @ Wx + b for all steps in one product before its loop and keeps the
four gates side by side in one preallocated array, time-major (T, N, 4H) so that each step's block is
contiguous; the loop's elementwise work writes in place into preallocated buffers. ``lstm_backward`` forms
dx, dWx and dWh with one product each over all T*N rows after its loop. Only h_{t-1} @ Wh and da_t @ Wh.T
remain inside the loops.
"""

import numpy as np

from ._shapes import check_shapes
from .functional import gate_sigmoid as sigmoid


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One time step of an LSTM.

    Computes the gates ``i, f, g, o`` from ``a = x @ Wx + h_prev @ Wh + b``, then ``c = f * c_prev + i * g`` and
    ``h = o * tanh(c)`` (the module's equations; explained in the chapter *Long short-term memory*).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        input at this step
    h_prev : ndarray, shape (N, H)
        previous hidden state
    c_prev : ndarray, shape (N, H)
        previous cell state
    Wx : ndarray, shape (D, 4H)
        input-to-gates weights, column blocks i, f, g, o
    Wh : ndarray, shape (H, 4H)
        hidden-to-gates weights
    b : ndarray, shape (4H,)
        gate biases

    Returns
    -------
    h : ndarray, shape (N, H)
        new hidden state
    c : ndarray, shape (N, H)
        new cell state
    cache
        what lstm_step_backward needs
    """
    check_shapes(
        "lstm_step_forward",
        ("x", x, "ND", "did you pass a whole sequence instead of one step x[:, t]?"),
        ("h_prev", h_prev, "NH", ""),
        ("c_prev", c_prev, "NH", ""),
        ("Wx", Wx, ("D", "4H"), "the four gates i, f, g, o are fused into one matrix of 4H columns"),
        ("Wh", Wh, ("H", "4H"), ""),
        ("b", b, ("4H",), ""),
    )
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b  # a = x Wx + h_prev Wh + b, (N, 4H)
    i = sigmoid(a[:, :H])  # i = sigmoid(a_i)
    f = sigmoid(a[:, H : 2 * H])  # f = sigmoid(a_f)
    g = np.tanh(a[:, 2 * H : 3 * H])  # g = tanh(a_g)
    o = sigmoid(a[:, 3 * H :])  # o = sigmoid(a_o)
    c = f * c_prev + i * g  # c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c  # h = o * tanh(c)
    cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)
    return h, c, cache


def lstm_step_backward(dh, dc, cache):
    """Backward pass of one LSTM step.

    Parameters
    ----------
    dh : ndarray, shape (N, H)
        gradient of the loss with respect to this step's h
    dc : ndarray, shape (N, H)
        gradient with respect to this step's c from elsewhere (e.g. the next step)
    cache
        from lstm_step_forward

    Returns
    -------
    dx : ndarray, shape (N, D)
    dh_prev : ndarray, shape (N, H)
    dc_prev : ndarray, shape (N, H)
    dWx : ndarray, shape (D, 4H)
    dWh : ndarray, shape (H, 4H)
    db : ndarray, shape (4H,)
    """
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    do = dh * tanh_c  # h = o * tanh(c)
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)  # ... and through tanh(c)
    di = dc * g  # c = f * c_prev + i * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da = np.concatenate(  # through the gate nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - t^2
        [di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g), do * o * (1.0 - o)], axis=1
    )
    dx = da @ Wx.T  # a = x Wx + h_prev Wh + b
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dWx, dWh, db


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """An LSTM over a whole sequence.

    Applies ``lstm_step_forward``'s equations for t = 1 .. T, starting from ``h0`` and ``c0``.

    Parameters
    ----------
    x : ndarray, shape (N, T, D)
        inputs of all steps
    h0 : ndarray, shape (N, H)
        initial hidden state
    c0 : ndarray, shape (N, H)
        initial cell state
    Wx : ndarray, shape (D, 4H)
        input-to-gates weights, column blocks i, f, g, o
    Wh : ndarray, shape (H, 4H)
        hidden-to-gates weights, same blocks
    b : ndarray, shape (4H,)
        gate biases, same blocks

    Returns
    -------
    h : ndarray, shape (N, T, H)
        hidden states of every step
    c : ndarray, shape (N, T, H)
        cell states of every step
    cache
        what lstm_backward needs
    """
    check_shapes(
        "lstm_forward",
        ("x", x, "NTD", "did you pass one step instead of a sequence? A sequence batch is (N, T, D)"),
        ("h0", h0, "NH", "the initial state holds one row per sequence of the batch"),
        ("c0", c0, "NH", ""),
        ("Wx", Wx, ("D", "4H"), "the four gates i, f, g, o are fused into one matrix of 4H columns"),
        ("Wh", Wh, ("H", "4H"), ""),
        ("b", b, ("4H",), ""),
    )
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, c0, Wx)
    # Time-major buffers (T, N, ...): the slice of step t is then one contiguous block, which BLAS and the
    # elementwise loops read fastest. They are transposed to batch-first (N, T, ...) only on the way out.
    x_rows = x.transpose(1, 0, 2).reshape(T * N, D)  # row t*N + n is x[n, t]
    # x_t Wx + b for every step at once: one (T*N, D) @ (D, 4H) product instead of T small ones; b is added in
    # place, since a second (T*N, 4H) array would cost another pass over memory and fresh pages.
    gates = np.matmul(x_rows, Wx).astype(dtype, copy=False).reshape(T, N, 4 * H)
    gates += b
    h = np.empty((T, N, H), dtype=dtype)
    c = np.empty((T, N, H), dtype=dtype)
    tanh_c = np.empty((T, N, H), dtype=dtype)
    h_part = np.empty((N, 4 * H), dtype=dtype)  # buffer for h_{t-1} Wh
    ig = np.empty((N, H), dtype=dtype)  # buffer for i_t * g_t
    h_prev, c_prev = h0, c0
    for t in range(T):
        a = gates[t]  # the activations below overwrite the pre-activations in place
        np.matmul(h_prev, Wh, out=h_part)
        a += h_part  # a_t = x_t Wx + b + h_{t-1} Wh
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        sigmoid(a[:, : 2 * H], out=a[:, : 2 * H])  # i_t = sigmoid(a_i), f_t = sigmoid(a_f): adjacent blocks
        np.tanh(g, out=g)  # g_t = tanh(a_g)
        sigmoid(o, out=o)  # o_t = sigmoid(a_o)
        np.multiply(f, c_prev, out=c[t])  # c_t = f_t * c_{t-1} ...
        np.multiply(i, g, out=ig)
        c[t] += ig  # ... + i_t * g_t
        np.tanh(c[t], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=h[t])  # h_t = o_t * tanh(c_t)
        h_prev, c_prev = h[t], c[t]
    cache = (x_rows, h0, c0, Wx, Wh, gates, c, tanh_c, h)
    return _batch_first(h), _batch_first(c), cache


def _batch_first(time_major):
    """(T, N, ...) -> a contiguous (N, T, ...) copy."""
    return np.ascontiguousarray(time_major.swapaxes(0, 1))


def lstm_backward(dh, cache, dc_last=None):
    """Backpropagation through time for lstm_forward.

    Parameters
    ----------
    dh : ndarray, shape (N, T, H)
        upstream gradients of every hidden state
    cache
        from lstm_forward
    dc_last : ndarray, shape (N, H), optional
        gradient of the loss with respect to the last cell state c_T, for when c_T is
        used further (e.g. handed to a decoder); None means zero. The cell states of earlier steps are internal.

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dh0 : ndarray, shape (N, H)
    dc0 : ndarray, shape (N, H)
    dWx : ndarray, shape (D, 4H)
    dWh : ndarray, shape (H, 4H)
    db : ndarray, shape (4H,)
    """
    x_rows, h0, c0, Wx, Wh, gates, c, tanh_c, h = cache  # time-major, see lstm_forward
    T, N, H = h.shape
    D = x_rows.shape[1]
    dtype = gates.dtype
    dh = dh.swapaxes(0, 1)  # a time-major view: dh[t] is (N, H)
    WhT = np.ascontiguousarray(Wh.T)  # used T times below: transpose it once
    da = np.empty((T, N, 4 * H), dtype=dtype)  # da[t] = dL/da_t, all four gate blocks side by side
    dh_next = np.zeros((N, H), dtype=dtype)  # gradient reaching h_t from step t+1 through Wh
    dc_next = np.zeros((N, H), dtype=dtype)  # gradient reaching c_t from step t+1 through f_{t+1}
    if dc_last is not None:
        dc_next += dc_last
    dh_t = np.empty((N, H), dtype=dtype)
    dc_t = np.empty((N, H), dtype=dtype)
    slope = np.empty((N, 4 * H), dtype=dtype)  # buffer for the gate nonlinearities' derivatives
    for t in reversed(range(T)):
        a = gates[t]  # the activations i, f, g, o side by side
        i, f, g, o = (a[:, k * H : (k + 1) * H] for k in range(4))
        da_i, da_f, da_g, da_o = (da[t, :, k * H : (k + 1) * H] for k in range(4))
        c_prev = c[t - 1] if t > 0 else c0
        np.add(dh[t], dh_next, out=dh_t)
        # h_t = o_t * tanh(c_t):  do_t = dh_t * tanh(c_t),  dc_t = dc_next + dh_t * o_t * (1 - tanh(c_t)^2)
        np.multiply(dh_t, tanh_c[t], out=da_o)
        np.multiply(tanh_c[t], tanh_c[t], out=dc_t)
        np.subtract(1.0, dc_t, out=dc_t)
        dc_t *= o
        dc_t *= dh_t
        dc_t += dc_next
        # c_t = f_t c_{t-1} + i_t g_t:  di = dc_t g_t, df = dc_t c_{t-1}, dg = dc_t i_t, dc_{t-1} = dc_t f_t
        np.multiply(dc_t, g, out=da_i)
        np.multiply(dc_t, c_prev, out=da_f)
        np.multiply(dc_t, i, out=da_g)
        np.multiply(dc_t, f, out=dc_next)
        # Through the nonlinearities, for the whole (N, 4H) block at once: sigmoid' = s (1 - s) for i, f, o and
        # tanh' = 1 - g^2 = g (-g) + 1 for g, so slope = a * (1 - a) with a's g block negated before the product.
        np.subtract(1.0, a, out=slope)
        np.negative(g, out=slope[:, 2 * H : 3 * H])
        slope *= a
        slope[:, 2 * H : 3 * H] += 1.0
        da[t] *= slope
        dh_next = da[t] @ WhT  # a_t = ... + h_{t-1} Wh
    # The weights are shared by all steps, so their gradients sum over steps: one product over T*N rows each.
    # h is time-major, so h_1 .. h_{T-1} (the h_{t-1} of steps 2 .. T) are already T-1 contiguous blocks.
    da_rows = da.reshape(T * N, 4 * H)
    dx = _batch_first((da_rows @ Wx.T).reshape(T, N, D))
    dWx = x_rows.T @ da_rows
    dWh = h0.T @ da[0] + h[:-1].reshape((T - 1) * N, H).T @ da[1:].reshape((T - 1) * N, 4 * H)
    db = da_rows.sum(axis=0)
    return dx, dh_next, dc_next, dWx, dWh, db
