"""Checks on an nbgrader source notebook that ``course release`` runs before writing the learner's version.

``kernel_judgements``: the grading design requires that no pass/fail decision is made inside the learner's
kernel. A test cell may only *report* raw values (``checks.report``, or ``checks.assert_*``, which report their
first argument); the trusted grader compares them with the solution's. A value computed by a comparison in the
kernel (``np.allclose(x, y)``, ``x == y``, ``bool(...)``, ``not x``) can be forged by monkeypatching NumPy in the
learner's own cell, so reporting one hands out points for free. This module finds such reports by reading the
test cells' code with ``ast``, following simple assignments (``ok = np.allclose(...)`` then ``report(k, ok)``).
"""

import ast

from course_lib.grading.notebooks import is_graded_cell, nbgrader_meta

COMPARING_FUNCTIONS = frozenset(
    {
        "allclose", "array_equal", "array_equiv", "isclose", "equal", "not_equal", "less", "less_equal",
        "greater", "greater_equal", "bool", "bool_", "all", "any", "isfinite", "isnan", "isinf", "logical_and",
        "logical_or", "logical_not", "logical_xor", "isinstance", "issubclass", "callable", "hasattr",
        "startswith", "endswith", "issubset", "issuperset", "isdisjoint", "assert_allclose", "assert_equal",
        "assert_array_equal", "assert_almost_equal", "assert_array_almost_equal",
    }
)  # fmt: skip
"""Functions and methods whose result is a judgement (True/False) rather than a value of the learner's."""

REPORTING = {"report": 1, "assert_close": 0}
"""Calls that send a value to the grader, and the position of the value they send (arguments before it, such as
``report``'s key, are checked too: a key can carry a verdict as well)."""


