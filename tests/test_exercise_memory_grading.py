"""The memory exercise set grades each task on its own: a mistake in Task 1 (the generator) changes none of the values
Task 2's test cell reports, while a mistake in Task 2 itself still changes them.

The solution's cells run here in plain Python, hidden tests included, with ``checks.report`` replaced by a recorder.
"""

from pathlib import Path

import pytest

from course_lib import checks
from course_lib.grading.notebooks import read_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "memory" / "memory.ipynb"
FIRST_STEP = "first = rng.integers(0, seq_len - lag, size=num_examples)"
VALUES = "    values = rng.random((num_examples, seq_len))\n"
TASK_1_MISTAKES = {
    "off by one": [(FIRST_STEP, FIRST_STEP.replace("seq_len - lag", "seq_len - lag - 1"))],  # the visible test says so
    "draws swapped": [(VALUES, ""), (FIRST_STEP, FIRST_STEP + "\n    " + VALUES.strip())],  # only the grader sees it
}


def reports_of(test_id, monkeypatch, **edits):
    """Run the solution's code cells up to ``test_id`` (``edits``: grade_id -> [(old, new)]); the reports of that
    test cell, as a dict key -> value."""
    recorded = {}
    monkeypatch.setattr(checks, "report", lambda key, value: recorded.__setitem__(key, value))
    namespace = {}
    nb = read_notebook(NOTEBOOK)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        grade_id, source = cell.metadata["nbgrader"]["grade_id"], cell.source
        for old, new in edits.get(grade_id, []):
            assert old in source, f"{old!r} not in cell {grade_id}"
            source = source.replace(old, new)
        recorded.clear()
        try:
            exec(source, namespace)
        except AssertionError:  # an earlier visible test fails: the grader runs the later cells all the same
            if grade_id == test_id:
                raise
        if grade_id == test_id:
            return dict(recorded)
    raise KeyError(test_id)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def solution_reports(monkeypatch_module):
    return reports_of("test_baselines", monkeypatch_module)


def _same(a, b):
    return all(abs(float(a[key]) - float(b[key])) <= 1e-9 for key in a) and sorted(a) == sorted(b)


@pytest.mark.parametrize("mistake", sorted(TASK_1_MISTAKES))
def test_a_task_1_mistake_changes_no_task_2_report(solution_reports, monkeypatch, mistake):
    wrong = reports_of("test_baselines", monkeypatch, multiplication_problem=TASK_1_MISTAKES[mistake])
    assert set(wrong) == set(solution_reports) and len(wrong) >= 5
    assert _same(wrong, solution_reports)


def test_a_task_1_mistake_the_visible_test_misses_changes_task_1_reports(monkeypatch):
    right = reports_of("test_multiplication_problem", monkeypatch)
    wrong = reports_of(
        "test_multiplication_problem", monkeypatch, multiplication_problem=TASK_1_MISTAKES["draws swapped"]
    )
    assert any(not (right[key] == wrong[key]).all() for key in ("gen/X", "gen/X12"))


@pytest.mark.parametrize(
    "old, new",
    [
        ("one_value_mse = (1 / 3) * (1 / 12)", "one_value_mse = 1 / 12"),  # the adding problem's answer
        ("seed=0)\nlater", "seed=1)\nlater"),  # the sample drawn with another seed than asked
        (
            "sample_one_value_mse = float(np.mean((y_s - u_b / 2) ** 2))",
            "sample_one_value_mse = float(np.mean((y_s - u_b) ** 2))",
        ),  # the wrong predictor on the sample
        ("u_b = X_s[np.arange(len(X_s)), later, 0]", "u_b = X_s[np.arange(len(X_s)), later - 10, 0]"),  # u_a, not u_b
    ],
)
def test_a_task_2_mistake_is_caught_in_task_2(solution_reports, monkeypatch, old, new):
    """Either the visible test stops it (the learner sees it before grading), or a hidden report differs."""
    try:
        wrong = reports_of("test_baselines", monkeypatch, baselines=[(old, new)])
    except AssertionError:
        return
    assert not _same(wrong, solution_reports)


def test_another_seed_for_the_sample_passes_the_visible_test_but_not_the_grader(solution_reports, monkeypatch):
    wrong = reports_of("test_baselines", monkeypatch, baselines=[("seed=0)\nlater", "seed=1)\nlater")])
    assert not _same(wrong, solution_reports)
