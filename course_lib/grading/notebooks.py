"""Notebook plumbing shared by release, check and grade: nbgrader metadata, releasing, rebuilding, reading
outputs.

The grading design in one paragraph: a notebook is never run as the learner left it. It is *rebuilt* from a
trusted structure (the nbgrader source in ``solutions/`` when grading, the released version in ``exercises/``
for ``course check``): every cell comes from the structure, and only the source of the learner's *solution*
cells is taken from the submission, matched by nbgrader ``grade_id``. Edited or deleted test cells, changed
cell types, metadata or kernel specs therefore change nothing. After execution, ``cell_outcomes`` reads, for
each graded cell, whether it raised and which values it reported through ``course_lib.checks.report``.
"""

import copy
import json

import nbformat

from course_lib.checks import REPORT_MIME

MAX_NOTEBOOK_BYTES = 50_000_000
"""Submissions larger than this are refused unread (a real exercise notebook is well under 1 MB)."""


def write_atomically(path, text):
    """Write ``text`` to ``path`` through a temporary file beside it, so that a reader never sees half a file.

    Parameters
    ----------
    path : pathlib.Path
        The file to write (the temporary file is ``path`` + ``.tmp``).
    text : str
        The content, written as UTF-8.
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class UnreadableNotebook(ValueError):
    """A submission that is not a notebook (empty, truncated JSON, wrong structure); ``status`` names why.

    Parameters
    ----------
    status : str
        The submission's status (``"empty"``, ``"too-large"``, ``"unreadable-notebook"``...).
    message : str
        What is wrong, for the learner.
    """

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def nbgrader_meta(cell):
    """The cell's ``metadata.nbgrader`` dict, or ``{}`` for a cell nbgrader does not track."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_solution_cell(cell):
    """True for a cell the learner writes in (nbgrader ``solution``)."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_graded_cell(cell):
    """True for an autograded test cell (nbgrader ``grade`` on a code cell)."""
    return cell.get("cell_type") == "code" and bool(nbgrader_meta(cell).get("grade"))


def graded_cells(nb):
    """The autograded cells of ``nb`` in order.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook with nbgrader metadata.

    Returns
    -------
    list of tuple (str, float)
        ``(grade_id, points)`` per autograded cell.
    """
    return [
        (nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points") or 0))
        for c in nb.cells
        if is_graded_cell(c)
    ]


def max_score(nb):
    """Total points of the autograded cells of ``nb``."""
    return sum(points for _, points in graded_cells(nb))


def read_notebook(path):
    """Read a trusted notebook (from ``solutions/`` or ``exercises/``) as an ``nbformat`` v4 node.

    Parameters
    ----------
    path : str or pathlib.Path
        The notebook file.

    Returns
    -------
    nbformat.NotebookNode
    """
    with open(path, encoding="utf-8") as f:
        return nbformat.read(f, as_version=4)


def notebook_text(nb):
    """Serialise ``nb`` deterministically (sorted keys, a final newline): re-releasing is byte-identical.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook.

    Returns
    -------
    str
        The notebook's JSON text.
    """
    return nbformat.writes(nb) + "\n"


def release_notebook(source_nb):
    """The learner's version of an nbgrader source notebook.

    Nothing depends on the time or the machine.

    Parameters
    ----------
    source_nb : nbformat.NotebookNode
        Notebook with ``### BEGIN SOLUTION`` and ``### BEGIN HIDDEN TESTS`` regions (not modified).

    Returns
    -------
    nbformat.NotebookNode
        The released notebook: solution regions replaced by nbgrader's stub (``raise NotImplementedError()``),
        hidden-test regions removed, outputs and execution counts cleared, graded and read-only cells locked,
        nbgrader checksums computed.
    """
    # imported here: nbgrader is slow to import, and grading workers, which never release, need not pay for it
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, ComputeChecksums, LockCells

    nb = copy.deepcopy(source_nb)
    resources = {}
    for preprocessor in (
        ClearSolutions(),
        ClearHiddenTests(),
        ClearOutput(),
        LockCells(),
        ComputeChecksums(),
    ):
        nb, resources = preprocessor.preprocess(nb, resources)
    nb.metadata.pop("celltoolbar", None)
    return nb


def parse_submission(data):
    """Read the learner's solution sources from a submitted notebook's raw bytes, trusting nothing else in it.

    Validation is deliberately lenient: a notebook whose unrelated cells are malformed still yields its solution
    cells.

    Parameters
    ----------
    data : bytes
        Bytes of the submitted file.

    Returns
    -------
    dict of str to str
        ``{grade_id: source}`` for the solution cells found (the first cell wins if a grade_id is duplicated).

    Raises
    ------
    UnreadableNotebook
        If the bytes are not a notebook (or are too many).
    """
    if len(data) == 0:
        raise UnreadableNotebook("empty", "the file is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise UnreadableNotebook("too-large", f"the file is {len(data)} bytes, over the {MAX_NOTEBOOK_BYTES} limit")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableNotebook("unreadable-notebook", f"not valid notebook JSON ({error})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise UnreadableNotebook("unreadable-notebook", "JSON, but not a notebook: it has no list of cells")
    sources = {}
    for cell in doc["cells"]:
        if not isinstance(cell, dict) or not is_solution_cell(cell):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        source = cell.get("source", "")
        if isinstance(source, list):  # the on-disk form of a multi-line source
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(grade_id, str) and isinstance(source, str) and grade_id not in sources:
            sources[grade_id] = source
    return sources


def added_code_cells(data, released_nb):
    """How many non-empty code cells of a submission the learner added.

    These are cells that are neither nbgrader cells of ``released_nb`` nor copies of its other cells. ``rebuild``
    drops them; the feedback says so.

    Parameters
    ----------
    data : bytes
        Raw bytes of the submitted file.
    released_nb : nbformat.NotebookNode
        The released notebook.

    Returns
    -------
    int
        The number of added cells; 0 for bytes that are not a notebook.
    """
    try:
        doc = json.loads(data.decode("utf-8-sig"))
        cells = [c for c in doc["cells"] if isinstance(c, dict)]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return 0
    known_ids = {nbgrader_meta(c).get("grade_id") for c in released_nb.cells} - {None}
    known_sources = {c.source.strip() for c in released_nb.cells}
    added = 0
    for cell in cells:
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)
        if cell.get("cell_type") != "code" or not source.strip() or nbgrader_meta(cell).get("grade_id") in known_ids:
            continue
        added += source.strip() not in known_sources
    return added


def rebuild(structure_nb, learner_sources, blank_nb=None):
    """The notebook to execute: ``structure_nb`` with the learner's solution cells put in.

    Parameters
    ----------
    structure_nb : nbformat.NotebookNode
        The trusted notebook (source or released) that fixes every cell, its type and metadata.
    learner_sources : dict of str to str
        ``{grade_id: source}`` from ``parse_submission``.
    blank_nb : nbformat.NotebookNode, optional
        Where to take a solution cell the learner deleted (default: the released version of ``structure_nb``), so a
        missing answer counts exactly as an untouched one.

    Returns
    -------
    nbformat.NotebookNode
        A new notebook without outputs; cells the learner added are not included.
    """
    if blank_nb is None:
        blank_nb = release_notebook(structure_nb)
    blank_sources = {nbgrader_meta(c).get("grade_id"): c.source for c in blank_nb.cells if is_solution_cell(c)}
    nb = copy.deepcopy(structure_nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        if is_solution_cell(cell):
            grade_id = nbgrader_meta(cell)["grade_id"]
            cell.source = learner_sources.get(grade_id, blank_sources.get(grade_id, ""))
    return nb


def error_summary(output):
    """One line describing an ``error`` output.

    Parameters
    ----------
    output : dict
        An ``error`` output of a cell.

    Returns
    -------
    str
        ``"ValueError: message"`` (first line of the message only).
    """
    ename = str(output.get("ename", "Error"))
    evalue = str(output.get("evalue", "")).strip().splitlines()
    if not evalue and ename == "NotImplementedError":  # the stub that `course release` puts in answer cells
        return "NotImplementedError: an answer this test needs is not written yet"
    return f"{ename}: {evalue[0]}" if evalue else ename


def cell_outcomes(executed_nb):
    """What each graded cell of an executed notebook did.

    A cell that never ran (after a timeout or a dead kernel) has ``executed`` False. Reports come only from the
    cell's own display outputs.

    Parameters
    ----------
    executed_nb : nbformat.NotebookNode
        The notebook after execution.

    Returns
    -------
    dict
        ``{grade_id: {"executed": bool, "error": str | None, "reports": [(key, value), ...]}}`` where ``value`` is
        the encoded form from ``checks.encode_value``.
    """
    outcomes = {}
    for cell in executed_nb.cells:
        if not is_graded_cell(cell):
            continue
        outputs = cell.get("outputs", [])
        error = next((error_summary(o) for o in outputs if o.get("output_type") == "error"), None)
        reports = []
        for output in outputs:
            payload = output.get("data", {}).get(REPORT_MIME) if output.get("output_type") == "display_data" else None
            if isinstance(payload, str):  # some transports keep JSON MIME bundles as text
                try:
                    payload = json.loads(payload)
                except ValueError:
                    payload = None
            if isinstance(payload, dict) and isinstance(payload.get("key"), str):
                reports.append((payload["key"], payload.get("value")))
        executed = cell.get("execution_count") is not None or bool(outputs)
        outcomes[nbgrader_meta(cell)["grade_id"]] = {"executed": executed, "error": error, "reports": reports}
    return outcomes


MAX_PARSED_CHARS = 1_000_000
"""Longer answer cells are not parsed by the grader (compiling untrusted text costs memory outside the sandbox)."""


def syntax_error(source):
    """Where Python cannot read the answer cell ``source``, after IPython's own transformations (such as magics).

    Only compiles, never runs: safe on untrusted code outside the sandbox.

    Parameters
    ----------
    source : str
        The answer cell's code (cells over ``MAX_PARSED_CHARS`` are not parsed).

    Returns
    -------
    str or None
        ``"line N: message"``, else None.
    """
    if not source or len(source) > MAX_PARSED_CHARS:
        return None
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # no IPython, or it cannot transform the cell either: parse the text as it is
        pass
    try:
        compile(source, "<answer cell>", "exec", dont_inherit=True)
    except SyntaxError as error:  # IndentationError included
        return f"line {error.lineno or '?'}: {error.msg}"
    except ValueError as error:  # a null byte in the source
        return f"line ?: {error}"
    except (RecursionError, MemoryError):
        return "line ?: the cell is nested too deeply for Python to read"
    return None


def syntax_errors(nb, learner_sources):
    """The learner's answer cells that Python cannot read, in the order of ``nb``.

    Nothing in a broken answer cell ran, so a failure of the test after it is that cell's consequence, not a mistake
    of its own.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The released (or source) notebook, which fixes the order of the cells.
    learner_sources : dict of str to str
        ``{grade_id: source}`` from ``parse_submission``.

    Returns
    -------
    list of tuple (str, str, str or None)
        ``(answer grade_id, "line N: message", grade_id of the next graded cell or None)`` per broken cell.
    """
    found, pending = [], None
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_solution_cell(cell) and grade_id in learner_sources:
            error = syntax_error(learner_sources[grade_id])
            if error:
                pending = [grade_id, error, None]
                found.append(pending)
        elif is_graded_cell(cell) and pending:
            pending[2], pending = grade_id, None
    return [tuple(entry) for entry in found]
