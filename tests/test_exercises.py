"""Every exercise set in ``solutions/`` (found at run time, so new sets are covered automatically):

- ``exercises/`` is exactly what ``course release`` writes from ``solutions/``;
- every graded cell of the solution runs without error and reports values for the trusted grader;
- graded like a submission, the solution scores full marks and the untouched exercise 0 on every graded cell.

Submissions run in the sandbox when this machine has one, else unsandboxed (same scoring).
"""

from pathlib import Path

import pytest

from course_lib.grading import execution, release
from course_lib.grading.audit import kernel_judgements
from course_lib.grading.grade import grade_submission
from course_lib.grading.intake import Submission
from course_lib.grading.notebooks import graded_cells, max_score, read_notebook
from course_lib.grading.scoring import expected_reports

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = release.assignment_names(ROOT)
USE_SANDBOX = execution.sandbox_state()[0]


@pytest.fixture(scope="module")
def solution_reports(tmp_path_factory):
    cache = tmp_path_factory.mktemp("expected")
    return lambda name: expected_reports(name, read_notebook(release.source_path(ROOT, name)), cache)


def _grade(name, path, solution_reports):
    source = read_notebook(release.source_path(ROOT, name))
    submission = Submission("tester", path.name, path)
    return grade_submission(submission, name, source, solution_reports(name), use_sandbox=USE_SANDBOX)


def test_there_are_exercise_sets():
    assert ASSIGNMENTS, f"no exercise set found in {ROOT / 'solutions'}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercises_are_in_sync_with_solutions(name):
    released = release.release_path(ROOT, name)
    assert released.is_file(), f"{released} is missing: run `course release {name}`"
    assert released.read_text(encoding="utf-8") == release.released_text(ROOT, name), (
        f"{released} is out of date: run `course release {name}` and commit the result"
    )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_graded_cell_reports_values(name, solution_reports):
    source = read_notebook(release.source_path(ROOT, name))
    reports = solution_reports(name)  # raises SolutionError if a graded cell fails or reports nothing
    assert sorted(reports) == sorted(grade_id for grade_id, _ in graded_cells(source))
    assert max_score(source) > 0


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_scores_full_marks(name, solution_reports):
    result = _grade(name, release.source_path(ROOT, name), solution_reports)
    assert result.status == "ok", result.message
    failed = [(v.grade_id, v.error, v.mismatched) for v in result.verdicts if not v.passed]
    assert not failed
    assert result.score == result.max_score


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_exercise_scores_zero_on_every_graded_cell(name, solution_reports):
    result = _grade(name, release.release_path(ROOT, name), solution_reports)
    assert result.status == "ok", result.message
    earning = [v.grade_id for v in result.verdicts if v.points > 0]
    assert not earning, f"the blank exercise earns points in {earning}: those tests cannot fail"
    assert len(result.verdicts) == len(graded_cells(read_notebook(release.source_path(ROOT, name))))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_test_cell_reports_a_verdict_computed_in_the_kernel(name):
    """Every value a test cell reports is raw: a comparison made in the learner's kernel (np.allclose, ==, bool)
    can be forged by monkeypatching there, so only the trusted grader may compare."""
    assert kernel_judgements(read_notebook(release.source_path(ROOT, name))) == []
