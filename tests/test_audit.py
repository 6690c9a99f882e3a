"""The release audit refuses verdicts computed in the learner's kernel, and only those: test data built with a
comparison (a mask, a one-hot row) and passed through the learner's function is a raw value."""

import pytest

from course_lib.grading.audit import judgements_in_code


@pytest.mark.parametrize(
    "code",
    [
        "ok = np.allclose(x, y)\nchecks.report('k', ok)",
        "checks.report('k', float(np.mean(pred == gold)))",
        "def same(a, b):\n    return np.array_equal(a, b)\nchecks.report('k', same(x, y))",
        "checks.report('k', not changed)",
        "flag = x > 0\nchecks.report('k', np.where(flag, 1, 0))",
    ],
)
def test_verdicts_are_refused(code):
    assert judgements_in_code(code), code


@pytest.mark.parametrize(
    "code",
    [
        "mask = np.arange(T)[None, :] < lengths[:, None]\nper = perplexities(lp, mask)\nchecks.report('k', per)",
        "start = np.array([0.0 if not l.startswith('I-') else -np.inf for l in labels])\n"
        "path, score = viterbi_decode(lp, start)\nchecks.report('k', np.asarray(path, dtype=float))",
        "checks.report('k', x - x_before)",
    ],
)
def test_values_of_the_learner_are_accepted(code):
    assert judgements_in_code(code) == [], code
