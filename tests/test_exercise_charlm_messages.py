"""The charlm exercise set's visible tests teach without giving the answer away: a typical mistake gets a message that
names it, and no visible hint prints the EM update the learner is asked to derive.

The notebook's cells run here in plain Python (``checks.report`` emits nothing outside a kernel), with the solution
of one task replaced by a typical wrong answer.
"""

from pathlib import Path

import pytest

from course_lib.grading.notebooks import read_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "charlm" / "charlm.ipynb"
EM, PPL = "em_lambda", "perplexities"


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
        else:
            if grade_id == test_id:
                return None
    raise KeyError(test_id)


def test_the_solution_passes_every_visible_test():
    for test_id in ["test_top_k_probabilities", "test_sample_until_stop", "test_perplexities", "test_em_lambda"]:
        assert run_until(test_id) is None


def test_the_visible_em_test_does_not_print_the_update():
    """The learner derives r_t by Bayes' rule; the visible test cell must not state it."""
    visible = dict(_cells())["test_em_lambda"].split("### BEGIN HIDDEN TESTS")[0]
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
