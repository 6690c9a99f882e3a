"""Build nbgrader source notebooks (``solutions/<name>/<name>.ipynb``) from Python, with consistent metadata.

The ``.ipynb`` files under ``solutions/`` are the source of truth; they can be edited in Jupyter with nbgrader's
"Create Assignment" toolbar. These helpers exist so that a new exercise set can also be written as a short script:

    cells = [
        markdown("# Exercise set", grade_id="intro"),
        setup("import numpy as np", grade_id="imports"),
        solution("def f(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION", grade_id="f"),
        tests("assert f(1) == 2\\n### BEGIN HIDDEN TESTS\\nreport('f/3', f(3))\\n### END HIDDEN TESTS",
              grade_id="test_f", points=2),
    ]
    write_notebook(cells, "solutions/demo/demo.ipynb")

Cell kinds (nbgrader schema 3):
- ``markdown``/``setup``: read-only cells (locked), restored by the grader if a learner edits them;
- ``solution``: where the learner writes code; the ``### BEGIN/END SOLUTION`` region is blanked on release;
- ``tests``: an autograded, locked test cell worth ``points``; a ``### BEGIN/END HIDDEN TESTS`` region is removed
  on release and restored when grading;
- ``answer``: a solution cell for a multiple-choice or numeric question (same as ``solution``).
"""

import nbformat


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text, grade_id):
    """A read-only Markdown cell."""
    return nbformat.v4.new_markdown_cell(text.strip("\n"), metadata=_meta(grade_id, locked=True))


def setup(source, grade_id):
    """A read-only code cell (imports, fixtures)."""
    return nbformat.v4.new_code_cell(source.strip("\n"), metadata=_meta(grade_id, locked=True))


def solution(source, grade_id):
    """A code cell the learner completes; mark the answer with ### BEGIN SOLUTION / ### END SOLUTION."""
    if "### BEGIN SOLUTION" not in source:
        raise ValueError(f"solution cell {grade_id!r} has no '### BEGIN SOLUTION' region")
    return nbformat.v4.new_code_cell(source.strip("\n"), metadata=_meta(grade_id, solution=True))


answer = solution


def tests(source, grade_id, points):
    """An autograded test cell worth ``points``."""
    if points <= 0:
        raise ValueError("a test cell must be worth a positive number of points")
    return nbformat.v4.new_code_cell(
        source.strip("\n"), metadata=_meta(grade_id, grade=True, locked=True, points=points)
    )


def write_notebook(cells, path):
    """Write ``cells`` as a Python 3 notebook at ``path`` (grade ids must be unique)."""
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate grade_id(s): {dupes}")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable cell ids keep diffs clean
        cell["id"] = cell.metadata["nbgrader"]["grade_id"].replace("_", "-")[:64] or f"cell-{i}"
    nbformat.validate(nb)
    with open(path, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
        # nbformat.write adds no trailing newline; add one for clean diffs
        f.write("\n")
