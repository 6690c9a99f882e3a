"""The sequences exercise set's visible tests name a typical mistake instead of blaming something else.

The notebook's cells run here in plain Python, as the learner has them (hidden tests removed), with the solution of
one task replaced by a typical wrong answer.
"""

import exercise_helpers


def run_until(test_id, **edits):
    """The test cell's AssertionError message, or None; the ungraded demo, which reads the corpus, is not run."""
    demos = [grade_id for grade_id, _ in exercise_helpers.code_cells("sequences") if grade_id.startswith("demo")]
    return exercise_helpers.run_until("sequences", test_id, edits, skip=demos)


def test_the_solution_passes_the_two_tests():
    assert run_until("test_kneser_ney_bigram") is None
    assert run_until("test_perplexity_from_scores") is None


def test_a_context_count_that_includes_the_last_token_is_explained():
    """c(u) counted as occurrences of u (the stream's last token included) instead of pairs that start with u."""
    edit = ("context_counts = counts.sum(axis=1)", "context_counts = np.bincount(train_ids, minlength=V).astype(float)")
    message = run_until("test_kneser_ney_bigram", kneser_ney_bigram=[edit])
    assert message is not None and "PAIRS that start with u" in message


def test_a_sum_of_log_probabilities_is_named():
    edit = ("np.exp(-np.mean(chosen))", "np.exp(-np.sum(chosen))")
    message = run_until("test_perplexity_from_scores", perplexity_from_scores=[edit])
    assert message is not None and "MEAN negative log-probability" in message and "softmax" not in message
