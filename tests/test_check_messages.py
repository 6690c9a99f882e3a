"""Issue 14's misleading check messages: a wrong answer to a question, a perplexity that underflows, and a found value
printed like the expected one. Each message must say what is wrong and where to look."""

import json
from pathlib import Path

import numpy as np
import pytest

from course_lib import checks
from course_lib.grading.feedback import render_feedback
from course_lib.grading.notebooks import nbgrader_meta, read_notebook, release_notebook
from course_lib.grading.scoring import CellVerdict
from course_lib.grading.selfcheck import check_notebook

ROOT = Path(__file__).resolve().parents[1]


def _cell(nb, grade_id):
    return next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)


class _Result:  # the parts of grade.SubmissionResult that render_feedback reads
    def __init__(self, verdicts):
        self.assignment, self.student_id, self.status, self.message = "rnn", "ann", "ok", ""
        self.verdicts, self.score, self.max_score = verdicts, 0.0, 1.0
        self.solution_sources = {}


@pytest.mark.parametrize("grade_id, key, value", [("test_q1", "q1", "C"), ("test_q2", "q2", 5.0)])
def test_a_wrong_answer_to_a_question_is_called_wrong_and_points_to_the_chapter(grade_id, key, value):
    released = release_notebook(read_notebook(ROOT / "solutions" / "rnn" / "rnn.ipynb"))
    expected = {grade_id: [(key, checks.encode_value(value))]}
    verdict = CellVerdict(grade_id, 0.0, 1.0, None, True, [key])
    page = render_feedback(_Result([verdict]), released, expected=expected)
    assert "hard-coded" not in page
    assert "Your answer is not the right one" in page
    assert "Reread the chapter&#x27;s" in page or "Reread &quot;A worked example" in page  # the cell's "Where to look"


def test_a_code_task_that_fails_a_hidden_check_still_gets_the_other_inputs_message():
    released = release_notebook(read_notebook(ROOT / "solutions" / "rnn" / "rnn.ipynb"))
    expected = {"test_jordan_forward": [("jordan/y/0", checks.encode_value(np.zeros(3)))]}
    verdict = CellVerdict("test_jordan_forward", 0.0, 3.0, None, True, ["jordan/y/0"])
    page = render_feedback(_Result([verdict]), released, expected=expected)
    assert "different values from the expected ones, on other inputs" in page and "not the right one" not in page


def test_a_non_finite_value_gets_the_tests_own_hint():
    with pytest.raises(checks.CheckError) as caught:
        checks.assert_close(float("inf"), 300.0, "the perplexity", hint="The product underflows to 0: add logs.")
    assert "underflows" in str(caught.value) and "division by zero" not in str(caught.value)
    with pytest.raises(checks.CheckError) as caught:  # no hint: the generic cause
        checks.assert_close(np.array([np.nan]), [1.0], "x")
    assert "overflow or a division by zero" in str(caught.value)


def test_found_and_expected_never_print_the_same_number():
    with pytest.raises(checks.CheckError) as caught:  # a one-sided difference: close, but not close enough
        checks.assert_close(1.0000001234, 1.0000000001, "the gradient", rtol=1e-9, atol=0)
    message = str(caught.value)
    found = message.split("found ")[1].split(",")[0]
    expected = message.split("expected ")[-1].rstrip(").")
    assert found != expected, message
    assert float(found) == pytest.approx(1.0000001234, rel=1e-8) and float(expected) == pytest.approx(1.0000000001)


def test_perplexity_as_a_product_of_probabilities_gets_the_underflow_hint(tmp_path):
    """The issue's case, through ``course check``: a learner multiplies the probabilities."""
    nb = read_notebook(ROOT / "exercises" / "sequences" / "sequences.ipynb")
    _cell(nb, "perplexity_from_scores").source = (
        "def perplexity_from_scores(scores, targets):\n"
        "    shifted = scores - scores.max(axis=1, keepdims=True)\n"
        "    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
        "    return float(np.prod(p[np.arange(len(targets)), targets]) ** (-1 / len(targets)))\n"
    )
    for c in nb.cells:  # leave the slow ungraded demo out of this run
        if nbgrader_meta(c).get("grade_id") == "demo_people_daily":
            c.source = "pass"
    path = tmp_path / "sequences.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    report = check_notebook(path, root=ROOT, assignment="sequences")
    task = next(t for t in report.tasks if t.grade_id == "test_perplexity_from_scores")
    assert not task.passed
    assert "underflows to 0" in task.message and "division by zero" not in task.message, task.message
