"""Offer every chapter as a downloadable .ipynb that runs anywhere, with the outputs of the build's own execution.

Chapters are MyST Markdown notebooks, executed by MyST-NB into the jupyter-cache. For each chapter page, this
extension converts the Markdown to a notebook with jupytext, fills in the cached outputs, makes it portable
(``portable_notebook``: a set-up cell that installs course_lib from the wheel the site ships, figures shown when
re-run, the prose's placeholders and cross-references rendered as text), writes it next to the page's sources and tells
sphinx-book-theme's download menu about it. Each chapter page also says, in one line, how to run it.
"""

import dataclasses
import sys
from pathlib import Path

import jupytext
import nbformat
from docutils import nodes
from jupyter_cache import get_cache

sys.path.insert(0, str(Path(__file__).parent))
from portable_notebook import References, glued_values, make_portable  # noqa: E402

WHEEL_FOLDER = Path("_site_extra") / "install"
SETUP_PAGE = "book/running"


def _is_chapter(app, docname):
    source = Path(app.env.doc2path(docname))
    return source.suffix == ".md" and source.read_text(encoding="utf-8").lstrip().startswith("---\njupytext:")


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


def _citations(app):
    """BibTeX key -> ("Author", "year"), "Author and Other" or "Author et al." as the book's author-year style."""
    from pybtex.database import parse_file

    citations = {}
    for bibfile in app.config.bibtex_bibfiles:
        for key, entry in parse_file(str(Path(app.confdir) / bibfile)).entries.items():
            names = [" ".join(person.last_names) for person in entry.persons.get("author", [])]
            if len(names) > 2:
                authors = f"{names[0]} et al."
            else:
                authors = " and ".join(names) or entry.fields.get("title", key)
            citations[key] = (authors.replace("{", "").replace("}", ""), entry.fields.get("year", ""))
    return citations


def _references(app):
    """Labels, numbers and citations of the whole book: read once per build (every chapter page needs them)."""
    if getattr(app, "_course_references", None) is None:
        app._course_references = _read_references(app)
    return app._course_references


def _read_references(app):
    env = app.env
    refs = References(citations=_citations(app))
    for label, (docname, labelid, title) in env.domaindata["std"]["labels"].items():
        refs.sections[label] = title
        number = env.toc_fignumbers.get(docname, {}).get("figure", {}).get(labelid)
        if number:
            refs.figures[label] = ".".join(map(str, number))
    for label, (docname, _) in env.domaindata["math"]["objects"].items():
        number = env.toc_fignumbers.get(docname, {}).get("displaymath", {}).get(f"equation-{label}")
        if number:
            refs.equations[label] = ".".join(map(str, number))
    return refs


def _wheel_name(app):
    wheels = sorted((Path(app.confdir) / WHEEL_FOLDER).glob("course_lib-*.whl"))
    return wheels[-1].name if wheels else "course_lib-<version>-py3-none-any.whl"


def _add_notebook_download(app, pagename, templatename, context, doctree):
    if not _is_chapter(app, pagename):
        return
    source = Path(app.env.doc2path(pagename))
    notebook = jupytext.read(source)
    cache_path = app.config.nb_execution_cache_path or str(Path(app.outdir).parent / ".jupyter_cache")
    if Path(cache_path).is_dir():
        try:
            _, notebook = get_cache(cache_path).merge_match_into_notebook(notebook)
        except KeyError:  # not in the cache (e.g. executed with caching off): offer it without outputs
            pass
    refs = dataclasses.replace(_references(app), glued=glued_values(notebook))  # glue values are per page
    _show_glued_figures(notebook)
    make_portable(notebook, refs, _wheel_name(app))
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def _say_how_to_run(app, doctree, docname):
    """One line under a chapter's title: how to run it outside the website."""
    if not _is_chapter(app, docname) or docname == SETUP_PAGE:
        return
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    link = nodes.reference("", "Running the notebooks", internal=True,
                           refuri=app.builder.get_relative_uri(docname, SETUP_PAGE))
    line = nodes.paragraph(classes=["run-this-chapter"])
    line += nodes.emphasis("", "Run this chapter yourself: download it as a notebook (the download button at the top, "
                               ".ipynb), then see ")
    line += link
    line += nodes.emphasis("", " to run it on your computer or in Colab.")
    title = sections[0].next_node(nodes.title)
    sections[0].insert(sections[0].index(title) + 1, line)


def setup(app):
    # priority < 500: run before the theme builds its header buttons from the context
    app.connect("html-page-context", _add_notebook_download, priority=400)
    app.connect("doctree-resolved", _say_how_to_run)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
