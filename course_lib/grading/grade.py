"""``course grade``: autograde every submission of one exercise set, in parallel, into grades.csv,
feedback pages and an nbgrader gradebook.

The pipeline for one exercise set:

1. the trusted solution notebook runs once, unsandboxed; what its graded cells report is cached in
   ``DIR/.cache`` (``scoring.expected_reports``);
2. ``intake.discover`` lists the submissions (folders, bare notebooks, zips, LMS names);
3. each submission is rebuilt from the source structure (``notebooks.rebuild``), executed in the sandbox and
   scored outside it (``scoring.score_cells``): ``grade_submission``, which never raises, runs in a pool of
   ``workers`` processes;
4. the parent process alone writes results as they arrive (``record.Recorder``): the gradebook (one transaction
   per submission), the feedback page, and grades.csv (rewritten atomically, sorted, so that any number of
   workers gives the same file).
"""

import contextlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_lib.grading import execution
from course_lib.grading.intake import PENDING, discover
from course_lib.grading.late import apply_policy, utc_text
from course_lib.grading.notebooks import (
    UnreadableNotebook,
    added_code_cells,
    max_score,
    parse_submission,
    read_notebook,
    rebuild,
    release_notebook,
    syntax_errors,
)
from course_lib.grading.record import Recorder
from course_lib.grading.release import source_path
from course_lib.grading.scoring import expected_reports, score_cells
from course_lib.grading.set_match import answer_cell_ids, set_mismatch

EXECUTED_STATUSES = {"ok", "timeout", "memory", "crashed", "output-limit"}
"""Statuses of a submission whose code ran (possibly cut short): cells that finished keep their points."""
RETRIED_STATUSES = {"crashed", "sandbox-error"}
"""Statuses worth a second run: a kernel that fails to start on a loaded machine is no fault of the student's
(a notebook that kills its own kernel just fails twice)."""
RETRIES = 1


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
    lms_id: str = ""
    late: bool = False
    penalty: float = 0.0  # points taken off by the late policy
    submitted_at: object = None  # when it was handed in (a naive UTC datetime), None if unknown
    source_dir: str = ""  # the folder the notebook was read from ("" for a zip), for nbgrader's files beside it
    executed_nb: str = ""  # the notebook as it ran (nbformat JSON), kept only for nbgrader's autograded/ folder

    @property
    def submitted(self):
        """``submitted_at`` as text (``late.utc_text``), ``""`` if unknown."""
        return utc_text(self.submitted_at)

    @property
    def final_score(self):
        """The score after the late penalty."""
        return self.score - self.penalty

    @property
    def has_score(self):
        """True if the submission's code ran and was scored (else the row is not a grade: its score is empty)."""
        return bool(self.verdicts)

    def csv_row(self):
        """The result's row of grades.csv, a dict keyed by ``CSV_COLUMNS``."""
        return {
            "student_id": self.student_id,
            "assignment": self.assignment,
            "score": f"{self.final_score:g}" if self.has_score else "",
            "max_score": f"{self.max_score:g}",
            "status": self.status,
            "lms_id": self.lms_id,
            "late": "LATE" if self.late else "",
            "submitted": self.submitted,
            "penalty": f"{self.penalty:g}" if self.penalty else "",
            "source": self.origin,
            "message": " ".join(self.message.split()),
        }


