"""``course grade``: autograde every submission of one exercise set, in parallel, into grades.csv,
feedback pages and an nbgrader gradebook.

The pipeline for one exercise set:

1. the trusted solution notebook runs once, unsandboxed; what its graded cells report is cached in
   ``DIR/.cache`` (``scoring.expected_reports``);
2. ``intake.discover`` lists the submissions (folders, bare notebooks, zips, LMS names);
3. each submission is rebuilt from the source structure (``notebooks.rebuild``), executed in the sandbox and
   scored outside it (``scoring.score_cells``): ``grade_submission``, which never raises, runs in a pool of
   ``workers`` processes;
4. the parent process alone writes results as they arrive: the gradebook (one transaction per submission), the
   feedback page, and grades.csv (rewritten atomically, sorted, so that any number of workers gives the same
   file).
"""

import contextlib
import csv
import io
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.grading import execution
from course_lib.grading.feedback import render_feedback
from course_lib.grading.intake import PENDING, discover
from course_lib.grading.notebooks import (
    UnreadableNotebook,
    max_score,
    parse_submission,
    read_notebook,
    rebuild,
    release_notebook,
)
from course_lib.grading.release import source_path
from course_lib.grading.scoring import expected_reports, score_cells

CSV_COLUMNS = ["student_id", "assignment", "score", "max_score", "status"]
EXECUTED_STATUSES = {"ok", "timeout", "memory", "crashed", "output-limit"}
"""Statuses of a submission whose code ran (possibly cut short): cells that finished keep their points."""
GRADER_FAULTS = {"sandbox-error", "grader-error"}
"""Statuses that are the grader's fault, not the student's: the gradebook keeps whatever grade it had."""
RETRIED_STATUSES = {"crashed", "sandbox-error"}
"""Statuses worth a second run: a kernel that fails to start on a loaded machine is no fault of the student's
(a notebook that kills its own kernel just fails twice)."""
RETRIES = 1
NOT_A_STUDENT = {"duplicate", "unidentified"}
"""Rows that get no gradebook entry and no feedback page (no student, or the student's other entry has
them)."""


@dataclass
class SubmissionResult:
    """The outcome of grading one submission (what a worker sends back to the parent; picklable)."""

    student_id: str
    assignment: str
    origin: str
    status: str
    message: str
    score: float
    max_score: float
    verdicts: list = field(default_factory=list)  # scoring.CellVerdict per graded cell, notebook order
    solution_sources: dict = field(default_factory=dict)  # {grade_id: learner's code}
    wall_s: float = 0.0  # seconds spent on this submission, start to finish
    compute_s: float | None = None  # seconds the kernel spent in cells (None if not recorded)

    def csv_row(self):
        return [self.student_id, self.assignment, f"{self.score:g}", f"{self.max_score:g}", self.status]


def grade_submission(submission, name, source_nb, expected, limits=None, use_sandbox=True, released_nb=None):
    """Grade one submission; never raises (a failure becomes the result's ``status``).

    Inputs:
    - submission: an ``intake.Submission``.
    - name, source_nb, expected: the assignment, its source notebook and ``scoring.expected_reports``.
    - limits: a ``sandbox.Limits`` or ``None``; use_sandbox: False only under ``--unsafe-no-sandbox``.
    - released_nb: the released notebook, where a deleted answer cell is taken from (default: made here).

    Returns a ``SubmissionResult``.
    """
    start = time.perf_counter()
    result = SubmissionResult(
        submission.student_id,
        name,
        submission.origin,
        submission.status,
        submission.message,
        0.0,
        max_score(source_nb),
    )
    if submission.status != PENDING:
        return result
    try:
        result.solution_sources = parse_submission(submission.read_bytes())
        notes = [submission.message]
        for attempt in range(1 + RETRIES):
            run = execution.run_untrusted(
                rebuild(source_nb, result.solution_sources, released_nb), limits=limits, use_sandbox=use_sandbox
            )
            if run.status not in RETRIED_STATUSES:
                break
            if attempt < RETRIES:
                notes.append(f"attempt {attempt + 1}: {run.status}: {run.message}; graded again")
        result.status = run.status
        result.message = "; ".join(m for m in (*notes, run.message) if m)
        if run.status in EXECUTED_STATUSES:
            result.verdicts = score_cells(source_nb, run.nb, expected)
            result.score = sum(v.points for v in result.verdicts)
            result.compute_s = execution.compute_seconds(run.nb)
    except UnreadableNotebook as error:
        result.status, result.message = error.status, str(error)
    except Exception as error:  # a grader bug must cost this row only, never the others
        result.status, result.message = "grader-error", f"{type(error).__name__}: {error}"
    result.wall_s = time.perf_counter() - start
    return result


