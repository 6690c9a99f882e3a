"""``course export``: a grading output folder's grades in a form an LMS imports, and a per-question class summary.

Reads ``DIR/grades.csv`` (one row per submission) and ``DIR/cells.csv`` (one row per graded cell of each graded
submission, with the learner's multiple-choice answers), both written by ``course grade``, and writes into
``DIR/export/``:

- ``<set>-canvas.csv``: Canvas's gradebook import (*Grades > Import*). Columns ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section`` and one column named after the exercise set holding the score. Canvas matches a row
  to a student by ``ID``, its user id, which is the first number of a Canvas download's file name
  (``wangwei_11111_501_rnn.ipynb`` -> 11111): grades.csv's ``lms_id``. Rename the score column to the Canvas
  assignment's name (Canvas's own export calls it ``rnn (123456)``), or Canvas creates a new assignment.
- ``<set>-moodle.csv``: Moodle's assignment grading worksheet (*Assignment > Upload grading worksheet*, with
  "Offline grading worksheet" feedback enabled). Moodle reads ``Identifier`` (``Participant 11111``: the number of a
  Moodle download's folder name ``Wang Wei_11111_assignsubmission_file_``), ``Grade`` and ``Last modified (grade)``;
  ``Feedback comments`` is imported when that feedback type is on; ``Full name`` and ``Maximum Grade`` are for
  reading.
- ``<set>-grades.csv``: plain CSV, one row per submission, for a spreadsheet or any other system.
- ``<set>-summary.csv`` and ``<set>-summary.html``: for each graded cell, how many submissions earned its points
  and, for a multiple-choice question, the most common wrong answer; the page adds a bar chart.

A row that is not a grade (a duplicate, an unreadable file: its score is empty) is left out of the LMS files, so
that an import never overwrites a grade with a blank or a zero; so is a row without an LMS id in the Canvas and
Moodle files (there is nothing to match it by). ``export`` returns what it left out and why.
"""

import base64
import csv
import io
import json
from collections import Counter
from datetime import datetime, timezone
from html import escape
from pathlib import Path

FORMATS = ("canvas", "moodle", "csv")
CELL_COLUMNS = ["assignment", "student_id", "cell", "points", "max_points", "answers"]
"""cells.csv's columns: ``answers`` is a JSON object ``{report key: learner's text}`` for cells that grade a
text answer (a multiple-choice question), ``{}`` otherwise."""
SUMMARY_COLUMNS = ["cell", "max_points", "graded", "right", "percent_right", "most_common_wrong", "wrong_count"]


