"""Issue 16, item 10: ``course grade --nbgrader-course`` fills nbgrader's own folders, so that formgrader lists
every submission as graded with its score and shows the notebook as it ran, and ``nbgrader release_feedback``
publishes the feedback pages where each student's ``nbgrader fetch_feedback`` looks for them.

Formgrader is checked through ``NbGraderAPI``, the back end its pages are built from; release_feedback is run as
the ``nbgrader`` command. Expected scores by hand from the fixture's points (6 in all, ``square`` 3 of them).
"""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from fixtures.simulated_class import COURSE, RIGHT, learner_notebook
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import notebook_hash
from traitlets.config import Config

from course_lib import cli
from course_lib.grading import nbgrader_dirs

PARTLY = dict(RIGHT, square="def square(x):\n    return x")  # 3 of 6 points


def _nbgrader_class(course):
    """Two students' submissions as ``nbgrader collect`` leaves them: notebook, timestamp.txt, secret."""
    for student, answers, stamp in (
        ("amy", RIGHT, "2026-12-01 10:00:00.123456 UTC"),
        ("ben", PARTLY, "2026-12-01 11:30:00.654321 UTC"),
    ):
        folder = course / "submitted" / student / "tiny"
        folder.mkdir(parents=True)
        (folder / "tiny.ipynb").write_text(learner_notebook(answers), encoding="utf-8")
        (folder / "timestamp.txt").write_text(stamp, encoding="utf-8")
        (folder / "submission_secret.txt").write_text(f"secret-of-{student}", encoding="utf-8")


def _grade(course, tmp_path, *extra):
    args = [
        "--root",
        str(COURSE),
        "grade",
        "tiny",
        str(course / "submitted"),
        "--out",
        str(tmp_path / "out"),
        "--db",
        f"sqlite:///{course / 'gradebook.db'}",
        "--unsafe-no-sandbox",
        *extra,
    ]
    assert cli.main(args) == 0


def _formgrader_view(course):
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    return api.get_autograded_students("tiny"), {s["student"]: s for s in api.get_submissions("tiny")}


def test_formgrader_and_release_feedback_read_what_course_grade_wrote(tmp_path):
    course = tmp_path / "course"
    _nbgrader_class(course)
    _grade(course, tmp_path, "--nbgrader-course", str(course))

    graded, submissions = _formgrader_view(course)
    assert graded == {"amy", "ben"}
    assert {s: (v["autograded"], v["score"], v["max_score"]) for s, v in submissions.items()} == {
        "amy": (True, 6.0, 6.0),
        "ben": (True, 3.0, 6.0),
    }
    ran = nbformat.read(course / "autograded" / "amy" / "tiny" / "tiny.ipynb", as_version=4)
    assert any(cell.get("outputs") for cell in ran.cells if cell.cell_type == "code")  # the notebook as it ran
    for step in ("autograded", "feedback"):
        assert (course / step / "ben" / "tiny" / "timestamp.txt").read_text() == "2026-12-01 11:30:00.654321 UTC"

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "release_feedback", "tiny", "--course", "rnn",
         f"--Exchange.root={exchange}", f"--CourseDirectory.root={course}"],
        cwd=tmp_path, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    for student, score in (("amy", "6 / 6"), ("ben", "3 / 6")):
        checksum = notebook_hash(secret=f"secret-of-{student}", notebook_id="tiny")  # what fetch_feedback seeks
        published = exchange / "rnn" / "feedback" / f"{checksum}.html"
        assert f"Score: {score}" in published.read_text(encoding="utf-8")


def test_without_the_option_nothing_is_written_and_formgrader_lists_no_graded_work(tmp_path):
    course = tmp_path / "course"
    _nbgrader_class(course)
    _grade(course, tmp_path)
    assert not (course / "autograded").exists() and not (course / "feedback").exists()
    assert _formgrader_view(course)[0] == set()


def test_regrading_replaces_the_folders_and_refuses_odd_ids(tmp_path):
    course = tmp_path / "course"
    _nbgrader_class(course)
    _grade(course, tmp_path, "--nbgrader-course", str(course))
    stale = course / "autograded" / "amy" / "tiny" / "old.ipynb"
    stale.write_text("{}", encoding="utf-8")
    _grade(course, tmp_path, "--nbgrader-course", str(course), "--student", "amy")
    assert not stale.exists() and (course / "autograded" / "amy" / "tiny" / "tiny.ipynb").is_file()
    for odd in ("..", "a/b", ""):
        with pytest.raises(ValueError):
            nbgrader_dirs.student_folder(course, "feedback", odd, "tiny")
    assert nbgrader_dirs.student_folder(Path("c"), "feedback", "amy", "tiny") == Path("c/feedback/amy/tiny")


def test_formgraders_submission_page_renders_the_autograded_notebook(tmp_path):
    """Formgrader's submission view renders ``autograded/<student>/<set>/<set>.ipynb`` with its own template;
    render it the same way and find every graded cell's id (the hooks its score boxes attach to)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    course = tmp_path / "course"
    _nbgrader_class(course)
    _grade(course, tmp_path, "--nbgrader-course", str(course))
    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": "tiny", "notebook_id": "tiny", "submission_id": "x", "index": 0, "total": 2,
                 "base_url": "", "student": "ben", "last_name": None, "first_name": None,
                 "notebook_path": "autograded/ben/tiny/tiny.ipynb"}  # fmt: skip
    page, _ = HTMLExporter(config=config).from_filename(
        str(course / "autograded" / "ben" / "tiny" / "tiny.ipynb"), resources=resources
    )
    source = nbformat.read(COURSE / "solutions" / "tiny" / "tiny.ipynb", as_version=4)
    graded = [c.metadata["nbgrader"]["grade_id"] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded and all(grade_id in page for grade_id in graded)
