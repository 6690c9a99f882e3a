"""Shared helpers for the tests of course_lib.nn_numpy and course_lib.nn_torch (not a test file itself).

The gradient check perturbs every entry of every input (centred differences, float64) and compares with the
analytic gradient by ``rel_error`` against ``GRAD_TOL``; PyTorch comparisons use ``TORCH_RTOL``.
"""

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from course_lib.gradcheck import numerical_gradient, rel_error

GRAD_TOL = 1e-7  # numerical vs analytic gradient, float64 (DESIGN: relative error < 1e-7)
TORCH_RTOL = 1e-10  # NumPy vs PyTorch in float64: only rounding differs
TORCH_ATOL = 1e-12

# Few examples, no deadline: the suite must stay fast and timing is not what these tests are about.
# derandomize: the same shapes on every run, so a CI failure can be reproduced.
FEW = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

small = st.integers(min_value=1, max_value=4)
seeds = st.integers(min_value=0, max_value=2**31 - 1)


RICHARDSON_STEP = 1e-3


def accurate_numerical_gradient(f, x, dout):
    """Centred differences with Richardson extrapolation: ``(4 D(h) - D(2h)) / 3`` cancels the O(h^2) error
    term.

    Plain centred differences at h = 1e-5 leave an absolute error near 1e-11, which is more than 1e-7 of a
    gradient entry that happens to be ~1e-5 (it happens: about one random draw in 200 failed). Extrapolating
    allows a large step, where rounding is negligible, with a truncation error of O(h^4) ~ 1e-12: relative
    errors stay below 1e-8.
    """
    step = RICHARDSON_STEP
    fine = numerical_gradient(f, x, dout, h=step)
    coarse = numerical_gradient(f, x, dout, h=2 * step)
    return (4 * fine - coarse) / 3


def check_gradients(f, inputs, analytic, dout, names=None):
    """Assert that ``analytic[name]`` is the gradient of ``sum(f() * dout)`` wrt ``inputs[name]``, for each
    name.

    ``f`` takes no argument and reads ``inputs`` (whose arrays the numerical gradient perturbs in place).
    """
    for name in names or inputs:
        numeric = accurate_numerical_gradient(lambda _: f(), inputs[name], dout)
        error = rel_error(analytic[name], numeric)
        assert error < GRAD_TOL, f"d{name}: relative error {error:.2e} vs the numerical gradient"


def assert_torch_close(numpy_value, torch_value, name=""):
    if isinstance(torch_value, torch.Tensor):
        torch_value = torch_value.detach().cpu().numpy()
    np.testing.assert_allclose(numpy_value, torch_value, rtol=TORCH_RTOL, atol=TORCH_ATOL, err_msg=name)


def leaf(array):
    """A float64 torch leaf tensor that collects gradients."""
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)
