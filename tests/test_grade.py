"""``course grade`` on a simulated class: expected grades, intake of every shape, trusted scoring that
monkeypatching cannot fool, parallel = sequential, idempotent re-grading, no lost grades, feedback that hides
hidden tests, and the sandbox refusal.

Expected scores come from ``fixtures/simulated_class.py``, worked out by hand from the fixture's points.
"""

import csv
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from fixtures.simulated_class import COURSE, RIGHT, SOLUTION, build_class, learner_notebook

from course_lib import checks, cli
from course_lib.grading import execution, intake, notebooks, scoring
from course_lib.grading.feedback import render_feedback
from course_lib.grading.grade import grade_assignment
from course_lib.grading.notebooks import read_notebook, release_notebook

MAX_SCORE = 6
ROOT = Path(__file__).resolve().parents[1]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def gradebook_scores(out_dir):
    """{student: total auto score} read straight from the SQLite file with SQL, not through our code."""
    with sqlite3.connect(out_dir / "gradebook.db") as db:
        rows = db.execute(
            "SELECT s.student_id, SUM(g.auto_score) FROM grade g "
            "JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment s ON n.assignment_id = s.id GROUP BY s.student_id"
        ).fetchall()
    return {student: score for student, score in rows}


@pytest.fixture(scope="module")
def simulated_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    return folder, build_class(folder)


@pytest.fixture(scope="module")
def graded(simulated_class, tmp_path_factory):
    """The class graded once, with two workers (the slow test below compares with one worker)."""
    folder, _ = simulated_class
    out = tmp_path_factory.mktemp("out")
    results = grade_assignment(COURSE, "tiny", folder, out, workers=2, use_sandbox=False)
    return out, results


def test_grades_csv_has_the_expected_row_for_every_submission(simulated_class, graded):
    _, expected = simulated_class
    out, _ = graded
    rows = read_csv(out / "grades.csv")
    assert list(rows[0].keys()) == [
        "student_id", "assignment", "score", "max_score", "status", "lms_id", "late", "submitted", "penalty",
        "source", "message",
    ]  # fmt: skip
    found = {r["student_id"]: (float(r["score"]) if r["score"] else None, r["status"]) for r in rows}
    assert found == expected
    for row in rows:  # a row that is not a grade says what the file was and why
        assert row["source"]
        assert bool(row["message"]) or row["status"] == "ok", row
    assert all(r["assignment"] == "tiny" and float(r["max_score"]) == MAX_SCORE for r in rows)
    assert len(rows) == len(expected)  # one row per entry, the ignored .DS_Store excepted


def test_gradebook_holds_the_same_scores_for_real_students(simulated_class, graded):
    _, expected = simulated_class
    out, _ = graded
    stored = gradebook_scores(out)
    assert "tiny_1" not in stored  # an unidentified file creates no student
    for student, (score, status) in expected.items():
        if status != "unidentified":
            assert stored[student] == pytest.approx(score or 0), student


def test_monkeypatching_and_hardcoding_earn_nothing(graded):
    _, results = graded
    by_student = {r.student_id: r for r in results}
    erin = by_student["erin"]  # wrong answers, assert helpers and numpy.allclose patched: the cells do not fail
    assert all(v.error is None for v in erin.verdicts)
    assert erin.score == 0
    dave = {v.grade_id: v for v in by_student["dave"].verdicts}
    assert dave["test_double"].error is None and dave["test_double"].mismatched == ["double(hidden)"]
    assert dave["test_double"].points == 0 and dave["test_square"].points == 3


@pytest.mark.slow
def test_sequential_regrading_is_identical_and_idempotent(simulated_class, graded, tmp_path):
    """Re-grade the class with 1 worker into a copy of the 2-worker run's output: nothing may change."""
    folder, _ = simulated_class
    out_graded, results_graded = graded
    out = tmp_path / "out"
    shutil.copytree(out_graded, out)
    results = grade_assignment(COURSE, "tiny", folder, out, workers=1, use_sandbox=False)
    assert (out / "grades.csv").read_bytes() == (out_graded / "grades.csv").read_bytes()
    assert gradebook_scores(out) == gradebook_scores(out_graded)
    with sqlite3.connect(out / "gradebook.db") as db:
        assert db.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone() == (len(gradebook_scores(out)),)
    assert [(r.student_id, r.status, [v.points for v in r.verdicts]) for r in results] == [
        (r.student_id, r.status, [v.points for v in r.verdicts]) for r in results_graded
    ]


