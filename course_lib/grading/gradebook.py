"""The gradebook: nbgrader's own database schema, in SQLite by default or in a shared PostgreSQL database.

nbgrader's ``Gradebook`` keeps students, assignments, notebooks, graded cells and per-cell grades, so every
nbgrader tool (formgrader, ``nbgrader export``) reads what ``course grade`` writes. Only the grading process
writes here, one submission at a time, each in its own transaction: a failure on one submission never loses
another's grade, and writing the same grades again changes nothing (re-grading is idempotent).
"""

import contextlib
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

SCHEMA_LOCK_KEY = 0x636F75727365  # "course": the PostgreSQL advisory lock taken while the schema is created
CONNECT_TIMEOUT_S = 10


class GradebookUnavailable(RuntimeError):
    """The gradebook's database cannot be opened; the message says why, in one line."""


def _one_line(error):
    text = str(getattr(error, "orig", None) or error)
    return " ".join(text.split()) or type(error).__name__


def check_database(url):
    """Connect once to ``url`` and return; raise ``GradebookUnavailable`` with a one-line reason if that fails.

    Run before any grading work, so that a wrong URL, a missing password or a server that is down is reported
    at once, not after the solution has run.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of the gradebook (see ``database_url``).

    Raises
    ------
    GradebookUnavailable
        If the database cannot be opened or reached.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    where = redact_url(url)
    postgres = url.startswith("postgresql")
    try:
        engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_S} if postgres else {})
    except ImportError as error:
        raise GradebookUnavailable(
            f"cannot open the gradebook {where}: {error.name or error} is not installed (PostgreSQL needs "
            "psycopg: pip install 'psycopg[binary]')"
        ) from None
    except (SQLAlchemyError, ValueError) as error:
        raise GradebookUnavailable(f"cannot open the gradebook {where}: {_one_line(error)}") from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        reason = _one_line(error)
        if postgres and "password" in reason.lower():
            reason += " (put the password in ~/.pgpass as host:port:database:user:password, mode 600)"
        raise GradebookUnavailable(f"cannot open the gradebook {where}: {reason}") from None
    finally:
        engine.dispose()


@contextlib.contextmanager
def schema_lock(url):
    """Take turns at creating the gradebook: hold a PostgreSQL advisory lock inside the ``with`` block.

    Two graders started together on a new database would both find no tables and both create them, and one
    would fail. Under this lock the second waits until the first has created the schema (and recorded the
    assignment), then finds them. SQLite needs nothing: one grading process owns its file.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of the gradebook; only ``postgresql`` URLs take the lock.
    """
    if not url.startswith("postgresql"):
        yield
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
                connection.commit()
    finally:
        engine.dispose()


def database_url(db, out_dir):
    """A SQLAlchemy URL for ``db``.

    Parameters
    ----------
    db : str or None
        The gradebook's URL as given; empty or None for the default.
    out_dir : str or pathlib.Path
        The grading output folder.

    Returns
    -------
    str
        Default ``sqlite:///<out_dir>/gradebook.db``; ``postgresql://`` URLs use psycopg 3.
    """
    if not db:
        return f"sqlite:///{Path(out_dir).resolve() / 'gradebook.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if db.startswith(prefix):
            return "postgresql+psycopg://" + db[len(prefix) :]
    return db


def redact_url(url):
    """``url`` without its password, for messages and logs.

    Parameters
    ----------
    url : str
        A database URL.

    Returns
    -------
    str
        The URL with the password replaced by ``***``.
    """
    head, sep, tail = url.rpartition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if ":" in credentials else url


def open_gradebook(url, course_id="default_course"):
    """An nbgrader ``Gradebook`` on ``url`` (tables are created on first use). Close it with ``.close()``.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of the gradebook.
    course_id : str
        nbgrader's course id.

    Returns
    -------
    nbgrader.api.Gradebook
    """
    # nbgrader runs the `alembic` command to stamp a new database; find it beside this Python even when the
    # virtualenv is not activated
    scripts = str(Path(sys.executable).parent)
    if shutil.which("alembic") is None and scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])
    return Gradebook(url, course_id=course_id)


def record_assignment(gradebook, name, source_nb):
    """Make the gradebook know assignment ``name``: its notebook, graded cells (points) and solution cells.

    Parameters
    ----------
    gradebook : nbgrader.api.Gradebook
        The open gradebook.
    name : str
        The assignment.
    source_nb : nbformat.NotebookNode
        Its source notebook.
    """
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


def record_grades(gradebook, name, source_nb, student_id, points_by_cell, penalty=0.0, timestamp=None):
    """Store one submission's automatic scores.

    Creates or updates the submission, so recording the same grades twice leaves the gradebook unchanged.

    Parameters
    ----------
    gradebook : nbgrader.api.Gradebook
        The open gradebook.
    name : str
        The assignment (already recorded by ``record_assignment``).
    source_nb : nbformat.NotebookNode
        Its source notebook (which cells are graded).
    student_id : str
        The student (created if new).
    points_by_cell : dict of str to float
        ``{grade_id: points}``; graded cells not listed get 0.
    penalty : float
        Points taken off for lateness (nbgrader's ``late_submission_penalty``, shown by formgrader).
    timestamp : datetime or None
        When it was handed in (naive UTC ``datetime``) or ``None``; formgrader counts a submission as graded only
        when this equals the time in nbgrader's ``submitted/`` folder.
    """
    notebook = NOTEBOOK_OF.format(assignment=name)
    try:
        gradebook.update_or_create_student(student_id)
        with warnings.catch_warnings():  # nbgrader 0.9's add_submission trips SQLAlchemy 2's autoflush warning
            warnings.simplefilter("ignore", SAWarning)
            gradebook.update_or_create_submission(name, student_id, timestamp=timestamp)
        for grade_id, _ in graded_cells(source_nb):
            grade = gradebook.find_grade(grade_id, notebook, name, student_id)
            grade.auto_score = float(points_by_cell.get(grade_id, 0.0))
        gradebook.find_submission_notebook(notebook, name, student_id).late_submission_penalty = float(penalty)
        gradebook.db.commit()
    except Exception:
        gradebook.db.rollback()
        raise


def stored_score(gradebook, name, student_id):
    """The gradebook's total score of ``student_id`` on ``name``.

    Parameters
    ----------
    gradebook : nbgrader.api.Gradebook
        The open gradebook.
    name : str
        The assignment.
    student_id : str
        The student.

    Returns
    -------
    float or None
        The score, or ``None`` if there is no submission.
    """
    try:
        return float(gradebook.find_submission(name, student_id).score)
    except MissingEntry:
        return None
