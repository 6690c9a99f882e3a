"""Pages without JavaScript errors.

- sphinx-thebe registers its inline configuration script once per reading of the sources, and Jupyter Book reads them
  twice, so every page declared ``const THEBE_JS_URL`` twice (once with filename None, once with ""): a SyntaxError on
  every page. Keep each script once.
- pydata-sphinx-theme starts with ``data-mode = localStorage.mode || default_mode``; Jupyter Book leaves
  ``default_mode`` empty, which the theme logs as "Got invalid theme mode". Default to ``auto`` (follow the system).
- A figure without ``:alt:`` got its file name as alt text (``../_images/<hash>.png``), which screen readers read
  out. Give it the first sentence of its caption, maths as its TeX source without backslashes; an explicit ``:alt:``
  is kept.
"""

import re

from docutils import nodes


def _clean_page_context(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        seen, unique = set(), []
        for script in scripts:
            attributes = getattr(script, "attributes", {}) or {}
            filename = getattr(script, "filename", script) or ""  # None and "" both mean an inline script
            key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
            if key not in seen:
                seen.add(key)
                unique.append(script)
        scripts[:] = unique
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def _plain(node):
    """A caption's text node as it reads; maths as its TeX source, dots as an ellipsis, without backslashes."""
    if isinstance(node, nodes.math):
        return re.sub(r"\\l?dots", "…", node.astext()).replace("\\", "")
    return node.astext()


def _caption_sentence(caption):
    leaves = caption.findall(lambda n: isinstance(n, (nodes.Text, nodes.math)) and not isinstance(n.parent, nodes.math))
    text = " ".join("".join(_plain(node) for node in leaves).split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text)[:300]


def _describe_figures(app, doctree, docname):
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        if not captions:
            continue
        for image in figure.findall(nodes.image):
            if not image.get("alt"):
                image["alt"] = _caption_sentence(captions[0])


def setup(app):
    app.connect("html-page-context", _clean_page_context)
    app.connect("doctree-resolved", _describe_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