def read_rows(path):
    """The rows of a CSV file as dicts.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file.

    Returns
    -------
    list of dict of str to str
        One dict per row, keyed by the header; ``[]`` if the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _csv_text(columns, rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def cell_rows(result):
    """cells.csv's rows for one submission.

    Parameters
    ----------
    result : grade.SubmissionResult
        The graded submission.

    Returns
    -------
    list of dict
        One row (``CELL_COLUMNS``) per verdict; none for a submission that did not run.
    """
    return [
        {
            "assignment": result.assignment,
            "student_id": result.student_id,
            "cell": v.grade_id,
            "points": f"{v.points:g}",
            "max_points": f"{v.max_points:g}",
            "answers": json.dumps(v.answers, ensure_ascii=False, sort_keys=True),
        }
        for v in result.verdicts
    ]


def cells_csv_text(results, kept_rows=()):
    """cells.csv for ``results`` and the ``kept_rows`` of an earlier run that they do not replace.

    Parameters
    ----------
    results : iterable of grade.SubmissionResult
        The submissions graded now.
    kept_rows : iterable of dict
        Rows of an earlier cells.csv to keep.

    Returns
    -------
    str
        The CSV text, rows sorted by assignment and student id.
    """
    rows = [{c: row.get(c) or "" for c in CELL_COLUMNS} for row in kept_rows]
    rows += [row for result in results for row in cell_rows(result)]
    return _csv_text(CELL_COLUMNS, sorted(rows, key=lambda r: (r["assignment"], r["student_id"])))


def _name(row):
    """The student's name without the LMS id that ``intake`` appended to make namesakes two students.

    Parameters
    ----------
    row : dict
        A grades.csv row.

    Returns
    -------
    str
        The name, underscores as spaces.
    """
    name, lms_id = row["student_id"], row.get("lms_id") or ""
    if lms_id and name.endswith(f"_{lms_id}"):
        name = name[: -len(lms_id) - 1]
    return name.replace("_", " ")


def lms_table(rows, fmt, assignment, now=None):
    """The ``fmt`` file's table for one exercise set's grades.csv ``rows``.

    Parameters
    ----------
    rows : list of dict
        grades.csv rows of one exercise set.
    fmt : str
        One of ``FORMATS``.
    assignment : str
        The exercise set (Canvas's score column is named after it).
    now : datetime, optional
        Moodle's "Last modified (grade)" (default: the current time; Moodle skips a row whose grade was changed in
        Moodle after it unless told to ignore that).

    Returns
    -------
    columns : list of str
        The file's columns.
    table : list of dict
        The file's rows.
    left_out : list of tuple (str, str)
        ``(student_id, why)`` for each row left out.

    Raises
    ------
    ValueError
        For an unknown ``fmt``.
    """
    left_out, table = [], []
    for row in rows:
        if fmt != "csv" and not row.get("score"):
            left_out.append((row["student_id"], f"no grade ({row.get('status')})"))
        elif fmt in ("canvas", "moodle") and not row.get("lms_id"):
            left_out.append((row["student_id"], f"no LMS id in its file name ({row.get('source')})"))
        else:
            table.append(row)
    if fmt == "canvas":
        columns = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]
        out = [
            {"Student": _name(r), "ID": r["lms_id"], "SIS User ID": "", "SIS Login ID": "", "Section": "",
             assignment: r["score"]}
            for r in table
        ]  # fmt: skip
    elif fmt == "moodle":
        stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S")
        columns = ["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments"]
        out = [
            {"Identifier": f"Participant {r['lms_id']}", "Full name": _name(r), "Grade": r["score"],
             "Maximum Grade": r["max_score"], "Last modified (grade)": stamp, "Feedback comments": _comment(r)}
            for r in table
        ]  # fmt: skip
    elif fmt == "csv":
        columns = ["student_id", "lms_id", "assignment", "score", "max_score", "penalty", "late", "status"]
        out = table
    else:
        raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    return columns, out, left_out


def _comment(row):
    parts = [f"Autograded: {row['score']} / {row['max_score']}"]
    if row.get("penalty"):
        parts.append(f"late penalty {row['penalty']} point(s) included")
    return "; ".join(parts) + "."


def class_summary(grade_rows, cell_rows_):
    """One row per graded cell (``SUMMARY_COLUMNS``), in notebook order, over the submissions that ran.

    ``right`` counts submissions that earned the cell's points; ``most_common_wrong`` is, for a cell that grades a
    text answer, the answer most often given by those that did not (ties: alphabetical), with its count.

    Parameters
    ----------
    grade_rows : list of dict
        grades.csv rows of one exercise set (a row with a score ran).
    cell_rows_ : list of dict
        cells.csv rows of the same set.

    Returns
    -------
    list of dict
        The summary rows.
    """
    ran = {r["student_id"] for r in grade_rows if r.get("score")}
    by_cell = {}
    for row in cell_rows_:
        if row["student_id"] in ran:
            by_cell.setdefault(row["cell"], []).append(row)
    summary = []
    for cell, rows in by_cell.items():
        right = [r for r in rows if float(r["points"]) == float(r["max_points"])]
        wrong = Counter()
        for r in rows:
            answers = json.loads(r.get("answers") or "{}")
            if answers and r not in right:
                wrong[answers.popitem()[1] if len(answers) == 1 else json.dumps(answers, ensure_ascii=False)] += 1
        common = min(wrong.items(), key=lambda kv: (-kv[1], kv[0])) if wrong else ("", 0)
        summary.append({
            "cell": cell, "max_points": rows[0]["max_points"], "graded": len(rows), "right": len(right),
            "percent_right": f"{100 * len(right) / len(rows):.0f}", "most_common_wrong": common[0],
            "wrong_count": common[1] or "",
        })  # fmt: skip
    return summary


def _chart_png(assignment, summary):
    """A horizontal bar chart of the share of submissions that got each cell right, as PNG bytes.

    Parameters
    ----------
    assignment : str
        The exercise set, for the title.
    summary : list of dict
        ``class_summary``'s rows.

    Returns
    -------
    bytes
        The PNG image.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = [s["cell"] for s in summary]
    shares = [float(s["percent_right"]) for s in summary]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(cells) + 1.2))
    ax.barh(cells, shares, color="#2e7d32")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions that earned the cell's points (%)")
    ax.set_title(f"{assignment}: right answers per graded cell")
    for y, s in enumerate(summary):
        ax.text(min(float(s["percent_right"]) + 1, 88), y, f"{s['right']}/{s['graded']}", va="center")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def summary_html(assignment, summary):
    """The class summary as a self-contained HTML page (the chart embedded as a PNG).

    Parameters
    ----------
    assignment : str
        The exercise set.
    summary : list of dict
        ``class_summary``'s rows.

    Returns
    -------
    str
        The HTML page.
    """
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(s[c]))}</td>" for c in SUMMARY_COLUMNS) + "</tr>" for s in summary
    )
    chart = base64.b64encode(_chart_png(assignment, summary)).decode("ascii") if summary else ""
    image = f'<img alt="share of right answers per cell" src="data:image/png;base64,{chart}">' if chart else ""
    head = "".join(f"<th>{escape(c)}</th>" for c in SUMMARY_COLUMNS)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(assignment)}: class '
        "summary</title><style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}"
        "td,th{border:1px solid #ccc;padding:.2rem .6rem}table{border-collapse:collapse}</style></head><body>\n"
        f"<h1>{escape(assignment)}: class summary</h1>\n{image}\n<table><tr>{head}</tr>{rows}</table>\n"
        "<p>Only submissions that ran are counted. <em>most_common_wrong</em> is the answer most often given by "
        "those that did not earn a multiple-choice cell's points.</p>\n</body></html>\n"
    )


