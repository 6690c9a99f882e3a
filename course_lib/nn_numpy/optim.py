"""Optimisers and gradient clipping for NumPy parameter dicts.

Explained in the chapters *Backpropagation through time* (clipping by global norm, against exploding gradients)
and *A character-level language model* (training).

Parameters and gradients are dicts with the same keys, name -> ndarray; ``step`` updates the parameter arrays
in place, so every reference to them (a model, a cache) sees the new values. The update rules are PyTorch's
(``torch.optim.SGD`` and ``torch.optim.Adam`` without weight decay), so NumPy and PyTorch runs stay together.
Sources: Kingma & Ba (2015) for Adam; Pascanu, Mikolov & Bengio (2013) for clipping by norm.
"""

import numpy as np


class SGD:
    """Stochastic gradient descent, optionally with momentum.

    v <- momentum * v + g   (v = g at the first step)
    p <- p - lr * v         (plain SGD when momentum = 0)
    """

    def __init__(self, params, lr=0.1, momentum=0.0):
        """

        Parameters
        ----------
        params
            dict name -> ndarray, updated in place by step()
        lr
            learning rate
        momentum
            in [0, 1)
        """
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.velocity = {}

    def step(self, grads):
        """Update every parameter that has a gradient in ``grads`` (dict name -> array of its shape)."""
        for name, grad in grads.items():
            update = grad
            if self.momentum:
                if name in self.velocity:
                    self.velocity[name] *= self.momentum
                    self.velocity[name] += grad
                else:
                    self.velocity[name] = np.array(grad, copy=True)
                update = self.velocity[name]
            self.params[name] -= self.lr * update


class Adam:
    """Adam: a step per parameter scaled by running averages of the gradient and of its square.

    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2          (running first and second moments)
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)   (bias-corrected, t = step number from 1)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        """

        Parameters
        ----------
        params
            dict name -> ndarray, updated in place by step()
        lr
            learning rate
        betas
            decay rates (b1, b2) of the two running averages
        eps
            keeps the denominator away from zero
        """
        self.params = params
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads):
        """Update every parameter that has a gradient in ``grads`` (dict name -> array of its shape)."""
        self.t += 1
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        for name, grad in grads.items():
            m, v = self.m[name], self.v[name]
            m *= self.beta1
            m += (1.0 - self.beta1) * grad
            v *= self.beta2
            v += (1.0 - self.beta2) * grad * grad
            denominator = np.sqrt(v) / np.sqrt(correction2) + self.eps
            self.params[name] -= (self.lr / correction1) * m / denominator


def clip_grad_norm(grads, max_norm):
    """Scale all gradients together so that their global L2 norm is at most ``max_norm``; in place.

    The global norm is sqrt(sum over every array of sum(g^2)). Scaling all arrays by one factor keeps the
    direction of the update and only shortens it. As in ``torch.nn.utils.clip_grad_norm_``, the factor is
    max_norm / (norm + 1e-6), applied only when it is below 1.

    Parameters
    ----------
    grads
        dict name -> ndarray (or a list of arrays), modified in place
    max_norm
        the largest norm allowed

    Returns
    -------
    norm
        the global norm *before* clipping (a float), worth logging: it shows when gradients explode
    """
    arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in arrays)))
    scale = max_norm / (norm + 1e-6)
    if scale < 1.0:
        for g in arrays:
            g *= scale
    return norm