def _write_atomically(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def grades_csv_text(results):
    """grades.csv for ``results``: one row per submission, sorted by student id then origin."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in sorted(results, key=lambda r: (r.student_id, r.origin)):
        writer.writerow(result.csv_row())
    return buffer.getvalue()


class _Recorder:
    """Writes each result as it arrives: gradebook, feedback page, grades.csv."""

    def __init__(self, name, source_nb, expected, out_dir, db_url, show_hidden):
        self.name, self.source_nb, self.expected = name, source_nb, expected
        self.released_nb = release_notebook(source_nb)
        self.out_dir, self.show_hidden = Path(out_dir), show_hidden
        self.results = []
        from course_lib.grading import gradebook  # nbgrader's API: needed in the parent only

        self.record_grades = gradebook.record_grades
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
                )
            except Exception as error:  # keep the row (and the others); say the gradebook missed it
                result.status = "gradebook-error"
                result.message = f"grade not stored in the gradebook: {type(error).__name__}: {error}"
        if result.status not in NOT_A_STUDENT:
            page = self.out_dir / "feedback" / result.student_id / f"{self.name}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(
                page,
                render_feedback(result, self.released_nb, self.source_nb, self.expected, self.show_hidden),
            )
        self.results.append(result)
        _write_atomically(self.out_dir / "grades.csv", grades_csv_text(self.results))

    def close(self):
        self.gradebook.close()


def _database_url(db, out_dir):
    from course_lib.grading.gradebook import database_url

    return database_url(db, out_dir)


def _warm_up():
    """Run once in each worker process at start: import what grading needs while the parent prepares."""
    from course_lib.grading import sandbox  # noqa: F401


def grade_assignment(
    root,
    name,
    submissions_dir,
    out_dir,
    *,
    db=None,
    workers=1,
    use_sandbox=True,
    limits=None,
    show_hidden=False,
    on_result=None,
    pool=None,
):
    """Autograde every submission of exercise set ``name``.

    Inputs:
    - root: the course root (holds ``solutions/<name>/<name>.ipynb``).
    - submissions_dir: folder of submissions (see ``intake``); out_dir: where grades.csv, feedback/ and (by
      default) gradebook.db go.
    - db: gradebook URL (``postgresql://user@host/db``), default SQLite in ``out_dir``.
    - workers: number of processes grading concurrently (the results do not depend on it).
    - use_sandbox, limits: passed to the sandbox; show_hidden: feedback shows hidden tests and expected
      values.
    - on_result: called with each ``SubmissionResult`` as soon as it is stored (progress display).
    - pool: a ``concurrent.futures`` executor to grade in, shared by several calls (the adversarial tests grade
      every exercise set in one pool); default: one of ``workers`` processes made here when ``workers > 1``.

    Returns the list of ``SubmissionResult``, sorted by student id.
    """
    source_nb = read_notebook(source_path(root, name))  # first: an unknown set creates nothing
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if pool is None and workers > 1:
            # spawn, not fork: the parent holds a database connection and zmq state that must not be shared.
            # Started first, so that the workers' imports overlap with the parent's preparations.
            pool = stack.enter_context(
                ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            )
            for _ in range(workers):
                pool.submit(_warm_up)
        expected = expected_reports(name, source_nb, cache_dir=out_dir / ".cache")
        submissions = discover(name, submissions_dir)
        recorder = _Recorder(name, source_nb, expected, out_dir, _database_url(db, out_dir), show_hidden)
        stack.callback(recorder.close)
        _write_atomically(out_dir / "grades.csv", grades_csv_text([]))
        job = (name, source_nb, expected, limits, use_sandbox, recorder.released_nb)
        for result in _results(submissions, job, pool):
            recorder.add(result)
            if on_result is not None:
                on_result(result)
    return sorted(recorder.results, key=lambda r: (r.student_id, r.origin))


def _results(submissions, job, pool):
    """Grade ``submissions`` (in ``pool`` if given), yielding each result as soon as it is ready."""
    if pool is None:
        for submission in submissions:
            yield grade_submission(submission, *job)
        return
    futures = {pool.submit(grade_submission, submission, *job): submission for submission in submissions}
    for future in as_completed(futures):
        try:
            yield future.result()
        except Exception as error:  # the worker process itself died
            submission = futures[future]
            name, source_nb = job[0], job[1]
            yield SubmissionResult(
                submission.student_id,
                name,
                submission.origin,
                "grader-error",
                f"the grading worker failed: {error}",
                0.0,
                max_score(source_nb),
            )