def grade_submission(
    submission,
    name,
    source_nb,
    expected,
    limits=None,
    use_sandbox=True,
    released_nb=None,
    other_sets=None,
    keep_notebook=False,
):
    """Grade one submission; never raises (a failure becomes the result's ``status``).

    Parameters
    ----------
    submission : intake.Submission
        The submission.
    name : str
        The assignment.
    source_nb : nbformat.NotebookNode
        Its source notebook.
    expected : dict
        ``scoring.expected_reports``.
    limits : sandbox.Limits or None
        The sandbox's limits.
    use_sandbox : bool
        False only under ``--unsafe-no-sandbox``.
    released_nb : nbformat.NotebookNode, optional
        The released notebook, where a deleted answer cell is taken from (default: made here).
    other_sets : dict of str to set of str, optional
        ``{set name: answer-cell ids}`` of the course's other sets, to name the set of a notebook handed in for the
        wrong one.
    keep_notebook : bool
        Keep the notebook as it ran in ``executed_nb`` (for nbgrader's ``autograded/`` folder).

    Returns
    -------
    SubmissionResult
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
    result.lms_id, result.late, result.submitted_at = submission.lms_id, submission.late, submission.submitted_at
    if submission.path is not None and submission.member is None:
        result.source_dir = str(submission.path.parent)
    if submission.status != PENDING:
        return result
    try:
        data = submission.read_bytes()
        result.solution_sources = parse_submission(data)
        mismatch = set_mismatch(name, source_nb, result.solution_sources, other_sets or {})
        if mismatch:
            result.status, result.message = mismatch
            return result
        released_nb = released_nb or release_notebook(source_nb)
        added = added_code_cells(data, released_nb)
        notes = [submission.message]
        notes += [
            f"answer cell '{answer}' has a SyntaxError on {error}: none of it ran"
            for answer, error, _ in syntax_errors(source_nb, result.solution_sources)
        ]
        if added:
            notes.append(
                f"{added} code cell(s) you added were not run: only the answer cells are graded, so put all your "
                "code inside them"
            )
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
            if keep_notebook:
                result.executed_nb = nbformat.writes(run.nb)
    except UnreadableNotebook as error:
        result.status, result.message = error.status, str(error)
    except Exception as error:  # a grader bug must cost this row only, never the others
        result.status, result.message = "grader-error", f"{type(error).__name__}: {error}"
    result.wall_s = time.perf_counter() - start
    return result


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
    students=None,
    late_policy=None,
    nbgrader_course=None,
):
    """Autograde every submission of exercise set ``name``.

    Parameters
    ----------
    root : str or pathlib.Path
        The course root (holds ``solutions/<name>/<name>.ipynb``).
    name : str
        The exercise set.
    submissions_dir : str or pathlib.Path
        Folder of submissions (see ``intake``).
    out_dir : str or pathlib.Path
        Where grades.csv, feedback/ and (by default) gradebook.db go.
    db : str, optional
        Gradebook URL (``postgresql://user@host/db``), default SQLite in ``out_dir``; checked first
        (``gradebook.GradebookUnavailable`` if it cannot be opened).
    workers : int
        Number of processes grading concurrently (the results do not depend on it).
    use_sandbox : bool
        Passed to the sandbox (False only under ``--unsafe-no-sandbox``).
    limits : sandbox.Limits, optional
        Passed to the sandbox.
    show_hidden : bool
        Feedback shows hidden tests and expected values.
    on_result : callable, optional
        Called with each ``SubmissionResult`` as soon as it is stored (progress display).
    pool : concurrent.futures.Executor, optional
        An executor to grade in, shared by several calls (the adversarial tests grade every exercise set in one
        pool); default: one of ``workers`` processes made here when ``workers > 1``.
    students : iterable of str, optional
        Grade only these students (ids as in grades.csv, or LMS ids); the other rows of an existing grades.csv stay
        as they are.
    late_policy : late.LatePolicy, optional
        Deadline and penalty, or ``None`` for none.
    nbgrader_course : str or pathlib.Path, optional
        An nbgrader course directory to write ``autograded/`` and ``feedback/`` folders into (see
        ``nbgrader_dirs``), or ``None``.

    Returns
    -------
    list of SubmissionResult
        Sorted by student id.
    """
    source_nb = read_notebook(source_path(root, name))  # first: an unknown set creates nothing
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    from course_lib.grading.gradebook import check_database

    check_database(_database_url(db, out_dir))  # a wrong URL or password is said at once, in one line
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
        if students:
            submissions = _only(submissions, students, submissions_dir)
        recorder = Recorder(
            name, source_nb, expected, out_dir, _database_url(db, out_dir), show_hidden, nbgrader_course
        )
        stack.callback(recorder.close)
        recorder.write_csv()
        keep_notebook = nbgrader_course is not None
        job = (
            name,
            source_nb,
            expected,
            limits,
            use_sandbox,
            recorder.released_nb,
            answer_cell_ids(root),
            keep_notebook,
        )
        for result in _results(submissions, job, pool):
            apply_policy(result, late_policy)
            recorder.add(result)
            if on_result is not None:
                on_result(result)
    return sorted(recorder.results, key=lambda r: (r.student_id, r.origin))


def _only(submissions, students, submissions_dir):
    """The submissions of ``students`` (student ids or LMS ids).

    Parameters
    ----------
    submissions : list of intake.Submission
        Every submission found.
    students : iterable of str
        Student ids or LMS ids.
    submissions_dir : str or pathlib.Path
        The submissions folder, for the message.

    Returns
    -------
    list of intake.Submission

    Raises
    ------
    FileNotFoundError
        Naming any student not found.
    """
    wanted = set(students)
    chosen = [s for s in submissions if s.student_id in wanted or (s.lms_id and s.lms_id in wanted)]
    missing = wanted - {s.student_id for s in chosen} - {s.lms_id for s in chosen}
    if missing:
        known = ", ".join(sorted({s.student_id for s in submissions})[:20]) or "none"
        raise FileNotFoundError(
            f"no submission of {', '.join(sorted(missing))} in {submissions_dir} (students found: {known})"
        )
    return chosen


def _results(submissions, job, pool):
    """Grade ``submissions`` (in ``pool`` if given), yielding each result as soon as it is ready.

    Parameters
    ----------
    submissions : list of intake.Submission
        The submissions to grade.
    job : tuple
        The other arguments of ``grade_submission``.
    pool : concurrent.futures.Executor or None
        Where to grade; None: here, one after the other.

    Yields
    ------
    SubmissionResult
    """
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
                lms_id=submission.lms_id,
                late=submission.late,
                submitted_at=submission.submitted_at,
            )
