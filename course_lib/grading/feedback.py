"""Per-student feedback pages: ``DIR/feedback/<student_id>/<assignment>.html``.

A page shows the learner's own code, each visible test, and the verdict on each task (points, and the first
line of the error when there was one). By default it hides what a learner could use to game a resubmission:
the code of the hidden tests and the expected values. ``show_hidden=True`` (``course grade --show-hidden``)
adds both, for the instructor. Everything is escaped: a submission cannot inject HTML or scripts into its own
page.
"""

import html
import json
import re

from course_lib.grading.notebooks import is_graded_cell, is_solution_cell, nbgrader_meta, syntax_errors

MAX_SHOWN_CHARS = 20_000
"""Longer learner code is cut in the page (the page is feedback, not an archive)."""

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color:
#222; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; border-radius: 4px; }
.pass { border-left: 6px solid #2e7d32; padding-left: .6rem; }
.fail { border-left: 6px solid #c62828; padding-left: .6rem; }
.note { color: #555; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .2rem .6rem; text-align:
left; }
"""


def _pre(text):
    text = str(text)
    if len(text) > MAX_SHOWN_CHARS:
        text = text[:MAX_SHOWN_CHARS] + f"\n... ({len(text) - MAX_SHOWN_CHARS} more characters not shown)"
    return f"<pre>{html.escape(text)}</pre>"


WHERE_TO_LOOK = "# Where to look:"
"""A visible test cell may name, on a comment line starting with this, the part of the chapter a wrong answer should
reread; the feedback page quotes it."""


def _where_to_look(test_source):
    for line in str(test_source).splitlines():
        if line.strip().startswith(WHERE_TO_LOOK):
            return line.strip()[len(WHERE_TO_LOOK) :].strip()
    return ""


def _mismatch_text(verdict, expected, test_source):
    """What a failed hidden check means: a wrong answer to a question, or code that is wrong on other inputs.

    Parameters
    ----------
    verdict : scoring.CellVerdict
        The cell's verdict (``grade_id``, ``mismatched``).
    expected : dict
        The solution's reports, ``{grade_id: [(key, value), ...]}``.
    test_source : str
        The visible test cell's code (may name where to look, see ``WHERE_TO_LOOK``).

    Returns
    -------
    str
        The explanation, in plain text.
    """
    reports = expected.get(verdict.grade_id, [])
    where = _where_to_look(test_source)
    one_string = len(reports) == 1 and isinstance(reports[0][1], dict) and reports[0][1].get("kind") == "str"
    if one_string or all(re.fullmatch(r"q\d+", str(k)) for k in verdict.mismatched):
        # a multiple-choice answer (reported as a string) or a question's number (key "q1", ...): simply not right
        text = "Your answer is not the right one (its form is fine: the visible check tests only that)."
        return text + (f" Reread {where}." if where else " Reread the part of the chapter the question is about.")
    text = (
        f"The visible checks passed, but {len(verdict.mismatched)} hidden check(s) did not: your code gives "
        "different values from the expected ones, on other inputs (other shapes, seeds or values) or on the same "
        "data checked more closely. Look for a case the visible tests do not cover, for hard-coded shapes or "
        "values, or for an earlier task this one builds on."
    )
    return text + (f" See {where}." if where else "")


def _verdict_html(verdict, expected, show_hidden, test_source=""):
    mark = "pass" if verdict.passed else "fail"
    parts = [
        f'<div class="{mark}"><p><strong>{html.escape(verdict.grade_id)}: '
        f"{verdict.points:g} / {verdict.max_points:g} points</strong></p>"
    ]
    if not verdict.executed:
        parts.append("<p>This cell did not run (an earlier cell took too long or the kernel stopped).</p>")
    elif verdict.error:
        parts.append(f"<p>The test raised: <code>{html.escape(verdict.error)}</code></p>")
    elif verdict.mismatched:
        parts.append(f"<p>{html.escape(_mismatch_text(verdict, expected, test_source))}</p>")
        if show_hidden:
            rows = "".join(
                f"<tr><td>{html.escape(key)}</td><td>{html.escape(_short(expected, verdict.grade_id, key))}</td></tr>"
                for key in verdict.mismatched
            )
            parts.append(f"<table><tr><th>check</th><th>expected</th></tr>{rows}</table>")
    else:
        parts.append("<p>All checks passed.</p>")
    parts.append("</div>")
    return "".join(parts)


def _short(expected, grade_id, key):
    values = [v for k, v in expected.get(grade_id, []) if k == key]
    return json.dumps(values)[:500]


def render_feedback(result, released_nb, source_nb=None, expected=None, show_hidden=False):
    """The feedback page of one graded submission, as an HTML string.

    Parameters
    ----------
    result : grade.SubmissionResult
        Score, status, per-cell verdicts, the learner's solution sources.
    released_nb : nbformat.NotebookNode
        The released notebook (its test cells are the visible tests).
    source_nb : nbformat.NotebookNode, optional
        The source notebook, used only when ``show_hidden``.
    expected : dict, optional
        The solution's reports, used only when ``show_hidden``.
    show_hidden : bool
        Include hidden-test code and expected values (for instructors; off by default).

    Returns
    -------
    str
        The HTML page.
    """
    verdicts = {v.grade_id: v for v in result.verdicts}
    code_by_id = {nbgrader_meta(c).get("grade_id"): c.source for c in (source_nb or released_nb).cells}
    title = f"{result.assignment}: feedback for {result.student_id}"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p><strong>Score: {result.score - getattr(result, 'penalty', 0.0):g} / {result.max_score:g}</strong>"
        f" &nbsp; status: <code>{html.escape(result.status)}</code></p>",
    ]
    if getattr(result, "penalty", 0.0):
        body.append(
            f"<p><strong>Late penalty: {result.penalty:g} point(s)</strong> taken off the {result.score:g} "
            f"earned (submitted {html.escape(result.submitted or 'late')}; details below).</p>"
        )
    if result.message:
        body.append(f'<p class="note">{html.escape(result.message)}</p>')
    if result.status in {"ok", "timeout", "memory", "crashed", "output-limit"}:
        unreadable = syntax_errors(released_nb, result.solution_sources)
        broken = {answer: error for answer, error, _ in unreadable}
        blamed = {test: (answer, error) for answer, error, test in unreadable}  # the test after a broken cell
        for cell in released_nb.cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if is_solution_cell(cell):
                source = result.solution_sources.get(grade_id)
                body.append(f"<h3>Your code: {html.escape(str(grade_id))}</h3>")
                body.append(_pre("(cell missing: graded as left blank)" if source is None else source))
                if grade_id in broken:
                    body.append(
                        f'<p class="fail">SyntaxError on {html.escape(broken[grade_id])}: Python could not '
                        "read this cell, so none of it ran. Fix it first: the tests after it fail because of "
                        "it.</p>"
                    )
            elif is_graded_cell(cell):
                body.append(f"<h3>Test: {html.escape(str(grade_id))}</h3>")
                body.append(_pre(code_by_id.get(grade_id, cell.source) if show_hidden else cell.source))
                if grade_id in verdicts:
                    verdict = verdicts[grade_id]
                    if grade_id in blamed and not verdict.passed:
                        answer, error = blamed[grade_id]
                        body.append(
                            f"<p>This test failed after the SyntaxError in your cell "
                            f"<code>{html.escape(str(answer))}</code> ({html.escape(error)}): "
                            "nothing in that cell ran, so the error below is its consequence.</p>"
                        )
                    body.append(_verdict_html(verdict, expected or {}, show_hidden, cell.source))
    if not show_hidden:
        body.append(
            '<p class="note">Hidden tests ran your code on other inputs; their code and expected values '
            "are not shown.</p>"
        )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