def test_an_error_or_a_dead_kernel_costs_only_the_cells_that_need_it(graded):
    _, results = graded
    by_student = {r.student_id: r for r in results}
    lena = by_student["lena"]
    assert [(v.grade_id, v.points) for v in lena.verdicts] == [
        ("test_double", 0),
        ("test_square", 3),
        ("test_q1", 1),
    ]
    assert "ZeroDivisionError" in lena.verdicts[0].error
    kai = {v.grade_id: v for v in by_student["kai"].verdicts}
    assert kai["test_double"].points == 2 and not kai["test_q1"].executed
    assert "graded again" in by_student["kai"].message  # a crash is retried once, then it stands


def test_feedback_hides_hidden_tests_unless_asked(graded):
    out, results = graded
    page = (out / "feedback" / "carol" / "tiny.html").read_text(encoding="utf-8")
    assert "Score: 3 / 6" in page
    assert "BEGIN HIDDEN TESTS" not in page and "default_rng(11)" not in page
    assert "square([3])" in page  # the visible test is shown
    source = read_notebook(SOLUTION)
    expected = scoring.expected_reports("tiny", source, cache_dir=out / ".cache")
    hidden_value = dict(expected["test_square"])["square(hidden)"]["data"][0]
    assert f"{hidden_value}" not in page
    for student in ("ivan", "judy", "leo"):  # unreadable entries still get a page that says why
        assert "Score: 0 / 6" in (out / "feedback" / student / "tiny.html").read_text(encoding="utf-8")

    dave = next(r for r in results if r.student_id == "dave")  # hard-coded double: a hidden check fails
    dave.solution_sources["square"] = "def square(x):\n    '<script>alert(1)</script>'"
    shown = render_feedback(dave, release_notebook(source), source, expected, show_hidden=True)
    assert "<script>" not in shown and "&lt;script&gt;" in shown  # learner code cannot inject HTML
    hidden_double = dict(expected["test_double"])["double(hidden)"]["data"][0]
    assert "default_rng(7)" in shown and f"{hidden_double}" in shown  # for the instructor, on request


def _two_students(tmp_path, graded):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "alice.ipynb").write_text(SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "bob.ipynb").write_text(learner_notebook({"double": RIGHT["double"]}), encoding="utf-8")
    out = tmp_path / "out"
    shutil.copytree(graded[0] / ".cache", out / ".cache")  # the solution's reports, already computed
    return folder, out


def test_a_grader_failure_loses_no_grade(tmp_path, monkeypatch, graded):
    folder, out = _two_students(tmp_path, graded)
    grade_assignment(COURSE, "tiny", folder, out, use_sandbox=False)
    first_scores = gradebook_scores(out)
    assert first_scores == {"alice": 6, "bob": 2}

    real_run = execution.run_untrusted

    def broken_for_alice(nb, **kwargs):
        if any("return 2 * np.asarray(x, dtype=np.float64)" in c.source for c in nb.cells):
            raise RuntimeError("simulated grader crash")
        return real_run(nb, **kwargs)

    monkeypatch.setattr(execution, "run_untrusted", broken_for_alice)
    results = {r.student_id: r for r in grade_assignment(COURSE, "tiny", folder, out, use_sandbox=False)}
    assert results["alice"].status == "grader-error" and "simulated grader crash" in results["alice"].message
    assert results["bob"].status == "ok" and results["bob"].score == 2
    assert gradebook_scores(out) == first_scores  # alice's earlier grade is not overwritten by the failure
    alice_row = next(r for r in read_csv(out / "grades.csv") if r["student_id"] == "alice")
    assert (alice_row["score"], alice_row["status"]) == ("", "grader-error")  # not a grade: no score
    assert "simulated grader crash" in alice_row["message"]


