"""NumPy optimisers and clipping against torch.optim and torch.nn.utils.clip_grad_norm_."""

import numpy as np
import pytest
import torch

from course_lib.nn_numpy import SGD, Adam, clip_grad_norm

STEPS = 5


def run_both(make_numpy, make_torch, seed=0):
    """Apply the same random gradients for STEPS steps to NumPy and torch copies of two parameters."""
    rng = np.random.default_rng(seed)
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    tensors = {name: torch.tensor(value.copy(), requires_grad=True) for name, value in params.items()}
    optimiser = make_numpy(params)
    torch_optimiser = make_torch(list(tensors.values()))
    for _ in range(STEPS):
        grads = {name: rng.standard_normal(value.shape) for name, value in params.items()}
        for name, tensor in tensors.items():
            tensor.grad = torch.tensor(grads[name])
        optimiser.step(grads)
        torch_optimiser.step()
    return params, tensors


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_equals_torch(momentum):
    params, tensors = run_both(
        lambda p: SGD(p, lr=0.1, momentum=momentum), lambda t: torch.optim.SGD(t, lr=0.1, momentum=momentum)
    )
    for name in params:
        np.testing.assert_allclose(params[name], tensors[name].detach().numpy(), rtol=1e-13, atol=1e-14)


def test_sgd_momentum_does_not_alias_the_first_gradient():
    params = {"w": np.zeros(2)}
    grad = np.ones(2)
    SGD(params, lr=1.0, momentum=0.5).step({"w": grad})
    np.testing.assert_array_equal(grad, [1.0, 1.0])  # the caller's gradient array is left alone
    np.testing.assert_array_equal(params["w"], [-1.0, -1.0])


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9)])
def test_adam_equals_torch(betas):
    params, tensors = run_both(
        lambda p: Adam(p, lr=0.01, betas=betas), lambda t: torch.optim.Adam(t, lr=0.01, betas=betas)
    )
    for name in params:
        np.testing.assert_allclose(params[name], tensors[name].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_adam_first_step_moves_each_coordinate_by_lr():
    # After bias correction the first step is lr * g / (|g| + eps): about lr per coordinate, whatever |g|.
    params = {"w": np.zeros(3)}
    Adam(params, lr=0.1).step({"w": np.array([1e-3, -5.0, 200.0])})
    np.testing.assert_allclose(params["w"], [-0.1, 0.1, -0.1], rtol=1e-4)


def test_updates_are_in_place():
    W = np.ones((2, 2))
    params = {"W": W}
    Adam(params, lr=0.1).step({"W": np.ones((2, 2))})
    assert params["W"] is W and np.all(W < 1)


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clip_grad_norm_equals_torch(max_norm):
    rng = np.random.default_rng(1)
    grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for tensor, grad in zip(tensors, grads.values(), strict=True):
        tensor.grad = torch.tensor(grad.copy())
    expected_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    torch_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    norm = clip_grad_norm(grads, max_norm)
    assert norm == pytest.approx(expected_norm, rel=1e-12)  # the norm *before* clipping
    assert norm == pytest.approx(torch_norm.item(), rel=1e-12)
    for tensor, grad in zip(tensors, grads.values(), strict=True):
        np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-12)
    new_norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    assert new_norm == pytest.approx(min(max_norm, expected_norm), rel=1e-5)


def test_clip_grad_norm_keeps_the_direction_and_accepts_a_list():
    grads = [np.array([3.0, 0.0]), np.array([4.0])]  # global norm 5
    assert clip_grad_norm(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate(grads), [0.6, 0.0, 0.8], rtol=1e-5)
