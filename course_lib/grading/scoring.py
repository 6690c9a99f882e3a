"""Trusted scoring: compare what the learner's test cells reported with what the solution's reported.

The decision is made here, in the grader's process, never inside the learner's kernel: the kernel only
*reports* values (``course_lib.checks.report``), and this module compares them with the values the solution
notebook reported on the same hidden inputs. The expected values are computed once per solution notebook and
cached in the grading output directory, which the sandboxed kernel cannot see. Monkeypatching ``numpy`` or
``course_lib`` inside the kernel can change what is reported, but it cannot produce the right values without
computing them.

A graded cell earns its points iff it ran without an error AND every key the solution reported in that cell
was reported by the learner, the same number of times, with matching values (same kind and shape; numbers
``allclose(rtol=1e-5, atol=1e-7)``; strings, booleans exactly).
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course_lib.grading import execution
from course_lib.grading.notebooks import cell_outcomes, graded_cells, notebook_text, rebuild, write_atomically

RTOL = 1e-5
ATOL = 1e-7


class SolutionError(RuntimeError):
    """The solution notebook itself fails a graded cell: the assignment cannot be graded until it is fixed."""


def _as_floats(data):
    return np.array([float(x) for x in data], dtype=np.float64)  # "nan"/"inf" strings come back as floats


def values_match(expected, actual):
    """True iff two encoded values (``checks.encode_value``) agree: same kind and shape, numbers within tolerance.

    Parameters
    ----------
    expected : dict
        The solution's encoded value.
    actual : dict
        The learner's encoded value (untrusted: anything malformed does not match).

    Returns
    -------
    bool
        Whether they match (numbers ``allclose(rtol=RTOL, atol=ATOL)``, NaN equal to NaN; anything else exactly).
    """
    if not isinstance(expected, dict) or not isinstance(actual, dict) or expected.get("kind") != actual.get("kind"):
        return False
    if expected["kind"] != "array":
        return expected.get("data") == actual.get("data")
    if list(expected.get("shape", [])) != list(actual.get("shape", [])):
        return False
    try:
        want, got = _as_floats(expected["data"]), _as_floats(actual["data"])
    except (KeyError, TypeError, ValueError):
        return False
    return want.shape == got.shape and bool(np.allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True))


def _by_key(reports):
    grouped = {}
    for key, value in reports:
        grouped.setdefault(key, []).append(value)
    return grouped


@dataclass
class CellVerdict:
    """The verdict on one graded cell."""

    grade_id: str
    points: float  # points earned
    max_points: float
    error: str | None  # first line of the error the cell raised, if any
    executed: bool
    mismatched: list = field(default_factory=list)  # keys whose values were missing or wrong
    answers: dict = field(default_factory=dict)  # {key: learner's text} for keys the solution reports as text

    @property
    def passed(self):
        return self.points == self.max_points


def score_cells(structure_nb, executed_nb, expected):
    """Score every graded cell.

    Parameters
    ----------
    structure_nb : nbformat.NotebookNode
        The source notebook (fixes which cells are graded and their points).
    executed_nb : nbformat.NotebookNode
        The learner's rebuilt notebook after execution.
    expected : dict
        ``{grade_id: [(key, value), ...]}`` from ``expected_reports``.

    Returns
    -------
    list of CellVerdict
        One per graded cell, in notebook order.
    """
    outcomes = cell_outcomes(executed_nb)
    verdicts = []
    for grade_id, max_points in graded_cells(structure_nb):
        outcome = outcomes.get(grade_id, {"executed": False, "error": None, "reports": []})
        want, got = _by_key(expected.get(grade_id, [])), _by_key(outcome["reports"])
        mismatched = sorted(
            key
            for key, values in want.items()
            if len(got.get(key, [])) != len(values) or not all(map(values_match, values, got[key]))
        )
        earned = outcome["executed"] and outcome["error"] is None and not mismatched
        answers = {  # a multiple-choice answer, for the class summary (course export)
            key: _answer_text(got.get(key, [None])[0])
            for key, values in want.items()
            if values and isinstance(values[0], dict) and values[0].get("kind") == "str"
        }
        verdicts.append(
            CellVerdict(
                grade_id,
                max_points if earned else 0.0,
                max_points,
                outcome["error"],
                outcome["executed"],
                mismatched,
                answers,
            )
        )
    return verdicts


def _answer_text(value):
    """A learner's reported answer as one short line of text.

    Parameters
    ----------
    value : dict or None
        The encoded value reported.

    Returns
    -------
    str
        The text (at most 200 characters), ``(none)`` when nothing was reported.
    """
    if not isinstance(value, dict):
        return "(none)"
    if value.get("kind") == "str":
        return " ".join(str(value.get("data", "")).split())[:200]
    return f"({value.get('kind')}: {json.dumps(value.get('data'))[:80]})"


def solution_hash(source_nb):
    """A short hash of a solution notebook and of the ``course_lib`` code it may call.

    It is the cache key of its expected reports, so editing either one recomputes them.

    Parameters
    ----------
    source_nb : nbformat.NotebookNode
        The solution (nbgrader source) notebook.

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    digest = hashlib.sha256(notebook_text(source_nb).encode("utf-8"))
    package = Path(__file__).resolve().parents[1]
    for module in sorted(package.rglob("*.py")):
        digest.update(str(module.relative_to(package)).encode("utf-8"))
        digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


def expected_reports(name, source_nb, cache_dir=None):
    """What the solution's graded cells report, by executing the (trusted) solution notebook once.

    Parameters
    ----------
    name : str
        Assignment name (for messages and the cache file name).
    source_nb : nbformat.NotebookNode
        The nbgrader source notebook.
    cache_dir : str or pathlib.Path, optional
        Directory for ``expected-<name>-<hash>.json`` (outside anything a submission can see); ``None`` disables
        caching.

    Returns
    -------
    dict
        ``{grade_id: [(key, value), ...]}``.

    Raises
    ------
    SolutionError
        If the solution does not run to the end, or a graded cell of the solution raises or reports nothing (a cell
        that reports nothing could be passed by monkeypatching alone).
    """
    cache_file = Path(cache_dir) / f"expected-{name}-{solution_hash(source_nb)}.json" if cache_dir else None
    if cache_file is not None and cache_file.exists():
        cached = json.loads(cache_file.read_text(encoding="utf-8"))
        return {gid: [tuple(r) for r in reports] for gid, reports in cached.items()}
    nb = rebuild(source_nb, {}, blank_nb=source_nb)  # the solution's own cells, outputs cleared
    result = execution.run_trusted(nb)
    if result.status != "ok":
        raise SolutionError(f"the solution of {name!r} did not run to the end: {result.status}: {result.message}")
    expected = {}
    for grade_id, outcome in cell_outcomes(result.nb).items():
        if outcome["error"]:
            raise SolutionError(f"the solution of {name!r} fails its own test cell {grade_id!r}: {outcome['error']}")
        if not outcome["reports"]:
            raise SolutionError(
                f"test cell {grade_id!r} of {name!r} reports nothing: use checks.assert_close or "
                "checks.report so the grader can check its values"
            )
        expected[grade_id] = outcome["reports"]
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(cache_file, json.dumps(expected, sort_keys=True))
    return expected