def test_a_transient_crash_is_retried(tmp_path, monkeypatch, graded):
    folder, out = _two_students(tmp_path, graded)
    (folder / "bob.ipynb").unlink()
    real_run, calls = execution.run_untrusted, []

    def flaky(nb, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            return SimpleNamespace(nb=nb, status="crashed", message="the kernel could not start (simulated)")
        return real_run(nb, **kwargs)

    monkeypatch.setattr(execution, "run_untrusted", flaky)
    (alice,) = grade_assignment(COURSE, "tiny", folder, out, use_sandbox=False)
    assert (alice.status, alice.score, len(calls)) == ("ok", MAX_SCORE, 2)
    assert "could not start (simulated)" in alice.message


@pytest.mark.slow
def test_grading_in_the_sandbox(tmp_path, graded):
    usable, why = execution.sandbox_state()
    if not usable:
        pytest.skip(f"no sandbox here: {why}")
    folder, out = _two_students(tmp_path, graded)
    results = grade_assignment(COURSE, "tiny", folder, out, use_sandbox=True)
    assert [(r.student_id, r.score, r.status) for r in results] == [("alice", 6, "ok"), ("bob", 2, "ok")]


def test_grade_refuses_without_sandbox_unless_told(tmp_path, monkeypatch, capsys, graded):
    monkeypatch.setattr(execution, "sandbox_state", lambda: (False, "bwrap missing (simulated)"))
    folder, out = _two_students(tmp_path, graded)
    (folder / "bob.ipynb").unlink()
    args = ["--root", str(COURSE), "grade", "tiny", str(folder), "--out", str(out)]
    assert cli.main(args) == 2
    assert "refusing" in capsys.readouterr().err
    assert not (out / "grades.csv").exists()
    assert cli.main(args + ["--unsafe-no-sandbox"]) == 0
    assert "WARNING" in capsys.readouterr().err
    assert read_csv(out / "grades.csv") == [
        {
            "student_id": "alice",
            "assignment": "tiny",
            "score": "6",
            "max_score": "6",
            "status": "ok",
            "lms_id": "",
            "late": "",
            "submitted": "",
            "penalty": "",
            "source": "alice.ipynb",
            "message": "all cells ran",
        }
    ]


# ------------------------------------------------------------------------------------------------------------
# Fast unit tests: intake and the value comparison (no notebook runs)


@pytest.mark.parametrize(
    "file_stem, student",
    [
        ("alice", "alice"),
        ("alice_tiny", "alice"),
        ("tiny-alice", "alice"),
        ("Alice Smith_tiny (2)", "Alice_Smith"),
        ("alice_12345_67890_tiny", "alice"),  # Canvas: name, user id, submission id, file name
        ("alice_late_12345_67890_tiny (1)", "alice"),
        ("20230117", "20230117"),  # a numeric student id stays
        ("20230117_tiny", "20230117"),
        ("tiny (1)", None),
        ("tiny", None),
    ],
)
def test_student_from_filename(file_stem, student):
    assert intake.student_from_filename(file_stem, "tiny") == student


def test_intake_folders_zips_and_odd_names(tmp_path):
    (tmp_path / "Bo Li_4711_assignsubmission_file_").mkdir()
    (tmp_path / "Bo Li_4711_assignsubmission_file_" / "tiny.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "cy").mkdir()
    for name in ("tiny (1).ipynb", "tiny (2).ipynb", "scratch.ipynb"):
        (tmp_path / "cy" / name).write_text("{}", encoding="utf-8")
    (tmp_path / "cy" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "cy" / ".ipynb_checkpoints" / "tiny-checkpoint.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "di").mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        (tmp_path / "di" / name).write_text("{}", encoding="utf-8")
    (tmp_path / "di.ipynb").write_text("{}", encoding="utf-8")
    found = {(s.student_id, s.origin): s.status for s in intake.discover("tiny", tmp_path)}
    assert found == {
        ("Bo_Li_4711", "Bo Li_4711_assignsubmission_file_/tiny.ipynb"): "pending",
        ("cy", "cy/tiny (2).ipynb"): "pending",  # the latest LMS re-upload
        ("di", "di"): "ambiguous",
        ("di", "di.ipynb"): "duplicate",
    }


def test_intake_refuses_a_zip_bomb(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "eve.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tiny.ipynb", b" " * (notebooks.MAX_NOTEBOOK_BYTES + 1))
    (submission,) = intake.discover("tiny", tmp_path)
    with pytest.raises(notebooks.UnreadableNotebook) as error:
        submission.read_bytes()
    assert error.value.status == "too-large"


def _encoded(value):
    return checks.encode_value(value)


@pytest.mark.parametrize(
    "expected, actual, match",
    [
        (np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3) * (1 + 1e-7), True),
        (np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3) + 1e-3, False),
        (np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(3, 2), False),  # same numbers, wrong shape
        (np.arange(6.0).reshape(2, 3), np.arange(6.0), False),  # flattened
        (4, 4.0, True),
        (np.array([np.nan]), np.array([np.nan]), True),
        (np.array([1.0]), np.array([np.nan]), False),
        ("B", "B", True),
        ("B", "b", False),
        ("B", 1.0, False),  # a number never matches a string
        (True, True, True),
        (True, 1, False),
    ],
)
def test_values_match(expected, actual, match):
    assert scoring.values_match(_encoded(expected), _encoded(actual)) is match


def test_every_occurrence_of_a_key_must_match():
    cell = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 2}})
    structure = nbformat.v4.new_notebook(cells=[cell])

    def executed(*values, error=False):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", metadata=cell.metadata)])
        nb.cells[0].execution_count = 1
        nb.cells[0].outputs = [
            nbformat.v4.new_output("display_data", data={checks.REPORT_MIME: {"key": "k", "value": _encoded(v)}})
            for v in values
        ]
        if error:
            nb.cells[0].outputs.append(nbformat.v4.new_output("error", ename="E", evalue="x", traceback=[]))
        return nb

    expected = {"t": [("k", _encoded(1.0)), ("k", _encoded(2.0))]}
    assert scoring.score_cells(structure, executed(1.0, 2.0), expected)[0].points == 2
    assert scoring.score_cells(structure, executed(1.0, 2.0, error=True), expected)[0].points == 0
    assert scoring.score_cells(structure, executed(1.0), expected)[0].points == 0  # one occurrence missing
    assert scoring.score_cells(structure, executed(1.0, 2.0, 2.0), expected)[0].points == 0  # an extra one
    assert scoring.score_cells(structure, executed(1.0, 3.0), expected)[0].mismatched == ["k"]
    assert scoring.score_cells(structure, executed(), {"t": []})[0].points == 2  # nothing to compare: ran is enough


