"""The gru set's Task 3 gives its points in two halves, converting and refusing, so that a learner who gets one of
the two right is not marked as if both were wrong (the learner trial found 0/4 for a correct refusal with the bias
left in place)."""

from pathlib import Path

import nbformat
import pytest

from course_lib.grading import execution, release
from course_lib.grading.grade import grade_submission
from course_lib.grading.intake import Submission
from course_lib.grading.notebooks import read_notebook
from course_lib.grading.scoring import expected_reports

ROOT = Path(__file__).resolve().parents[1]
MOVE_BIAS = "        bx[2 * H :] += bh[2 * H :]\n        bh[2 * H :] = 0.0\n"
REFUSE_BIAS = "    elif np.count_nonzero(bh[2 * H :]):\n        raise ValueError("  # the check; its message follows

MISTAKES = {
    "bias not moved": (MOVE_BIAS, "        pass\n"),  # refuses right, converts wrong
    "never refuses for the bias": (REFUSE_BIAS, "    elif False:\n        raise ValueError("),  # converts right
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gru")
    source = read_notebook(release.source_path(ROOT, "gru"))
    expected = expected_reports("gru", source, folder)

    def grade(mistake):
        old, new = MISTAKES[mistake]
        nb = read_notebook(release.source_path(ROOT, "gru"))
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "convert_reset_placement")
        assert old in cell.source
        cell.source = cell.source.replace(old, new)
        path = folder / f"{mistake.replace(' ', '_')}.ipynb"
        nbformat.write(nb, path)
        result = grade_submission(
            Submission("tester", path.name, path), "gru", source, expected, use_sandbox=execution.sandbox_state()[0]
        )
        return {v.grade_id: v.points for v in result.verdicts}

    return grade


def test_a_correct_refusal_keeps_its_points_when_the_conversion_is_wrong(graded):
    points = graded("bias not moved")
    assert points["test_convert_reset_placement"] == 0
    assert points["test_convert_reset_placement_refuses"] == 2


def test_a_correct_conversion_keeps_its_points_when_a_refusal_is_missing(graded):
    points = graded("never refuses for the bias")
    assert points["test_convert_reset_placement"] == 2
    assert points["test_convert_reset_placement_refuses"] == 0
