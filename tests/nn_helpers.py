"""Shared helpers for the tests of course_lib.nn_numpy and course_lib.nn_torch (not a test file itself).

The gradient check perturbs every entry of every input (centred differences, float64) and compares with the
analytic gradient by ``rel_error`` against ``GRAD_TOL``; PyTorch comparisons use ``TORCH_RTOL``.
"""

import os

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from course_lib.gradcheck import numerical_gradient, rel_error

GRAD_TOL = 1e-7  # numerical vs analytic gradient, float64 (DESIGN: relative error < 1e-7)
TORCH_RTOL = 1e-10  # NumPy vs PyTorch in float64: only rounding differs
TORCH_ATOL = 1e-12

# Few examples, no deadline: the suite must stay fast and timing is not what these tests are about.
# derandomize: the same shapes on every run, so a CI failure can be reproduced. Set NN_TESTS_EXPLORE=1 to draw
# fresh, more numerous examples instead (a maintainer's stress run after changing a backward pass).
EXPLORE = os.environ.get("NN_TESTS_EXPLORE") == "1"
FEW = settings(
    max_examples=60 if EXPLORE else 12,
    deadline=None,
    derandomize=not EXPLORE,
    suppress_health_check=[HealthCheck.too_slow],
)

small = st.integers(min_value=1, max_value=4)
seeds = st.integers(min_value=0, max_value=2**31 - 1)


RICHARDSON_STEP = 2e-3


def accurate_numerical_gradient(f, x, dout):
    """Centred differences D(h) refined by two rounds of Richardson extrapolation, leaving an O(h^6) error.

    D(h) = g + c2 h^2 + c4 h^4 + ...; (4 D(h) - D(2h)) / 3 cancels the h^2 term, and combining two of those as
    (16 E(h) - E(2h)) / 15 cancels the h^4 term. Why not plain D(1e-5): its absolute error, near 1e-11,
    exceeds 1e-7 of gradient entries that happen to be ~1e-5, and about one random draw in 100 failed for a
    correct LSTM. Extrapolation permits a large step, where rounding error is negligible: measured over 150
    random LSTMs, the worst relative error is below 1e-8.
    """
    step = RICHARDSON_STEP
    d1, d2, d4 = (numerical_gradient(f, x, dout, h=k * step) for k in (1, 2, 4))
    e1 = (4 * d1 - d2) / 3  # error O(h^4)
    e2 = (4 * d2 - d4) / 3
    return (16 * e1 - e2) / 15  # error O(h^6)


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
