"""``course check NOTEBOOK``: the learner's self-check runs the released visible tests, whatever the learner
did to the test cells, prints each task's verdict and exits 0 iff all pass."""

import shutil

import nbformat
from fixtures.simulated_class import COURSE, RELEASED, RIGHT, SOLUTION, WRONG_SQUARE, learner_notebook

from course_lib import cli
from course_lib.grading.selfcheck import check_notebook, find_released


def run_check(path, capsys, *extra):
    code = cli.main(["--root", str(COURSE), "check", str(path), *extra])
    return code, capsys.readouterr().out


def test_the_solution_passes_everything(tmp_path, capsys):
    path = tmp_path / "tiny.ipynb"
    path.write_text(SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    code, out = run_check(path, capsys)
    assert code == 0
    assert out.count("PASS") == 3 and "FAIL" not in out
    assert "3 of 3 task(s) pass their visible tests, worth 6 of 6 points" in out


def test_the_untouched_exercise_fails_every_task_and_says_why(tmp_path, capsys):
    path = tmp_path / "tiny.ipynb"
    path.write_text(RELEASED.read_text(encoding="utf-8"), encoding="utf-8")
    code, out = run_check(path, capsys)
    assert code == 1
    assert out.count("FAIL") == 3
    assert "an answer this test needs is not written yet" in out  # a stub raised NotImplementedError
    assert "NameError: name 'answer_q1' is not defined" in out  # the stub of a top-level answer


def test_vandalised_tests_are_restored(tmp_path, capsys):
    def neuter_tests(nb):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = "pass"  # would pass anything
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_q1"]

    answers = dict(RIGHT, square=WRONG_SQUARE)
    path = tmp_path / "my work on tiny (1).ipynb"  # an LMS-style name: found by the word "tiny"
    path.write_text(learner_notebook(answers, edit=neuter_tests), encoding="utf-8")
    code, out = run_check(path, capsys)
    assert code == 1
    lines = {line.split()[1]: line for line in out.splitlines() if line.strip().startswith(("PASS", "FAIL"))}
    assert lines["test_double"].strip().startswith("PASS")
    assert lines["test_q1"].strip().startswith("PASS")  # deleted by the learner, restored and run
    assert lines["test_square"].strip().startswith("FAIL") and "square([3]) is not right" in lines["test_square"]
    assert "2 of 3 task(s)" in out


def test_released_version_found_by_grade_ids_and_notes_on_extra_cells(tmp_path):
    nb = nbformat.reads(learner_notebook(RIGHT), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('my scratch work')"))
    path = tmp_path / "homework.ipynb"  # the name says nothing
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    assert find_released(path, {"double": "", "square": "", "q1": ""}, root=COURSE)[0] == SOLUTION
    report = check_notebook(path, root=COURSE)
    assert report.all_passed
    assert any("you added are not run by the grader" in note for note in report.notes)


def test_an_unreadable_notebook_exits_2(tmp_path, capsys):
    path = tmp_path / "tiny.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    assert cli.main(["--root", str(COURSE), "check", str(path)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_editing_the_released_copy_in_place_does_not_change_the_tests(tmp_path, capsys):
    """A learner working in exercises/tiny/tiny.ipynb of their clone who neuters its tests sees them fail."""
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    in_place = course / "exercises" / "tiny" / "tiny.ipynb"

    def neuter_tests(nb):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = "pass"

    in_place.write_text(learner_notebook({}, edit=neuter_tests), encoding="utf-8")
    assert cli.main(["--root", str(course), "check", str(in_place)]) == 1
    assert capsys.readouterr().out.count("FAIL") == 3


def test_a_syntax_error_in_an_answer_is_reported_as_such_with_its_line(tmp_path, capsys):
    """Issue 14: the broken cell defines nothing, and the test after it used to report only a NameError."""
    path = tmp_path / "tiny.ipynb"
    broken = "def square(x):\n    return np.square(np.asarray(x, dtype=float)"  # the ( is never closed
    path.write_text(learner_notebook(dict(RIGHT, square=broken)), encoding="utf-8")
    code, out = run_check(path, capsys)
    assert code == 1
    line = next(x for x in out.splitlines() if "test_square" in x)
    assert "FAIL" in line and "SyntaxError in answer cell 'square', line 2" in line
    assert "NameError" not in line
    assert "answer cell 'square' has a SyntaxError on line 2" in out  # and a note says so too
    assert next(x for x in out.splitlines() if "test_double" in x).lstrip().startswith("PASS")  # others unaffected


def test_an_indentation_error_is_a_syntax_error_too(tmp_path, capsys):
    path = tmp_path / "tiny.ipynb"
    path.write_text(learner_notebook(dict(RIGHT, double="def double(x):\nreturn 2 * x")), encoding="utf-8")
    _, out = run_check(path, capsys)
    assert "SyntaxError in answer cell 'double', line 2" in next(x for x in out.splitlines() if "test_double" in x)


def test_check_names_the_released_set_not_the_solutions_path(tmp_path, capsys):
    """Issue 14: learners are not shown where the instructor's solutions live."""
    path = tmp_path / "tiny.ipynb"
    path.write_text(learner_notebook(RIGHT), encoding="utf-8")
    code, out = run_check(path, capsys)
    assert code == 0
    assert "with the visible tests of the released exercise set 'tiny'" in out
    assert "solutions" not in out and str(COURSE) not in out
