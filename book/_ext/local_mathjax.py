"""Serve MathJax 3 from the site itself when the Makefile has installed it into _site_extra/mathjax.

With a local copy the site shows maths offline and where CDNs are blocked. The copy lives outside ``_static``: Jupyter
Book adds every ``*.js`` file under ``_static`` to every page, which for MathJax's whole tree meant 85 script tags,
22 MB of JavaScript and a console full of errors. ``html_extra_path`` copies ``_site_extra/`` (MathJax, and the
course_lib wheel that downloaded notebooks install) to the site's root instead, and only ``tex-chtml.js`` is loaded.
Without a local copy (no npm on the machine), Sphinx's default CDN address stays in place and the Makefile has
already said so.
"""

from pathlib import Path

SITE_EXTRA = "_site_extra"
LOCAL_MATHJAX = Path(SITE_EXTRA) / "mathjax" / "tex-chtml.js"
# Sphinx reads a relative mathjax_path as relative to _static/; the copy sits beside _static/ in the site.
SITE_PATH = "../mathjax/tex-chtml.js"


def _use_local_mathjax(app, config):
    if (Path(app.confdir) / LOCAL_MATHJAX).is_file():
        config.mathjax_path = SITE_PATH
    if not (Path(app.confdir) / SITE_EXTRA).is_dir() and SITE_EXTRA in config.html_extra_path:
        config.html_extra_path.remove(SITE_EXTRA)  # a missing extra path is a warning, and warnings are errors


def setup(app):
    app.connect("config-inited", _use_local_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
