"""``course check NOTEBOOK``: a learner's self-check, run on their own machine before they submit.

The notebook is rebuilt exactly as the grader will rebuild it, but from the *released* version: the learner's
solution cells go into the released notebook's structure, so the visible tests are the original ones even if a
test cell was edited or deleted, and cells the learner added are left out (the grader leaves them out too). It
runs without a sandbox (it is the learner's own code), and each task's visible tests pass or fail with their
message.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.grading import execution
from course_lib.grading.notebooks import (
    cell_outcomes,
    graded_cells,
    is_solution_cell,
    nbgrader_meta,
    parse_submission,
    read_notebook,
    rebuild,
    release_notebook,
    syntax_errors,
)
from course_lib.grading.release import RELEASE_DIR, SOURCE_DIR, find_course_root


@dataclass
class TaskResult:
    """The visible tests of one graded cell."""

    grade_id: str
    points: float  # what the task is worth when graded (visible and hidden tests together)
    passed: bool
    message: str  # first line of the failure, or "" when passed


@dataclass
class CheckReport:
    """Everything ``course check`` found."""

    notebook: str
    released_from: str  # the released notebook whose tests were used ("" if none was found)
    tasks: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def all_passed(self):
        return bool(self.tasks) and all(t.passed for t in self.tasks)


def _candidate_roots(notebook_path, root):
    roots = [Path(root)] if root else []
    roots += [find_course_root(), find_course_root(Path(notebook_path).parent), execution.COURSE_ROOT]
    unique = []
    for r in roots:
        if r.resolve() not in unique:
            unique.append(r.resolve())
    return unique


def _released(root, name, notebook_path):
    source = root / SOURCE_DIR / name / f"{name}.ipynb"
    if source.is_file():  # the release made afresh: right even if the learner edits exercises/ in place
        return source, release_notebook(read_notebook(source))
    released = root / RELEASE_DIR / name / f"{name}.ipynb"
    if released.is_file() and released.resolve() != Path(notebook_path).resolve():
        return released, read_notebook(released)
    return None


def find_released(notebook_path, learner_ids, root=None, assignment=None):
    """The released notebook that ``notebook_path`` is a copy of.

    Tries the exercise set named by ``assignment``, then one whose name appears in the file name (``rnn
    (1).ipynb``), then the one whose solution cells have the same grade ids as the learner's.

    Parameters
    ----------
    notebook_path : str or pathlib.Path
        The learner's notebook.
    learner_ids : iterable of str
        The grade ids of the learner's solution cells.
    root : str or pathlib.Path, optional
        The course root (default: found from the current directory or the notebook's).
    assignment : str, optional
        The exercise set's name.

    Returns
    -------
    tuple (pathlib.Path, nbformat.NotebookNode) or None
        ``(path, notebook)``, or ``None`` if none is found.
    """
    stem_words = set(re.split(r"[\s_\-.()]+", Path(notebook_path).stem.lower()))
    for base in _candidate_roots(notebook_path, root):
        names = sorted(
            {
                p.name
                for d in (RELEASE_DIR, SOURCE_DIR)
                if (base / d).is_dir()
                for p in (base / d).iterdir()
                if p.is_dir()
            }
        )
        if assignment:
            names = [n for n in names if n == assignment]
        by_name = [n for n in names if n.lower() in stem_words or n.lower() == Path(notebook_path).stem.lower()]
        for name in by_name + [n for n in names if n not in by_name]:
            found = _released(base, name, notebook_path)
            if found is None:
                continue
            ids = {nbgrader_meta(c).get("grade_id") for c in found[1].cells if is_solution_cell(c)}
            if name in by_name or assignment or (ids and ids == set(learner_ids)):
                return found
    return None


def _blame_syntax_errors(structure, learner_sources, tasks, notes):
    """Make a test that fails after an unparsable answer cell name that cell's syntax error.

    Not the NameError it causes: nothing in the broken cell ran.

    Parameters
    ----------
    structure : nbformat.NotebookNode
        The notebook the learner's cells were put in.
    learner_sources : dict of str to str
        ``{grade_id: source}`` of the learner's answer cells.
    tasks : list of TaskResult
        The tasks' results; a failed task's ``message`` is replaced.
    notes : list of str
        The report's notes, to which one note per broken cell is added.
    """
    by_id = {t.grade_id: t for t in tasks}
    for answer, error, test in syntax_errors(structure, learner_sources):
        notes.append(f"answer cell '{answer}' has a SyntaxError on {error}: nothing in that cell ran.")
        task = by_id.get(test)
        if task is not None and not task.passed:
            task.message = (
                f"SyntaxError in answer cell '{answer}', {error}: nothing in that cell ran, so this "
                "test could not use it. Fix the syntax first."
            )


def check_notebook(notebook_path, *, root=None, assignment=None, cell_timeout=600.0):
    """Run the visible tests of a learner's notebook.

    Parameters
    ----------
    notebook_path : str or pathlib.Path
        The learner's ``.ipynb``.
    root : str or pathlib.Path, optional
        The course root (default: found from the current directory or the notebook's).
    assignment : str, optional
        The exercise set's name when the file name does not say it.
    cell_timeout : float
        Seconds allowed per cell.

    Returns
    -------
    CheckReport

    Raises
    ------
    notebooks.UnreadableNotebook
        If the file is not a notebook.
    """
    path = Path(notebook_path)
    data = path.read_bytes()
    learner_sources = parse_submission(data)
    report = CheckReport(notebook=str(path), released_from="")
    found = find_released(path, learner_sources, root, assignment)
    if found is None:
        structure = read_notebook(path)  # no released copy to compare with: use the notebook's own tests
        report.notes.append(
            "The released version of this exercise set was not found, so the test cells in your "
            "notebook were used as they are. Run from the course folder or pass --assignment."
        )
    else:
        report.released_from, structure = str(found[0]), found[1]
    added = [
        c
        for c in json.loads(data.decode("utf-8-sig")).get("cells", [])
        if isinstance(c, dict) and c.get("cell_type") == "code" and not nbgrader_meta(c) and c.get("source")
    ]
    if added and found is not None:
        report.notes.append(
            f"{len(added)} code cell(s) you added are not run by the grader (nor here): put code the "
            "answers need inside the answer cells."
        )
    missing = [
        nbgrader_meta(c)["grade_id"]
        for c in structure.cells
        if is_solution_cell(c) and nbgrader_meta(c)["grade_id"] not in learner_sources
    ]
    if missing:
        report.notes.append(f"answer cell(s) missing from your notebook, counted as blank: {', '.join(missing)}")
    run = execution.run_trusted(
        rebuild(structure, learner_sources), cwd=path.resolve().parent, cell_timeout=cell_timeout
    )
    if run.status != "ok":
        report.notes.append(f"execution stopped early ({run.status}): {run.message}")
    outcomes = cell_outcomes(run.nb)
    for grade_id, points in graded_cells(structure):
        outcome = outcomes.get(grade_id, {"executed": False, "error": None})
        if not outcome["executed"]:
            report.tasks.append(TaskResult(grade_id, points, False, "did not run"))
        else:
            report.tasks.append(TaskResult(grade_id, points, outcome["error"] is None, outcome["error"] or ""))
    _blame_syntax_errors(structure, learner_sources, report.tasks, report.notes)
    return report


def format_report(report):
    """The text ``course check`` prints.

    Parameters
    ----------
    report : CheckReport
        What ``check_notebook`` found.

    Returns
    -------
    str
    """
    # the set's name only: the path may be the instructor's solutions/, which learners need not know or have
    name = Path(report.released_from).stem
    source = f" with the visible tests of the released exercise set '{name}'" if report.released_from else ""
    lines = [f"Checking {report.notebook}{source}"]
    width = max([len(t.grade_id) for t in report.tasks] + [4])
    for task in report.tasks:
        verdict = "PASS" if task.passed else "FAIL"
        line = f"  {verdict}  {task.grade_id:<{width}}  ({task.points:g} point{'s' if task.points != 1 else ''})"
        lines.append(line + (f"  {task.message}" if task.message else ""))
    passed = [t for t in report.tasks if t.passed]
    lines.append(
        f"{len(passed)} of {len(report.tasks)} task(s) pass their visible tests, worth "
        f"{sum(t.points for t in passed):g} of {sum(t.points for t in report.tasks):g} points. "
        "These are not your grade: hidden tests, run when your work is graded, check the same tasks on other "
        "inputs, and for the questions the visible tests check only the answer's form, not whether it is right."
    )
    lines += [f"Note: {note}" for note in report.notes]
    return "\n".join(lines)