# ------------------------------------------------------------------------------------------------------------
# Issue 16: re-grading a subset, LMS identities, notebooks of another set, rows that are not grades


@pytest.mark.parametrize(
    "file_stem, details",
    [
        ("alice", ("", False)),
        ("alice_12345_67890_tiny", ("12345", False)),  # Canvas: the first number is the user id
        ("alice_LATE_12345_67890_tiny (1)", ("12345", True)),
        ("Wang Wei_11111", ("11111", False)),  # a Moodle folder, its _assignsubmission_file_ removed
        ("20230117_tiny", ("", False)),  # a student number is the id itself, not an LMS id
    ],
)
def test_lms_details(file_stem, details):
    assert intake.lms_details(file_stem, "tiny") == details


def test_namesakes_with_different_lms_ids_are_two_students(tmp_path):
    for folder in ("Wang Wei_11111_assignsubmission_file_", "Wang Wei_22222_assignsubmission_file_"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "tiny.ipynb").write_text("{}", encoding="utf-8")
    for name in ("wangwei_11111_501_tiny.ipynb", "wangwei_LATE_22222_502_tiny.ipynb"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    found = {s.student_id: (s.lms_id, s.late, s.status) for s in intake.discover("tiny", tmp_path)}
    assert found == {
        "Wang_Wei_11111": ("11111", False, "pending"),
        "Wang_Wei_22222": ("22222", False, "pending"),
        "wangwei_11111": ("11111", False, "pending"),
        "wangwei_22222": ("22222", True, "pending"),
    }


def test_regrading_a_subset_keeps_every_other_row(simulated_class, graded, tmp_path, capsys):
    class_folder, _ = simulated_class
    out_graded, _ = graded
    out = tmp_path / "out"
    shutil.copytree(out_graded, out)
    before = {r["student_id"]: r for r in read_csv(out / "grades.csv")}
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    (fixed / "carol_tiny.ipynb").write_text(learner_notebook(RIGHT), encoding="utf-8")  # carol's corrected file
    (carol,) = grade_assignment(COURSE, "tiny", fixed, out, use_sandbox=False)
    after = {r["student_id"]: r for r in read_csv(out / "grades.csv")}
    assert (carol.score, after["carol"]["score"]) == (6, "6")
    assert {k: v for k, v in after.items() if k != "carol"} == {k: v for k, v in before.items() if k != "carol"}
    assert gradebook_scores(out)["carol"] == 6

    base = ["--root", str(COURSE), "grade", "tiny", str(class_folder), "--out", str(out), "--unsafe-no-sandbox"]
    assert cli.main([*base, "--student", "dave"]) == 0
    err = capsys.readouterr().err
    assert "dave" in err and "alice" not in err  # only dave was graded
    assert read_csv(out / "grades.csv") == list(after.values())  # dave's grade is the same; nothing lost
    assert cli.main([*base, "--student", "nobody"]) == 2
    assert "no submission of nobody" in capsys.readouterr().err
    assert len(read_csv(out / "grades.csv")) == len(after)


def test_lms_ids_late_work_other_sets_and_non_grades_in_grades_csv(tmp_path):
    folder = tmp_path / "submissions"
    for folder_name, answers in (("Wang Wei_11111", RIGHT), ("Wang Wei_22222", {})):
        (folder / f"{folder_name}_assignsubmission_file_").mkdir(parents=True)
        (folder / f"{folder_name}_assignsubmission_file_" / "tiny.ipynb").write_text(
            learner_notebook(answers), encoding="utf-8"
        )
    (folder / "lin_LATE_33333_503_tiny.ipynb").write_text(learner_notebook(RIGHT), encoding="utf-8")
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    other.cells[0].metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "rnn_forward"}
    (folder / "omar.ipynb").write_text(nbformat.writes(other), encoding="utf-8")  # another set's notebook
    (folder / "pia.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()), encoding="utf-8")  # no answers
    (folder / "pia.zip").write_bytes(b"PK\x03\x04 broken")  # a second entry: duplicate
    results = {r.student_id: r for r in grade_assignment(COURSE, "tiny", folder, tmp_path / "out", use_sandbox=False)}
    rows = {(r["student_id"], r["source"]): r for r in read_csv(tmp_path / "out" / "grades.csv")}
    assert {key: (r["score"], r["status"], r["lms_id"], r["late"]) for key, r in rows.items()} == {
        ("Wang_Wei_11111", "Wang Wei_11111_assignsubmission_file_/tiny.ipynb"): ("6", "ok", "11111", ""),
        ("Wang_Wei_22222", "Wang Wei_22222_assignsubmission_file_/tiny.ipynb"): ("0", "ok", "22222", ""),
        ("lin_33333", "lin_LATE_33333_503_tiny.ipynb"): ("6", "ok", "33333", "LATE"),
        ("omar", "omar.ipynb"): ("", "wrong-assignment", "", ""),
        ("pia", "pia.ipynb"): ("", "no-answer-cells", "", ""),
        ("pia", "pia.zip"): ("", "duplicate", "", ""),
    }
    assert "rnn_forward" in rows[("omar", "omar.ipynb")]["message"]
    assert "exercises/tiny/tiny.ipynb" in rows[("pia", "pia.ipynb")]["message"]
    assert "graded pia.ipynb" in rows[("pia", "pia.zip")]["message"]
    assert results["omar"].verdicts == [] and results["Wang_Wei_22222"].verdicts  # omar's notebook never ran


@pytest.mark.skipif(
    not (ROOT / "solutions" / "rnn").is_dir() or not (ROOT / "solutions" / "bptt").is_dir(),
    reason="needs the rnn and bptt exercise sets",
)
def test_a_notebook_of_another_set_is_named_and_not_run():
    """The issue's case: a bptt notebook handed in for rnn scored 2/11 with status ok."""
    from course_lib.grading.set_match import answer_cell_ids, set_mismatch

    known = answer_cell_ids(ROOT)
    rnn = read_notebook(ROOT / "solutions" / "rnn" / "rnn.ipynb")
    for name, want in (("bptt", "wrong-assignment"), ("rnn", None)):
        sources = notebooks.parse_submission((ROOT / "exercises" / name / f"{name}.ipynb").read_bytes())
        verdict = set_mismatch("rnn", rnn, sources, known)
        assert (verdict and verdict[0]) == want, verdict
    sources = notebooks.parse_submission((ROOT / "exercises" / "bptt" / "bptt.ipynb").read_bytes())
    assert "exercise set 'bptt', not rnn" in set_mismatch("rnn", rnn, sources, known)[1]


def test_cells_a_learner_added_are_not_run_and_the_feedback_says_so(tmp_path):
    """Issue 16, item 8: cells a learner added are dropped by the rebuild; the row and feedback now say so."""
    from course_lib.grading.grade import grade_submission
    from course_lib.grading.notebooks import added_code_cells

    nb = nbformat.reads(learner_notebook(RIGHT), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("helper = 42  # my own cell"))
    nb.cells.append(nbformat.v4.new_markdown_cell("my notes"))  # prose is not code: nothing to warn about
    nb.cells.append(nbformat.v4.new_code_cell(""))
    path = tmp_path / "olga.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    source = read_notebook(SOLUTION)
    released = release_notebook(source)
    assert added_code_cells(path.read_bytes(), released) == 1
    assert added_code_cells(learner_notebook(RIGHT).encode(), released) == 0
    expected = scoring.expected_reports("tiny", source)
    result = grade_submission(intake.Submission("olga", path.name, path), "tiny", source, expected, use_sandbox=False)
    assert (result.status, result.score) == ("ok", MAX_SCORE)
    assert "1 code cell(s) you added were not run" in result.message
    assert "1 code cell(s) you added were not run" in render_feedback(result, released)


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2026-12-03 01:00:00.123456 UTC", "2026-12-03T01:00:00.123456+00:00"),  # nbgrader's timestamp.txt
        ("2026-12-02T07:59+08:00", "2026-12-02T07:59:00+08:00"),
        ("2026-12-01 23:59", "2026-12-01T23:59:00+00:00"),  # no zone: UTC
        ("2026-12-01T23:59:00Z", "2026-12-01T23:59:00+00:00"),
    ],
)
def test_submission_times_are_read_with_their_zone(text, iso):
    from course_lib.grading.late import parse_time

    assert parse_time(text).isoformat() == iso


