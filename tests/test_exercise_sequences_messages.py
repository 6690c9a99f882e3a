"""The sequences exercise set's visible tests name a typical mistake instead of blaming something else.

The notebook's cells run here in plain Python, as the learner has them (hidden tests removed), with the solution of
one task replaced by a typical wrong answer.
"""

import re
from pathlib import Path

from course_lib.grading.notebooks import read_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "sequences" / "sequences.ipynb"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", re.S)


def run_until(test_id, **edits):
    """Run the code cells up to and including ``test_id``, with ``edits`` ({grade_id: [(old, new)]}) applied.
    Returns the message of the AssertionError that cell raised, or None if it passed."""
    namespace = {}
    for cell in read_notebook(NOTEBOOK).cells:
        if cell.cell_type != "code":
            continue
        grade_id, source = cell.metadata["nbgrader"]["grade_id"], HIDDEN.sub("", cell.source)
        if grade_id.startswith("demo"):
            continue  # the ungraded demo reads the corpus: not needed here
        for old, new in edits.get(grade_id, []):
            assert old in source, f"{old!r} not in cell {grade_id}"
            source = source.replace(old, new)
        try:
            exec(source, namespace)
        except AssertionError as error:
            if grade_id == test_id:
                return str(error)
        else:
            if grade_id == test_id:
                return None
    raise KeyError(test_id)


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
