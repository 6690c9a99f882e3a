"""``course export`` (issue 16, item 11): grades in the columns Canvas and Moodle import, matched by the LMS ids kept
from the download's file names, and a per-question class summary (CSV, and a page with a chart).

The class below is small and its expected numbers are worked out by hand from the tiny fixture (double: 2 points,
square: 3, q1: 1; the right answer to q1 is B).
"""

import base64
import csv
import io
import re
from datetime import datetime, timezone

import pytest
from fixtures.simulated_class import COURSE, RIGHT, WRONG_SQUARE, learner_notebook

from course_lib import cli
from course_lib.grading.export import export
from course_lib.grading.grade import grade_assignment


def read(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    moodle = folder / "Wang Wei_11111_assignsubmission_file_"
    moodle.mkdir()
    (moodle / "tiny.ipynb").write_text(learner_notebook(RIGHT), encoding="utf-8")  # 6
    henry = dict(RIGHT, square=WRONG_SQUARE, q1="answer_q1 = 'C'")
    (folder / "henry_12345_67890_tiny.ipynb").write_text(learner_notebook(henry), encoding="utf-8")  # 2
    (folder / "carol_tiny.ipynb").write_text(learner_notebook(dict(RIGHT, q1="answer_q1 = 'a'")), encoding="utf-8")
    (folder / "dave.ipynb").write_text(learner_notebook(dict(RIGHT, q1="answer_q1 = ' c'")), encoding="utf-8")  # 5
    (folder / "ivan.ipynb").write_text("{ not json", encoding="utf-8")  # no grade
    out = tmp_path_factory.mktemp("out")
    grade_assignment(COURSE, "tiny", folder, out, use_sandbox=False)
    return out


def test_canvas_and_moodle_files_carry_the_lms_ids_and_leave_out_what_they_cannot_match(out):
    written, left_out = export(out, "canvas")
    assert [p.name for p in written] == ["tiny-canvas.csv", "tiny-summary.csv", "tiny-summary.html"]
    text = (out / "export" / "tiny-canvas.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "Student,ID,SIS User ID,SIS Login ID,Section,tiny"
    assert [(r["Student"], r["ID"], r["tiny"]) for r in read(out / "export" / "tiny-canvas.csv")] == [
        ("Wang Wei", "11111", "6"),
        ("henry", "12345", "2"),
    ]
    assert {(student, why.split(" (")[0]) for _, student, why in left_out} == {
        ("carol", "no LMS id in its file name"),
        ("dave", "no LMS id in its file name"),
        ("ivan", "no grade"),
    }

    when = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
    export(out, "moodle", now=when)
    rows = read(out / "export" / "tiny-moodle.csv")
    assert [(r["Identifier"], r["Full name"], r["Grade"], r["Maximum Grade"]) for r in rows] == [
        ("Participant 11111", "Wang Wei", "6", "6"),
        ("Participant 12345", "henry", "2", "6"),
    ]
    assert {r["Last modified (grade)"] for r in rows} == {"2026-12-01 09:30:00"}  # Moodle requires the column

    export(out, "csv")
    plain = {r["student_id"]: (r["lms_id"], r["score"]) for r in read(out / "export" / "tiny-grades.csv")}
    assert plain == {"Wang_Wei_11111": ("11111", "6"), "henry_12345": ("12345", "2"), "carol": ("", "5"),
                     "dave": ("", "5"), "ivan": ("", "")}  # fmt: skip


def test_class_summary_counts_right_cells_and_the_most_common_wrong_answer(out):
    export(out, "csv")
    summary = {r["cell"]: r for r in read(out / "export" / "tiny-summary.csv")}
    assert list(summary) == ["test_double", "test_square", "test_q1"]  # notebook order; ivan never ran
    assert [(r["graded"], r["right"]) for r in summary.values()] == [("4", "4"), ("4", "3"), ("4", "1")]
    assert (summary["test_q1"]["most_common_wrong"], summary["test_q1"]["wrong_count"]) == ("C", "2")  # henry, dave
    assert summary["test_square"]["most_common_wrong"] == ""  # not a multiple-choice cell
    page = (out / "export" / "tiny-summary.html").read_text(encoding="utf-8")
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1))
    assert png.startswith(b"\x89PNG") and len(png) > 2000
    assert "<td>test_q1</td>" in page and "<td>C</td>" in page


def test_regrading_one_student_updates_the_summary_and_keeps_the_others(out, tmp_path):
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    (fixed / "carol_tiny.ipynb").write_text(learner_notebook(RIGHT), encoding="utf-8")
    grade_assignment(COURSE, "tiny", fixed, out, use_sandbox=False)
    export(out, "csv")
    summary = {r["cell"]: r for r in read(out / "export" / "tiny-summary.csv")}
    assert (summary["test_q1"]["graded"], summary["test_q1"]["right"]) == ("4", "2")


def test_cli_export(out, tmp_path, capsys):
    assert cli.main(["export", str(out), "--format", "moodle"]) == 0
    captured = capsys.readouterr()
    assert "tiny-moodle.csv" in captured.out and "left out: tiny ivan: no grade" in captured.err
    assert cli.main(["export", str(tmp_path), "--format", "canvas"]) == 2
    assert "grades.csv does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["export", str(out), "--format", "blackboard"])
