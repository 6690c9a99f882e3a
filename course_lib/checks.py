"""Assertion helpers for the exercise tests: when a check fails, the message says what was expected, what was found
and where to look.

Not to be confused with ``gradcheck`` (numerical gradients, for checking backward passes) or
``grading.selfcheck`` (the ``course check`` command). Every exercise notebook imports this module by name, so it
keeps its name.

Two kinds of helper live here:

- ``assert_*`` functions, used by *visible* tests: they raise ``AssertionError`` with a teaching message.
- ``report(key, value)``, used by *hidden* tests (and by the visible ones, through ``assert_*``): it emits the
  learner's value as a machine-readable cell output and decides nothing. The trusted grader, outside the learner's
  kernel, compares reported values with those of the solution notebook, which the kernel never sees, so no
  monkeypatching inside the kernel can turn a wrong answer into points.
"""

import json
import math

import numpy as np

REPORT_MIME = "application/vnd.rnn-course.report+json"
"""MIME type of the outputs that ``report`` emits; the grader collects them from the executed notebook."""


class CheckError(AssertionError):
    """A failed exercise check; its message is meant for the learner."""


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"a {type(x).__name__}"


def assert_type(value, expected_type, name):
    """Check ``isinstance(value, expected_type)``."""
    if not isinstance(value, expected_type):
        want = getattr(expected_type, "__name__", str(expected_type))
        raise CheckError(f"{name} should be {want}, but it is {_describe(value)}.")


def assert_shape(array, expected_shape, name, meaning=None):
    """Check an array's shape. ``meaning`` names the dimensions, e.g. "(N, H)", and appears in the message."""
    if not hasattr(array, "shape"):
        raise CheckError(
            f"{name} should be a NumPy array of shape {tuple(expected_shape)}, but it is {_describe(array)}."
        )
    if tuple(array.shape) != tuple(expected_shape):
        wanted = f"{meaning} = {tuple(expected_shape)}" if meaning else f"{tuple(expected_shape)}"
        hint = ""
        if sorted(array.shape) == sorted(expected_shape):
            hint = " The same sizes in another order: is a matrix transposed, or are the operands of @ swapped?"
        raise CheckError(f"{name} has shape {tuple(array.shape)} but should be {wanted}.{hint}")


def assert_finite(array, name, hint=None):
    """Check that an array holds no NaN or infinity; ``hint`` (a likely cause) replaces the generic one."""
    array = np.asarray(array)
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        cause = hint or "Look for an overflow or a division by zero."
        raise CheckError(f"{name} contains {bad} NaN or infinite value(s). {cause}")


def _distinct(found, expected):
    """``found`` and ``expected`` formatted with the fewest significant digits (at least 6) that tell them apart."""
    for digits in (6, 9, 12, 17):
        a, b = f"{found:.{digits}g}", f"{expected:.{digits}g}"
        if a != b:
            break
    return a, b


def assert_close(actual, expected, name, rtol=1e-7, atol=1e-9, hint=None):
    """Check ``actual`` against ``expected`` elementwise, after checking type and shape, and report ``actual``.

    The message gives the largest difference, where it is, and ``hint`` (a likely cause) when one is given.
    """
    report(name, actual)
    expected = np.asarray(expected)
    if np.ndim(expected) > 0:
        assert_shape(actual, expected.shape, name)
    actual_arr = np.asarray(actual, dtype=np.float64)
    assert_finite(actual_arr, name, hint)
    if not np.allclose(actual_arr, expected, rtol=rtol, atol=atol):
        diff = np.abs(actual_arr - expected)
        where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        expected_here = float(np.broadcast_to(expected, diff.shape)[where])
        found_text, expected_text = _distinct(float(actual_arr[where]), expected_here)
        msg = (
            f"{name} is not right: the largest difference from the expected value is {float(np.max(diff)):.3g}"
            + (f", at index {tuple(int(i) for i in where)}" if where else "")
            + f" (found {found_text}, expected {expected_text})."
        )
        if hint:
            msg += " " + hint
        raise CheckError(msg)


def assert_choice(answer, options, name):
    """Check that a multiple-choice answer is one of ``options`` (does not say whether it is right)."""
    if not isinstance(answer, str) or answer.strip().upper() not in options:
        raise CheckError(f"{name} should be one of {', '.join(repr(o) for o in options)} (a string), not {answer!r}.")


# ---------------------------------------------------------------------------------------------------------------------
# Reports: values for the trusted grader


def encode_value(value):
    """A JSON-safe description of ``value``: arrays keep shape and data; strings stay strings."""
    if isinstance(value, str):
        return {"kind": "str", "data": value}
    if isinstance(value, bool | np.bool_):
        return {"kind": "bool", "data": bool(value)}
    if value is None:
        return {"kind": "none"}
    try:
        array = np.asarray(value)
    except Exception:  # an object that cannot become an array: report its type only
        return {"kind": "other", "data": type(value).__name__}
    if array.dtype.kind not in "biuf":
        return {"kind": "other", "data": type(value).__name__}
    data = [x if math.isfinite(x) else str(x) for x in array.astype(np.float64).ravel().tolist()]
    return {"kind": "array", "shape": list(array.shape), "data": data}


def report(key, value):
    """Emit ``value`` under ``key`` as a cell output for the grader. Decides nothing; never raises for bad values.

    Returns None, so that a report on a cell's last line adds no visible output of its own.
    """
    payload = {"key": str(key), "value": encode_value(value)}
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # no IPython at all: reports go nowhere
        return None
    if get_ipython() is not None:  # only inside a kernel; plain Python and pytest print nothing
        # an empty text/plain keeps the learner's view clean: front ends skip the unknown MIME type
        display({REPORT_MIME: payload, "text/plain": ""}, raw=True)
    return None


def report_json(payload):
    """Serialise a report payload deterministically (used by the grader)."""
    return json.dumps(payload, sort_keys=True)
