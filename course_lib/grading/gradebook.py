"""The gradebook: nbgrader's own database schema, in SQLite by default or in a shared PostgreSQL database.

nbgrader's ``Gradebook`` keeps students, assignments, notebooks, graded cells and per-cell grades, so every
nbgrader tool (formgrader, ``nbgrader export``) reads what ``course grade`` writes. Only the grading process
writes here, one submission at a time, each in its own transaction: a failure on one submission never loses
another's grade, and writing the same grades again changes nothing (re-grading is idempotent).
"""

import os
import shutil
import sys
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from course_lib.grading.notebooks import graded_cells, is_graded_cell, is_solution_cell, nbgrader_meta

NOTEBOOK_OF = "{assignment}"
"""Each exercise set has exactly one notebook, named after the set."""


def database_url(db, out_dir):
    """A SQLAlchemy URL for ``db``: default ``sqlite:///<out_dir>/gradebook.db``; ``postgresql://`` URLs use
    psycopg 3."""
    if not db:
        return f"sqlite:///{Path(out_dir).resolve() / 'gradebook.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if db.startswith(prefix):
            return "postgresql+psycopg://" + db[len(prefix) :]
    return db


def redact_url(url):
    """``url`` without its password, for messages and logs."""
    head, sep, tail = url.rpartition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if ":" in credentials else url


def open_gradebook(url, course_id="default_course"):
    """An nbgrader ``Gradebook`` on ``url`` (tables are created on first use). Close it with ``.close()``."""
    # nbgrader runs the `alembic` command to stamp a new database; find it beside this Python even when the
    # virtualenv is not activated
    scripts = str(Path(sys.executable).parent)
    if shutil.which("alembic") is None and scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])
    return Gradebook(url, course_id=course_id)


def record_assignment(gradebook, name, source_nb):
    """Make the gradebook know assignment ``name``: its notebook, graded cells (points) and solution cells."""
    notebook = NOTEBOOK_OF.format(assignment=name)
    gradebook.update_or_create_assignment(name)
    gradebook.update_or_create_notebook(notebook, name)
    for cell in source_nb.cells:
        meta = nbgrader_meta(cell)
        if is_graded_cell(cell):
            gradebook.update_or_create_grade_cell(
                meta["grade_id"], notebook, name, max_score=float(meta["points"]), cell_type="code"
            )
        if is_solution_cell(cell):
            gradebook.update_or_create_solution_cell(meta["grade_id"], notebook, name)
    gradebook.db.commit()


def record_grades(gradebook, name, source_nb, student_id, points_by_cell):
    """Store one submission's automatic scores.

    Inputs:
    - name: the assignment (already recorded by ``record_assignment``).
    - source_nb: its source notebook (which cells are graded).
    - student_id: the student (created if new).
    - points_by_cell: ``{grade_id: points}``; graded cells not listed get 0.

    Creates or updates the submission, so recording the same grades twice leaves the gradebook unchanged.
    """
    notebook = NOTEBOOK_OF.format(assignment=name)
    try:
        gradebook.update_or_create_student(student_id)
        with (
            warnings.catch_warnings()
        ):  # nbgrader 0.9's add_submission trips SQLAlchemy 2's autoflush warning
            warnings.simplefilter("ignore", SAWarning)
            gradebook.update_or_create_submission(name, student_id)
        for grade_id, _ in graded_cells(source_nb):
            grade = gradebook.find_grade(grade_id, notebook, name, student_id)
            grade.auto_score = float(points_by_cell.get(grade_id, 0.0))
        gradebook.db.commit()
    except Exception:
        gradebook.db.rollback()
        raise


def stored_score(gradebook, name, student_id):
    """The gradebook's total score of ``student_id`` on ``name``, or ``None`` if there is no submission."""
    try:
        return float(gradebook.find_submission(name, student_id).score)
    except MissingEntry:
        return None
