"""The non-recurrent layers around a recurrent network: affine (2-D and 3-D), embedding, softmax
cross-entropy.

Explained in the chapters *Sequences and language models* (embeddings) and *A character-level language model*
(the output layer and the loss of a language model).
"""

import numpy as np

from .functional import log_softmax


def affine_forward(x, W, b):
    """An affine layer ``out = x @ W + b``, applied to the last axis of a 2-D or 3-D input.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        or (N, T, D), e.g. the hidden states of every step
    W : ndarray, shape (D, M)
    b : ndarray, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, M)
        or (N, T, M)
    cache
        what affine_backward needs
    """
    if x.ndim not in (2, 3) or W.ndim != 2 or x.shape[-1] != W.shape[0] or b.shape != W.shape[1:]:
        raise ValueError(
            f"affine_forward: x {x.shape}, W {W.shape} and b {b.shape} should be (N, D) or (N, T, D), (D, M) and (M,); "
            "the layer maps the last axis of x (D features) to M outputs"
        )
    out = x @ W + b
    cache = (x, W)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    Parameters
    ----------
    dout : ndarray, shape (N, M) or (N, T, M)
        upstream gradient
    cache
        from affine_forward

    Returns
    -------
    dx : ndarray, shape (N, D) or (N, T, D)
        x's shape
    dW : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    x, W = cache
    D, M = W.shape
    # A 3-D input is N*T independent rows sharing W: flatten the leading axes and sum their contributions.
    x_rows = x.reshape(-1, D)
    dout_rows = dout.reshape(-1, M)
    dx = (dout_rows @ W.T).reshape(x.shape)
    dW = x_rows.T @ dout_rows
    db = dout_rows.sum(axis=0)
    return dx, dW, db


def embedding_forward(indices, E):
    """Look up the embedding vector (row of E) of every index.

    Computes ``out[..., :] = E[indices[...]]``, the same as multiplying a one-hot vector by E.

    Parameters
    ----------
    indices
        integer array of any shape, e.g. (N, T), values in [0, V)
    E
        embedding matrix, (V, D); row i is the vector of token i

    Returns
    -------
    out : ndarray, shape (N, T, D)
        indices.shape + (D,), e.g.
    cache
        what embedding_backward needs
    """
    if E.ndim != 2 or np.asarray(indices).dtype.kind not in "iu":
        raise ValueError(
            f"embedding_forward: indices {np.asarray(indices).dtype} {np.shape(indices)} and E {E.shape} should be "
            "integer token indices of any shape and a (V, D) matrix; did you pass one-hot vectors or floats instead "
            "of indices?"
        )
    out = E[indices]
    cache = (indices, E.shape)
    return out, cache


def embedding_backward(dout, cache):
    """Backward pass of embedding_forward: row v of dE sums the gradients of every position that looked up v.

    Parameters
    ----------
    dout : ndarray, shape (D,)
        upstream gradient, indices.shape +
    cache
        from embedding_forward

    Returns
    -------
    dE : ndarray, shape (V, D)
    """
    indices, (V, D) = cache
    dE = np.zeros((V, D), dtype=dout.dtype)
    # np.add.at accumulates repeated indices; plain dE[indices] += dout would keep only one of them.
    np.add.at(dE, indices.reshape(-1), dout.reshape(-1, D))
    return dE


def softmax_cross_entropy(logits, y, mask=None):
    """Mean cross-entropy of a softmax over the last axis, and its gradient.

    loss = -(1/M) sum over counted positions p of log softmax(logits[p])[y[p]], where M is the number of
    counted positions (all of them, or the sum of ``mask``). So exp(loss) is the perplexity per counted
    token, and the loss equals ``torch.nn.functional.cross_entropy`` with reduction "mean" (and
    ``ignore_index`` for masked positions).

    Parameters
    ----------
    logits : ndarray, shape (N, C) or (N, T, C)
        unnormalised scores
    y : ndarray, shape (N,) or (N, T)
        correct classes, integers in [0, C)
    mask
        optional, y's shape; 1/True for positions that count, 0/False for padding. Fractional weights are
        allowed (the loss is then the weighted mean).

    Returns
    -------
    loss
        a float
    dlogits
        gradient of loss with respect to logits, logits' shape
    """
    C = logits.shape[-1]
    logits_rows = logits.reshape(-1, C)  # (P, C), P = N or N*T positions
    y_rows = y.reshape(-1)
    weights = np.ones(len(y_rows), dtype=logits.dtype) if mask is None else mask.reshape(-1).astype(logits.dtype)
    count = weights.sum()
    if count == 0:
        raise ValueError("softmax_cross_entropy: the mask selects no position")
    log_p = log_softmax(logits_rows, axis=1)
    rows = np.arange(len(y_rows))
    loss = -np.sum(weights * log_p[rows, y_rows]) / count
    # d(-log p_y)/dlogits = p - onehot(y), weighted and divided by the count as in the loss.
    dlogits = np.exp(log_p)
    dlogits[rows, y_rows] -= 1.0
    dlogits *= (weights / count)[:, None]
    return float(loss), dlogits.reshape(logits.shape)
