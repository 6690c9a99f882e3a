"""The charlm exercise set's visible tests teach without giving the answer away: a typical mistake gets a message that
names it, and no visible hint prints the EM update the learner is asked to derive.

The notebook's cells run here in plain Python (``checks.report`` emits nothing outside a kernel), with the solution
of one task replaced by a typical wrong answer.
"""

import exercise_helpers
import pytest

EM, PPL = "em_lambda", "perplexities"


def run_until(test_id, **edits):
    """The test cell's AssertionError message, or None, hidden tests kept (``exercise_helpers.run_until``)."""
    return exercise_helpers.run_until("charlm", test_id, edits, hidden=True)


def test_the_solution_passes_every_visible_test():
    for test_id in ["test_top_k_probabilities", "test_sample_until_stop", "test_perplexities", "test_em_lambda"]:
        assert run_until(test_id) is None


def test_the_visible_em_test_does_not_print_the_update():
    """The learner derives r_t by Bayes' rule; the visible test cell must not state it."""
    visible = dict(exercise_helpers.code_cells("charlm"))["test_em_lambda"].split("### BEGIN HIDDEN TESTS")[0]
    for giveaway in ["lam p_a / (lam p_a", "lam * p_a / (lam * p_a", "the mean of r_t"]:
        assert giveaway not in visible


def test_a_trajectory_without_its_start_is_named():
    wrong = [("history = [float(lam)]", "history = []"), ("for _ in range(steps):", "for _ in range(steps + 1):")]
    message = run_until("test_em_lambda", **{EM: wrong})
    assert message is not None and "starting weight" in message


def test_a_posterior_without_the_prior_is_named():
    wrong = [("lam * p_a / (lam * p_a + (1 - lam) * p_b)", "p_a / (p_a + p_b)")]
    message = run_until("test_em_lambda", **{EM: wrong})
    assert message is not None and "prior" in message


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the mistake makes 0 * nan
def test_multiplying_by_the_mask_gets_the_nan_hint():
    wrong = [("chosen = np.where(mask, chosen, 0.0)", "chosen = chosen * mask")]
    message = run_until("test_perplexities", **{PPL: wrong})
    assert message is not None and "0 * nan" in message
