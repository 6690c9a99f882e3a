"""Pages without JavaScript errors.

- sphinx-thebe registers its inline configuration script once per reading of the sources, and Jupyter Book reads them
  twice, so every page declared ``const THEBE_JS_URL`` twice (once with filename None, once with ""): a SyntaxError on
  every page. Keep each script once.
- pydata-sphinx-theme starts with ``data-mode = localStorage.mode || default_mode``; Jupyter Book leaves
  ``default_mode`` empty, which the theme logs as "Got invalid theme mode". Default to ``auto`` (follow the system).
"""


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


def setup(app):
    app.connect("html-page-context", _clean_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
