"""Offer every chapter as a downloadable .ipynb, with the outputs of the build's own execution.

Chapters are MyST Markdown notebooks. MyST-NB executes them into ``_build/jupyter_execute/<page>.ipynb``; this
extension copies that notebook next to the page's sources and tells sphinx-book-theme's download menu about it, so a
reader can open the chapter in Jupyter (or upload it to Colab) with every figure already in place.
"""

import shutil
from pathlib import Path


def _add_notebook_download(app, pagename, templatename, context, doctree):
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md" or not source.read_text(encoding="utf-8").lstrip().startswith("---\njupytext:"):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    # priority < 500: run before the theme builds its header buttons from the context
    app.connect("html-page-context", _add_notebook_download, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
