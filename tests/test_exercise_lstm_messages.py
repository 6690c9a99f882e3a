"""The lstm exercise set's visible tests teach: a typical mistake gets a message that names it, and Task 2 (the whole
sequence) never blames itself for a mistake in Task 1 (one step).

The notebook's cells run here in plain Python (``checks.report`` emits nothing outside a kernel), with the solution
of one task replaced by a typical wrong answer.
"""

from pathlib import Path

import pytest

from course_lib.grading.notebooks import read_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "lstm" / "lstm.ipynb"
STEP, SEQUENCE = "peephole_step_backward", "peephole_backward"
TASK1_FIRST = "fix Task 1 first"

# Typical mistakes in the step's backward pass, as edits of the solution's source.
NO_OUTPUT_PEEPHOLE_PATH = [(" + da_o * p_o  #", "  #")]
DP_O_FROM_C_PREV = [("dp_o = (da_o * c).sum", "dp_o = (da_o * c_prev).sum")]
NO_INPUT_PEEPHOLE_PATHS = [("dc_prev = dc * f + da_i * p_i + da_f * p_f", "dc_prev = dc * f")]
CRASH = [("    do = dh * tanh_c", "    raise ValueError('broken')\n    do = dh * tanh_c")]


def _cells():
    nb = read_notebook(NOTEBOOK)
    return [(c.metadata["nbgrader"]["grade_id"], c.source) for c in nb.cells if c.cell_type == "code"]


def run_until(test_id, **edits):
    """Run the solution's code cells up to and including ``test_id``; ``edits`` maps a grade_id to (old, new)
    replacements of its source. Returns the AssertionError's message, or None if the test cell passed."""
    namespace = {}
    for grade_id, source in _cells():
        for old, new in edits.get(grade_id, []):
            assert old in source, f"{old!r} not in cell {grade_id}"
            source = source.replace(old, new)
        try:
            exec(source, namespace)
        except AssertionError as error:  # an earlier task's failing test does not stop the notebook
            if grade_id == test_id:
                return str(error)
        except ValueError:  # the CRASH edit: Task 1's own test cell raises it
            if grade_id == test_id:
                return "crashed"
        else:
            if grade_id == test_id:
                return None
    raise KeyError(test_id)


def test_the_solution_passes_every_visible_test():
    for test_id in ["test_peephole_step_backward", "test_peephole_backward", "test_store_wiring",
                    "test_count_wiring"]:
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
    wrong = [("peephole_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
              "peephole_step_backward(dh[:, t] + dh_next, np.zeros_like(dc_next), cache[t])")]
    message = run_until("test_peephole_backward", **{SEQUENCE: wrong})
    assert message is not None and "last step only" in message and TASK1_FIRST not in message
