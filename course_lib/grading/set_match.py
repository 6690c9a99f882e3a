"""Which exercise set a handed-in notebook belongs to, told by its answer cells' nbgrader ids, so that a notebook
of another set (or of none) is named in its status instead of being run and scored about 0."""

from course_lib.grading.notebooks import is_solution_cell, nbgrader_meta, read_notebook
from course_lib.grading.release import assignment_names, source_path


def set_mismatch(name, source_nb, learner_sources, other_sets):
    """``(status, message)`` when a notebook is not one of set ``name``, else ``None``.

    ``no-answer-cells``: it has no nbgrader answer cell at all (a notebook not started from the released one).
    ``wrong-assignment``: its answer cells are those of another set of ``other_sets`` more than ``name``'s (ids such
    as ``answer_q1`` exist in several sets: the sets are compared by the Jaccard overlap of their ids), or it has none
    of ``name``'s. Such a notebook is not run: it would score about 0 and say nothing useful.

    Parameters
    ----------
    name : str
        The set the notebook was handed in for.
    source_nb : nbformat.NotebookNode
        Its source notebook.
    learner_sources : dict of str to str
        ``{grade_id: source}`` of the notebook's answer cells.
    other_sets : dict of str to set of str
        ``{set: answer ids}`` of the course's sets.

    Returns
    -------
    tuple (str, str) or None
    """
    wanted = {grade_id for grade_id, cell in _solution_cells(source_nb)}
    found = set(learner_sources)
    start = f"start from exercises/{name}/{name}.ipynb"
    if wanted and not found:
        return "no-answer-cells", (
            f"the notebook has none of the answer cells of {name} (no cell with nbgrader metadata): was it "
            f"started from the released notebook? Nothing was run; {start}"
        )

    def overlap(ids):
        return len(found & ids) / len(found | ids)

    rivals = {other: overlap(ids) for other, ids in other_sets.items() if other != name}
    best = max(rivals, key=rivals.get, default=None)
    if not wanted or (found & wanted and (best is None or rivals[best] <= overlap(wanted))):
        return None
    which = f"exercise set {best!r}, not {name}" if best is not None and rivals[best] > 0 else f"not {name}'s"
    return "wrong-assignment", (
        f"this notebook is {which}: its answer cells ({', '.join(sorted(found - wanted)[:4])}) are "
        f"not {name}'s. Nothing was run; hand in the notebook of {name} ({start})"
    )


def _solution_cells(nb):
    return [(nbgrader_meta(c).get("grade_id"), c) for c in nb.cells if is_solution_cell(c)]


def answer_cell_ids(root):
    """``{set name: answer-cell grade ids}`` for every exercise set of the course at ``root``.

    Parameters
    ----------
    root : str or pathlib.Path
        The course root.

    Returns
    -------
    dict of str to set of str
    """
    return {
        other: {grade_id for grade_id, _ in _solution_cells(read_notebook(source_path(root, other)))}
        for other in assignment_names(root)
    }