def export(out_dir, fmt, now=None):
    """Write the ``fmt`` file and the class summary of every exercise set in ``out_dir/grades.csv``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The grading output folder (files go to ``out_dir/export/``).
    fmt : str
        One of ``FORMATS``.
    now : datetime, optional
        Moodle's "Last modified (grade)" (see ``lms_table``).

    Returns
    -------
    written : list of pathlib.Path
        The paths written.
    left_out : list of tuple (str, str, str)
        ``(assignment, student_id, why)`` for each row left out.

    Raises
    ------
    FileNotFoundError
        When there is no grades.csv.
    """
    out_dir = Path(out_dir)
    grades = read_rows(out_dir / "grades.csv")
    if not (out_dir / "grades.csv").is_file():
        raise FileNotFoundError(f"{out_dir / 'grades.csv'} does not exist: run course grade ... --out {out_dir}")
    cells = read_rows(out_dir / "cells.csv")
    target = out_dir / "export"
    target.mkdir(exist_ok=True)
    written, left_out = [], []
    for assignment in sorted({r["assignment"] for r in grades}):
        rows = [r for r in grades if r["assignment"] == assignment]
        columns, table, skipped = lms_table(rows, fmt, assignment, now)
        left_out += [(assignment, student, why) for student, why in skipped]
        path = target / f"{assignment}-{'grades' if fmt == 'csv' else fmt}.csv"
        path.write_text(_csv_text(columns, table), encoding="utf-8")
        summary = class_summary(rows, [c for c in cells if c["assignment"] == assignment])
        (target / f"{assignment}-summary.csv").write_text(_csv_text(SUMMARY_COLUMNS, summary), encoding="utf-8")
        (target / f"{assignment}-summary.html").write_text(summary_html(assignment, summary), encoding="utf-8")
        written += [path, target / f"{assignment}-summary.csv", target / f"{assignment}-summary.html"]
    return written, left_out
