"""Offer every chapter as a downloadable .ipynb, with the outputs of the build's own execution.

Chapters are MyST Markdown notebooks, executed by MyST-NB into the jupyter-cache. For each chapter page, this
extension converts the Markdown to a notebook with jupytext, fills in the cached outputs, writes it next to the page's
sources and tells sphinx-book-theme's download menu about it, so a reader can open the chapter in Jupyter (or upload it
to Colab) with every figure already in place.
"""

from pathlib import Path

import jupytext
import nbformat
from jupyter_cache import get_cache


def _show_glued_figures(notebook):
    """Make glued figures visible in Jupyter and drop glued numbers (they live in the prose)."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if record is None:
                kept.append(output)
                continue
            prefix = record.get("mime_prefix", "")
            data = {key.removeprefix(prefix): value for key, value in output.get("data", {}).items()}
            if any(key.startswith("image/") for key in data):
                output["data"] = data
                output["metadata"] = {}
                kept.append(output)
        cell["outputs"] = kept


def _add_notebook_download(app, pagename, templatename, context, doctree):
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md" or not source.read_text(encoding="utf-8").lstrip().startswith("---\njupytext:"):
        return
    notebook = jupytext.read(source)
    cache_path = app.config.nb_execution_cache_path or str(Path(app.outdir).parent / ".jupyter_cache")
    if Path(cache_path).is_dir():
        try:
            _, notebook = get_cache(cache_path).merge_match_into_notebook(notebook)
        except KeyError:  # not in the cache (e.g. executed with caching off): offer it without outputs
            pass
    _show_glued_figures(notebook)
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    # priority < 500: run before the theme builds its header buttons from the context
    app.connect("html-page-context", _add_notebook_download, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