def _python_source(source):
    """The cell's code as plain Python (IPython magics and shell escapes transformed away).

    Parameters
    ----------
    source : str
        The cell's source.

    Returns
    -------
    str
        Python code.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _called_name(call):
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


PASS_THROUGH = frozenset(
    {
        "float", "int", "str", "list", "tuple", "dict", "set", "sorted", "round", "abs", "min", "max", "len", "sum",
        "array", "asarray", "asanyarray", "ascontiguousarray", "astype", "copy", "reshape", "ravel", "flatten",
        "item", "tolist", "where", "mean", "nansum", "nanmean", "count_nonzero", "argmax", "argmin", "nonzero",
        "flatnonzero", "stack", "concatenate", "vstack", "hstack", "maximum", "minimum", "clip", "select",
    }
)  # fmt: skip
"""Calls whose result carries their arguments' values through (``float(ok)``, ``np.mean(x == y)``): a verdict
passed to them is still a verdict. Any other call, such as the learner's function, returns a value of its own: the
test data passed to it may have been built with comparisons (a mask, a one-hot row) without being a verdict."""


def _judging_node(node, tainted, opaque=False):
    """A description of the first comparison inside ``node`` (or a name assigned from one), else None.

    Inside the arguments of an opaque call (see ``PASS_THROUGH``), names are not followed: only a comparison written
    there itself counts.

    Parameters
    ----------
    node : ast.AST
        The expression (or other node) to search.
    tainted : dict of str to str
        ``{name: why}`` for names bound to a comparison (see ``_tainted_names``).
    opaque : bool
        True inside the arguments of an opaque call.

    Returns
    -------
    str or None
        What the comparison is, or None if there is none.
    """
    if isinstance(node, ast.Compare):
        return f"a comparison ({ast.unparse(node)})"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return f"a negation ({ast.unparse(node)})"
    if isinstance(node, ast.Name):
        return f"{node.id}, which holds {tainted[node.id]}" if node.id in tainted and not opaque else None
    if isinstance(node, ast.Call):
        name = _called_name(node)
        if name in COMPARING_FUNCTIONS:
            return f"{name}(...)"
        why = _judging_node(node.func, tainted, opaque)  # a helper that returns a verdict
        if why:
            return why
        inner = opaque or name not in PASS_THROUGH
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            why = _judging_node(argument, tainted, inner)
            if why:
                return why
        return None
    for child in ast.iter_child_nodes(node):
        why = _judging_node(child, tainted, opaque)
        if why:
            return why
    return None


def _assigned_names(target):
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _tainted_names(tree):
    """``{name: why}`` for names bound, anywhere in the cell, to something computed by a comparison.

    Parameters
    ----------
    tree : ast.AST
        The cell's parsed code.

    Returns
    -------
    dict of str to str
        For each such name, what it holds.
    """
    tainted = {}
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            pairs = []
            if isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
            elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                pairs = [(node.target, node.value)]
            elif isinstance(node, ast.For | ast.comprehension):
                pairs = [(node.target, node.iter)]
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                pairs = [(node.optional_vars, node.context_expr)]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):  # a helper that returns a verdict
                returns = [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]
                why = next(filter(None, (_judging_node(r, tainted) for r in returns)), None)
                if why and node.name not in tainted:
                    tainted[node.name] = f"a function returning {why}"
                    changed = True
                continue
            for target, value in pairs:
                why = _judging_node(value, tainted)
                for name in _assigned_names(target) if why else []:
                    if name not in tainted:
                        tainted[name] = why
                        changed = True
    return tainted


def judgements_in_code(source):
    """Reports in one test cell's code that send a value computed by a comparison.

    Parameters
    ----------
    source : str
        The test cell's code (IPython syntax allowed).

    Returns
    -------
    list of tuple (int, str)
        ``(line, why)``, sorted: the line of the offending ``report``/``assert_close`` call and what it reports.

    Raises
    ------
    SyntaxError
        If the code cannot be parsed.
    """
    tree = ast.parse(_python_source(source))
    tainted = _tainted_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _called_name(node) not in REPORTING:
            continue
        position = REPORTING[_called_name(node)]
        sent = node.args[: position + 1] + [k.value for k in node.keywords if k.arg in ("key", "value", "actual")]
        for argument in sent:
            why = _judging_node(argument, tainted)
            if why:
                found.append((node.lineno, f"{ast.unparse(node)[:100]} reports {why}"))
                break
    return sorted(found)


def kernel_judgements(source_nb):
    """Every report, in every graded test cell of ``source_nb``, of a value computed by a comparison.

    Parameters
    ----------
    source_nb : nbformat.NotebookNode
        The nbgrader source notebook.

    Returns
    -------
    list of str
        One per offence, naming the cell and line (empty when the notebook is clean).
    """
    problems = []
    for cell in source_nb.cells:
        if not is_graded_cell(cell):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        try:
            found = judgements_in_code(cell.source)
        except SyntaxError as error:
            problems.append(f"test cell {grade_id!r} cannot be parsed, so it cannot be audited: {error}")
            continue
        for line, why in found:
            problems.append(
                f"test cell {grade_id!r}, line {line}: {why}; the learner's kernel can forge that: "
                "report the raw values instead and let the grader compare"
            )
    return problems


def manually_graded_cells(source_nb):
    """Cells that nbgrader would grade by hand (a manually graded answer or task), which ``course grade`` cannot score.

    Their points would silently vanish from every total.

    Parameters
    ----------
    source_nb : nbformat.NotebookNode
        The nbgrader source notebook.

    Returns
    -------
    list of str
        One per such cell (empty when every graded cell is an autograded test).
    """
    problems = []
    for cell in source_nb.cells:
        meta = nbgrader_meta(cell)
        if not (meta.get("grade") or meta.get("task")) or is_graded_cell(cell) and not meta.get("solution"):
            continue
        kind = "task" if meta.get("task") else "answer"
        problems.append(
            f"cell {meta.get('grade_id')!r} is a manually graded {kind} ({meta.get('points', 0)} points): "
            "course grade scores autograded test cells only, so these points would be lost; turn it into an "
            "autograded question (an answer cell plus a test cell that reports it), or take it out"
        )
    return problems