def test_days_late_count_a_started_day_as_one():
    from datetime import timedelta

    from course_lib.grading.late import LatePolicy, parse_time

    policy = LatePolicy(parse_time("2026-12-01T23:59Z"), per_day=10, cap=50)
    assert [policy.days_late(policy.deadline + timedelta(hours=h)) for h in (-5, 0, 0.01, 24, 24.5, 240)] == [
        0, 0, 1, 1, 2, 10
    ]  # fmt: skip
    assert (policy.percent(2), policy.percent(10)) == (20, 50)


def test_late_policy_from_timestamps_and_lms_markers(tmp_path, capsys):
    """Issue 16, item 9: nbgrader's timestamp.txt and Canvas's LATE marker, a deadline in another zone, a penalty
    per started day with a cap, visible in grades.csv, the feedback and the gradebook. Expected values by hand:
    10% of the earned points per day, at most 50%."""
    folder = tmp_path / "submitted"
    partly = dict(RIGHT, square="def square(x):\n    return x")  # 3 of 6 points
    for student, answers, stamp in (
        ("amy", RIGHT, "2026-12-03 01:00:00.000000 UTC"),  # 25 h 1 min late: 2 days, 20% of 6 = 1.2
        ("ben", RIGHT, "2026-12-01 23:00:00.000000 UTC"),  # on time
        ("cid", partly, "2026-12-11 12:00:00.000000 UTC"),  # 10 days: capped at 50% of 3 = 1.5
        ("dan", RIGHT, "yesterday-ish"),  # unreadable: on time, and said so
    ):
        (folder / student / "tiny").mkdir(parents=True)
        (folder / student / "tiny" / "tiny.ipynb").write_text(learner_notebook(answers), encoding="utf-8")
        (folder / student / "tiny" / "timestamp.txt").write_text(stamp, encoding="utf-8")
    (folder / "lin_LATE_33333_503_tiny.ipynb").write_text(learner_notebook(RIGHT), encoding="utf-8")  # 1 day: 0.6
    out = tmp_path / "out"
    base = ["--root", str(COURSE), "grade", "tiny", str(folder), "--out", str(out), "--unsafe-no-sandbox"]
    assert cli.main([*base, "--late-penalty", "10"]) == 2
    assert "need --deadline" in capsys.readouterr().err
    for bad in (["--deadline", "soon"], ["--deadline", "2026-12-01", "--late-cap", "150"]):
        with pytest.raises(SystemExit) as stop:
            cli.main([*base, *bad])
        assert stop.value.code == 2
    policy = ["--deadline", "2026-12-02T07:59+08:00", "--late-penalty", "10", "--late-cap", "50"]
    assert cli.main([*base, *policy]) == 0
    rows = {r["student_id"]: r for r in read_csv(out / "grades.csv")}
    assert {s: (r["score"], r["late"], r["submitted"], r["penalty"]) for s, r in rows.items()} == {
        "amy": ("4.8", "LATE", "2026-12-03 01:00:00+00:00", "1.2"),
        "ben": ("6", "", "2026-12-01 23:00:00+00:00", ""),
        "cid": ("1.5", "LATE", "2026-12-11 12:00:00+00:00", "1.5"),
        "dan": ("6", "", "", ""),
        "lin_33333": ("5.4", "LATE", "", "0.6"),
    }
    assert "2 day(s) after the deadline" in rows["amy"]["message"] and "penalty 20%" in rows["amy"]["message"]
    assert "timestamp.txt holds no time" in rows["dan"]["message"]
    assert "counted as 1 day late" in rows["lin_33333"]["message"]
    page = (out / "feedback" / "amy" / "tiny.html").read_text(encoding="utf-8")
    assert "Score: 4.8 / 6" in page and "Late penalty: 1.2 point(s)" in page
    with sqlite3.connect(out / "gradebook.db") as db:
        stored = dict(db.execute(
            "SELECT s.student_id, n.late_submission_penalty FROM submitted_notebook n "
            "JOIN submitted_assignment s ON n.assignment_id = s.id"
        ).fetchall())  # fmt: skip
    assert stored["amy"] == pytest.approx(1.2) and stored["cid"] == pytest.approx(1.5) and not stored["ben"]


