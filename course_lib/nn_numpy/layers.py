"""The non-recurrent layers around a recurrent network: affine (2-D and 3-D), embedding, softmax
cross-entropy.

Explained in the book's chapters 1 (embeddings) and 4 (the output layer and the loss of a language model).
"""

import numpy as np

from .functional import log_softmax


def affine_forward(x, W, b):
    """An affine layer ``out = x @ W + b``, applied to the last axis of a 2-D or 3-D input.

    Inputs:
    - x: (N, D) or (N, T, D), e.g. the hidden states of every step
    - W: (D, M)
    - b: (M,)

    Returns a tuple of:
    - out: (N, M) or (N, T, M)
    - cache: what affine_backward needs
    """
    out = x @ W + b
    cache = (x, W)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    Inputs:
    - dout: upstream gradient, (N, M) or (N, T, M)
    - cache: from affine_forward

    Returns a tuple of:
    - dx: x's shape, (N, D) or (N, T, D)
    - dW: (D, M)
    - db: (M,)
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

    Inputs:
    - indices: integer array of any shape, e.g. (N, T), values in [0, V)
    - E: embedding matrix, (V, D); row i is the vector of token i

    Returns a tuple of:
    - out: indices.shape + (D,), e.g. (N, T, D)
    - cache: what embedding_backward needs
    """
    out = E[indices]
    cache = (indices, E.shape)
    return out, cache


def embedding_backward(dout, cache):
    """Backward pass of embedding_forward: row v of dE sums the gradients of every position that looked up v.

    Inputs:
    - dout: upstream gradient, indices.shape + (D,)
    - cache: from embedding_forward

    Returns:
    - dE: (V, D)
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

    Inputs:
    - logits: unnormalised scores, (N, C) or (N, T, C)
    - y: correct classes, integers in [0, C), (N,) or (N, T)
    - mask: optional, y's shape; 1/True for positions that count, 0/False for padding. Fractional weights are
      allowed (the loss is then the weighted mean).

    Returns a tuple of:
    - loss: a float
    - dlogits: gradient of loss with respect to logits, logits' shape
    """
    C = logits.shape[-1]
    logits_rows = logits.reshape(-1, C)  # (P, C), P = N or N*T positions
    y_rows = y.reshape(-1)
    weights = (
        np.ones(len(y_rows), dtype=logits.dtype) if mask is None else mask.reshape(-1).astype(logits.dtype)
    )
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
