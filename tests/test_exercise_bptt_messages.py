"""The bptt exercise set's visible tests teach: a typical mistake gets a message that names it and the task it is in,
and a later task never blames itself for an earlier task's mistake.

The notebook's cells run here in plain Python (``checks.report`` emits nothing outside a kernel), with the solution
of one task replaced by a typical wrong answer.
"""

import exercise_helpers
import pytest


def run_until(test_id, hidden=False, **edits):
    """The test cell's AssertionError message, or None (``exercise_helpers.run_until`` on this set)."""
    return exercise_helpers.run_until("bptt", test_id, edits, hidden=hidden)


LEAKY = "leaky_rnn_backward"
DH_TOTAL = "dh_total = dh[:, t] + dh_from_future"
MISSING_LEAK = [
    ("dh_from_future = (1.0 - alpha) * dh_total + delta[:, t] @ Wh.T", "dh_from_future = delta[:, t] @ Wh.T")
]


def test_the_solution_passes_every_visible_test():
    for test_id in ["test_leaky_rnn_backward", "test_model_backward", "test_truncated_backward"]:
        assert run_until(test_id) is None


def test_changing_dh_in_place_is_caught():
    """The upstream gradient belongs to the caller: an in-place `+=` gives right gradients but a changed dh."""
    message = run_until(
        "test_leaky_rnn_backward", **{LEAKY: [(DH_TOTAL, "dh[:, t] += dh_from_future\n        dh_total = dh[:, t]")]}
    )
    assert message is not None and "changed the dh it was given" in message


def test_the_hidden_test_reports_what_happened_to_dh():
    """The grader sees a change of dh too (as a raw array), even if the visible check were skipped."""
    source = dict(exercise_helpers.code_cells("bptt"))["test_leaky_rnn_backward"]
    hidden = source[source.index("### BEGIN HIDDEN TESTS") :]
    assert 'dh_changed_by", upstream - upstream_before)' in hidden


def test_the_column_form_gets_a_message_about_the_row_form():
    message = run_until("test_leaky_rnn_backward", **{LEAKY: [("dx = delta @ Wx.T", "dx = Wx @ delta")]})
    assert message is not None
    assert "row form" in message and "Wx @ x_t" in message and "leaky_rnn_backward" in message


def test_the_derivative_of_h_instead_of_u_is_named():
    message = run_until("test_leaky_rnn_backward", **{LEAKY: [("(1.0 - u[:, t] ** 2)", "(1.0 - h[:, t] ** 2)")]})
    assert message is not None and "1 - u_t**2" in message


def test_a_missing_direct_path_is_named():
    message = run_until("test_leaky_rnn_backward", **{LEAKY: MISSING_LEAK})
    assert message is not None and "BOTH paths" in message


def test_a_wrong_task_1_is_not_blamed_on_task_2():
    message = run_until("test_model_backward", **{LEAKY: MISSING_LEAK})
    assert message is not None and message.startswith("Task 2 was not tested") and "Fix Task 1 first" in message


def test_a_wrong_task_2_is_not_blamed_on_task_3():
    message = run_until("test_truncated_backward", model_backward=[("dz /= N * T", "dz /= N")])
    assert message is not None and message.startswith("Task 3 was not tested") and "Fix Tasks 1 and 2" in message


@pytest.mark.parametrize(
    "test_id, edits",
    [
        ("test_model_backward", {LEAKY: MISSING_LEAK}),
        ("test_truncated_backward", {LEAKY: MISSING_LEAK}),
        ("test_truncated_backward", {"model_backward": [("dz /= N * T", "dz /= N")]}),
    ],
)
def test_the_grader_scores_a_later_task_on_its_own(test_id, edits):
    """As the grader runs them, the hidden tests swap in reference versions of the earlier tasks' functions: one
    mistake in Task 1 (or 2) costs that task's points only, not those of the correct later tasks too."""
    assert run_until(test_id, hidden=True, **edits) is None


def test_a_sum_instead_of_a_mean_is_named():
    message = run_until("test_model_backward", model_backward=[("dz /= N * T", "pass")])
    assert message is not None and "MEAN over the N*T positions" in message


@pytest.mark.parametrize(
    "edit, expected",
    [
        (("weight = x[:, piece].shape[1] / T", "weight = 1.0"), "weights every chunk equally"),
        (("h_prev = h[:, -1]", "h_prev = h0"), "h_last with k = 2 is not right"),
        (
            (
                "model_backward(x[:, piece], y[:, piece], h_prev, params, alpha)",
                "model_backward(x[:, piece], y[:, piece], h0, params, alpha)",
            ),
            "every chunk starts again from h0",
        ),
    ],
)
def test_truncation_mistakes_in_the_forward_pass_are_named(edit, expected):
    message = run_until("test_truncated_backward", truncated_backward=[edit])
    assert message is not None and expected in message


def test_unweighted_chunks_are_named():
    """The loss weighted right, the gradients not: each chunk's gradient is a mean over its own positions."""
    message = run_until(
        "test_truncated_backward",
        truncated_backward=[
            ("grads[name] = grads[name] + weight * chunk_grads[name]", "grads[name] = grads[name] + chunk_grads[name]")
        ],
    )
    assert message is not None and "weights every chunk equally" in message


def test_a_gradient_across_chunks_is_named():
    """Full BPTT handed in as truncated BPTT."""
    message = run_until(
        "test_truncated_backward", truncated_backward=[("N, T, _ = x.shape", "N, T, _ = x.shape\n    k = T")]
    )
    assert message is not None and "must not cross chunk" in message