def test_feedback_names_the_syntax_error_not_the_name_error_it_causes(tmp_path):
    """Issue 14: an answer cell Python cannot parse ran not at all, so the next test fails with a NameError; the
    feedback page says where the SyntaxError is and that the test's error is its consequence."""
    from course_lib.grading.grade import grade_submission

    answers = dict(RIGHT, square="def square(x)\n    return np.square(x)")  # the colon is missing
    path = tmp_path / "pia.ipynb"
    path.write_text(learner_notebook(answers), encoding="utf-8")
    source = read_notebook(SOLUTION)
    expected = scoring.expected_reports("tiny", source)
    result = grade_submission(intake.Submission("pia", path.name, path), "tiny", source, expected, use_sandbox=False)
    assert "answer cell 'square' has a SyntaxError on line 1: expected ':'" in result.message  # grades.csv
    page = render_feedback(result, release_notebook(source))
    assert "SyntaxError on line 1: expected &#x27;:&#x27;" in page
    assert "failed after the SyntaxError in your cell <code>square</code>" in page
    assert page.count("failed after the SyntaxError") == sum(1 for v in result.verdicts if not v.passed) > 0
    right = grade_submission(
        intake.Submission("ria", "ria.ipynb", _write(tmp_path / "ria.ipynb", RIGHT)),
        "tiny",
        source,
        expected,
        use_sandbox=False,
    )
    assert "SyntaxError" not in render_feedback(right, release_notebook(source))


def _write(path, answers):
    path.write_text(learner_notebook(answers), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def f(x)\n    return x", "line 1: expected ':'"),
        ("x = 1\0", "line ?: source code string cannot contain null bytes"),
        ("y = " + "(" * 100_000 + ")" * 100_000, "line 1: too many nested parentheses"),
        ("x = " + "-" * 200_000 + "1", "line ?: the cell is nested too deeply"),  # RecursionError or MemoryError
        ("a" + "+a" * 200_000, "line ?: the cell is nested too deeply"),
        ("%timeit 1 + 1\nprint(1)", None),  # IPython's magics are valid in a cell
        ("", None),
    ],
)
def test_syntax_error_reads_any_answer_cell_without_crashing(source, expected):
    from course_lib.grading.notebooks import syntax_error

    found = syntax_error(source)
    assert found == expected if expected is None else found.startswith(expected), found
