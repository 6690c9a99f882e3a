"""The lstm exercise set's visible tests teach: a typical mistake gets a message that names it, and Task 2 (the whole
sequence) never blames itself for a mistake in Task 1 (one step).

The notebook's cells run here in plain Python (``checks.report`` emits nothing outside a kernel), with the solution
of one task replaced by a typical wrong answer.
"""

import exercise_helpers
import pytest

STEP, SEQUENCE = "peephole_step_backward", "peephole_backward"
TASK1_FIRST = "fix Task 1 first"

# Typical mistakes in the step's backward pass, as edits of the solution's source.
NO_OUTPUT_PEEPHOLE_PATH = [(" + da_o * p_o  #", "  #")]
DP_O_FROM_C_PREV = [("dp_o = (da_o * c).sum", "dp_o = (da_o * c_prev).sum")]
NO_INPUT_PEEPHOLE_PATHS = [("dc_prev = dc * f + da_i * p_i + da_f * p_f", "dc_prev = dc * f")]
CRASH = [("    do = dh * tanh_c", "    raise ValueError('broken')\n    do = dh * tanh_c")]


def run_until(test_id, **edits):
    """The test cell's AssertionError message, "crashed" (Task 1 raises), or None, hidden tests kept."""
    return exercise_helpers.run_until("lstm", test_id, edits, hidden=True, crashes=(ValueError,))


def test_the_solution_passes_every_visible_test():
    for test_id in ["test_peephole_step_backward", "test_peephole_backward", "test_store_wiring", "test_count_wiring"]:
        assert run_until(test_id) is None


@pytest.mark.parametrize("mistake", [NO_OUTPUT_PEEPHOLE_PATH, DP_O_FROM_C_PREV, NO_INPUT_PEEPHOLE_PATHS, CRASH])
def test_a_wrong_step_is_blamed_on_task_1_not_task_2(mistake):
    assert run_until("test_peephole_step_backward", **{STEP: mistake}) is not None
    message = run_until("test_peephole_backward", **{STEP: mistake})
    assert message is not None and TASK1_FIRST in message


def test_the_missing_output_peephole_path_is_named_in_task_1():
    message = run_until("test_peephole_step_backward", **{STEP: NO_OUTPUT_PEEPHOLE_PATH})
    assert message is not None and "da_o * p_o" in message


def test_dc_not_passed_back_is_named_in_task_2():
    wrong = [
        (
            "peephole_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
            "peephole_step_backward(dh[:, t] + dh_next, np.zeros_like(dc_next), cache[t])",
        )
    ]
    message = run_until("test_peephole_backward", **{SEQUENCE: wrong})
    assert message is not None and "last step only" in message and TASK1_FIRST not in message
