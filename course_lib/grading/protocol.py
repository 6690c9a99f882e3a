"""The runner's protocol, seen from the grader (outside the sandbox): what goes in, and how the answer is checked.

The grader sends the runner (``runner.py``, inside the sandbox) the cell types and sources of a notebook as JSON,
and gets back one entry of outputs, execution count and timing per cell. The runner shares the sandbox with the
learner's code, so its answer is data to check, not to trust: ``merge_answer`` keeps the grader's own sources and
metadata and drops every output that is not well-formed nbformat 4.
"""

import json

import nbformat


def request_bytes(nb):
    """What the runner reads: cell types and sources only (no metadata, no outputs: it needs nothing else).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook to run.

    Returns
    -------
    bytes
        The request, JSON encoded in UTF-8.
    """
    cells = [{"cell_type": c.cell_type, "source": "".join(c.source)} for c in nb.cells]
    return json.dumps({"cells": cells}).encode("utf-8")


def blank_copy(nb):
    """A copy of ``nb`` without outputs, execution counts or timings.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook to copy (left unchanged).

    Returns
    -------
    nbformat.NotebookNode
        The copy.
    """
    blank = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in blank.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)  # stale timings from the learner's machine
    return blank


def _is_text(value):
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _clean_output(output):
    """``output`` as a well-formed nbformat 4 output, or None if it is not one (it is then dropped).

    Parameters
    ----------
    output : object
        One output as the runner sent it (untrusted).

    Returns
    -------
    nbformat.NotebookNode or None
        The clean output, or None.
    """
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream" and output.get("name") in ("stdout", "stderr") and _is_text(output.get("text")):
        return nbformat.v4.new_output("stream", name=output["name"], text=output["text"])
    if kind == "error" and isinstance(output.get("ename"), str) and isinstance(output.get("evalue"), str):
        traceback = output.get("traceback")
        return nbformat.v4.new_output(
            "error", ename=output["ename"], evalue=output["evalue"], traceback=traceback if _is_text(traceback) else []
        )
    if kind in ("display_data", "execute_result"):
        data, metadata = output.get("data"), output.get("metadata", {})
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data) or not isinstance(metadata, dict):
            return None
        clean = nbformat.from_dict({"output_type": kind, "data": data, "metadata": metadata})
        if kind == "execute_result":
            count = output.get("execution_count")
            clean["execution_count"] = count if isinstance(count, int) else None
        return clean
    return None


def merge_answer(original, executed_cells):
    """``original`` with the outputs, execution counts and timings that the runner sent for its code cells.

    Sources, cell types and metadata stay the caller's: the runner shares the sandbox with the learner's code,
    so its answer is data to check, not to trust. Malformed outputs are dropped.

    Parameters
    ----------
    original : nbformat.NotebookNode
        The notebook sent to the runner (left unchanged).
    executed_cells : list of dict
        The runner's answer, one entry per cell (untrusted).

    Returns
    -------
    nbformat.NotebookNode
        A copy of ``original`` with the runner's outputs.

    Raises
    ------
    ValueError
        If the answer is not a list with one entry per cell sent.
    """
    merged = blank_copy(original)
    if not isinstance(executed_cells, list) or len(executed_cells) != len(merged.cells):
        raise ValueError("the runner's answer does not have the cells that were sent")
    for cell, done in zip(merged.cells, executed_cells, strict=True):
        if cell.cell_type != "code" or not isinstance(done, dict):
            continue
        outputs = done.get("outputs") if isinstance(done.get("outputs"), list) else []
        cell.outputs = [clean for clean in map(_clean_output, outputs) if clean is not None]
        count = done.get("execution_count")
        cell.execution_count = count if isinstance(count, int) else None
        timing = done.get("execution")
        if isinstance(timing, dict) and timing and all(isinstance(v, str) for v in timing.values()):
            cell.metadata["execution"] = {str(k): v for k, v in timing.items()}
    return merged
