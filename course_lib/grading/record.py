"""What ``course grade`` writes as results arrive: grades.csv, cells.csv, the gradebook, feedback pages and, if
asked, nbgrader's own folders. Only the parent process writes, one result at a time."""

import csv
import io
from pathlib import Path

from course_lib.grading.export import cells_csv_text, read_rows
from course_lib.grading.feedback import render_feedback
from course_lib.grading.nbgrader_dirs import write_student_folders
from course_lib.grading.notebooks import release_notebook, write_atomically

CSV_COLUMNS = [
    "student_id", "assignment", "score", "max_score", "status", "lms_id", "late", "submitted", "penalty", "source",
    "message",
]  # fmt: skip
"""grades.csv's columns. ``score`` is empty on a row that is not a grade (a duplicate, an unreadable file: nothing
ran), and after any late penalty; ``lms_id`` is the LMS's number for the student, ``late`` says ``LATE`` when the
LMS marked the file so or it came after ``--deadline``, ``submitted`` is nbgrader's timestamp (UTC), ``penalty`` the
points the late policy took off (``late``), ``source`` is the file graded (relative to the submissions folder) and
``message`` says what happened."""
GRADER_FAULTS = {"sandbox-error", "grader-error"}
"""Statuses that are the grader's fault, not the student's: the gradebook keeps whatever grade it had."""
NOT_A_STUDENT = {"duplicate", "unidentified"}
"""Rows that get no gradebook entry and no feedback page (no student, or the student's other entry has
them)."""


def grades_csv_text(results, kept_rows=()):
    """grades.csv for ``results`` and the ``kept_rows`` of an earlier run that they do not replace.

    Parameters
    ----------
    results : iterable of grade.SubmissionResult
        The submissions graded now.
    kept_rows : iterable of dict
        Rows of an earlier grades.csv to keep.

    Returns
    -------
    str
        The CSV text: one row per submission, sorted by assignment, student id, then source.
    """
    rows = [{column: row.get(column) or "" for column in CSV_COLUMNS} for row in kept_rows]
    rows += [result.csv_row() for result in results]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda r: (r["assignment"], r["student_id"], r["source"])))
    return buffer.getvalue()


def previous_rows(path):
    """The rows of an earlier grades.csv at ``path``.

    A file that is not a grades.csv (no student_id and assignment columns) is kept aside as ``.bak``, never
    silently overwritten.

    Parameters
    ----------
    path : str or pathlib.Path
        Where grades.csv is.

    Returns
    -------
    list of dict
        The rows, or [] if there is none (or the file was set aside).
    """
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    if not {"student_id", "assignment"} <= set(reader.fieldnames or []):
        path.replace(path.with_name(path.name + ".bak"))
        return []
    return rows


class Recorder:
    """Writes each result as it arrives: gradebook, feedback page, grades.csv.

    Parameters
    ----------
    name : str
        The exercise set.
    source_nb : nbformat.NotebookNode
        Its source notebook.
    expected : dict
        The solution's reports (``scoring.expected_reports``), for the feedback pages.
    out_dir : str or pathlib.Path
        The grading output folder.
    db_url : str
        SQLAlchemy URL of the gradebook.
    show_hidden : bool
        Show hidden tests and expected values in the feedback pages.
    nbgrader_course : str or pathlib.Path, optional
        nbgrader course directory to write ``autograded/`` and ``feedback/`` folders into.
    """

    def __init__(self, name, source_nb, expected, out_dir, db_url, show_hidden, nbgrader_course=None):
        self.nbgrader_course = nbgrader_course
        self.name, self.source_nb, self.expected = name, source_nb, expected
        self.released_nb = release_notebook(source_nb)
        self.out_dir, self.show_hidden = Path(out_dir), show_hidden
        self.results = []
        self.earlier = previous_rows(self.out_dir / "grades.csv")  # rows of students not graded this time stay
        self.earlier_cells = read_rows(self.out_dir / "cells.csv")
        from course_lib.grading import gradebook  # nbgrader's API: needed in the parent only

        self.record_grades = gradebook.record_grades
        with gradebook.schema_lock(db_url):  # graders started together on a new database take turns here
            self.gradebook = gradebook.open_gradebook(db_url)
            gradebook.record_assignment(self.gradebook, name, source_nb)

    def add(self, result):
        if result.status not in GRADER_FAULTS | NOT_A_STUDENT:
            try:
                self.record_grades(
                    self.gradebook,
                    self.name,
                    self.source_nb,
                    result.student_id,
                    {v.grade_id: v.points for v in result.verdicts},
                    penalty=result.penalty,
                    timestamp=result.submitted_at,
                )
            except Exception as error:  # keep the row (and the others); say the gradebook missed it
                result.status = "gradebook-error"
                result.message = f"grade not stored in the gradebook: {type(error).__name__}: {error}"
        if result.status not in NOT_A_STUDENT:
            page = self.out_dir / "feedback" / result.student_id / f"{self.name}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            html = render_feedback(result, self.released_nb, self.source_nb, self.expected, self.show_hidden)
            write_atomically(page, html)
            if self.nbgrader_course is not None:
                try:
                    write_student_folders(self.nbgrader_course, self.name, result, html)
                except (OSError, ValueError) as error:  # the grade stands; say what nbgrader will miss
                    result.message = "; ".join(
                        m for m in (result.message, f"nbgrader folders not written: {error}") if m
                    )
        self.results.append(result)
        self.write_csv()

    def write_csv(self):
        graded = {(r.assignment, r.student_id) for r in self.results}
        kept = [row for row in self.earlier if (row.get("assignment"), row.get("student_id")) not in graded]
        write_atomically(self.out_dir / "grades.csv", grades_csv_text(self.results, kept))
        students = [r for r in self.results if r.status not in NOT_A_STUDENT]  # a duplicate keeps the first's cells
        replaced = {(r.assignment, r.student_id) for r in students}
        kept = [row for row in self.earlier_cells if (row.get("assignment"), row.get("student_id")) not in replaced]
        write_atomically(self.out_dir / "cells.csv", cells_csv_text(students, kept))

    def close(self):
        self.gradebook.close()
