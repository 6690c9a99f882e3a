"""Numerically stable elementwise and normalising functions: sigmoid, softmax, log_softmax.

Explained in the chapters *A character-level language model* (softmax, cross-entropy) and *Long short-term memory*
(the sigmoid gates of the LSTM).

Why "stable": ``1 / (1 + exp(-x))`` overflows for x < -709 in float64 (-88 in float32) and ``exp(x) /
sum(exp(x))`` overflows for any large logit. The forms below never exponentiate a large positive number.
"""

import numpy as np


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), accurate to the last digit for every x.

    For x >= 0 it computes 1 / (1 + e) and for x < 0 it computes e / (1 + e), with ``e = exp(-|x|) <= 1``: no
    overflow, and tiny results like sigmoid(-50) ~ 2e-22 keep their relative accuracy (so their log is
    finite).

    Parameters
    ----------
    x
        array of any shape

    Returns
    -------
    s
        sigmoid(x), x's shape, values in [0, 1]
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def gate_sigmoid(x, out=None):
    """The sigmoid as 0.5 * (1 + tanh(x / 2)): the same function, faster, for the gates inside time loops.

    One transcendental function and in-place work; it cannot overflow. Its absolute error stays near 1e-16,
    but below x ~ -20 it loses the *relative* accuracy of tiny results (sigmoid(-40) becomes exactly 0):
    harmless for a gate, which only scales other numbers, but use ``sigmoid`` for a probability whose
    logarithm you take.

    Parameters
    ----------
    x
        array of any shape
    out
        optional array of x's shape to write the result into (it may be x itself)

    Returns
    -------
    s
        sigmoid(x), x's shape
    """
    s = np.multiply(x, 0.5, out=out)
    np.tanh(s, out=s)
    s *= 0.5
    s += 0.5
    return s


def softmax(x, axis=-1):
    """Softmax along ``axis``: exp(x) / sum(exp(x)), computed after subtracting the maximum (which cancels).

    Parameters
    ----------
    x : ndarray, any shape, e.g. (N, C) or (N, T, C)
        scores
    axis
        the axis that holds the classes

    Returns
    -------
    p
        probabilities, x's shape, summing to 1 along ``axis``
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)  # the largest entry becomes exp(0) = 1: no overflow
    p = np.exp(shifted)
    p /= np.sum(p, axis=axis, keepdims=True)
    return p


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, without ever forming the (possibly underflowing) probabilities.

    log softmax(x)_k = x_k - m - log(sum_j exp(x_j - m)), with m = max_j x_j.

    Parameters
    ----------
    x
        scores, any shape
    axis
        the axis that holds the classes

    Returns
    -------
    log_p
        x's shape, every entry <= 0
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
