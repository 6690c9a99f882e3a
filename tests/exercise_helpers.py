"""Run a solution notebook's code cells in plain Python, with typical learner mistakes edited in, to test what its
visible (or hidden) tests tell the learner. ``checks.report`` emits nothing outside a kernel, so hidden tests run
harmlessly when kept."""

import re
from pathlib import Path

from course_lib.grading.notebooks import read_notebook

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", re.S)


def code_cells(name):
    """``[(grade_id, source), ...]`` of the code cells of the solution notebook of set ``name``."""
    nb = read_notebook(SOLUTIONS / name / f"{name}.ipynb")
    return [(c.metadata["nbgrader"]["grade_id"], c.source) for c in nb.cells if c.cell_type == "code"]


def run_until(name, test_id, edits=None, *, hidden=False, skip=(), crashes=()):
    """Run set ``name``'s code cells up to and including ``test_id``, as ``course check`` runs them (``hidden=True``:
    as the grader does, hidden tests kept).

    ``edits`` maps a grade_id to ``[(old, new), ...]`` replacements of its source; ``skip`` names cells not run;
    an exception of a type in ``crashes`` raised by the test cell counts as ``"crashed"``. Returns the test cell's
    AssertionError message, ``"crashed"``, or None when it passed. An earlier cell that fails with an AssertionError
    (or one of ``crashes``) does not stop the run, as in the notebook; any other exception does, and propagates.
    """
    edits = edits or {}
    namespace = {}
    for grade_id, source in code_cells(name):
        if grade_id in skip:
            continue
        if not hidden:
            source = HIDDEN.sub("", source)
        for old, new in edits.get(grade_id, []):
            assert old in source, f"{old!r} not in cell {grade_id}"
            source = source.replace(old, new)
        try:
            exec(source, namespace)
        except AssertionError as error:
            if grade_id == test_id:
                return str(error)
        except crashes:
            if grade_id == test_id:
                return "crashed"
        else:
            if grade_id == test_id:
                return None
    raise KeyError(test_id)
