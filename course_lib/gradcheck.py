"""Numerical gradients and relative errors, to check every backward pass.

Explained in the chapter *Backpropagation through time*. Not to be confused with ``checks`` (the exercise tests'
assertion helpers) or ``grading.selfcheck`` (the ``course check`` command).

A backward pass is checked by perturbing one input entry at a time by +-h and measuring how a scalar
``sum(f(x) * df)`` changes (centred differences, error O(h^2)). ``df`` plays the upstream gradient, so a function with
array output is checked exactly as it is used inside a network. Use float64: in float32 the rounding error of
f(x+h) - f(x-h) swamps the difference for any useful h.
"""

import numpy as np


def numerical_gradient(f, x, df, h=1e-5):
    """Centred-difference gradient of ``sum(f(x) * df)`` with respect to the array ``x``.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array. ``x`` is perturbed in place and restored, so ``f`` may also be a closure that
        ignores its argument and reads ``x`` through another name (e.g. one of several weights).
    x : ndarray
        The input to perturb, float64.
    df : ndarray
        Upstream gradient, same shape as ``f()``'s output.
    h : float
        Step size.

    Returns
    -------
    ndarray of x's shape: the estimate of d sum(f * df) / dx.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.sum(f(x) * df)
        x[i] = old - h
        minus = np.sum(f(x) * df)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def rel_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(1e-8, |a| + |b|)``: below 1e-7 means agreement in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
